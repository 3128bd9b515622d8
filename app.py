"""ptce-geo — Streamlit entry point: page setup and navigation only.

The page scripts live in ``app_pages/``, not ``pages/``: Streamlit runs a ``pages/`` folder beside
the main script as a legacy multipage app, so a deep link such as ``/lacunes`` would skip this
navigation (raw file names in the sidebar, narrow layout).
"""

import streamlit as st

from ptce_geo.ui import common

common.configure()

pages = [
    st.Page("app_pages/carte.py", title="Carte", icon=":material/map:", default=True),
    st.Page("app_pages/poles.py", title="Pôles", icon=":material/location_on:"),
    st.Page("app_pages/lacunes.py", title="Lacunes", icon=":material/travel_explore:"),
    st.Page("app_pages/territoire.py", title="Territoire", icon=":material/search:"),
    st.Page("app_pages/impression.py", title="Impression", icon=":material/print:"),
    st.Page("app_pages/donnees.py", title="Données", icon=":material/database:"),
    st.Page("app_pages/accessibilite.py", title="Accessibilité", icon=":material/accessibility:"),
]
st.navigation(pages).run()
