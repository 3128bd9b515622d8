"""ASGI entry point of ``make run``: app.py served with ptce-geo's compression, cache headers and
warm-up (see ptce_geo/_server.py). ``streamlit run serve.py`` finds the ``st.App`` below."""

import streamlit as st

from ptce_geo import _server

app = st.App("app.py", middleware=_server.middleware(), lifespan=_server.lifespan)
