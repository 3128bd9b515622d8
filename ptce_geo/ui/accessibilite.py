"""Widgets of accessibility: the « Version texte » under each map and the page « Accessibilité »."""

from __future__ import annotations

import streamlit as st

from .. import a11y
from .._text import md as md_text

__all__ = ["TEXT_VERSION_TITLE", "text_version_view", "accessibility_page"]

TEXT_VERSION_TITLE = "Version texte de la carte"


def _table(frame, label: str) -> None:
    """A real HTML table (``st.table``: ``<th>`` header cells), or a sentence when empty. ``st.table``
    renders its cells as Markdown (« > 0 % » became a quotation, a name could become a link): every
    cell is escaped first, so each shows as typed."""
    if frame is None or frame.empty:
        st.markdown(md_text(f"{label} : aucun."))
        return
    shown = frame.astype(str).map(md_text)
    shown.columns = [md_text(c) for c in frame.columns]
    st.table(shown, hide_index=True)


def text_version_view(tv, key: str) -> None:
    """The « Version texte » of a map (``mapsummary.TextVersion``): summary, headline figures,
    layers, legend classes with their counts, then the poles (and territories) drawn, each list
    in a section the keyboard opens (Entrée or Espace on its title)."""
    with st.container(key=f"version_texte_{key}"):
        st.header(TEXT_VERSION_TITLE)
        st.markdown(md_text(tv.summary))
        st.subheader("Chiffres clés")
        _table(tv.figures, "Chiffres")
        st.subheader("Couches affichées")
        _table(tv.layers, "Couches")
        st.subheader("Légende : classes et effectifs")
        _table(tv.legend, "Classes")
        for note in tv.notes:
            st.markdown(md_text(note))
        with st.expander(f"Pôles affichés ({len(tv.poles)})", expanded=False):
            _table(tv.poles, "Pôles")
        if tv.places is not None:
            with st.expander(f"{tv.places_title} ({len(tv.places)})", expanded=False):
                _table(tv.places, "Territoires")


def accessibility_page() -> None:
    """The page « Accessibilité »: the accessibility statement (``a11y.statement``)."""
    doc = a11y.statement()  # Markdown written by ptce-geo (the one setting in it is escaped)
    st.title(doc.title)
    st.markdown(doc.intro)
    for section in doc.sections:
        st.header(section.title)
        for block in section.blocks:
            st.markdown(block if isinstance(block, str) else "\n".join(f"- {item}" for item in block))
