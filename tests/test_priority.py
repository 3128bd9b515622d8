"""Priority layers built from the mirror of official files, the QPV contours path with a
fixture ZIP/GeoJSON, the per-commune flags, the warm cache, and the missing-data path."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import conftest

from ptce_geo import _http, priority, priority_build, sources
from ptce_geo._errors import DataFormatError, DataUnavailableError, UnknownChoiceError

QPV_MEMBER = "GEOJSON/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"


@pytest.fixture(scope="module")
def layers():
    if not (conftest.DEFAULT_MIRROR / "SOURCES.md").exists() and not os.environ.get("PTCE_GEO_MIRROR"):
        pytest.skip("miroir des données officielles absent")
    return {name: priority.load(name) for name in priority.LAYERS}


@pytest.fixture
def nothing_local(tmp_path, monkeypatch):
    """No mirror, an empty raw cache, no network (boundaries stay in the session cache)."""
    monkeypatch.delenv("PTCE_GEO_MIRROR", raising=False)
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    monkeypatch.setenv("PTCE_GEO_RAW", str(tmp_path / "raw"))


def test_labels_and_layers_match_the_contract():
    assert priority.LAYERS == ("qpv", "territoires-industrie", "frr", "zrr")
    assert priority.LABELS["qpv"] == "Quartiers prioritaires (QPV 2024)"
    assert priority.LABELS["zrr"] == "Zones de revitalisation rurale (ZRR 2017, historique)"
    with pytest.raises(UnknownChoiceError, match="'qpv2015'"):
        priority.load("qpv2015")


def test_qpv_counts_and_contours(layers):
    qpv = layers["qpv"]
    assert list(qpv.columns) == ["code", "nom", "communes", "departement", "geometry_kind", "hors_communes_cog",
                                 "geometry"]
    assert qpv.crs.to_epsg() == 4326
    # the 1,493 codes of the list + 3 in Saint-Martin + 88 in French Polynesia (contours only)
    assert qpv["code"].is_unique and len(qpv) == 1_584
    metro = qpv[~qpv["departement"].str.startswith(("97", "98"))]
    assert len(metro) == 1_362  # the official metropolitan count
    assert set(qpv["geometry_kind"]) == {"polygon"}  # the mirror has the contours now
    assert set(qpv.geom_type) <= {"Polygon", "MultiPolygon"}
    row = qpv.set_index("code").loc["QN09301I"]
    assert row.communes == ["93013"] and row.departement == "93" and row.nom == "Secteur Gare - Aviatic"
    multi = qpv.set_index("code").loc["QN05969M"]
    assert len(multi.communes) == 3
    # a contour lies in its commune
    communes = priority.boundaries.load("commune").set_index("code")
    assert communes.geometry["93013"].buffer(0.002).contains(row.geometry)
    assert qpv.set_index("code").loc["QN98701M", ["departement", "hors_communes_cog"]].tolist() == ["987", True]


def test_territoires_industrie(layers):
    ti = layers["territoires-industrie"]
    assert len(ti) == 183 and ti["code"].is_unique
    assert {"code", "nom", "epci", "communes", "region", "geometry"} <= set(ti.columns)
    assert sum(len(e) for e in ti["epci"]) == 641
    assert all(len(c) > 0 for c in ti["communes"])  # no territory without communes
    by = ti.set_index("code")
    assert by.loc["ti-1101", "region"] == "11"
    # EPT Boucle Nord de Seine is no EPCI of 2025: placed through the territory's geometry
    assert by.loc["ti-1101", "epci_hors_cog2025"] == ["200057990"]
    assert {"92004", "92036", "95018"} <= set(by.loc["ti-1101", "communes"])
    # commune SIRENs (Creuse Industrie lists communes) are resolved to INSEE codes
    assert "23019" in by.loc["ti-7506", "communes"]
    # a commune belongs to one territory at most
    exploded = ti["communes"].explode()
    assert exploded.is_unique
    rep = priority.report("territoires-industrie")
    assert set(rep["siren"]) == {s for lst in ti["epci_hors_cog2025"] for s in lst}
    assert (rep["statut"] == "placé par la géométrie").all()


def test_frr_keeps_partial_classifications(layers):
    frr = layers["frr"]
    assert len(frr) == 19_934
    counts = frr["classement"].value_counts()
    assert counts["FRR socle"] == 13_313 and counts["FRR+"] == 4_456 and counts["FRR bénéficiaire"] == 2_134
    assert counts["Classée FRR partiellement"] == 20 and counts["FRR bénéficiaire partiellement"] == 11
    assert "Non classée" not in counts
    by = frr.set_index("code")
    assert by.loc["01187", "classement"] == "FRR bénéficiaire partiellement"
    assert by.loc["01187", "departement"] == "01"
    assert frr.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_zrr_mapped_to_cog_2025(layers):
    zrr = layers["zrr"]
    assert zrr["code"].is_unique
    assert set(zrr["classement"]) == {priority.ZRR_CLASSIFIED, priority.ZRR_PARTIAL}
    assert 17_600 < len(zrr) < 17_730  # 17,730 classified in COG 2021, fewer after mergers
    rep = priority.report("zrr")
    lost = rep[rep["statut"].str.startswith("non placé")]
    assert len(lost) == 17 and "25282" in set(lost["code_2021"])
    merged = rep[rep["statut"] == "fusionnée"]
    assert len(merged) == 85
    # every 2021 code is accounted for: kept, merged or reported
    z = zrr.explode("codes_cog2021")
    assert not set(lost["code_2021"]) & set(z["codes_cog2021"])


def test_merge_rule_for_communes_merged_since_2021():
    assert priority_build.merge_zrr(["C - Classée en ZRR", "C - Classée en ZRR"]) == priority.ZRR_CLASSIFIED
    assert priority_build.merge_zrr(["NC - Commune non classée"] * 2) == priority.ZRR_NOT_CLASSIFIED
    assert priority_build.merge_zrr(["C - Classée en ZRR", "NC - Commune non classée"]) == priority.ZRR_PARTIAL


def test_zrr_reader_skips_title_lines(tmp_path):
    path = tmp_path / "zrr.csv"
    path.write_text(
        '"Champ : France","","",""\n"Géographie : communes","","",""\n"","","",""\n'
        '"Code Insee","Libellé","Classement en ZRR","Modalités"\n"CODGEO","LIBGEO","ZRR_SIMP","ZONAGE_ZRR"\n'
        '"1001","A","C - Classée en ZRR","C - Commune classée en ZRR"\n"","","",""\n',
        encoding="utf-8-sig",
    )
    table = priority.read_zrr(path)
    assert table.to_dict("records") == [{"CODGEO": "01001", "LIBGEO": "A", "ZRR_SIMP": "C - Classée en ZRR",
                                         "ZONAGE_ZRR": "C - Commune classée en ZRR"}]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataFormatError, match="CODGEO"):
        priority.read_zrr(bad)


def test_flags_one_row_per_commune(layers):
    flags = priority.flags()
    assert len(flags) == 34_875 and flags["code"].is_unique
    assert list(flags.columns) == [
        "code", "nom", "departement", "region", "epci", "population", "in_qpv", "qpv_count",
        "in_territoire_industrie", "frr", "frr_classement", "zrr", "zrr_classement", "priority",
    ]
    assert str(flags["population"].dtype) == "Int64"
    for col in ("in_qpv", "in_territoire_industrie", "frr", "zrr", "priority"):
        assert flags[col].dtype == bool, col
    assert flags["frr"].sum() == 19_934
    assert flags["in_qpv"].sum() == 824  # communes holding at least one QPV
    in_cog = layers["qpv"][~layers["qpv"]["hors_communes_cog"]]  # Saint-Martin, Polynesia: no COG commune
    assert flags["qpv_count"].sum() == sum(len(c) for c in in_cog["communes"]) == 1_684
    assert flags["in_territoire_industrie"].sum() == layers["territoires-industrie"]["communes"].explode().nunique()
    assert (flags["priority"] == (flags["in_qpv"] | flags["in_territoire_industrie"] | flags["frr"])).all()
    by = flags.set_index("code")
    assert by.loc["13055", "qpv_count"] >= 30  # Marseille
    assert by.loc["01187", "frr_classement"] == "FRR bénéficiaire partiellement"
    assert by.loc["01001", "frr_classement"] == "Non classée" and not by.loc["01001", "frr"]
    assert flags.attrs["missing_layers"] == []
    assert set(flags.attrs["vintages"]) == set(priority.LAYERS)


def test_warm_start_parses_no_raw_file(layers, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("raw file parsed on a warm start")

    for fn in ("read_qpv_list", "read_qpv_centroids", "read_qpv_contours", "read_frr", "read_zrr", "_read_text"):
        monkeypatch.setattr(priority_build, fn, boom)
    monkeypatch.setattr(priority.gpd, "read_file", boom)
    for name in priority.LAYERS:
        assert len(priority.load(name)) == len(layers[name])


def test_status_with_mirror(mirror_dir):
    table = priority.status()
    assert list(table["layer"]) == list(priority.LAYERS)
    assert {"layer", "titre", "millesime", "source", "en_cache", "date"} <= set(table.columns)
    assert table["en_cache"].all() and set(table["origine"]) == {"miroir"}
    assert priority.missing_layers() == []
    assert "2024" in priority.vintage("qpv") and "2025" in priority.vintage("frr")


# --- QPV contours (official GeoJSON or ZIP), fixture built here --------------------------

def _contours_geojson() -> bytes:
    def square(x, y, d=0.004):
        return shapely.box(x, y, x + d, y + d)

    gdf = gpd.GeoDataFrame(
        {
            "code_qp": ["QN09301I", "QN00101M", "QN00101M", "QN99999X"],
            "lib_qp": ["Secteur Gare - Aviatic", "Grande Reyssouze", "Grande Reyssouze", "Quartier test"],
            "insee_dep": ["93", "01", "01", "75"],
            "insee_com": ["93013", "01053", "01053", "75056"],
        },
        geometry=[square(2.43, 48.93), square(5.22, 46.2), square(5.23, 46.2), square(2.35, 48.85)],
        crs="EPSG:4326",
    )
    return gdf.to_json().encode()


def _mirror_with(tmp_path, mirror_dir, name: str, data: bytes):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for f in mirror_dir.iterdir():
        (mirror / f.name).symlink_to(f)
    (mirror / name).write_bytes(data)
    return mirror


@pytest.mark.parametrize("packaging", ["zip", "geojson"])
def test_qpv_polygons_from_official_contours(packaging, tmp_path, mirror_dir, monkeypatch):
    data = _contours_geojson()
    if packaging == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(QPV_MEMBER, data)
            zf.writestr("SHP/QP2024.shp", b"not read")
        data, name = buf.getvalue(), "qpv_2024_contours.zip"
    else:
        name = "qpv_2024_contours.geojson"
    mirror = _mirror_with(tmp_path, mirror_dir, name, data)
    (mirror / "qpv_2024_polygones.geojson").unlink()  # the fixture's contours only
    monkeypatch.setenv("PTCE_GEO_MIRROR", str(mirror))
    qpv = priority.load("qpv").set_index("code")
    assert qpv.loc["QN09301I", "geometry_kind"] == "polygon"
    assert qpv.loc["QN09301I"].geometry.geom_type == "Polygon"
    # two features of one QPV are dissolved into one row
    assert qpv.loc["QN00101M"].geometry.area == pytest.approx(2 * 0.004 ** 2, rel=1e-6)
    # a QPV only the contours know is kept, with its commune
    assert qpv.loc["QN99999X", "communes"] == ["75056"] and qpv.loc["QN99999X", "departement"] == "75"
    # the others fall back to points, honestly labelled
    assert qpv.loc["QN00102M", "geometry_kind"] == "point"
    assert (qpv["geometry_kind"] == "polygon").sum() == 3
    assert priority.status().set_index("layer").loc["qpv", "polygones_qpv"]


def test_qpv_zip_without_member_is_a_clear_error(tmp_path):
    path = tmp_path / "c.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("SHP/x.shp", b"x")
    with pytest.raises(DataFormatError, match="QP2024_France_Hexagonale_Outre_Mer_WGS84"):
        priority.read_qpv_contours(path, QPV_MEMBER)


def test_official_qpv_list_csv_with_bom_and_semicolons(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes("\ufeffcode_qp;lib_qp;insee_com;lib_com\nQN00101M;Grande Reyssouze;1053;Bourg\n".encode())
    table = priority.read_qpv_list(path)
    assert table.loc[0, "insee_com"] == "01053" and table.loc[0, "code_qp"] == "QN00101M"


# --- nothing available ------------------------------------------------------------------

def test_missing_layers_are_reported_not_fatal(nothing_local):
    with pytest.raises(DataUnavailableError) as err:
        priority.load("territoires-industrie")
    msg = str(err.value)
    assert "Territoires d'industrie" in msg and "PTCE_GEO_MIRROR" in msg and "https://" in msg
    flags = priority.flags()
    assert len(flags) == 34_875
    assert flags.attrs["missing_layers"] == list(priority.LAYERS)
    assert not flags[["in_qpv", "in_territoire_industrie", "frr", "zrr", "priority"]].any().any()
    assert set(flags.attrs["errors"]) == set(priority.LAYERS)
    table = priority.status()
    assert not table["en_cache"].any() and table["obtenir"].str.contains("ptce-geo data sync").all()
    assert priority.missing_layers() == list(priority.LAYERS)


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ptce_geo", *args], capture_output=True, text=True,
                          timeout=600, env=env)


def test_cli_without_data_exits_nonzero_with_the_message(tmp_path):
    env = dict(os.environ, PTCE_GEO_MIRROR="", PTCE_GEO_OFFLINE="1", PTCE_GEO_CACHE=str(tmp_path / "cache"))
    for args in (("data", "sync"), ("layer", "qpv"), ("data", "status")):
        out = _cli(*args, env=env)
        assert out.returncode != 0, args
        assert "PTCE_GEO_MIRROR" in out.stderr or "ABSENTE" in out.stdout, out.stderr
    out = _cli("data", "sync", env=env)
    assert "Couches non obtenues : qpv, territoires-industrie, frr, zrr" in out.stderr
    assert "ptce-geo data sync" in out.stderr


def test_cli_with_mirror(mirror_dir, tmp_path):
    out = _cli("data", "sync")
    assert out.returncode == 0, out.stderr
    assert "territoires-industrie  ok     183 lignes" in out.stdout
    assert "frr                    ok     19934 lignes" in out.stdout
    status = _cli("data", "status")
    assert status.returncode == 0 and status.stdout.count("en cache (miroir") == 4
    csv = _cli("layer", "territoires-industrie", "--format", "csv")
    assert csv.returncode == 0
    table = pd.read_csv(io.StringIO(csv.stdout), dtype=str)
    assert len(table) == 183 and table.loc[0, "epci"] == "249710062;249710070"
    gj = tmp_path / "qpv.geojson"
    assert _cli("layer", "qpv", "--format", "geojson", "-o", str(gj)).returncode == 0
    features = json.loads(gj.read_text())["features"]
    assert len(features) == 1_584
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}
    assert {"code", "nom", "communes", "departement", "geometry_kind"} <= set(features[0]["properties"])
    gpkg = tmp_path / "frr.gpkg"
    assert _cli("layer", "frr", "--format", "gpkg", "-o", str(gpkg)).returncode == 0
    assert len(gpd.read_file(gpkg)) == 19_934


# --- sync over HTTP (local server) --------------------------------------------------------

def test_sync_downloads_then_keeps_last_good_copy(httpserver, mirror_dir, tmp_path, monkeypatch):
    import dataclasses

    from ptce_geo import sources

    monkeypatch.delenv("PTCE_GEO_MIRROR", raising=False)
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "0")
    monkeypatch.setenv("PTCE_GEO_RAW", str(tmp_path / "raw"))
    monkeypatch.setattr(_http, "BACKOFF_S", 0.0)
    frr = sources.get("frr-2025")
    monkeypatch.setitem(sources.SOURCES, "frr-2025", dataclasses.replace(frr, url=httpserver.url_for("/frr.csv")))
    body = (mirror_dir / frr.filename).read_bytes()
    httpserver.expect_ordered_request("/frr.csv").respond_with_data(body, content_type="text/csv")
    httpserver.expect_ordered_request("/frr.csv").respond_with_data("<html><body>Erreur</body></html>",
                                                                     content_type="text/html")
    [first] = priority.sync(["frr"])
    assert first["ok"] and first["rows"] == 19_934
    assert (tmp_path / "raw" / frr.filename).read_bytes() == body
    [second] = priority.sync(["frr"])  # the server now answers an HTML page with status 200
    assert second["ok"] and second["rows"] == 19_934
    assert any("page HTML" in m and "conservée" in m for m in second["messages"])
    assert (tmp_path / "raw" / frr.filename).read_bytes() == body
    assert priority.status().set_index("layer").loc["frr", "origine"] == "cache"


def test_unusable_contours_fall_back_to_points(tmp_path, mirror_dir, monkeypatch):
    mirror = _mirror_with(tmp_path, mirror_dir, "qpv_2024_contours.geojson", b'{"type": "Feature"')
    (mirror / "qpv_2024_polygones.geojson").unlink()  # only the damaged copy is left
    monkeypatch.setenv("PTCE_GEO_MIRROR", str(mirror))
    qpv = priority.load("qpv")
    assert len(qpv) == 1_493 and set(qpv["geometry_kind"]) == {"point"}
    [res] = priority.sync(["qpv"], refresh=False)
    assert res["ok"] and any("Contours QPV inutilisables" in m for m in res["messages"])


def test_sync_keeps_mirror_files_so_layers_survive_without_the_mirror(mirror_dir, tmp_path, monkeypatch):
    """`data sync` from the mirror copies its files into the raw cache: once PTCE_GEO_MIRROR is
    unset (a new shell, offline), the layer is still there and its processed cache is reused."""
    monkeypatch.setenv("PTCE_GEO_RAW", str(tmp_path / "raw"))
    [res] = priority.sync(["territoires-industrie"], refresh=False)
    assert res["ok"], res
    copies = sorted(p.name for p in (tmp_path / "raw").iterdir() if not p.name.endswith(".meta.json"))
    assert copies == sorted(sources.get(sid).filename for sid in priority.LAYER_SOURCES["territoires-industrie"])
    key_with_mirror = priority.cache_key("territoires-industrie")
    monkeypatch.delenv("PTCE_GEO_MIRROR")
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    status = priority.status().set_index("layer")
    assert status.loc["territoires-industrie", "en_cache"] and status.loc["territoires-industrie", "origine"] == "cache"
    assert not status.loc["frr", "en_cache"]  # not synced: still missing
    assert priority.cache_key("territoires-industrie") == key_with_mirror  # same content, same processed file

    def boom(*a, **k):
        raise AssertionError("layer rebuilt from raw files")

    monkeypatch.setattr(priority, "_BUILDERS", {name: boom for name in priority.LAYERS})
    assert len(priority.load("territoires-industrie")) == 183


def test_flags_read_back_from_disk_equal_a_fresh_build(layers):
    """A cold start reads the flags table from its Parquet cache: same values and dtypes as a build."""
    priority._FLAGS_MEMO.clear()
    first = priority.flags()  # built (or read) and cached
    priority._FLAGS_MEMO.clear()
    cached = priority.flags()  # read back from disk
    found = {name: priority._paths(name)[0] for name in priority.LAYERS}
    fresh = priority._flags(found, {})
    pd.testing.assert_frame_equal(cached.reset_index(drop=True), fresh.reset_index(drop=True), check_dtype=False)
    assert list(cached.dtypes.astype(str)) == list(first.dtypes.astype(str))
    assert cached.attrs["missing_layers"] == [] and set(cached.attrs["vintages"]) == set(priority.LAYERS)
