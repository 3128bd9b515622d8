"""ptce-geo — Streamlit entry point: page setup and navigation only."""

import streamlit as st

from ptce_geo import _ui

_ui.configure()

pages = [
    st.Page("pages/carte.py", title="Carte", icon=":material/map:", default=True),
    st.Page("pages/poles.py", title="Pôles", icon=":material/location_on:"),
    st.Page("pages/lacunes.py", title="Lacunes", icon=":material/travel_explore:"),
    st.Page("pages/territoire.py", title="Territoire", icon=":material/search:"),
    st.Page("pages/impression.py", title="Impression", icon=":material/print:"),
    st.Page("pages/donnees.py", title="Données", icon=":material/database:"),
]
st.navigation(pages).run()
