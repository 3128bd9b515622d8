"""Page « Territoire »: one commune, EPCI, département or région — zonings, poles, coverage, gaps."""

import streamlit as st

from ptce_geo import _ui, _ui_coverage

st.title("Territoire")
st.caption("Zonages, pôles implantés, population prioritaire couverte et communes prioritaires sans pôle.")
_ui.missing_layers_notice()
_ui_coverage.territoire_view()
