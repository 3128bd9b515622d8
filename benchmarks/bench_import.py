"""Import at scale: 100,000 valid rows of a French-Excel CSV checked (targets ≤ 15 s, ≤ 300 MB).

The file (half the rows with a point inside their commune, half with the INSEE code only,
sectors, call, year, web site) is written by a first child process; a second, fresh child
imports the package, then times ``importer.check`` and reports its peak resident memory
(``VmHWM``, the whole process: libraries, commune table and rows). Caches are warm (run
``make data`` or the tests once before). Prints figures and their ratio to the targets; no
assertion. ``--rows N`` changes the size; ``--import`` also times the write into a
temporary registry.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S, TARGET_MB = 15.0, 300.0


def generate(path: str, n: int) -> None:
    from ptce_geo import coverage

    pts = coverage.national_points()
    pts = pts[pts["lat"].notna() & pts["code"].notna()]
    codes, lats, lons = list(pts["code"]), list(pts["lat"]), list(pts["lon"])
    rng = random.Random(1)
    lines = ["Nom du pôle;Code INSEE;Latitude;Longitude;Année de création;Secteurs;Appel;Site web"]
    for i in range(n):
        j = rng.randrange(len(codes))
        lat, lon = (f"{lats[j]:.5f}".replace(".", ","), f"{lons[j]:.5f}".replace(".", ",")) if i % 2 else ("", "")
        lines.append(f"Pôle de test {i};{codes[j]};{lat};{lon};{rng.randint(1990, 2024)};insertion, culture;"
                     f"AMI 2021;https://exemple.org/{i}")
    Path(path).write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def _peak_mb() -> float:
    """Peak resident memory of this process: VmHWM (``ru_maxrss`` survives execve on Linux and
    could report the parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: str, write: bool) -> None:
    import time

    from ptce_geo import _territory, importer, registry

    registry.ensure()
    _territory.communes(_territory.communes_key())  # the lean commune table (built once, then read in 0.05 s)
    t, cpu = time.perf_counter(), time.process_time()
    report = importer.check(path)
    t_check, cpu_check = time.perf_counter() - t, time.process_time() - cpu
    out = {"check_s": t_check, "cpu_s": cpu_check, "valid": report.n_valid, "rows": len(report.numbers),
           "peak_mb": _peak_mb()}
    if write:
        t = time.perf_counter()
        importer.run(path, who="bench", report=report)
        out["write_s"] = time.perf_counter() - t
        out["peak_mb_with_write"] = _peak_mb()
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--import", dest="write", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("ACTION", "PATH"))
    args = parser.parse_args()
    if args.child:
        action, path = args.child
        generate(path, args.rows) if action == "generate" else measure(path, args.write)
        return
    tmp = tempfile.mkdtemp(prefix="bench-import-")
    env = {**os.environ, "PTCE_GEO_DATA": tmp, "PTCE_GEO_OFFLINE": "1"}
    mirror = ROOT.parent / "shared" / "geodata"
    if mirror.exists():
        env.setdefault("PTCE_GEO_MIRROR", str(mirror))
    path = str(Path(tmp) / "poles.csv")
    me = [sys.executable, str(Path(__file__).resolve()), "--rows", str(args.rows)]
    subprocess.run([*me, "--child", "generate", path], env=env, check=True, cwd=ROOT)
    size = Path(path).stat().st_size
    done = subprocess.run([*me, *(["--import"] if args.write else []), "--child", "measure", path], env=env,
                          check=True, cwd=ROOT, capture_output=True, text=True)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"file: {args.rows} rows, {size / 2**20:.1f} MB (French-Excel CSV, half the rows with a point)")
    print(f"check {got['rows']} rows: {got['check_s']:.2f} s ({1e6 * got['check_s'] / got['rows']:.0f} µs/row), "
          f"{got['valid']} valid; target {TARGET_S:g} s, ratio {got['check_s'] / TARGET_S:.2f} (CPU time "
          f"{got['cpu_s']:.2f} s, ratio {got['cpu_s'] / TARGET_S:.2f}: the wall time grows when the machine is shared; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"peak resident memory of the checking process: {got['peak_mb']:.0f} MB; target {TARGET_MB:g} MB, "
          f"ratio {got['peak_mb'] / TARGET_MB:.2f}")
    if args.write:
        print(f"write {got['valid']} poles into the registry: {got['write_s']:.2f} s; peak with the write "
              f"{got['peak_mb_with_write']:.0f} MB")


if __name__ == "__main__":
    main()
