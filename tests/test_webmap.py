"""ptce_geo.webmap: permalink state, level of detail, escaping, classification, map assembly."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from ptce_geo import boundaries, priority, webmap
from ptce_geo._errors import PtceGeoError, UnknownChoiceError

XSS = "<img src=x onerror=alert(1)>"


def _poles() -> gpd.GeoDataFrame:
    rows = [
        dict(id="a", nom=XSS, commune="Mende", code_insee="48095", departement="48", region="76",
             latitude=44.5176, longitude=3.5003, secteurs=["insertion"], appel="AMI 2023", annee_creation=2020,
             site_web="javascript:alert(2)", localise=True),
        dict(id="b", nom="Pôle B", commune="Arles", code_insee="13004", departement="13", region="93",
             latitude=43.68, longitude=4.63, secteurs=["culture", "tourisme"], appel="AAP 2013",
             annee_creation=2012, site_web="https://example.org/b?x=1&y=2", localise=True),
        dict(id="c", nom="Sans point", commune=None, code_insee=None, departement=None, region=None,
             latitude=None, longitude=None, secteurs=[], appel=None, annee_creation=None, site_web=None,
             localise=False),
    ]
    frame = pd.DataFrame(rows)
    frame["annee_creation"] = frame["annee_creation"].astype("Int64")
    geom = [shapely.Point(r["longitude"], r["latitude"]) if r["localise"] else None for r in rows]
    return gpd.GeoDataFrame(frame, geometry=geom, crs="EPSG:4326")


# ----------------------------------------------------------------- state ↔ URL

def test_state_round_trip():
    state = webmap.MapState(territoire="dep-48", couches=("poles", "communes", "frr"), rayon=20.0,
                            secteurs=("insertion",), appels=("AMI 2023",), annees=(2010, 2020), zonage="frr",
                            couleur="appel", indicateur="population", fond="aucun", commune="48095")
    params = webmap.state_params(state)
    assert params["territoire"] == "dep-48" and params["couches"] == "poles,communes,frr"
    again, warnings = webmap.parse_state(params, ["insertion"], ["AMI 2023"])
    assert warnings == []
    assert again == state


def test_default_state_has_short_url(monkeypatch):
    monkeypatch.delenv("PTCE_GEO_OFFLINE", raising=False)
    assert webmap.state_params(webmap.MapState()) == {}
    state, warnings = webmap.parse_state({})
    assert state == webmap.MapState() and warnings == []


def test_offline_map_has_no_basemap_unless_asked(monkeypatch):
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    assert webmap.parse_state({})[0].fond == "aucun"  # tiles cannot load: none is shown or credited
    assert webmap.state_params(webmap.parse_state({})[0]) == {}  # and the URL stays bare
    assert webmap.state_params(webmap.parse_state({"fond": "osm"})[0]) == {"fond": "osm"}
    assert webmap.parse_state({"fond": "osm"})[0].fond == "osm"


@pytest.mark.parametrize("params, name", [
    ({"territoire": "dep-999"}, "territoire"),
    ({"territoire": "canton-1"}, "territoire"),
    ({"couches": "poles,licornes"}, "couches"),
    ({"rayon": "-3"}, "rayon"),
    ({"rayon": "abc"}, "rayon"),
    ({"annees": "2020-2010"}, "annees"),
    ({"fond": "satellite"}, "fond"),
    ({"commune": "99999"}, "commune"),
    ({"lieu": "95,3"}, "lieu"),
])
def test_bad_url_values_are_dropped_with_french_warning(params, name, monkeypatch):
    monkeypatch.delenv("PTCE_GEO_OFFLINE", raising=False)  # online defaults (offline, the basemap is off)
    state, warnings = webmap.parse_state(params)
    assert len(warnings) == 1
    assert name in warnings[0] and "ignoré" in warnings[0]
    assert getattr(state, name) == getattr(webmap.MapState(), name) or name == "couches"
    if name == "couches":
        assert state.couches == ("poles",)


def test_unknown_secteur_in_url_is_dropped():
    state, warnings = webmap.parse_state({"secteurs": "insertion,astrologie"}, ["insertion"], [])
    assert state.secteurs == ("insertion",)
    assert "'astrologie'" in warnings[0]


def test_check_choice_lists_valid_keys():
    with pytest.raises(UnknownChoiceError) as err:
        webmap.check_choice("Indicateur", "densite", webmap.INDICATORS)
    assert "'densite'" in str(err.value) and "taux" in str(err.value)


# ----------------------------------------------------------------- level of detail

def test_national_view_never_ships_communes():
    for layer in ("communes", "epci"):
        with pytest.raises(PtceGeoError, match="département ou une région"):
            webmap.boundary_layer(layer, "")


def test_departement_view_has_only_its_communes():
    com = webmap.boundary_layer("communes", "dep-48")
    assert len(com) == (boundaries.commune_table()["departement"] == "48").sum()
    assert com["code"].str.startswith("48").all()
    reg = webmap.boundary_layer("communes", "reg-76")
    assert len(reg) > len(com) and set(com["code"]) <= set(reg["code"])
    epci = webmap.boundary_layer("epci", "dep-48")
    assert 5 <= len(epci) <= 15


def test_national_payload_is_small():
    size = sum(len(webmap.to_geojson(webmap.boundary_layer(k, ""), ["code", "nom"]))
               for k in ("regions", "departements"))
    assert size < 2_000_000, size
    dep = len(webmap.to_geojson(webmap.boundary_layer("communes", "dep-13"), ["code", "nom", "population"]))
    assert dep < 1_500_000, dep


def test_to_geojson_escapes_strings_and_rounds():
    frame = gpd.GeoDataFrame({"nom": [XSS], "n": [np.int64(3)]},
                             geometry=[shapely.Point(2.123456789, 48.987654321)], crs="EPSG:4326")
    data = json.loads(webmap.to_geojson(frame, ["nom", "n"]))
    props = data["features"][0]["properties"]
    assert props["nom"] == "&lt;img src=x onerror=alert(1)&gt;" and props["n"] == 3
    assert data["features"][0]["geometry"]["coordinates"] == [2.12346, 48.98765]


def test_territory_bounds_and_names():
    (s, w), (n, e) = webmap.territory_bounds("dep-48")
    assert 44 < s < n < 45 and 2.9 < w < e < 4.0
    assert webmap.territory_name("dep-48") == "Département Lozère (48)"
    assert webmap.territory_name("") == "France entière"


def test_priority_layers_cut_to_territory():
    frr = gpd.GeoDataFrame({"code": ["48095", "13004"], "nom": ["Mende", "Arles"],
                            "departement": ["48", "13"], "classement": ["FRR socle", "FRR+"]},
                           geometry=[None, None], crs="EPSG:4326")
    out = webmap.priority_layer("frr", frr, "dep-48")
    assert list(out["code"]) == ["48095"] and not out.geometry.iloc[0].is_empty
    with pytest.raises(PtceGeoError):
        webmap.priority_layer("frr", frr, "")


def test_qpv_dots_nationally_contours_in_a_territory_with_the_nearest_pole(mirror_dir):
    import json

    from ptce_geo import coverage, priority

    layer = priority.load("qpv")
    france = json.loads(webmap.layer_geojson("qpv", ""))
    assert len(france["features"]) == 1_584
    assert {f["geometry"]["type"] for f in france["features"]} == {"Point"}
    assert set(france["features"][0]["properties"]) == {"code", "nom"}  # light: no communes nationally
    idf = json.loads(webmap.layer_geojson("qpv", "reg-11"))
    assert {f["geometry"]["type"] for f in idf["features"]} <= {"Polygon", "MultiPolygon"}
    aviatic = next(f for f in idf["features"] if f["properties"]["code"] == "QN09301I")
    assert aviatic["properties"]["communes"] == "Le Bourget (93013)"
    # simplified for the web but still the district: within 20 m of the official contour
    official = layer.set_index("code").geometry["QN09301I"]
    web = shapely.geometry.shape(aviatic["geometry"])
    assert web.hausdorff_distance(official) < 0.0003 and web.is_valid
    result = coverage.compute(15.0)
    join = webmap.qpv_join(result.qpv, "reg-11", 15.0)
    assert set(join) == {f["properties"]["code"] for f in idf["features"]}
    row = result.qpv.set_index("code").loc["QN09301I"]
    assert join["QN09301I"]["pole"] == webmap.esc(row["nearest_pole_nom"])
    assert join["QN09301I"]["couvert"].startswith("couvert" if row["covered"] else "non couvert")
    state = webmap.MapState(territoire="reg-11", couches=("qpv",))
    html_text = webmap.build_map(state, webmap.MapLayers(urls={"qpv": "/x.geojson"}, joins={"qpv": join}))\
        .get_root().render()
    assert "Distance au contour" in html_text and "bindPopup" in html_text
    assert "zoomSnap" in html_text  # fractional zoom: metropolitan France fills the frame


# ----------------------------------------------------------------- poles

def test_filter_poles():
    p = _poles()
    assert list(webmap.filter_poles(p, webmap.MapState())["id"]) == ["a", "b"]  # unlocated left out
    assert list(webmap.filter_poles(p, webmap.MapState(secteurs=("tourisme",)))["id"]) == ["b"]
    assert list(webmap.filter_poles(p, webmap.MapState(appels=("AMI 2023",)))["id"]) == ["a"]
    assert list(webmap.filter_poles(p, webmap.MapState(annees=(2010, 2015)))["id"]) == ["b"]
    assert list(webmap.filter_poles(p, webmap.MapState(territoire="reg-93"))["id"]) == ["b"]
    flags = pd.DataFrame({"code": ["48095", "13004"], "frr": [True, False], "priority": [True, False],
                          "in_qpv": [False, True], "in_territoire_industrie": [False, False], "zrr": [True, False]})
    assert list(webmap.filter_poles(p, webmap.MapState(zonage="frr"), flags)["id"]) == ["a"]
    assert list(webmap.filter_poles(p, webmap.MapState(zonage="qpv"), flags)["id"]) == ["b"]
    with pytest.raises(PtceGeoError, match="zonage"):
        webmap.filter_poles(p, webmap.MapState(zonage="frr"), None)


def test_pole_popup_escapes_everything_and_drops_unsafe_links():
    p = _poles()
    html_a = webmap.pole_popup(p.iloc[0])
    assert "<img" not in html_a and "&lt;img src=x onerror=alert(1)&gt;" in html_a
    assert "javascript:" not in html_a
    html_b = webmap.pole_popup(p.iloc[1])
    assert "href='https://example.org/b?x=1&amp;y=2'" in html_b
    assert "Secteurs : culture, tourisme" in html_b and "Appel : AAP 2013" in html_b and "Arles (13004)" in html_b
    pts = webmap.pole_points(webmap.filter_poles(p, webmap.MapState()), "secteur",
                             webmap.colour_map(["insertion", "culture"]))
    assert pts[0]["t"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert pts[0]["c"] != pts[1]["c"]


# ----------------------------------------------------------------- classification & map

def test_classify_quantiles_and_no_data():
    values = [0.0, 0.1, 0.2, 0.5, 0.7, 0.9, 1.0, np.nan]
    cl = webmap.classify(values, k=4, percent=True)
    assert len(cl.bins) == 4 and cl.index[-1] == -1 and (cl.index[:-1] >= 0).all()
    assert cl.labels[0].startswith("0 %") and cl.labels[-1].endswith("100 %")
    assert cl.method == "quantiles, 4 classes d'effectifs égaux"
    single = webmap.classify([3, 3, 3])
    assert single.bins == [3.0] and (single.index == 0).all()
    assert webmap.classify([np.nan]).bins == []


def test_coverage_layer_national_by_departement():
    deps = boundaries.load("departement")[["code", "nom"]]
    table = deps.assign(coverage_rate=np.linspace(0, 1, len(deps)), priority_population=1000.0,
                        priority_population_covered=500.0)
    table.loc[0, "coverage_rate"] = np.nan
    frame, classes = webmap.coverage_layer(table, "", "taux")
    assert len(frame) == 101 and frame.loc[frame["code"] == "01", "couleur"].iloc[0] == webmap.NO_DATA_COLOUR
    assert len(classes.colours) == 5
    frame2, _ = webmap.coverage_layer(table, "", "population")
    assert (frame2["valeur"] == 500).all()


def test_build_map_uses_local_leaflet_and_escapes(tmp_path):
    p = _poles()
    state = webmap.MapState(couches=("poles", "regions"), fond="aucun")
    layers = webmap.MapLayers(geojson={"regions": webmap.to_geojson(webmap.boundary_layer("regions", ""),
                                                                    ["code", "nom"])})
    layers.pole_colours = webmap.colour_map(["insertion", "culture"])
    layers.poles = webmap.pole_points(webmap.filter_poles(p, state), "secteur", layers.pole_colours)
    urls = {"leaflet_js": "/app/static/vendor/leaflet/leaflet.js", "leaflet_css": "/app/static/l.css",
            "mc_js": "/app/static/mc.js", "mc_css": "/app/static/mc.css", "mc_default_css": "/app/static/mcd.css"}
    m = webmap.build_map(state, layers, urls)
    page = m.get_root().render()
    assert "markerClusterGroup" in page and "/app/static/mc.js" in page and "/app/static/vendor/leaflet/leaflet.js" in page
    assert "jquery" not in page.lower() and "cdn.jsdelivr" not in page and "openstreetmap" not in page.lower()
    assert XSS not in page  # only the escaped form reaches the page
    legend = webmap.legend_html(state, layers)
    assert "Pôles (2)" in legend and "Régions" in legend and "ptce-legend" in page
    (tmp_path / "map.html").write_text(page)


def test_prepare_static_copies_vendor_files():
    root = webmap.prepare_static()
    assert (root / "leaflet" / "leaflet.js").stat().st_size > 100_000
    assert (root / "markercluster" / "leaflet.markercluster.js").exists()
    assert webmap.asset_urls()["leaflet_js"].startswith("/app/static/vendor/")


def test_sources_follow_visible_layers():
    lines = webmap.sources_text(webmap.MapState(couches=("regions", "frr"), fond="aucun"),
                                {"frr": "FRR 2025 (DGCL)"})
    assert lines == ["Régions : " + webmap.BOUNDARY_SOURCE,
                     "Communes FRR (France Ruralités Revitalisation 2025) : FRR 2025 (DGCL)"]


# ----------------------------------------------------------------- search

def test_find_communes_by_code_and_name():
    assert webmap.find_communes("48095").iloc[0]["nom"] == "Mende"
    assert webmap.find_communes("mende").iloc[0]["code"] == "48095"
    assert webmap.find_communes("l'ile saint denis").iloc[0]["code"] == "93039"
    hits = webmap.find_communes("saint-denis")
    assert hits.iloc[0]["code"] in ("93066", "97411")  # the most populous exact match first
    place = webmap.search_place("Mende")
    assert place.commune == "48095" and place.departement == "48" and 44 < place.latitude < 45


def test_address_search_offline_says_so_in_french():
    with pytest.raises(PtceGeoError) as err:
        webmap.search_place("12 rue imaginaire des Licornes")
    text = str(err.value)
    assert "'12 rue imaginaire des Licornes'" in text and "hors ligne" in text


def test_address_search_through_geocoder(httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "0")
    monkeypatch.setenv("PTCE_GEO_DATA", str(tmp_path))
    monkeypatch.setenv("PTCE_GEO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PTCE_GEO_GEOCODER_URL", httpserver.url_for("").rstrip("/"))
    httpserver.expect_request("/search/").respond_with_json({"features": [{
        "geometry": {"type": "Point", "coordinates": [3.4995, 44.5181]},
        "properties": {"label": "2 Rue de l'Ange 48000 Mende", "score": 0.9, "citycode": "48095",
                       "type": "housenumber"}}]})
    place = webmap.search_place("2 rue de l'Ange, Mende cedex")
    assert place.kind == "adresse" and place.departement == "48"
    assert abs(place.latitude - 44.5181) < 1e-6 and "Mende" in place.label


def test_empty_search_is_refused():
    with pytest.raises(PtceGeoError, match="vide"):
        webmap.search_place("  ")


def test_base_map_has_metric_scale_and_no_tiles_offline(monkeypatch):
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    html_text = webmap.base_map().get_root().render()
    assert "L.control.scale({imperial: false})" in html_text
    assert "tile.openstreetmap.org" not in html_text
    monkeypatch.delenv("PTCE_GEO_OFFLINE")
    assert "tile.openstreetmap.org" in webmap.base_map().get_root().render()


@pytest.mark.parametrize("value, text", [(66_555_092, "66,6\u202fM"), (853_659, "854\u202fk"), (76_601, "76\u202f601"),
                                         (None, "n.c.")])
def test_compact_figures_fit_the_side_panel(value, text):
    assert webmap.fmt_compact(value) == text


# ----------------------------------------------------------------- published layer files

def test_publish_layer_writes_a_versioned_file_once(tmp_path, monkeypatch):
    monkeypatch.setattr(webmap.files, "static_dir", lambda: tmp_path)  # where layers_dir looks it up
    url = webmap.publish_layer("communes", "dep-48")
    name = url.rsplit("/", 1)[1]
    assert url == f"/app/static/layers/{name}" and name.startswith("communes--dep-48--")
    path = tmp_path / "layers" / name
    data = json.loads(path.read_text())
    assert len(data["features"]) == 152 and set(data["features"][0]["properties"]) == {"code", "nom", "population"}
    mtime = path.stat().st_mtime_ns
    assert webmap.publish_layer("communes", "dep-48") == url and path.stat().st_mtime_ns == mtime  # not rebuilt
    # départements: the whole country, lighter, nationally; in a territory view, its own and its
    # neighbours only (issue 12: the Île-de-France view carried every département of France)
    lozere = webmap.publish_layer("departements", "dep-48")
    assert lozere != webmap.publish_layer("departements", "reg-76") != webmap.publish_layer("departements", "")
    national = tmp_path / "layers" / webmap.publish_layer("departements", "").rsplit("/", 1)[1]
    codes = {f["properties"]["code"] for f in
             json.loads((tmp_path / "layers" / lozere.rsplit("/", 1)[1]).read_text())["features"]}
    assert len(json.loads(national.read_text())["features"]) == 101
    assert {"48", "12", "15", "30", "43", "07"} <= codes and not codes & {"75", "29", "2A", "974"}
    # a new data version is a new file name; prune removes the old one and unknown files
    monkeypatch.setattr(webmap.files, "LAYER_FORMAT", "test-next")  # read by files._file_version
    url2 = webmap.publish_layer("communes", "dep-48")
    assert url2 != url
    (tmp_path / "layers" / "stray.geojson").write_text("{}")
    assert webmap.prune_layers() == 5  # old communes + the three old départements files + stray
    assert sorted(p.name for p in (tmp_path / "layers").iterdir()) == [url2.rsplit("/", 1)[1]]


def test_frr_is_a_join_on_the_communes_file():
    frr = priority.load("frr")
    join = webmap.priority_join("frr", frr, "dep-48")
    in_48 = set(boundaries.commune_table().query("departement == '48'").index)
    assert set(join) == set(frr.loc[frr["code"].isin(in_48), "code"])
    assert set(next(iter(join.values()))) == {"classement"}
    with pytest.raises(PtceGeoError, match="département ou une région"):
        webmap.priority_join("frr", frr, "")


def test_coverage_join_matches_the_geometry_layer():
    table = pd.DataFrame({"code": ["48095", "48061", "48001"], "nom": ["Mende", XSS, "Albaret"],
                          "priority_population": [1000.0, 500.0, 0.0],
                          "priority_population_covered": [1000.0, 0.0, 0.0],
                          "coverage_rate": [1.0, 0.0, np.nan]})
    outline, join, classes = webmap.coverage_join(table, "dep-48", "taux")
    frame, classes2 = webmap.coverage_layer(table, "dep-48", "taux")
    assert outline == "communes" and classes.labels == classes2.labels
    assert join == {r.code: {"valeur_texte": r.valeur_texte, "couleur": r.couleur} for r in frame.itertuples()}
    assert join["48001"]["couleur"] == webmap.NO_DATA_COLOUR and join["48095"]["valeur_texte"] == "100 %"


def test_map_with_layer_files_ships_urls_not_features():
    state = webmap.MapState(couches=("regions", "communes", "frr", "couverture"), territoire="dep-48", fond="aucun")
    layers = webmap.MapLayers(urls={"regions": "/app/static/layers/r.geojson", "communes": "/app/static/layers/c.geojson",
                                    "frr": "/app/static/layers/c.geojson", "couverture": "/app/static/layers/c.geojson"},
                              joins={"frr": {"48095": {"classement": "FRR+"}},
                                     "couverture": {"48095": {"valeur_texte": "1 %", "couleur": "#a50026"}}})
    page = webmap.build_map(state, layers).get_root().render()
    assert '"type":"Feature"' not in page  # no inline features: the browser fetches the files
    assert page.count("/app/static/layers/c.geojson") == 3 and "ptceQueue" in page and "Promise.all" in page
    legend = webmap.legend_html(state, layers)
    assert "(contours)" in legend  # FRR drawn as outlines over the choropleth
    with pytest.raises(ValueError):
        webmap.GeoLayer("x", None, {})
