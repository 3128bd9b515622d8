"""The page « Lacunes »: settings, national figures, ranked gaps, map, suggested sites, downloads."""

from __future__ import annotations

import streamlit as st

from .. import coverage
from .._errors import PtceGeoError
from .common import boundaries_layer, show_error
from .coverage import (GAP_LEVEL_LABELS, coverage_controls, coverage_downloads, coverage_metrics, coverage_result,
                       gap_columns, gap_map_with_text, headline_view, show_table)

__all__ = ["lacunes_view", "suggestion_view"]


def lacunes_view() -> None:
    """The « Lacunes » page body: settings, national figures, ranked gaps, map, downloads."""
    radius, use_perimeter, zoning = coverage_controls("lacunes")
    cols = st.columns([2, 1])
    level = cols[0].radio("Territoires", coverage.GAP_LEVELS, format_func=GAP_LEVEL_LABELS.get, horizontal=True,
                          key="lacunes_niveau")
    top = cols[1].number_input("Nombre de lignes", 10, 5000, 100, 10, key="lacunes_top")
    try:
        result = coverage_result(radius, use_perimeter, zoning)
        table = coverage.gaps(result, level, top=int(top))
        headline_view(result)
        headline = coverage_metrics(coverage.national(result), zoning)
        by = ("population prioritaire" if level != "qpv" else "habitants (INSEE) quand connus, sinon distance au pôle le plus proche")
        st.header(f"{GAP_LEVEL_LABELS[level]} prioritaires sans pôle, par {by}")
        cols = gap_columns(level, zoning)
        show_table(table[[c for c in cols if c in table.columns]].rename(columns=cols))
        st.caption(f"Registre : {coverage.registry_text(result.registry)}")
        text_p, text_v = coverage.explain(table.attrs["params"], table.attrs["vintages"])
        st.caption(f"Paramètres : {text_p}. Millésimes : {text_v}.")
        coverage_downloads(table, f"lacunes-{level}", level, "lacunes")
        shapes = coverage.as_layer(table.head(300), level)
        gap_map_with_text(shapes, result.poles, radius, headline, "France entière", "lacunes", level=level)
        suggestion_view(result, radius)
    except PtceGeoError as exc:
        show_error(exc)


def suggestion_view(result, radius_km: float) -> None:
    """« Où implanter de nouveaux pôles ? »: greedy sites with their marginal gains, downloadable."""
    with st.expander("Où implanter de nouveaux pôles ? (couverture maximale)"):
        regions = boundaries_layer("region")
        names = dict(zip(regions["code"], regions["nom"]))
        cols = st.columns([1, 2, 2])
        count = int(cols[0].number_input("Nombre de sites", 1, 50, 5, key="suggestion_nombre"))
        region = cols[1].selectbox("Chercher les sites en", [None, *sorted(names, key=names.get)],
                                   format_func=lambda c: "France entière" if c is None else names[c],
                                   key="suggestion_region")
        in_zoning = cols[2].checkbox("Sites parmi les communes du zonage", key="suggestion_zonage")
        if not radius_km:
            st.info("Choisissez un rayon supérieur à 0 km pour obtenir des suggestions.")
            return
        table = coverage.suggest(result, count, region=region, candidates_in_zoning=in_zoning)
        by_qpv = table.attrs["params"].get("objective") == "qpv"
        shown = table[["rang", "code", "nom", "departement", "gain_population", "gain_qpv", "gain_communes",
                       "cumulative_gain"]]
        if by_qpv:
            shown = shown.drop(columns=["gain_population"])
        show_table(shown.rename(columns={"rang": "Rang", "code": "Code", "nom": "Commune",
                                         "departement": "Département", "gain_population": "Gain (habitants)",
                                         "gain_qpv": "QPV couverts", "gain_communes": "Communes couvertes",
                                         "cumulative_gain": "Gain cumulé" + (" (QPV)" if by_qpv else " (habitants)")}))
        st.caption(("Chaque site couvre le plus de QPV encore non couverts (population des QPV inconnue sans le "
                    "fichier INSEE)" if by_qpv else
                    "Chaque site couvre la population prioritaire encore non couverte")
                   + " dans le rayon choisi ; le gain de chaque ligne s'ajoute aux précédents (algorithme glouton).")
        coverage_downloads(table, "suggestions", None, "suggestions")
