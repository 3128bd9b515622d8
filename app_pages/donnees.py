"""Page « Données »: state, vintage and source of every priority layer."""

import streamlit as st

from ptce_geo.ui import common, donnees

st.title("Données")
st.caption(
    "Couches officielles des territoires prioritaires : millésime, source et copie locale. "
    "Mise à jour : « ptce-geo data sync » (ou variable PTCE_GEO_MIRROR pour un dossier de copies)."
)
common.missing_layers_notice()
donnees.priority_status_view()
