"""Page « Impression »: a printable map of a région, a département or France (PDF, PNG, SVG)."""

import streamlit as st

from ptce_geo.ui import impression

st.title("Impression")
st.caption("Carte prête à imprimer : titre, légende, échelle, flèche du nord, carton de situation, sources et millésimes.")
impression.print_panel()
