"""QPV at their true scale on the real mirror file: repaired contours, points in and out of named
districts, coverage at the district, INSEE's population (parser on fixtures; figures without it)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import shapely

from ptce_geo import coverage as cv
from ptce_geo import priority, qpv
from ptce_geo._errors import DataFormatError

DATA = Path(__file__).resolve().parent / "data"
FIXTURE = DATA / "pop_QPV24_fictif.csv"


@pytest.fixture(scope="session")
def layer():
    """The QPV layer built once from the mirror's contours (1,584 districts)."""
    mirror = Path(os.environ.get("PTCE_GEO_MIRROR", ""))
    if not (mirror / "qpv_2024_polygones.geojson").exists():
        pytest.skip("contours QPV du miroir absents")
    return priority.load("qpv")


@pytest.fixture(scope="session")
def result(layer):
    return cv.compute(15.0, zoning="qpv")


# --------------------------------------------------------------------------- contours

def test_every_contour_of_the_mirror_is_valid_after_load(layer):
    assert len(layer) == 1_584 and layer["code"].is_unique
    assert (layer["geometry_kind"] == "polygon").all()
    assert shapely.is_valid(layer.geometry.values).all()
    assert set(layer.geom_type) <= {"Polygon", "MultiPolygon"}
    assert not layer.geometry.is_empty.any()
    assert shapely.union_all(layer.geometry.values[:200]).is_valid  # a union no longer raises in GEOS
    notes = " ".join(priority.report("qpv")["message"])
    assert "586 géométries invalides réparées" in notes
    assert "Saint-Martin (978) 3" in notes and "Polynésie française (987) 88" in notes
    outside = layer[layer["hors_communes_cog"]]
    assert len(outside) == 91 and set(outside["departement"]) == {"978", "987"}  # kept, said so
    metro = layer[~layer["departement"].str.startswith(("97", "98"))]
    assert len(metro) == 1_362


# Points read off the mirror's contours (inside), and places that lie in no QPV (outside).
INSIDE = {
    "QN00101M": (5.2290, 46.2122),   # Grande Reyssouze Terre Des Fleurs, Bourg-en-Bresse (a repaired contour)
    "QN09301I": (2.4237, 48.9325),   # Secteur Gare - Aviatic, Le Bourget
    "QN01341I": (5.5060, 43.2814),   # Les Escourtines, Marseille / La Penne-sur-Huveaune
    "QN01354M": (5.3423, 43.3662),   # La Castellane La Bricarde, Marseille
    "QN03107M": (1.4004, 43.5724),   # Grand Mirail, Toulouse
    "QN06715M": (7.7537, 48.5487),   # Neuhof - Meinau, Strasbourg
    "QN06913M": (4.8714, 45.6953),   # Minguettes - Clochettes, Vénissieux / Saint-Fons
    "QN05909M": (3.1094, 50.3859),   # Waziers Centre (a repaired contour)
    "QN98701M": (-149.5395, -17.5264),  # Ahititera - Arahiri, Tahiti (outside the COG communes)
}
OUTSIDE = {
    "tour Eiffel": (2.2945, 48.8584),
    "place Bellecour, Lyon": (4.8320, 45.7578),
    "Mont-Saint-Michel": (-1.5115, 48.6361),
    "Capitole, Toulouse": (1.4442, 43.6045),
    "300 m à l'est de Secteur Gare - Aviatic": (2.4290, 48.9325),
}


def test_a_dozen_points_inside_or_outside_named_districts(layer):
    by_code = layer.set_index("code")
    for code, (lon, lat) in INSIDE.items():
        assert by_code.geometry[code].contains(shapely.Point(lon, lat)), code
        hits = layer[layer.geometry.contains(shapely.Point(lon, lat))]
        assert hits["code"].tolist() == [code], (code, hits["code"].tolist())
    assert by_code.loc["QN09301I", "nom"] == "Secteur Gare - Aviatic"
    for place, (lon, lat) in OUTSIDE.items():
        assert not layer.geometry.contains(shapely.Point(lon, lat)).any(), place


# --------------------------------------------------------------------------- coverage at the district

def test_real_districts_covered_by_their_contour_not_their_town_hall_and_the_reverse(result):
    d = result.qpv.set_index("code")
    com = result.communes.set_index("code")
    single = d[(d["communes"].map(len) == 1) & ~d["hors_communes_cog"]]
    town_hall_km = single["communes"].map(lambda cs: com.at[cs[0], "nearest_distance_km"])
    contour_only = single[single["in_radius"] & (town_hall_km > 15.0) & ~single["in_perimeter"]]
    town_hall_only = single[~single["covered"] & (town_hall_km <= 15.0)]
    assert len(contour_only) > 0 and len(town_hall_only) > 0
    assert (contour_only["distance_km"] <= 15.0).all() and (town_hall_only["distance_km"] > 15.0).all()
    # the distance is to the polygon: exact against a brute force over every pole of the group
    metro = result.poles[result.poles["group"] == "metro"]
    pos, geoms = result.base.districts.metric["metro"]
    pts = shapely.points(metro["x"].to_numpy(), metro["y"].to_numpy())
    brute = shapely.distance(geoms[:, None], pts[None, :]).min(axis=1) / 1000.0
    assert abs(brute - result.qpv["distance_km"].to_numpy()[pos]).max() < 1e-3
    inside = d[d["pole_inside"]]
    assert (inside["distance_km"] == 0).all() and (inside["covered_by"] == "pôle dans le quartier").all()
    assert d.loc[d["hors_communes_cog"], "nearest_pole"].isna().all()  # no pole in Polynesia or Saint-Martin


def test_gaps_at_the_qpv_level_list_districts_farthest_first_without_population(result):
    g = cv.gaps(result, "qpv")
    assert g["code"].str.match(r"^QN\d\d[0-9AB]\d\d[A-Z]$").all()
    assert len(g) == int((~result.qpv["covered"]).sum())
    assert g["priority_population"].isna().all()
    dist = g["nearest_distance_km"].dropna().to_numpy()
    assert (dist[:-1] >= dist[1:]).all()
    nat = cv.national(result)
    assert nat["qpv_metro"] == 1_362 and nat["qpv_outre_mer"] == 131 and nat["qpv_hors_cog"] == 91
    assert nat["priority_population"] is None  # QPV residents unknown: no figure, not a proxy


def test_no_qpv_population_without_the_insee_file_in_exports_or_cli(result, tmp_path):
    from ptce_geo import boundaries

    lyon = int(boundaries.commune_table().loc["69123", "population"])
    dep = cv.by_territory(result, "departement")
    csv = pd.read_csv(io.BytesIO(cv.to_bytes(dep, "csv")), sep=";", encoding="utf-8-sig", dtype={"code": str})
    assert csv["qpv_population"].isna().all() and csv["priority_population"].isna().all()
    assert csv["qpv_count"].sum() >= 1_493 and csv["registre"].str.contains("pôles connus, dont").all()
    communes = cv.gaps(result, "commune")
    assert "69123" in set(communes["code"]) and communes["priority_population"].isna().all()
    assert lyon not in set(communes["priority_population"].dropna())
    proc = subprocess.run([sys.executable, "-m", "ptce_geo", "gaps", "--level", "commune", "--zoning", "qpv",
                           "--top", "20"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(io.StringIO(proc.stdout.lstrip("\ufeff")), sep=";", dtype={"code": str})
    assert table["priority_population"].isna().all()
    assert "pôles connus, dont" in proc.stderr and "comptés en nombre" in proc.stderr


# --------------------------------------------------------------------------- INSEE population

def test_population_parser_on_a_fixture_with_the_documented_columns():
    pop = qpv.read_population(FIXTURE)  # title lines, « ; », « 2 345 », a secret « s », a note below
    assert list(pop.index) == ["QN09301I", "QN01341I", "QN00101M", "QN06913M"]
    assert pop["QN09301I"] == 1234 and pop["QN01341I"] == 2345 and pop["QN06913M"] == 9876
    assert pd.isna(pop["QN00101M"])
    assert str(pop.dtype) == "Int64" and pop.name == "population"


def test_population_parser_reads_xlsx_and_zip_and_lowercase_headers(tmp_path):
    frame = pd.DataFrame({"code_qp": ["QN09301I", "QN06913M"], "lib_qp": ["a", "b"], "pmun": [10, 20]})
    xlsx = tmp_path / "pop_QPV24.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        pd.DataFrame([["Titre du fichier (fictif)"], [""]]).to_excel(writer, index=False, header=False)
        frame.to_excel(writer, index=False, startrow=3)
    assert qpv.read_population(xlsx).to_dict() == {"QN09301I": 10, "QN06913M": 20}
    zipped = tmp_path / "pop_QPV24.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("LISEZMOI.txt", "fictif")
        zf.writestr("pop_QPV24.csv", "CODGEO,LIBGEO,POP_MUN\nQN09301I,a,7\n")
    assert qpv.read_population(zipped).to_dict() == {"QN09301I": 7}


def test_population_parser_refuses_a_wrong_file_naming_the_expected_columns(tmp_path):
    with pytest.raises(DataFormatError) as err:
        qpv.read_population(DATA / "population_communes_pas_qpv.csv")
    msg = str(err.value)
    assert "population_communes_pas_qpv.csv" in msg and "CODE_QP" in msg and "POP_MUN" in msg
    assert "Colonnes lues" in msg and "code_insee" in msg
    bad = tmp_path / "pop_QPV24.csv"
    bad.write_text("CODE_QP;POP_MUN\nQN09301I;12\n69123;516092\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"ligne 3 .*'69123'"):
        qpv.read_population(bad)
    bad.write_text("CODE_QP;POP_MUN\nQN09301I;douze\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"ligne 2 .*'douze'"):
        qpv.read_population(bad)
    bad.write_text("CODE_QP;POP_MUN\nQN09301I;-5\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"ligne 2 .*'-5'"):
        qpv.read_population(bad)
    weighted = tmp_path / "pop_pondere.csv"  # census figures below the commune may be weighted
    weighted.write_text("CODE_QP;POP_MUN\nQN09301I;1233,6\n", encoding="utf-8")
    assert qpv.read_population(weighted).to_dict() == {"QN09301I": 1234}


@pytest.fixture
def mirror_with_population(tmp_path, monkeypatch, mirror_dir):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for f in mirror_dir.iterdir():
        (mirror / f.name).symlink_to(f)
    shutil.copy(FIXTURE, mirror / "pop_QPV24.csv")
    monkeypatch.setenv("PTCE_GEO_MIRROR", str(mirror))
    cv.reset_memo()
    yield mirror
    cv.reset_memo()


def test_with_the_insee_file_qpv_figures_are_residents(layer, mirror_with_population):
    r = cv.compute(15.0, zoning="qpv")
    d = r.qpv.set_index("code")
    assert d.loc["QN09301I", "population"] == 1234 and pd.isna(d.loc["QN00101M", "population"])
    nat = cv.national(r)
    assert nat["priority_population"] == 1234 + 2345 + 9876
    assert r.params["qpv_population"] == "INSEE" and "population qpv" in r.vintages
    dep = cv.by_territory(r, "departement").set_index("code")
    assert dep.loc["93", "qpv_population"] == 1234 and dep.loc["93", "qpv_without_population"] == dep.loc["93", "qpv_count"] - 1
    g = cv.gaps(r, "qpv")
    known = g[g["priority_population"].notna()]
    assert g.index[: len(known)].tolist() == known.index.tolist()  # known residents ranked first
    assert "INSEE" in qpv.population_status() and "3" in qpv.population_status()
