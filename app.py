"""ptce-geo — Streamlit entry point: page setup and navigation only."""

import streamlit as st

from ptce_geo import _ui

_ui.configure()

pages = [
    st.Page("pages/carte.py", title="Carte", icon="🗺️", default=True),
    st.Page("pages/poles.py", title="Pôles", icon="📍"),
    st.Page("pages/lacunes.py", title="Lacunes", icon="🕳️"),
    st.Page("pages/territoire.py", title="Territoire", icon="🔎"),
    st.Page("pages/impression.py", title="Impression", icon="🖨️"),
    st.Page("pages/donnees.py", title="Données", icon="🗂️"),
]
st.navigation(pages).run()
