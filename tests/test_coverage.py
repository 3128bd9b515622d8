"""Coverage: hand-checked figures on synthetic territories, then invariants on real data."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import coverage_fixtures as F
from ptce_geo import coverage as cv
from ptce_geo._errors import ParameterError, UnknownChoiceError


def run(radius=15.0, use_perimeter=False, zoning="all", poles=None, population=False):
    return cv.compute(radius, use_perimeter=use_perimeter, zoning=zoning,
                      poles=F.poles() if poles is None else poles, flags=F.flags(), communes=F.communes(),
                      qpv_layer=F.qpv_layer(population))


def district(result, code):
    return result.qpv.set_index("code").loc[code]


def row(result, code):
    return result.communes.set_index("code").loc[code]


# --------------------------------------------------------------------------- synthetic, by hand

def test_pole_on_border_covers_both_sides_and_counts_in_its_commune():
    r = run()
    assert row(r, "01003").nearest_distance_km == pytest.approx(5.0, abs=1e-6)
    assert row(r, "02001").nearest_distance_km == pytest.approx(5.0, abs=1e-6)
    assert row(r, "02001").covered and row(r, "01003").covered
    dep = cv.by_territory(r, "departement").set_index("code")
    assert dep.loc["01", "poles"] == 1 and dep.loc["02", "poles"] == 0  # P1 belongs to C (01003)
    assert dep["poles"].sum() == 2


def test_commune_exactly_at_radius_is_covered_and_just_beyond_is_not():
    r = run(15.0)
    assert row(r, "01002").nearest_distance_km == pytest.approx(15.0, abs=1e-6)
    assert row(r, "01002").covered and row(r, "02002").covered
    r2 = run(14.99)
    assert not row(r2, "01002").covered and not row(r2, "02002").covered
    assert not row(r, "01001").covered  # 25 km


def test_hand_computed_figures_without_perimeter():
    r = run(15.0, use_perimeter=False)
    dep = cv.by_territory(r, "departement").set_index("code")
    # 01: A 1000 (QPV only: its population is not priority population), B 200 (FRR, 15 km), C 300
    assert dep.loc["01", ["communes", "population", "priority_communes", "priority_population",
                          "priority_population_covered"]].tolist() == [3, 1500, 2, 200, 200]
    assert dep.loc["01", "coverage_rate"] == pytest.approx(1.0)
    assert dep.loc["01", ["qpv_count", "qpv_covered", "qpv_without_population"]].tolist() == [1, 0, 1]
    assert pd.isna(dep.loc["01", "qpv_population"])  # no INSEE population: empty, never a commune's
    # 02: D 5000 (TI, covered), E 50 (ZRR only: not a priority of "all"), F 70 (FRR + QPV, 25 km)
    assert dep.loc["02", ["priority_communes", "priority_population", "priority_population_covered"]].tolist() == [2, 5070, 5000]
    assert math.isnan(dep.loc["03", "coverage_rate"])  # no priority population
    assert dep.loc["02", "zrr_population"] == 50 and dep.loc["02", "zrr_population_covered"] == 50
    nat = cv.national(r)
    assert nat["priority_population"] == 200 + 5000 + 70  # TI or FRR communes; QPV residents unknown
    assert nat["priority_population_covered"] == 5200
    assert nat["qpv_total"] == 4 and nat["qpv_covered"] == 0
    assert nat["qpv_metro"] == 2 and nat["qpv_outre_mer"] == 2 and nat["qpv_metro_population"] is None


def test_qpv_population_from_insee_counts_residents_not_communes():
    r = run(15.0, population=True)
    dep = cv.by_territory(r, "departement").set_index("code")
    # 01: B 200 (FRR) + the 600 residents of QN00101M (A holds only a QPV): never A's 1000
    assert dep.loc["01", ["priority_population", "priority_population_covered", "qpv_population"]].tolist() == [800, 200, 600]
    # 02: QN00201M lies in F, an FRR commune already counted whole: its 50 residents are not added twice
    assert dep.loc["02", ["priority_population", "qpv_population"]].tolist() == [5070, 50]
    nat = cv.national(r)
    assert nat["priority_population"] == 200 + 5000 + 70 + 600 + 300 + 100
    rq = cv.recompute(r, 15.0, zoning="qpv")
    assert cv.national(rq)["priority_population"] == 600 + 50 + 300 + 100
    assert cv.national(rq)["priority_population_covered"] == 0
    rq30 = cv.recompute(r, 30.0, zoning="qpv")  # P1 reaches both metropolitan contours (20.5 and 28 km)
    assert cv.national(rq30)["priority_population_covered"] == 650
    q = cv.by_territory(rq30, "qpv").set_index("code")
    assert q.loc["QN00101M", ["qpv_population", "qpv_covered"]].tolist() == [600, 1]


def test_qpv_covered_by_its_contour_not_its_town_hall_and_the_reverse():
    # QN00101M: contour 20.5 km from P1, A's town hall 25 km → radius 22 covers the district, not the commune
    r = run(22.0, zoning="qpv")
    assert district(r, "QN00101M").distance_km == pytest.approx(20.5, abs=1e-3)
    assert district(r, "QN00101M").covered and district(r, "QN00101M").covered_by == "rayon"
    assert not row(r, "01001").covered and row(r, "01001").nearest_distance_km == pytest.approx(25.0, abs=1e-6)
    assert row(r, "01001").zoning_covered  # the commune's QPV is reached
    # QN00201M: F's town hall 25 km from P1, contour 28 km → radius 26 covers the commune, not the district
    r = run(26.0, zoning="qpv")
    assert row(r, "02003").covered and not district(r, "QN00201M").covered
    assert district(r, "QN00201M").distance_km == pytest.approx(28.0, abs=1e-3)
    assert "02003" in set(cv.gaps(r, "commune")["code"]) and "QN00201M" in set(cv.gaps(r, "qpv")["code"])
    # a pole inside the district covers it whatever the radius, and its declared perimeter too
    inside = F.pole("PQ", "Pôle dans le quartier", F.X0 + 9 * F.KM, F.Y0 + 5 * F.KM, code_insee="01001")
    r = run(0.0, zoning="qpv", poles=F.poles(inside))
    assert district(r, "QN00101M").covered_by == "pôle dans le quartier"
    assert district(r, "QN00101M").distance_km == 0
    r = run(0.0, zoning="qpv", use_perimeter=True)  # P2 declares A and F
    assert district(r, "QN00101M").covered_by == "périmètre" and district(r, "QN00201M").covered


def test_perimeter_crossing_departments():
    r = run(15.0, use_perimeter=True)
    assert row(r, "01001").covered and row(r, "02003").covered  # P2's perimeter {A, F}, deps 01 and 02
    assert row(r, "01001").covered_by == "périmètre"
    assert row(r, "01001").nearest_pole == "P1"  # nearest by distance is still P1 (25 km)
    dep = cv.by_territory(r, "departement").set_index("code")
    assert dep.loc["01", "coverage_rate"] == 1.0 and dep.loc["02", "coverage_rate"] == 1.0
    # perimeter only (no radius): B, C, D, E are no longer covered, G neither
    p_only = run(None, use_perimeter=True)
    assert p_only.communes.loc[p_only.communes.covered, "code"].tolist() == ["01001", "02003"]


def test_epci_siren_in_perimeter_stands_for_its_communes():
    extra = F.pole("P3", "Pôle EPCI", F.X0 + 205 * F.KM, F.Y0 + 5 * F.KM, code_insee="03001",
                   perimetre=["200000002", "99999"])
    r = run(None, use_perimeter=True, poles=F.poles(extra))
    assert set(r.communes.loc[r.communes.covered, "code"]) == {"01001", "02001", "02002", "02003"}
    assert r.params["perimetre_codes_inconnus"] == "99999"


def test_overseas_commune_never_covered_from_another_group():
    r = run(20_000.0)  # 20,000 km: only the ocean stands between
    assert not row(r, "97401").covered and pd.isna(row(r, "97401").nearest_pole)
    # Martinique and Guadeloupe share EPSG:5490 but are separate groups
    mq = F.pole("MQ", "Pôle Martinique", 700_000, 1_620_000, crs="EPSG:5490", departement="972")
    r = run(20_000.0, poles=F.poles(mq))
    assert not row(r, "97101").covered and pd.isna(row(r, "97101").nearest_pole)
    # a pole in Réunion covers R, with a metric distance from the local UTM
    re_pole = F.pole("RE", "Pôle Réunion", 345_000, 7_660_000, crs="EPSG:2975")  # 5 km north, no department given
    r = run(15.0, poles=F.poles(re_pole))
    assert row(r, "97401").covered and row(r, "97401").nearest_distance_km == pytest.approx(5.0, abs=1e-3)


def test_zoning_changes_priority_definition():
    r = run(15.0, zoning="zrr")
    assert r.communes.loc[r.communes.in_zoning, "code"].tolist() == ["02002"]
    assert cv.national(r)["coverage_rate"] == 1.0
    with pytest.raises(UnknownChoiceError, match="'qpvv'"):
        run(zoning="qpvv")
    with pytest.raises(ParameterError, match="-1"):
        run(-1)


def test_qpv_level_lists_districts_by_population_else_by_distance():
    r = run(15.0)
    q = cv.by_territory(r, "qpv").set_index("code")
    assert q.loc["QN00101M", ["communes", "qpv_count", "qpv_covered"]].tolist() == [1, 1, 0]
    assert pd.isna(q.loc["QN00101M", "qpv_population"])
    g = cv.gaps(r, "qpv")
    # no population known: farthest from a pole first; no pole in their group (overseas) last
    assert g["code"].tolist() == ["QN00201M", "QN00101M", "QN97101M", "QN97401M"]
    assert g["nearest_distance_km"].iloc[0] == pytest.approx(28.0, abs=1e-3)
    assert g["priority_population"].isna().all()
    gp = cv.gaps(run(15.0, population=True), "qpv")
    assert gp["code"].tolist() == ["QN00101M", "QN97401M", "QN97101M", "QN00201M"]
    assert gp["priority_population"].tolist() == [600, 300, 100, 50]
    assert cv.gaps(r, "qpv", within=("departement", "02"))["code"].tolist() == ["QN00201M"]


def test_gaps_ranked_by_priority_population_and_shrink_with_radius():
    r = run(15.0)
    g = cv.gaps(r)
    # F (FRR, 70) has a known population; A, M, R count only by their QPV, population unknown
    assert g["code"].tolist() == ["02003", "01001", "97101", "97401"]
    assert g["rang"].tolist() == [1, 2, 3, 4]
    assert g.set_index("code").loc["01001", "nearest_distance_km"] == pytest.approx(25.0, abs=1e-6)
    assert pd.isna(g.set_index("code").loc["01001", "priority_population"])
    assert cv.gaps(run(15.0, population=True))["code"].tolist() == ["01001", "97401", "97101", "02003"]
    previous = None
    for radius in (0, 5, 15, 25, 100):
        codes = set(cv.gaps(run(radius))["code"])
        if previous is not None:
            assert codes <= previous
        previous = codes
    assert previous == {"97401", "97101"}
    assert cv.gaps(r, top=2)["code"].tolist() == ["02003", "01001"]
    assert cv.gaps(r, within=("departement", "02"))["code"].tolist() == ["02003"]


def test_suggest_by_hand_and_gain_equals_recomputed_coverage():
    r = run(15.0, population=True)
    s = cv.suggest(r, 3)
    # QN00101M (600) from A's town hall (3 km off; ties with B go to the smallest code), then R, then M
    assert s["code"].tolist() == ["01001", "97401", "97101"]
    assert s["gain_population"].tolist() == [600, 300, 100] and s["gain_qpv"].tolist() == [1, 1, 1]
    assert s["cumulative_gain"].iloc[-1] == 1000
    after = cv.with_poles(r, cv.suggested_poles(s))
    gain = cv.national(after)["priority_population_covered"] - cv.national(r)["priority_population_covered"]
    assert gain == s["gain_population"].sum()
    # without INSEE's population the QPV weigh nothing in "all": only F's 70 FRR inhabitants remain
    s0 = cv.suggest(run(15.0), 3)
    assert s0["gain_population"].tolist() == [70] and s0.attrs["params"]["objective"] == "population"
    # zoning qpv without population: the objective is a number of QPV, never a commune's population
    rq = run(15.0, zoning="qpv")
    sq = cv.suggest(rq, 4)
    assert sq.attrs["params"]["objective"] == "qpv" and sq["gain_population"].isna().all()
    assert sq["gain_qpv"].sum() == 4 == cv.national(cv.with_poles(rq, cv.suggested_poles(sq)))["qpv_covered"]
    # restricted to a region: only metropolitan region 32 (D, E, F): from E, F's 70 (10 km away)
    s32 = cv.suggest(r, 2, region="32")
    assert s32["code"].tolist()[0] == "02002" and s32["gain_population"].tolist()[0] == 70
    with pytest.raises(ParameterError):
        cv.suggest(r, 0)
    with pytest.raises(UnknownChoiceError):
        cv.suggest(r, 1, region="99")


def test_mairie_far_outside_falls_back_to_point_on_surface():
    com = F.communes()
    com.loc[0, "mairie"] = shapely.Point(0.0, 0.0)  # town hall in the Gulf of Guinea
    pts = cv.representative_points(com, com["mairie"])
    assert pts["point_source"].iloc[0] == "intérieur du contour"
    assert shapely.contains(com.geometry.iloc[0], shapely.Point(pts.lon.iloc[0], pts.lat.iloc[0]))
    assert (pts["point_source"].iloc[1:] == "mairie").all()
    no_mairie = cv.representative_points(com)
    assert (no_mairie["point_source"] == "intérieur du contour").all()


def test_results_carry_params_and_vintages_and_export(tmp_path):
    r = run(15.0)
    dep = cv.by_territory(r, "departement")
    assert dep.attrs["params"]["radius_km"] == 15.0 and "poles" in dep.attrs["vintages"]
    assert dep["parametres"].iloc[0].startswith("rayon_km=15.0; perimetre=non; zonage=all")
    path = tmp_path / "dep.csv"
    cv.write(dep, "csv", path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), sep=";", encoding="utf-8-sig", dtype={"code": str})
    assert back.columns.tolist()[:9] == cv.TERRITORY_COLUMNS
    assert back["priority_population"].sum() == dep["priority_population"].sum()
    assert back["registre"].iloc[0].startswith("2 pôles connus, dont 2 localisés")
    assert "peut en avoir un que le registre ne connaît pas encore" in back["registre"].iloc[0]
    xlsx = tmp_path / "dep.xlsx"
    cv.write(dep, "xlsx", xlsx)
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert set(sheets) == {"donnees", "parametres"}
    assert "Registre des pôles" in sheets["parametres"].iloc[:, 0].tolist()
    assert sheets["donnees"].columns.tolist() == back.columns.tolist()
    s = cv.suggest(run(15.0, population=True), 2)
    gj = json.loads(cv.to_bytes(s, "geojson"))
    assert len(gj["features"]) == 2 and gj["features"][0]["geometry"]["type"] == "Point"
    assert set(gj["features"][0]["properties"]) == set(s.columns) - {"geometry"}
    gpkg = tmp_path / "s.gpkg"
    cv.write(s, "gpkg", gpkg)
    assert len(gpd.read_file(gpkg)) == 2


# --------------------------------------------------------------------------- real data

@pytest.fixture(scope="module")
def real():
    try:
        from ptce_geo import poles

        return cv.compute(15.0), poles
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"données réelles indisponibles : {exc}")


def test_real_invariants(real):
    r, _ = real
    c = r.communes
    assert len(c) == 34_875 and c["code"].is_unique
    nat = cv.national(r)
    no_epci = c[c["epci"].isna()]  # a few island communes belong to no EPCI (Île-d'Yeu, Bréhat…)
    assert 0 < len(no_epci) < 10
    for level in ("departement", "region", "epci"):
        t = cv.by_territory(r, level)
        outside = no_epci if level == "epci" else no_epci.iloc[:0]
        assert t["communes"].sum() + len(outside) == nat["communes"]
        for col, extra in (("population", outside["population"].fillna(0).sum()),
                           ("priority_communes", outside["in_zoning"].sum()),
                           ("priority_population", outside["population"].where(outside["in_zoning"], 0).fillna(0).sum()),
                           ("priority_population_covered",
                            outside["population"].where(outside["in_zoning"] & outside["covered"], 0).fillna(0).sum())):
            assert t[col].sum() + extra == nat[col], (level, col)
        rate = t["coverage_rate"].dropna()
        assert ((rate >= 0) & (rate <= 1)).all()
        assert (t["priority_population_covered"] <= t["priority_population"]).all()
    assert 0 <= nat["coverage_rate"] <= 1
    # located poles all sit in a known commune; each is counted once
    assert cv.by_territory(r, "departement")["poles"].sum() == len(r.poles)
    assert (c["point_source"] != "absent").sum() >= 34_870
    g = cv.gaps(r)  # no priority commune listed twice, none covered
    assert g["code"].is_unique and len(g) == nat["priority_communes_uncovered"]


def test_real_radius_changes_every_figure_and_gaps_shrink(real):
    r, _ = real
    previous_gaps, previous_cov = None, -1
    for radius in (5, 15, 30, 60):
        rr = cv.recompute(r, radius)
        nat = cv.national(rr)
        assert nat["priority_population_covered"] > previous_cov
        previous_cov = nat["priority_population_covered"]
        g = set(cv.gaps(rr)["code"])
        if previous_gaps is not None:
            assert g < previous_gaps
        previous_gaps = g
    d15 = cv.by_territory(cv.recompute(r, 15), "departement").set_index("code")
    d60 = cv.by_territory(cv.recompute(r, 60), "departement").set_index("code")
    assert (d60["priority_population_covered"] >= d15["priority_population_covered"]).all()
    assert (d60["priority_population_covered"] > d15["priority_population_covered"]).any()


def test_real_suggestion_gain_equals_recomputed_coverage(real):
    r, _ = real
    s = cv.suggest(r, 5)
    assert len(s) == 5 and (np.diff(s["gain_population"]) <= 0).all()  # greedy gains never grow
    after = cv.with_poles(r, cv.suggested_poles(s))
    gain = cv.national(after)["priority_population_covered"] - cv.national(r)["priority_population_covered"]
    assert gain == s["gain_population"].sum()
    s84 = cv.suggest(r, 2, region="84", candidates_in_zoning=True)
    assert (s84["region"] == "84").all()


def test_cli_department_csv(tmp_path):
    out = tmp_path / "dep.csv"
    proc = subprocess.run([sys.executable, "-m", "ptce_geo", "coverage", "--level", "departement", "--radius-km", "20",
                           "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    t = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype={"code": str})
    assert len(t) == 101 and t.columns.tolist()[:9] == cv.TERRITORY_COLUMNS
    assert t["parametres"].iloc[0].startswith("rayon_km=20.0")
    proc = subprocess.run([sys.executable, "-m", "ptce_geo", "gaps", "--level", "epci", "--top", "5", "--zoning", "qpv"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    gaps = pd.read_csv(io.StringIO(proc.stdout.lstrip("\ufeff")), sep=";", dtype={"code": str})
    assert len(gaps) == 5 and gaps["rang"].tolist() == [1, 2, 3, 4, 5]
    proc = subprocess.run([sys.executable, "-m", "ptce_geo", "suggest", "--count", "2", "--region", "93"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "ptce_geo", "coverage", "--level", "departement", "--zoning", "xx"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "xx" in proc.stderr


def test_cli_refuses_to_count_without_the_zoning_layers(tmp_path):
    """No mirror, an empty cache, offline: coverage/gaps/suggest stop with the missing layer named
    (instead of printing zeros with exit 0); a zoning whose layer is there still works."""
    import os

    # boundaries come from the session cache; only the raw files point at an empty place
    env = dict(os.environ, PTCE_GEO_OFFLINE="1", PTCE_GEO_RAW=str(tmp_path / "raw"))
    env.pop("PTCE_GEO_MIRROR", None)
    for cmd in (["coverage", "--level", "region"], ["gaps", "--top", "3"], ["suggest", "--count", "1"],
                ["gaps", "--zoning", "zrr"]):
        proc = subprocess.run([sys.executable, "-m", "ptce_geo", *cmd], capture_output=True, text=True, timeout=300,
                              env=env)
        assert proc.returncode == 1, (cmd, proc.stdout[:300])
        assert "Couche prioritaire absente" in proc.stderr and "PTCE_GEO_MIRROR" in proc.stderr, proc.stderr
        assert proc.stdout == ""


# --------------------------------------------------------------------------- random worlds vs brute force

def random_world(seed: int, n: int = 120, k: int = 6):
    rng = np.random.default_rng(seed)
    xs = 650_000 + rng.uniform(0, 150_000, n)
    ys = 6_500_000 + rng.uniform(0, 150_000, n)
    polys = [shapely.box(x - 1000, y - 1000, x + 1000, y + 1000) for x, y in zip(xs, ys)]
    codes = [f"{10 + i // 100:02d}{i % 100 + 1:03d}" for i in range(n)]
    com = gpd.GeoDataFrame({
        "code": codes, "nom": codes, "departement": [c[:2] for c in codes], "region": "84",
        "epci": [f"2000000{i % 7:02d}" for i in range(n)],
        "population": pd.array(rng.integers(0, 5000, n), dtype="Int64"),
    }, geometry=gpd.GeoSeries(polys, crs="EPSG:2154").to_crs("EPSG:4326").values, crs="EPSG:4326")
    com["mairie"] = gpd.GeoSeries(shapely.points(xs, ys), crs="EPSG:2154").to_crs("EPSG:4326").values
    flags = pd.DataFrame({"code": codes, "in_qpv": rng.random(n) < 0.3, "in_territoire_industrie": rng.random(n) < 0.2,
                          "frr": rng.random(n) < 0.2, "zrr": rng.random(n) < 0.2})
    pick = rng.choice(n, k, replace=False)
    poles = gpd.GeoDataFrame({"id": [f"p{i}" for i in range(k)], "nom": "p", "code_insee": [codes[i] for i in pick],
                              "perimetre": [[codes[rng.integers(n)]] for _ in range(k)]},
                             geometry=gpd.GeoSeries(shapely.points(xs[pick] + 300, ys[pick]), crs="EPSG:2154")
                             .to_crs("EPSG:4326").values, crs="EPSG:4326")
    return com, flags, poles, np.column_stack([xs, ys]), np.column_stack([xs[pick] + 300, ys[pick]])


@pytest.mark.parametrize("seed", range(4))
def test_random_world_matches_brute_force(seed):
    com, flags, poles, pts, pxy = random_world(seed)
    dist = np.sqrt(((pts[:, None, :] - pxy[None, :, :]) ** 2).sum(-1)).min(axis=1) / 1000.0
    previous = None
    for radius in (3.0, 10.0, 25.0):
        r = cv.compute(radius, use_perimeter=True, poles=poles, flags=flags, communes=com)
        assert np.allclose(r.communes["nearest_distance_km"], dist, atol=1e-5)
        perim = r.communes["code"].isin({c for p in poles["perimetre"] for c in p})
        assert (r.communes["covered"] == ((dist <= radius) | perim)).all()
        gaps = set(cv.gaps(r)["code"])
        assert previous is None or gaps <= previous
        previous = gaps
        s = cv.suggest(r, 3)
        after = cv.with_poles(r, cv.suggested_poles(s))
        gain = cv.national(after)["priority_population_covered"] - cv.national(r)["priority_population_covered"]
        assert gain == s["gain_population"].sum()
        dep = cv.by_territory(r, "departement")
        assert dep["priority_population_covered"].sum() == cv.national(r)["priority_population_covered"]


def test_pole_without_insee_code_is_placed_by_its_point():
    lost = F.pole("P4", "Pôle sans code", F.X0 + 35 * F.KM, F.Y0 + 2 * F.KM)  # inside D (02001), no code, no dep
    r = run(1.0, poles=F.poles(lost))
    assert r.poles.set_index("id").loc["P4", "commune"] == "02001"
    assert r.poles.set_index("id").loc["P4", "group"] == "metro"
    # the pole is 3 km from D's town hall: hosting a pole is not covering, the distance decides
    assert row(r, "02001").poles == 1 and not row(r, "02001").covered
    assert row(run(3.0, poles=F.poles(lost)), "02001").covered
