"""Child process of the import fuzz test (``test_fuzz_import.py``): imports many files under a
memory limit and reports, as JSON, what happened to each.

Usage: ``python tests/fuzz_worker.py JOB.json RESULT.json``. The job lists ``{"path", "mode"}``
(``check``: dry run; ``run``: all or nothing; ``skip``: valid rows, rejects written) and the
address-space limit in MiB (``resource.setrlimit(RLIMIT_AS)``), set before anything is read.
The environment (PTCE_GEO_DATA, PTCE_GEO_CACHE…) is the parent's.
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
import traceback
from pathlib import Path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    limit = int(job["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    from ptce_geo import _territory, importer, registry
    from ptce_geo._errors import PtceGeoError

    reg = registry.ensure()
    _territory.communes(_territory.communes_key())
    results = []
    for item in job["files"]:
        path, mode = item["path"], item["mode"]
        before, n_before = _digest(reg), len(registry.records())
        res = {"path": path, "mode": mode, "kind": item.get("kind", "")}
        t = time.perf_counter()
        try:
            if mode == "check":
                report = importer.check(path)
                res.update(outcome="checked", errors=len(report.error_lines))
            else:
                report = importer.run(path, skip_invalid=mode == "skip", rejects=path + ".rejets.csv", who="fuzz")
                res.update(outcome="imported", added=len(report.imported_ids), errors=len(report.error_lines),
                           rejects=report.rejects_path)
            numbers = set(report.numbers)
            res["issue_rows_known"] = all(i.ligne in numbers for i in report.issues)
            res["issues_french"] = all(i.message and i.champ for i in report.issues)
        except PtceGeoError as exc:
            res.update(outcome="refused", message=str(exc))
        except BaseException:  # noqa: BLE001 - what the test looks for
            res.update(outcome="crash", message=traceback.format_exc()[-3000:])
        res["seconds"] = round(time.perf_counter() - t, 3)
        res["unchanged"] = _digest(reg) == before
        res["added_rows"] = len(registry.records()) - n_before
        results.append(res)
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve (it would report the parent's peak)
    hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
    peak_mb = int(hwm.split()[1]) / 1024
    Path(sys.argv[2]).write_text(json.dumps({"results": results, "peak_mb": peak_mb}, ensure_ascii=True),
                                 encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
