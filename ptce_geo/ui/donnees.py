"""The page « Données »: the state of every priority layer (vintage, source, local copy, how to get it)."""

from __future__ import annotations

import streamlit as st

from .. import priority, sources
from .common import escape

__all__ = ["priority_status_view"]


def priority_status_view() -> None:
    """The « Données » page body: one block per priority layer (status, vintage, source, how to get it)."""
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
