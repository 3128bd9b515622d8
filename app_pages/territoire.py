"""Page « Territoire »: one commune, EPCI, département or région — zonings, poles, coverage, gaps."""

import streamlit as st

from ptce_geo.ui import common, territoire

st.title("Territoire")
st.caption("Zonages, pôles implantés, population prioritaire couverte et communes prioritaires sans pôle.")
common.missing_layers_notice()
territoire.territoire_view()
