"""Map explorer in headless Chromium: bytes transferred, time until interactive, app memory.

One run: prepares the caches (as ``ptce-geo prepare`` does), starts ``streamlit run app.py``
(mirror, offline), then in fresh browser contexts (no HTTP cache):

1. national view, cold (first visit after the server started);
2. national view, warm (second visit), and a warm rerun (toggle a layer, map redrawn);
3. one département view (Bouches-du-Rhône, communes + QPV + FRR + coverage), first and second visit;
4. the server's RSS after a view with every layer (région Occitanie, all layers, then national
   with all national layers).

Bytes = HTTP transfer sizes (CDP ``encodedDataLength``) + WebSocket frames received (Streamlit
sends the map as a delta). Time = from navigation (or click) until ``window.ptceReady`` in the
new map iframe. Targets (issue 6): national ≤ 3 MB and ≤ 5 s cold, warm rerun ≤ 1 s, RSS ≤ 800 MB.

    .venv/bin/python benchmarks/bench_map.py
"""

from __future__ import annotations

import base64
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ptce_geo import _browser  # noqa: E402


def _env() -> dict[str, str]:
    env = dict(os.environ)
    mirror = ROOT.parent / "shared" / "geodata"
    if not env.get("PTCE_GEO_MIRROR") and (mirror / "SOURCES.md").exists():
        env["PTCE_GEO_MIRROR"] = str(mirror)
    env.setdefault("PTCE_GEO_CACHE", str(ROOT / "benchmarks" / "output" / "cache"))
    env.setdefault("PTCE_GEO_DATA", str(ROOT / "benchmarks" / "output" / "data"))
    env["PTCE_GEO_OFFLINE"] = "1"
    return env


def _prepare(env) -> float:
    import subprocess

    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ptce_geo", "prepare"], env=env, cwd=ROOT, check=False,
                   capture_output=True, timeout=1800)
    return time.perf_counter() - t


class Meter:
    """Counts bytes a page receives (HTTP + WebSocket) through the Chrome DevTools Protocol."""

    def __init__(self, page):
        self.http = 0
        self.ws = 0
        self.shell = 0  # Streamlit's own frontend (/static/…): the same for every Streamlit app
        self._urls = {}
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.responseReceived", lambda e: self._urls.__setitem__(e["requestId"], e["response"]["url"]))
        cdp.on("Network.loadingFinished", self._http)
        cdp.on("Network.webSocketFrameReceived", self._ws)

    def _http(self, event):
        size = int(event.get("encodedDataLength") or 0)
        self.http += size
        if "/static/" in self._urls.get(event["requestId"], "") and "/app/static/" not in self._urls[event["requestId"]]:
            self.shell += size

    def _ws(self, event):
        resp = event["response"]
        data = resp.get("payloadData", "")
        self.ws += len(base64.b64decode(data)) if resp.get("opcode") == 2 else len(data.encode())

    @property
    def total(self) -> int:
        return self.http + self.ws

    def reset(self):
        self.http = self.ws = self.shell = 0


def _visit(browser, url: str, where=None):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    meter = Meter(page)
    t = time.perf_counter()
    page.goto(url)
    frame = _browser.map_frame(page, timeout=300, where=where)
    elapsed = time.perf_counter() - t
    page.wait_for_timeout(300)
    return ctx, page, frame, elapsed, meter


def _rss_mb(pid: int) -> float:
    total = 0
    pids = [pid]
    try:
        import subprocess

        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in out]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def main() -> int:
    if not _browser.chromium_available():
        print(f"Chromium absent ({_browser.CHROMIUM}) : benchmark impossible.")
        return 0
    from playwright.sync_api import sync_playwright

    env = _env()
    print(f"prepare (caches): {_prepare(env):.1f} s")
    out = ROOT / "benchmarks" / "output"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with _browser.running_app(env, log_path=out / "bench_map_streamlit.log") as (url, proc), sync_playwright() as p:
        browser = _browser.launch(p)
        print(f"server RSS at start: {_rss_mb(proc.pid):.0f} MB")
        nat = f"{url}/?fond=aucun"
        for label in ("national, cold", "national, warm"):
            ctx, page, frame, dt, meter = _visit(browser, nat)
            rows.append((label, dt, meter.total, meter.ws, meter.shell))
            if label == "national, warm":
                meter.reset()
                t = time.perf_counter()
                page.get_by_text("Départements", exact=True).first.click()
                _browser.map_frame(page, where=lambda s: "departements" not in s["layers"])
                rows.append(("national, rerun (toggle a layer)", time.perf_counter() - t, meter.total, meter.ws, meter.shell))
                meter.reset()
                t = time.perf_counter()
                page.get_by_text("Départements", exact=True).first.click()
                _browser.map_frame(page, where=lambda s: "departements" in s["layers"])
                rows.append(("national, rerun (toggle back, cached)", time.perf_counter() - t, meter.total, meter.ws, meter.shell))
            ctx.close()
        dep = f"{url}/?fond=aucun&territoire=dep-13&couches=poles,departements,communes,qpv,frr,couverture"
        for label in ("département 13, first", "département 13, warm"):
            ctx, page, frame, dt, meter = _visit(browser, dep, where=lambda s: "communes" in s["layers"])
            rows.append((label, dt, meter.total, meter.ws, meter.shell))
            if label.endswith("warm"):
                page.screenshot(path=str(out / "bench_map_dep13.png"))
            ctx.close()
        every = ",".join(["poles", "regions", "departements", "epci", "communes", "qpv", "territoires-industrie",
                          "frr", "zrr", "couverture"])
        ctx, page, frame, dt, meter = _visit(browser, f"{url}/?fond=aucun&territoire=reg-76&couches={every}",
                                             where=lambda s: "zrr" in s["layers"])
        rows.append(("région 76, every layer", dt, meter.total, meter.ws, meter.shell))
        ctx.close()
        ctx, page, frame, dt, meter = _visit(
            browser, f"{url}/?fond=aucun&couches=poles,regions,departements,territoires-industrie,couverture",
            where=lambda s: "couverture" in s["layers"])
        rows.append(("national, every national layer", dt, meter.total, meter.ws, meter.shell))
        ctx.close()
        rss = _rss_mb(proc.pid)
        browser.close()

    print(f"{'view':40} {'time (s)':>9} {'bytes (MB)':>11} {'WebSocket':>10} {'Streamlit shell':>16} {'app-specific':>13}")
    for label, dt, total, ws, shell in rows:
        print(f"{label:40} {dt:9.2f} {total / 1e6:11.2f} {ws / 1e6:10.2f} {shell / 1e6:16.2f} {(total - shell) / 1e6:13.2f}")
    nat_cold = rows[0]
    rerun = [r for r in rows if "rerun" in r[0]]
    print(f"national cold: {nat_cold[2] / 1e6:.2f} MB / 3 MB target ({nat_cold[2] / 3e6:.0%}; "
          f"without Streamlit's own frontend {(nat_cold[2] - nat_cold[4]) / 1e6:.2f} MB = {(nat_cold[2] - nat_cold[4]) / 3e6:.0%}), "
          f"{nat_cold[1]:.2f} s / 5 s target ({nat_cold[1] / 5:.0%})")
    print("warm reruns: " + ", ".join(f"{r[1]:.2f} s ({r[1]:.0%} of the 1 s target)" for r in rerun))
    print(f"server RSS with every layer loaded: {rss:.0f} MB / 800 MB target ({rss / 800:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
