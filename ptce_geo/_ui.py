"""Streamlit plumbing shared by every page: page setup, cached loaders, common widgets.

Pages import from here instead of repeating code; nothing runs at import. Cached
loaders take hashable arguments only (strings, numbers, tuples). Widgets of one page
live in their own module: ``_ui_carte``, ``_ui_poles``, ``_ui_coverage`` (« Lacunes »,
« Territoire ») and ``_ui_print`` (« Impression »).
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
    """The French message of a domain error, as text (it may quote a file's content: Markdown-escaped)."""
    from ._text import md

    st.error(md(str(exc), lines=True))


def escape(text) -> str:
    """HTML-escape any user text before it goes into a popup, tooltip or markdown."""
    return html.escape("" if text is None else str(text))


def missing_layers_notice() -> list[str]:
    """Show a French warning naming the priority layers that are not available locally
    (neither in the mirror nor in the cache) and how to get them; returns their names.

    Works offline with nothing cached: it only looks for files, never downloads.
    """
    from . import priority

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


def priority_status_view() -> None:
    """The « Données » page body: one block per priority layer (status, vintage, source, how to get it)."""
    from . import priority, sources

    table = priority.status()
    st.dataframe(
        table[["titre", "millesime", "en_cache", "origine", "date"]].rename(
            columns={"titre": "Couche", "millesime": "Millésime", "en_cache": "Disponible",
                     "origine": "Origine", "date": "Date de la copie"}
        ),
        hide_index=True,
        width="stretch",
    )
    for row in table.itertuples():
        with st.expander(f"{row.titre} — {'disponible' if row.en_cache else 'absente'}", expanded=not row.en_cache,
                         icon=":material/check_circle:" if row.en_cache else ":material/warning:"):
            st.markdown(f"**Millésime** : {escape(row.millesime)}")
            for sid in priority.LAYER_SOURCES[row.layer] + priority.OPTIONAL_SOURCES.get(row.layer, ()):
                src = sources.get(sid)
                st.markdown(
                    f"- {escape(src.title)} — {escape(src.publisher)}, {escape(src.licence)} "
                    f"(fichier `{escape(src.filename)}`) : {escape(src.url or src.page)}"
                )
            if row.layer == "qpv" and row.en_cache:
                st.markdown(
                    "Contours officiels des QPV : "
                    + ("présents (polygones)." if row.polygones_qpv else
                       "absents — les QPV sont représentés par un point par commune concernée. "
                       "`ptce-geo data sync` les télécharge (data.gouv.fr).")
                )
            if row.en_cache:
                st.markdown(f"Copie locale : {escape(row.origine)}, du {escape(row.date)}.")
            else:
                st.markdown(f"**Absente.** Pour l'obtenir : {escape(row.obtenir)}.")
