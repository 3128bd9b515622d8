"""Full-France coverage recompute (all communes, all poles, one radius) beside a naive geopandas version.

Fast path (``coverage.recompute`` / ``coverage.compute`` with loaded inputs): precomputed
metric point arrays per group, a ``scipy.spatial.cKDTree`` of the poles per group, perimeter
codes looked up in dicts. Naive: each call reprojects the commune points and the poles per
group, ``sjoin_nearest`` for the nearest pole, ``buffer`` + ``sjoin`` for the radius.
Both are timed after load (boundaries, flags, poles and points already in memory).
Target: fast ≤ 100 ms. Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_coverage.py``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PTCE_GEO_OFFLINE", "1")
if not os.environ.get("PTCE_GEO_MIRROR") and (ROOT.parent / "shared" / "geodata" / "SOURCES.md").exists():
    os.environ["PTCE_GEO_MIRROR"] = str(ROOT.parent / "shared" / "geodata")

RADIUS_KM = 15.0


def best(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def naive(points: gpd.GeoDataFrame, poles: gpd.GeoDataFrame, radius_km: float) -> pd.DataFrame:
    """Per-commune nearest pole, distance and covered flag with plain geopandas joins."""
    from ptce_geo import communes

    parts = []
    for group, pts in points.groupby("group"):
        crs = communes.crs_of_group(group)
        pts_m = pts.to_crs(crs)
        pol = poles[poles["group"] == group]
        if pol.empty:
            parts.append(pd.DataFrame({"code": pts["code"], "nearest_pole": None, "d": np.nan, "in_radius": False}))
            continue
        pol_m = pol.to_crs(crs)
        near = gpd.sjoin_nearest(pts_m, pol_m[["id", "geometry"]], distance_col="d", how="left")
        near = near[~near.index.duplicated()]
        disc = gpd.GeoDataFrame(geometry=pol_m.buffer(radius_km * 1000.0, quad_segs=16), crs=crs)
        inside = gpd.sjoin(pts_m, disc, predicate="within", how="inner").index.unique()
        parts.append(pd.DataFrame({"code": pts["code"], "nearest_pole": near["id"], "d": near["d"],
                                   "in_radius": pts.index.isin(inside)}))
    return pd.concat(parts)


def main() -> None:
    from ptce_geo import coverage as cv, poles as poles_mod

    t = time.perf_counter()
    registry = poles_mod.load(located_only=True)
    result = cv.compute(RADIUS_KM, poles=registry)
    load_s = time.perf_counter() - t
    base = result.base.table
    points = gpd.GeoDataFrame(base[["code", "group"]], geometry=gpd.points_from_xy(base["lon"], base["lat"]),
                              crs="EPSG:4326")
    points = points[np.isfinite(base["lon"].to_numpy())]

    # a denser, hypothetical network: 1,000 poles at random commune points (no perimeter)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(points), 1000, replace=False)
    dense = gpd.GeoDataFrame({"id": [f"x{i}" for i in range(1000)], "nom": "x",
                              "code_insee": points["code"].to_numpy()[pick],
                              "perimetre": [[] for _ in range(1000)]},
                             geometry=points.geometry.values[pick], crs="EPSG:4326")
    dense_result = cv.compute(RADIUS_KM, poles=dense)

    print(f"chargement (limites, zonages, points, registre) : {load_s:.2f} s ; communes : {len(base)}")
    print(f"{'cas':<34}{'pôles':>7}{'rapide (ms)':>13}{'naïf (ms)':>11}{'naïf/rapide':>13}  cible ≤ 100 ms")
    for label, res, pole_frame in (("registre", result, registry), ("1 000 pôles fictifs", dense_result, dense)):
        fast_s, fast = best(lambda: cv.recompute(res, RADIUS_KM))
        full_s, _ = best(lambda: cv.compute(RADIUS_KM, poles=pole_frame), repeat=3)
        pt = gpd.GeoDataFrame(res.poles.drop(columns="perimetre"),
                              geometry=gpd.points_from_xy(res.poles["lon"], res.poles["lat"]), crs="EPSG:4326")
        naive_s, slow = best(lambda: naive(points, pt, RADIUS_KM), repeat=2)
        # same answer
        merged = slow.set_index("code").reindex(fast.communes["code"])
        same_d = np.allclose(merged["d"].to_numpy() / 1000.0, fast.communes["nearest_distance_km"].to_numpy(),
                             atol=1e-6, equal_nan=True)
        same_cov = (merged["in_radius"].fillna(False).to_numpy() == fast.communes["in_radius"].to_numpy()).mean()
        verdict = "OK" if fast_s <= 0.1 else "DÉPASSÉ"
        print(f"{label + ' (recompute)':<34}{len(pt):>7}{fast_s * 1e3:>13.1f}{naive_s * 1e3:>11.0f}"
              f"{naive_s / fast_s:>13.0f}  {verdict}")
        print(f"{label + ' (compute, poles fournis)':<34}{len(pt):>7}{full_s * 1e3:>13.1f}{'':>11}"
              f"{naive_s / full_s:>13.0f}  {'OK' if full_s <= 0.1 else 'DÉPASSÉ'}")
        print(f"{'':<34}mêmes distances : {same_d} ; même couverture : {same_cov:.4%}")
    for level in ("departement", "epci"):
        s, _ = best(lambda: cv.by_territory(result, level))
        print(f"by_territory({level}) : {s * 1e3:.1f} ms")
    s, sug = best(lambda: cv.suggest(result, 10), repeat=2)
    print(f"suggest(10 sites) : {s * 1e3:.0f} ms, gain {int(sug['gain_population'].sum()):,} hab.".replace(",", " "))


if __name__ == "__main__":
    main()
