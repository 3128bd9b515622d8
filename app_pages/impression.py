"""Page « Impression »: a printable map of a région, a département or France (PDF, PNG, SVG)."""

import streamlit as st

from ptce_geo import _ui_print

st.title("Impression")
st.caption("Carte prête à imprimer : titre, légende, échelle, flèche du nord, carton de situation, sources et millésimes.")
_ui_print.print_panel()
