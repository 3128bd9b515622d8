"""QPV coverage at the district: 1,584 contours × every located pole, warm (contours projected once).

Fast path (``qpv.coverage``): per part of France, a cKDTree of the poles gives each district the
poles no farther from its centroid than the nearest one plus the district's reach (largest
centroid-to-vertex distance), then ``shapely.distance`` picks the exact nearest among them
(0 inside). Naive: ``shapely.distance`` from every contour to every pole of its part.
Also timed: the same with 1,000 synthetic poles, and a whole ``coverage.recompute`` (communes + QPV).
Target: QPV coverage ≤ 100 ms warm. Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_qpv.py``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PTCE_GEO_OFFLINE", "1")
if not os.environ.get("PTCE_GEO_MIRROR") and (ROOT.parent / "shared" / "geodata" / "SOURCES.md").exists():
    os.environ["PTCE_GEO_MIRROR"] = str(ROOT.parent / "shared" / "geodata")


def best(fn, repeat=7):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), float(min(times))


def naive(districts, poles):
    out = np.full(len(districts), np.inf)
    for g, (pos, geoms) in districts.metric.items():
        p = poles[poles["group"] == g]
        if not len(p):
            continue
        pts = shapely.points(p["x"].to_numpy(), p["y"].to_numpy())
        out[pos] = shapely.distance(geoms[:, None], pts[None, :]).min(axis=1)
    return out


def main() -> int:
    from ptce_geo import coverage, qpv

    t = time.perf_counter()
    result = coverage.compute(15.0)
    print(f"load (boundaries, flags, poles, QPV contours projected): {time.perf_counter() - t:.2f} s")
    districts = result.base.districts
    poles = result.poles
    print(f"{len(districts)} QPV contours, {len(poles)} located poles")
    qpv.coverage(districts, poles, 15.0)  # warm: centroids and reaches computed once
    med, low = best(lambda: qpv.coverage(districts, poles, 15.0))
    nmed, _ = best(lambda: naive(districts, poles), repeat=3)
    fast = qpv.coverage(districts, poles, 15.0)["distance_km"].to_numpy()
    slow = naive(districts, poles) / 1000.0
    ok = np.isfinite(slow)
    err = float(np.abs(np.round(slow[ok], 3) - fast[ok]).max())
    print(f"QPV coverage, {len(poles)} poles: {med * 1000:.0f} ms median ({low * 1000:.0f} ms best) "
          f"/ 100 ms target ({med / 0.1:.0%}); naive all-pairs distance {nmed * 1000:.0f} ms; "
          f"max difference {err * 1000:.1f} m")
    rng = np.random.default_rng(0)
    metro = districts.metric["metro"][1]
    x0, y0, x1, y1 = shapely.total_bounds(metro)
    many = pd.DataFrame({"id": [f"s{i}" for i in range(1000)], "nom": "synthétique", "group": "metro",
                         "x": rng.uniform(x0, x1, 1000), "y": rng.uniform(y0, y1, 1000)})
    qpv.coverage(districts, many, 15.0)
    med, low = best(lambda: qpv.coverage(districts, many, 15.0))
    print(f"QPV coverage, 1,000 poles: {med * 1000:.0f} ms median ({low * 1000:.0f} ms best)")
    med, low = best(lambda: coverage.recompute(result, 15.0))
    print(f"whole recompute (34,875 communes + 1,584 QPV): {med * 1000:.0f} ms median ({low * 1000:.0f} ms best)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
