"""A cache shared by several servers and mounted read-only: complete, the pages only read it; a
file it lacks is said plainly (a map layer) or built in memory and logged (a processed frame).

The pages run (AppTest) in a child process whose cache folder and published layers folder are
read-only bind mounts (``unshare -m``: a mount namespace of its own, nothing changes outside it),
so any attempt to write fails for real instead of being merely watched. The layers folder the child
sees holds the national files and those of one département (Lozère) only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ptce_geo import cli, settings, territory_layers, webmap

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, logging, sys
from streamlit.testing.v1 import AppTest

ROOT = sys.argv[1]
out = {}
records = []
logging.getLogger("ptce_geo").addHandler(type("H", (logging.Handler,), {"emit": lambda self, r: records.append(r.getMessage())})())


def run(script, params=None):
    at = AppTest.from_file(f"{ROOT}/{script}", default_timeout=300)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    return {"exceptions": [str(e.value) for e in at.exception],
            "problems": [str(x.value) for x in [*at.warning, *at.error]]}


out["carte-france"] = run("app.py")
out["carte-lozere"] = run("app.py", {"territoire": "dep-48", "couches": "poles,communes,frr,qpv,couverture"})
out["carte-paris"] = run("app.py", {"territoire": "dep-75", "couches": "poles,communes"})
for page in ("territoire", "lacunes", "impression", "donnees", "poles"):
    out[page] = run(f"app_pages/{page}.py")

import pandas as pd
from ptce_geo import _cache
frame = _cache.cached_frame("absent-du-cache-partage", "k1", lambda: pd.DataFrame({"a": [1, 2]}))
out["cached_frame"] = {"rows": len(frame), "file": _cache.path_for("absent-du-cache-partage", "k1").exists(),
                       "log": [m for m in records if "absent-du-cache-partage" in m]}
print("RESULT " + json.dumps(out, ensure_ascii=False))
"""


def _mount_prefix() -> list[str]:
    """``unshare`` with a private mount namespace (root), or a user namespace too (otherwise)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare absent (util-linux) : pas de montage en lecture seule possible ici")
    flags = ["-m"] if os.geteuid() == 0 else ["-r", "-m"]
    probe = subprocess.run(["unshare", *flags, "sh", "-c", "mount --bind -o ro / / 2>/dev/null || mount -t tmpfs x /mnt"],
                           capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("montages interdits sur cette machine (unshare -m) : test du cache en lecture seule ignoré")
    return ["unshare", *flags]


def test_read_only_shared_cache_is_only_read_and_gaps_are_said(mirror_dir, fresh_data, tmp_path, capsys):
    prefix = _mount_prefix()
    # the machine that prepares the shared folder: « ptce-geo prepare » (and one territory's files)
    assert cli.main(["prepare"]) == 0
    capsys.readouterr()
    files, unavailable = territory_layers.publish("dep-48")
    assert files == len(territory_layers.TERRITORY_FILES) and not unavailable
    cache = settings.get().cache_dir
    layers = webmap.layers_dir()
    shown = tmp_path / "layers"  # what the servers see: national files and Lozère's, nothing for Paris
    shown.mkdir()
    for path in layers.glob("*.geojson"):
        if "--dep-" not in path.name and "--reg-" not in path.name or "--dep-48--" in path.name:
            os.link(path, shown / path.name)
    assert not list(shown.glob("communes--dep-75--*"))
    script = tmp_path / "child.py"
    script.write_text(_CHILD, encoding="utf-8")
    mounts = (f"mount --bind -o ro {cache} {cache} && mount --bind -o ro {shown} {layers} && "
              f"exec {sys.executable} {script} {ROOT}")
    env = dict(os.environ, PTCE_GEO_DATA=str(fresh_data), PTCE_GEO_OFFLINE="1")
    done = subprocess.run([*prefix, "sh", "-c", mounts], capture_output=True, text=True, timeout=1200, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])

    for page in ("carte-france", "carte-lozere", "territoire", "lacunes", "impression", "donnees", "poles"):
        assert out[page] == {"exceptions": [], "problems": []}, (page, out[page])
    paris = out["carte-paris"]
    assert paris["exceptions"] == []
    [problem] = paris["problems"]
    assert problem.startswith("Couche « Communes » indisponible : fichier 'communes--dep-75--")
    assert "ne peut pas être écrit" in problem and "ptce-geo prepare --territoires" in problem
    assert out["cached_frame"]["rows"] == 2 and not out["cached_frame"]["file"]
    [log] = out["cached_frame"]["log"]
    assert log.startswith("Cache partagé incomplet") and "ptce-geo prepare" in log
