"""Streamlit plumbing shared by every page: page setup, cached loaders, common widgets.

Pages import from here instead of repeating code; nothing runs at import. Cached
loaders take hashable arguments only (strings, numbers, tuples).
"""

from __future__ import annotations

import html

import geopandas as gpd
import streamlit as st

from . import boundaries
from ._errors import PtceGeoError

PAGE_TITLE = "ptce-geo — Atlas des PTCE"


def configure() -> None:
    st.set_page_config(page_title=PAGE_TITLE, page_icon="🗺️", layout="wide")


@st.cache_resource(show_spinner="Chargement des limites administratives…")
def boundaries_layer(level: str, simplified: bool = True) -> gpd.GeoDataFrame:
    """Boundaries of one level, shared by every session (read-only: copy before changing)."""
    return boundaries.load(level, simplified=simplified)


def show_error(exc: PtceGeoError) -> None:
    st.error(str(exc))


def escape(text) -> str:
    """HTML-escape any user text before it goes into a popup, tooltip or markdown."""
    return html.escape("" if text is None else str(text))
