"""Page « Données »: state, vintage and source of every priority layer."""

import streamlit as st

from ptce_geo import _ui

st.title("Données")
st.caption(
    "Couches officielles des territoires prioritaires : millésime, source et copie locale. "
    "Mise à jour : « ptce-geo data sync » (ou variable PTCE_GEO_MIRROR pour un dossier de copies)."
)
_ui.missing_layers_notice()
_ui.priority_status_view()
