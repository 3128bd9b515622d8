"""Pole registry: time to validate and import a 2,000-row French-Excel CSV, and to load the registry.

Prints figures; no assertion. Uses a temporary data dir (the user's registry is untouched)
and the offline mode (no geocoding requests).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
tmp = tempfile.mkdtemp(prefix="bench-poles-")
os.environ["PTCE_GEO_DATA"] = tmp
os.environ["PTCE_GEO_OFFLINE"] = "1"
mirror = ROOT.parent / "shared" / "geodata"
if mirror.exists():
    os.environ.setdefault("PTCE_GEO_MIRROR", str(mirror))

from ptce_geo import boundaries, importer, poles, registry  # noqa: E402

N = 2_000


def main() -> None:
    codes = list(boundaries.commune_table().index)
    t = time.perf_counter()
    registry.ensure()
    t_seed = time.perf_counter() - t
    rng = random.Random(1)
    lines = ["Nom du pôle;Code INSEE;Année de création;Secteurs"]
    for i in range(N):
        lines.append(f"Pôle de test {i};{rng.choice(codes)};{rng.randint(1990, 2024)};insertion")
    path = Path(tmp) / "poles.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    t = time.perf_counter()
    report = importer.check(path)
    t_check = time.perf_counter() - t
    t = time.perf_counter()
    importer.run(path, who="bench")
    t_run = time.perf_counter() - t
    t = time.perf_counter()
    frame = poles.load()
    t_load = time.perf_counter() - t
    print(f"registry created from the seed: {t_seed:.2f} s")
    print(f"check {N} rows: {t_check:.2f} s ({1e3 * t_check / N:.2f} ms/row), {len(report.valid_records)} valid")
    print(f"check + import {N} rows: {t_run:.2f} s (write share {(t_run - t_check) / t_run:.0%})")
    print(f"load {len(frame)} poles: {1e3 * t_load:.1f} ms")


if __name__ == "__main__":
    main()
