"""Map explorer in headless Chromium: bytes transferred, time until interactive, app memory.

One run: prepares the caches (as ``ptce-geo prepare`` does), starts the app as ``make run`` does
(``streamlit run serve.py``: mirror, offline), then in fresh browser contexts (empty HTTP cache):

1. national view, cold: the first visit, sent as soon as the server answers its health check
   (the server's warm-up may still be running), then a first visit to a server that had 20 s;
2. national view, warm (second visit), and warm reruns (toggle a layer and back);
3. one département view (Bouches-du-Rhône, communes + QPV + FRR + coverage), first and second
   visit, and the same view with the browser's HTTP cache kept (a returning user);
4. one région with every layer;
5. Île-de-France with the QPV contours (first visit, empty browser cache), and the national view
   with one dot per QPV;
6. the server's RSS after every view (every layer loaded).

Bytes = what the server sends, counted by a TCP relay in front of it (HTTP and WebSocket, after
compression: what a network carries); the part that is Streamlit's own frontend (``/static/…``,
the same for any Streamlit app) is taken from the DevTools protocol. Time = from navigation (or
click) until ``window.ptceReady`` in the new map iframe (every layer fetched and drawn).
Targets (issue 6): national ≤ 3 MB and ≤ 5 s cold, warm rerun ≤ 1 s, RSS ≤ 800 MB; (issue 12)
Île-de-France with QPV contours ≤ 1.5 MB on the wire.

    .venv/bin/python benchmarks/bench_map.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the browser plumbing of the tests (tests/_browser.py)

import _browser  # noqa: E402
from _app import app_env, prepare  # noqa: E402


class Meter:
    """Bytes of one browser context: on the wire (``WireMeter``) and, from the DevTools protocol,
    the part that is Streamlit's own frontend (``/static/…``)."""

    def __init__(self, page, wire):
        self.wire = wire
        self.shell = 0
        self._urls = {}
        wire.reset()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.responseReceived", lambda e: self._urls.__setitem__(e["requestId"], e["response"]["url"]))
        cdp.on("Network.loadingFinished", self._http)

    def _http(self, event):
        url = self._urls.get(event["requestId"], "")
        if "/static/" in url and "/app/static/" not in url:
            self.shell += int(event.get("encodedDataLength") or 0)

    def take(self) -> tuple[int, int]:
        """(bytes on the wire, of which Streamlit's frontend) since the last call."""
        total, shell = self.wire.reset(), self.shell
        self.shell = 0
        return total, shell


def _visit(browser, url: str, wire, where=None, context=None):
    ctx = context or browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    meter = Meter(page, wire)
    t = time.perf_counter()
    page.goto(url)
    frame = _browser.map_frame(page, timeout=300, where=where)
    elapsed = time.perf_counter() - t
    page.wait_for_timeout(500)  # late messages (panel figures) count too
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

    env = app_env()
    print(f"prepare (caches): {prepare(env):.1f} s")
    out = ROOT / "benchmarks" / "output"
    out.mkdir(parents=True, exist_ok=True)
    rows = []

    def row(label, dt, meter):
        total, shell = meter.take()
        rows.append((label, dt, total, shell))

    with sync_playwright() as p:
        browser = _browser.launch(p)
        with _browser.running_app(env, log_path=out / "bench_map_streamlit.log") as (url, proc):
            wire = _browser.WireMeter(int(url.rsplit(":", 1)[1]))
            base = f"http://127.0.0.1:{wire.port}"
            print(f"server RSS at start: {_rss_mb(proc.pid):.0f} MB")
            ctx, page, frame, dt, meter = _visit(browser, f"{base}/?fond=aucun", wire)
            row("national, first visit after start", dt, meter)
            page.screenshot(path=str(out / "bench_map_national.png"))
            ctx.close()
            wire.close()
        with _browser.running_app(env, log_path=out / "bench_map_streamlit.log") as (url, proc):
            wire = _browser.WireMeter(int(url.rsplit(":", 1)[1]))
            base = f"http://127.0.0.1:{wire.port}"
            time.sleep(20)  # the server's warm-up has run
            nat = f"{base}/?fond=aucun"
            for label in ("national, first visit (server up 20 s)", "national, second visit"):
                ctx, page, frame, dt, meter = _visit(browser, nat, wire)
                row(label, dt, meter)
                if label == "national, second visit":
                    t = time.perf_counter()
                    page.get_by_text("Départements", exact=True).first.click()
                    _browser.map_frame(page, where=lambda s: "departements" not in s["layers"])
                    dt = time.perf_counter() - t
                    page.wait_for_timeout(300)
                    row("national, rerun (toggle a layer)", dt, meter)
                    t = time.perf_counter()
                    page.get_by_text("Départements", exact=True).first.click()
                    _browser.map_frame(page, where=lambda s: "departements" in s["layers"])
                    dt = time.perf_counter() - t
                    page.wait_for_timeout(300)
                    row("national, rerun (toggle back)", dt, meter)
                ctx.close()
            dep = f"{base}/?fond=aucun&territoire=dep-13&couches=poles,departements,communes,qpv,frr,couverture"
            kept = browser.new_context(viewport={"width": 1400, "height": 1000})
            for label, context in (("département 13, first", None), ("département 13, second", kept),
                                   ("département 13, returning browser", kept)):
                ctx, page, frame, dt, meter = _visit(browser, dep, wire, where=lambda s: "communes" in s["layers"],
                                                     context=context)
                row(label, dt, meter)
                if label.endswith("second"):
                    page.screenshot(path=str(out / "bench_map_dep13.png"))
                page.close()
                if context is None:
                    ctx.close()
            kept.close()
            ctx, page, frame, dt, meter = _visit(
                browser, f"{base}/?fond=aucun&territoire=reg-11&couches=poles,regions,departements,qpv", wire,
                where=lambda s: "qpv" in s["layers"])
            row("région 11 (Île-de-France), QPV contours", dt, meter)
            page.screenshot(path=str(out / "bench_map_idf_qpv.png"))
            ctx.close()
            ctx, page, frame, dt, meter = _visit(
                browser, f"{base}/?fond=aucun&territoire=reg-11&couches=poles,qpv", wire,
                where=lambda s: "qpv" in s["layers"])
            row("région 11, QPV contours and poles only", dt, meter)
            ctx.close()
            ctx, page, frame, dt, meter = _visit(browser, f"{base}/?fond=aucun&couches=poles,regions,departements,qpv",
                                                 wire, where=lambda s: "qpv" in s["layers"])
            row("national, one dot per QPV", dt, meter)
            ctx.close()
            every = ",".join(["poles", "regions", "departements", "epci", "communes", "qpv",
                              "territoires-industrie", "frr", "zrr", "couverture"])
            ctx, page, frame, dt, meter = _visit(browser, f"{base}/?fond=aucun&territoire=reg-76&couches={every}",
                                                 wire, where=lambda s: "zrr" in s["layers"])
            row("région 76, every layer", dt, meter)
            page.screenshot(path=str(out / "bench_map_reg76.png"))
            ctx.close()
            ctx, page, frame, dt, meter = _visit(
                browser, f"{base}/?fond=aucun&couches=poles,regions,departements,territoires-industrie,couverture",
                wire, where=lambda s: "couverture" in s["layers"])
            row("national, every national layer", dt, meter)
            ctx.close()
            rss = _rss_mb(proc.pid)
            wire.close()
        browser.close()

    print(f"{'view':42} {'time (s)':>9} {'bytes (MB)':>11} {'Streamlit frontend':>19} {'app-specific':>13}")
    for label, dt, total, shell in rows:
        print(f"{label:42} {dt:9.2f} {total / 1e6:11.2f} {shell / 1e6:19.2f} {(total - shell) / 1e6:13.2f}")
    first, cold = rows[0], rows[1]
    rerun = [r for r in rows if "rerun" in r[0]]
    print(f"national cold: {first[2] / 1e6:.2f} MB / 3 MB target ({first[2] / 3e6:.0%}); "
          f"{first[1]:.2f} s right after start, {cold[1]:.2f} s once warmed up / 5 s target "
          f"({first[1] / 5:.0%}, {cold[1] / 5:.0%})")
    print("warm reruns: " + ", ".join(f"{r[1]:.2f} s ({r[1]:.0%} of the 1 s target)" for r in rerun))
    print(f"server RSS with every layer loaded: {rss:.0f} MB / 800 MB target ({rss / 800:.0%})")
    for idf in (r for r in rows if r[0].startswith("région 11")):
        print(f"{idf[0]}: {idf[2] / 1e6:.2f} MB / 1.5 MB target ({idf[2] / 1.5e6:.0%}), "
              f"of which {(idf[2] - idf[3]) / 1e6:.2f} MB app-specific; {idf[1]:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
