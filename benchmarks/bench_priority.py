"""Cold build vs warm load of the priority layers and flags (mirror of official files).

Run: PTCE_GEO_MIRROR=../shared/geodata .venv/bin/python benchmarks/bench_priority.py
The cold build uses a temporary cache for the priority layers only (boundaries come from
the normal cache); figures are printed, nothing is asserted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PTCE_GEO_OFFLINE", "1")
mirror = Path(__file__).resolve().parents[1].parent / "shared" / "geodata"
if not os.environ.get("PTCE_GEO_MIRROR") and mirror.exists():
    os.environ["PTCE_GEO_MIRROR"] = str(mirror)

from ptce_geo import _cache, boundaries, priority  # noqa: E402


def main() -> None:
    boundaries.load("commune")
    boundaries.load("epci")
    tmp = Path(tempfile.mkdtemp(prefix="bench-priority-"))
    real = _cache.processed_dir
    for name in ("commune", "epci"):  # reuse the boundary caches in the temp dir
        src = _cache.path_for(f"boundaries-{name}", boundaries.cache_key())
        (tmp / "processed").mkdir(exist_ok=True)
        shutil.copy(src, tmp / "processed" / src.name)
    _cache.processed_dir = lambda: (tmp / "processed")
    try:
        for name in priority.LAYERS:
            t0 = time.perf_counter()
            rows = len(priority.load(name))
            cold = time.perf_counter() - t0
            priority._fingerprints.clear()
            t0 = time.perf_counter()
            priority.load(name)
            warm = time.perf_counter() - t0
            print(f"{name:<22} rows {rows:>6}  cold {cold:6.2f} s  warm {warm:6.3f} s  ratio {cold / warm:6.1f}x")
        t0 = time.perf_counter()
        flags = priority.flags()
        print(f"{'flags':<22} rows {len(flags):>6}  warm {time.perf_counter() - t0:6.3f} s")
    finally:
        _cache.processed_dir = real
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
