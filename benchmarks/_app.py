"""What the browser benchmarks (``bench_map.py``, ``bench_load.py``) share: the environment of the
app they start (mirror beside the checkout, caches under ``benchmarks/output/``, offline) and the
``ptce-geo prepare`` run that fills those caches first."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def app_env() -> dict[str, str]:
    """The app's environment: the mirror beside the checkout (unless ``PTCE_GEO_MIRROR`` is set),
    caches and data under ``benchmarks/output/``, no network."""
    env = dict(os.environ)
    mirror = ROOT.parent / "shared" / "geodata"
    if not env.get("PTCE_GEO_MIRROR") and (mirror / "SOURCES.md").exists():
        env["PTCE_GEO_MIRROR"] = str(mirror)
    env.setdefault("PTCE_GEO_CACHE", str(ROOT / "benchmarks" / "output" / "cache"))
    env.setdefault("PTCE_GEO_DATA", str(ROOT / "benchmarks" / "output" / "data"))
    env["PTCE_GEO_OFFLINE"] = "1"
    return env


def prepare(env: dict[str, str]) -> float:
    """``ptce-geo prepare`` in ``env`` (never fatal: a missing layer is reported by the app);
    returns its wall time in seconds."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ptce_geo", "prepare"], env=env, cwd=ROOT, check=False,
                   capture_output=True, timeout=1800)
    return time.perf_counter() - t
