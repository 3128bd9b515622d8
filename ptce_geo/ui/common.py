"""Streamlit plumbing shared by every page: page setup, cached loaders, common widgets.

Pages import from here instead of repeating code; nothing runs at import. Cached
loaders take hashable arguments only (strings, numbers, tuples). Widgets of one page
live in their own module of ``ptce_geo.ui`` (see its docstring).
"""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from .. import boundaries, priority
from .._errors import PtceGeoError
from .._fmt import escape
from .._text import md

__all__ = ["PAGE_TITLE", "configure", "boundaries_layer", "show_error", "escape", "missing_layers_notice"]

PAGE_TITLE = "ptce-geo — Atlas des PTCE"


def configure() -> None:
    st.set_page_config(page_title=PAGE_TITLE, page_icon="🗺️", layout="wide")


@st.cache_resource(show_spinner="Chargement des limites administratives…")
def boundaries_layer(level: str, simplified: bool = True) -> gpd.GeoDataFrame:
    """Boundaries of one level, shared by every session (read-only: copy before changing)."""
    return boundaries.load(level, simplified=simplified)


def show_error(exc: PtceGeoError) -> None:
    """The French message of a domain error, as text (it may quote a file's content: Markdown-escaped)."""
    st.error(md(str(exc), lines=True))


def missing_layers_notice() -> list[str]:
    """Show a French warning naming the priority layers that are not available locally
    (neither in the mirror nor in the cache) and how to get them; returns their names.

    Works offline with nothing cached: it only looks for files, never downloads.
    """
    try:
        missing = priority.missing_layers()
    except PtceGeoError as exc:  # a broken setting must not stop the page
        st.warning(str(exc))
        return list(priority.LAYERS)
    if missing:
        names = ", ".join(f"« {priority.LABELS[name]} »" for name in missing)
        st.warning(
            f"Couches absentes : {names}. Les indicateurs qui en dépendent sont incomplets. "
            "Pour les obtenir : lancez `ptce-geo data sync` avec une connexion Internet, "
            "ou définissez la variable PTCE_GEO_MIRROR vers un dossier contenant les fichiers "
            "officiels (voir la page « Données »)."
        )
    return missing
