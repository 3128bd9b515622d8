"""Text version of the maps (ptce_geo.mapsummary): the same figures as the map, read from the objects
that draw it; rendered as real tables under each map (AppTest)."""

from __future__ import annotations

import html
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from ptce_geo import boundaries, mapsummary, webmap

ROOT = Path(__file__).resolve().parents[1]
XSS = "<img src=x onerror=alert(1)> & *gras*"


def _poles(codes=("48095", "48061", "48095")) -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["a", "b", "c"], "nom": [XSS, "Pôle B", "Pôle C"], "code_insee": list(codes),
        "commune": ["Mende", "Florac Trois Rivières", "Mende"], "departement": ["48", "48", "48"],
        "secteurs": [["insertion", "alimentation"], ["culture"], []], "appel": ["AMI 2023", None, "AAP 2013"],
        "latitude": [44.5, 44.3, 44.52], "longitude": [3.5, 3.6, 3.49], "annee_creation": [2015, None, 2020],
        "site_web": [None, None, None],
    })


def _lozere_layers(state):
    """MapLayers as the page builds them for Lozère: published outline files, FRR and choropleth joins."""
    communes = webmap.territory_communes(state.territoire)
    codes = list(communes.index)
    layers = webmap.MapLayers(indicator="taux")
    layers.urls["departements"] = webmap.publish_layer("departements", state.territoire)
    layers.urls["communes"] = webmap.publish_layer("communes", state.territoire)
    frr = pd.DataFrame({"code": codes[:5], "classement": ["FRR+", "FRR socle", "FRR socle", "FRR <b>socle</b>",
                                                          "FRR socle"]})
    layers.urls["frr"] = layers.urls["communes"]
    layers.joins["frr"] = webmap.priority_join("frr", frr, state.territoire)
    rates = pd.DataFrame({"code": codes, "nom": communes["nom"].tolist(),
                          "priority_population": [100.0] * (len(codes) - 2) + [0.0, 0.0],
                          "priority_population_covered": [float(i % 3) * 50 for i in range(len(codes))],
                          })
    rates["coverage_rate"] = rates["priority_population_covered"] / rates["priority_population"].where(
        rates["priority_population"] > 0)
    _outline, layers.joins["couverture"], layers.classes = webmap.coverage_join(rates, state.territoire, "taux")
    layers.urls["couverture"] = layers.urls["communes"]
    shown = _poles()
    layers.pole_colours = webmap.colour_map(["insertion", "culture"])
    layers.poles = webmap.pole_points(shown, "secteur", layers.pole_colours)
    return layers, shown, rates


def test_all_zonings_sentence_counts_qpv_residents_only_with_insee_file(mirror_dir):
    """« toutes zones » names the QPV residents only when INSEE's file gave them; without it the
    sentence says that only the communes of Territoires d'industrie and FRR are counted."""
    state = webmap.MapState(territoire="dep-48")
    communes = webmap.territory_communes(state.territoire)
    base = {"coverage_rate": 0.25, "priority_population": 1000, "priority_population_covered": 250}
    without = mapsummary.carte_headline(state, communes, _poles(), base)["priority_population"].sentence
    assert "habitants des QPV hors de ces communes" not in without
    assert "Territoire d'industrie ou FRR seulement" in without and "comptés à part, en nombre" in without
    with_file = mapsummary.carte_headline(state, communes, _poles(), {**base, "qpv_population": 120})
    assert "habitants des QPV hors de ces communes (INSEE)" in with_file["priority_population"].sentence
    national = mapsummary.carte_headline(webmap.MapState(), communes, _poles(),
                                         {**base, "qpv_population_source": "INSEE 2020"})
    assert "habitants des QPV hors de ces communes (INSEE)" in national["priority_population"].sentence


def test_explorer_text_counts_what_the_map_draws(mirror_dir):
    state = webmap.MapState(territoire="dep-48", couches=("poles", "departements", "communes", "frr", "couverture"))
    layers, shown, rates = _lozere_layers(state)
    communes = webmap.territory_communes(state.territoire)
    figures = {"coverage_rate": 0.25, "priority_population": 1000, "priority_population_covered": 250}
    headline = mapsummary.carte_headline(state, communes, shown, figures, compact=webmap.fmt_compact)
    tv = mapsummary.explorer_text(state, layers, shown, headline, {"poles": "registre, 2026-12-01"},
                                  missing={"qpv": "couche <absente>"})
    # headline figures: the panel's, with the exact population
    fig = dict(zip(tv.figures["Indicateur"], tv.figures["Valeur"]))
    assert fig["Communes"] == mapsummary.fmt_int(len(communes)) == "152"
    assert fig["Population"] == f"{mapsummary.fmt_int(communes['population'].sum())} habitants"
    assert fig["Pôles affichés"] == "3" and fig["Population prioritaire couverte"] == "25,0\u202f%"
    # layers on, with the number of features drawn from each published file
    drawn = dict(zip(tv.layers["Couche"], tv.layers["Éléments dessinés"]))
    # départements: Lozère and its six neighbours (the file of the territory's context)
    assert drawn["Communes"] == "152" and drawn["Départements"] == "7"
    assert drawn["Communes FRR (France Ruralités Revitalisation 2025)"] == "5"
    assert drawn["Pôles (PTCE)"] == "3"
    # legend classes with their counts: FRR by class (labels back to plain text), poles by first sector
    legend = tv.legend
    frr = legend[legend["Couche"].str.startswith("Communes FRR")]
    assert dict(zip(frr["Classe"], frr["Nombre"])) == {"FRR+": "1", "FRR socle": "3", "FRR <b>socle</b>": "1"}
    poles = legend[legend["Couche"] == "Pôles (PTCE)"]
    assert dict(zip(poles["Classe"], poles["Nombre"])) == {"insertion": "1", "culture": "1",
                                                          "autre / non renseigné": "1"}
    # the choropleth: one row per class and the communes without priority population; counts add up
    cov = legend[legend["Couche"].str.startswith("Couverture")]
    assert list(cov["Classe"][:-1]) == layers.classes.labels
    assert cov["Classe"].iloc[-1] == webmap.NO_DATA_LABEL and cov["Nombre"].iloc[-1] == "2"
    assert sum(int(n) for n in cov["Nombre"]) == 152
    expected = pd.Series(layers.classes.index).value_counts()
    assert [int(n) for n in cov["Nombre"][:-1]] == [int(expected.get(i, 0)) for i in range(len(layers.classes.labels))]
    assert all("teinte" in r for r in cov["Représentation"][:-1])
    # poles drawn: plain text (the page's table escapes it), sorted by name
    assert list(tv.poles.columns) == mapsummary.POLE_COLUMNS
    assert XSS in set(tv.poles["Pôle"]) and "insertion, alimentation" in set(tv.poles["Secteurs"])
    assert "Florac Trois Rivières (48061)" in set(tv.poles["Commune"])
    assert any("couche <absente>" in n for n in tv.notes)
    assert tv.summary.startswith("Carte « Département Lozère (48) »")


def test_counts_follow_the_map_layers_not_a_copy(mirror_dir):
    """Drop a class from the FRR join the map draws: the text version's count follows."""
    state = webmap.MapState(territoire="dep-48", couches=("frr",))
    layers, shown, _ = _lozere_layers(state)
    code = next(iter(layers.joins["frr"]))
    del layers.joins["frr"][code]
    tv = mapsummary.explorer_text(state, layers, shown.iloc[:0], {}, {})
    assert tv.layers["Éléments dessinés"].tolist() == ["4"]
    assert mapsummary.layer_count(layers.urls["frr"], layers.joins["frr"]) == 4
    assert mapsummary.layer_count("/app/static/layers/absent--file.geojson") is None


def test_shades_and_styles_in_words():
    assert mapsummary.shade_words(["#ffffff", "#000000", "#777777"]) == [
        "teinte 3 sur 3 (1 : la plus foncée)", "teinte 1 sur 3 (1 : la plus foncée)",
        "teinte 2 sur 3 (1 : la plus foncée)"]
    assert mapsummary.style_words(webmap.STYLES["territoires-industrie"]) == "aplat de couleur, contour pointillé"
    assert mapsummary.style_words(webmap.STYLES["regions"]) == "trait continu"


def test_screen_palettes_keep_their_order_in_greyscale():
    """Colour is not the only carrier on screen: each class scale runs from dark to light (or back),
    with visible steps; Territoires d'industrie are told from QPV by a dashed outline."""
    for palette in (webmap._CHORO, webmap._CHORO_RATE, [c for k, c in webmap.FRR_COLOURS.items()
                                                         if k != "FRR bénéficiaire partiellement"]):
        lum = [mapsummary.luminance(c) for c in palette]
        steps = [b - a for a, b in zip(lum, lum[1:])]
        assert all(s > 0.1 for s in steps) or all(s < -0.1 for s in steps), (palette, lum)
    assert webmap.STYLES["territoires-industrie"].get("dashArray") and not webmap.STYLES["qpv"].get("dashArray")
    legend = webmap.legend_html(webmap.MapState(territoire="dep-48", couches=("territoires-industrie",)),
                                webmap.MapLayers(urls={"territoires-industrie": "/x.geojson"}))
    assert "dashed" in legend and "contour pointillé" in legend


def test_gap_map_text_describes_the_drawn_frames(mirror_dir):
    table = boundaries.commune_table()
    shapes = gpd.GeoDataFrame({"code": ["48095", "48061", "75056"], "nom": ["Mende", "Florac", "Paris"],
                               "priority_population": [12000, 1800, 2100000]},
                              geometry=[shapely.Point(3.5, 44.5), shapely.Point(3.6, 44.3), None], crs="EPSG:4326")
    poles = pd.DataFrame({"id": ["a", "zz"], "nom": [XSS, "Autre"], "commune": ["48095", "48061"],
                          "lat": [44.5, 44.3], "lon": [3.5, 3.6]})
    gmap = mapsummary.gap_map_layers(shapes, poles, 15.0)
    assert list(gmap.gaps["code"]) == ["48095", "48061"]  # what the map can draw: with a geometry
    heads = mapsummary.coverage_headline({"poles": 2, "priority_population": 13800,
                                          "priority_population_covered": 0, "coverage_rate": 0.0})
    registry = _poles().assign(id=["a", "b", "c"])
    tv = mapsummary.gap_map_text(gmap, heads, "France entière", registry=registry, communes=table)
    assert list(tv.places["Nom"]) == ["Mende", "Florac"] and list(tv.places["Rang"]) == ["1", "2"]
    legend = dict(zip(tv.legend["Classe"], tv.legend["Nombre"]))
    assert legend["territoire prioritaire sans pôle"] == "2" and legend["pôle"] == "2"
    assert legend["rayon d'action de 15 km"] == "2"
    assert dict(zip(tv.figures["Indicateur"], tv.figures["Valeur"]))["Taux de couverture"] == "0,0\u202f%"
    assert set(tv.poles["Pôle"]) == {XSS, "Autre"}
    assert "insertion, alimentation" in set(tv.poles["Secteurs"])  # from the registry
    assert "Florac Trois Rivières (48061)" in set(tv.poles["Commune"])  # from the commune table


def _unescape_md(text: str) -> str:
    return text.replace("\\", "")


def test_carte_text_version_matches_the_panel(app_page, mirror_dir):
    at = app_page(timeout=240, params={"territoire": "dep-48", "couches": "poles,departements,communes,frr,couverture"},
                  check=False)
    assert not at.exception, at.exception
    assert "Version texte de la carte" in [h.value for h in at.header]
    assert {"Chiffres clés", "Couches affichées", "Légende : classes et effectifs"} <= {s.value for s in at.subheader}
    figures, layers, legend = (t.value for t in at.table[:3])
    shown = {_unescape_md(a): _unescape_md(b) for a, b in zip(figures.iloc[:, 0], figures.iloc[:, 1])}
    metrics = {m.label: m.value for m in at.metric}
    for label in ("Communes", "Pôles affichés", "Population prioritaire couverte"):
        assert shown[label] == metrics[label], label
    assert shown["Population"].replace("\u202f", "").startswith(str(boundaries.commune_table()
                                                                     .query("departement == '48'")["population"].sum()))
    names = [_unescape_md(c) for c in layers.iloc[:, 0]]
    assert names[:3] == ["Pôles (PTCE)", "Départements", "Communes"]
    assert any(_unescape_md(c).startswith("Communes FRR") for c in legend.iloc[:, 0])
    assert at.expander and any(e.label.startswith("Pôles affichés (") for e in at.expander)


def test_lacunes_text_version_matches_the_figures_and_the_map(app_page, mirror_dir):
    at = app_page("lacunes", timeout=240, check=False)
    assert not at.exception, at.exception
    figures = at.table[0].value
    shown = {_unescape_md(a): _unescape_md(b) for a, b in zip(figures.iloc[:, 0], figures.iloc[:, 1])}
    metrics = {m.label: m.value for m in at.metric}
    assert shown == {k: metrics[k] for k in shown} and len(shown) == 4
    places = next(t.value for t in at.table if "Rang" in [_unescape_md(c) for c in t.value.columns])
    assert len(places) == 100  # the 100 rows of the ranking drawn on the map (all have a contour)
    gaps = next(d.value for d in at.dataframe if "Code" in d.value.columns)  # the ranking above the map
    assert [_unescape_md(c) for c in places.iloc[:, 2]] == gaps["Code"].tolist()


@pytest.mark.parametrize("name", [XSS])
def test_hostile_names_stay_text_in_the_tables(name):
    """st.table renders Markdown in its cells: the page escapes every cell (ui.accessibilite._table)."""
    from ptce_geo.ui.carte import md_text

    escaped = md_text(name)
    assert "<" not in escaped.replace("\\<", "") and "*" not in escaped.replace("\\*", "")
    assert html.unescape(escaped.replace("\\", "")) == name
