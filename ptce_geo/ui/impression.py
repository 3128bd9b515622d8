"""Widgets of the page « Impression »: choices, preview and download of a printed map."""

from __future__ import annotations

import streamlit as st

from .. import printing
from .._errors import PtceGeoError
from .common import show_error
from ..a11y import print_preview_alt

__all__ = ["print_panel", "printed_map"]


@st.cache_data(show_spinner="Mise en page de la carte…", max_entries=16)
def printed_map(kind: str, code, paper: str, orientation, fmt: str, title, subtitle, layers: tuple,
                dpi: int) -> bytes:
    """A printable map as bytes (PDF, PNG or SVG); hashable arguments only."""
    terr = printing.territory(kind, code)
    fig = printing.render(terr, paper=paper, orientation=orientation, title=title, subtitle=subtitle,
                          layers=layers)
    return printing.to_bytes(fig, fmt, dpi=dpi)


def print_panel() -> None:
    """Form of the page « Impression »: territory, paper, layers, title; preview; download."""
    try:
        choices = printing.territory_choices()
        left, right = st.columns([1, 2])
        with left:
            label = st.selectbox("Territoire", list(choices), index=list(choices).index(
                next(k for k, v in choices.items() if v == ("region", "32"))))
            kind, code = choices[label]
            paper = st.radio("Papier", list(printing.PAPERS), format_func=str.upper, horizontal=True)
            orient_labels = {"auto": "automatique", **printing.ORIENTATIONS}
            orient = st.radio("Orientation", list(orient_labels), format_func=orient_labels.get, horizontal=True)
            fmt = st.radio("Format", list(printing.FORMATS), format_func=str.upper, horizontal=True)
            terr = printing.territory(kind, code)
            # EPCI limits are not drawn on the national map: not offered by default there
            layers = st.multiselect("Couches", list(printing.LAYERS), placeholder="Choisir les couches",
                                    default=list(printing.default_layers(terr)), format_func=printing.LAYERS.get)
            title = st.text_input("Titre", printing.default_title(terr), max_chars=160)
            subtitle = st.text_input("Sous-titre", printing.default_subtitle(terr), max_chars=200)
        orientation = None if orient == "auto" else orient
        args = (kind, code, paper, orientation)
        texts = (title or None, subtitle or None, tuple(printing.check_layers(layers)))
        with right:
            preview = printed_map(*args, "png", *texts, printing.DPI_RANGE[0])
            orient_text = printing.ORIENTATIONS.get(orientation) if orientation else None
            alt = print_preview_alt(terr.label if terr.kind != "region" else f"région {terr.label}",
                                    [printing.LAYERS[k] for k in texts[2]], title, paper, orient_text)
            st.image(preview, caption="Aperçu (basse résolution)", width="stretch", alt=alt)
        data = printed_map(*args, fmt, *texts, printing.DPI_PNG)
        mime = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}[fmt]
        name = f"carte-{kind}{'-' + code if code else ''}-{paper}.{fmt}"
        left.download_button(f"Télécharger ({fmt.upper()})", data, file_name=name, mime=mime)
        left.caption("L'atlas des 18 régions (PDF) se produit en ligne de commande : "
                     "« ptce-geo print --atlas -o atlas.pdf ».")
    except PtceGeoError as exc:
        show_error(exc)
