"""Widgets of accessibility: the « Version texte » under each map and the page « Accessibilité »."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from .. import a11y
from .._text import md as md_text

__all__ = ["TEXT_VERSION_TITLE", "markdown_version", "text_version_view", "accessibility_page"]

TEXT_VERSION_TITLE = "Version texte de la carte"


def _escaped(frame):
    """Every cell and column name of ``frame`` escaped for Markdown (``md_text``)."""
    if frame is None or frame.empty:
        return frame
    shown = frame.astype(str).map(md_text)
    shown.columns = [md_text(c) for c in frame.columns]
    return shown


def markdown_version(tv):
    """``tv`` (``mapsummary.TextVersion``) with its tables and texts escaped for Markdown once, so a
    text version shared by many sessions (page « Carte ») is not escaped again at each rerun."""
    if tv.markdown_safe:
        return tv
    return replace(tv, summary=md_text(tv.summary), figures=_escaped(tv.figures), layers=_escaped(tv.layers),
                   legend=_escaped(tv.legend), poles=_escaped(tv.poles),
                   places=_escaped(tv.places) if tv.places is not None else None,
                   notes=[md_text(n) for n in tv.notes], markdown_safe=True)


def _table(frame, label: str, escaped: bool = False) -> None:
    """A real HTML table (``st.table``: ``<th>`` header cells), or a sentence when empty. ``st.table``
    renders its cells as Markdown (« > 0 % » became a quotation, a name could become a link): every
    cell is escaped first (unless ``escaped``: done already), so each shows as typed."""
    if frame is None or frame.empty:
        st.markdown(md_text(f"{label} : aucun."))
        return
    st.table(frame if escaped else _escaped(frame), hide_index=True)


def text_version_view(tv, key: str) -> None:
    """The « Version texte » of a map (``mapsummary.TextVersion``): summary, headline figures,
    layers, legend classes with their counts, then the poles (and territories) drawn, each list
    in a section the keyboard opens (Entrée or Espace on its title)."""
    done = tv.markdown_safe
    text = (lambda t: t) if done else md_text
    with st.container(key=f"version_texte_{key}"):
        st.header(TEXT_VERSION_TITLE)
        st.markdown(text(tv.summary))
        st.subheader("Chiffres clés")
        _table(tv.figures, "Chiffres", done)
        st.subheader("Couches affichées")
        _table(tv.layers, "Couches", done)
        st.subheader("Légende : classes et effectifs")
        _table(tv.legend, "Classes", done)
        for note in tv.notes:
            st.markdown(text(note))
        with st.expander(f"Pôles affichés ({len(tv.poles)})", expanded=False):
            _table(tv.poles, "Pôles", done)
        if tv.places is not None:
            with st.expander(f"{tv.places_title} ({len(tv.places)})", expanded=False):
                _table(tv.places, "Territoires", done)


def accessibility_page() -> None:
    """The page « Accessibilité »: the accessibility statement (``a11y.statement``)."""
    doc = a11y.statement()  # Markdown written by ptce-geo (the one setting in it is escaped)
    st.title(doc.title)
    st.markdown(doc.intro)
    for section in doc.sections:
        st.header(section.title)
        for block in section.blocks:
            st.markdown(block if isinstance(block, str) else "\n".join(f"- {item}" for item in block))
