"""Plumbing for driving the app in headless Chromium (browser tests and benchmarks).

Starts the app (``streamlit run serve.py``, as ``make run`` does) on a free localhost port with
a given environment, waits for ``/_stcore/health``, launches Debian's Chromium through Playwright (never a
downloaded browser) and finds the map's iframe once its scripts have run
(``window.ptceReady``, set by ``webmap.ReadySignal``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_health(url: str, timeout: float = 180.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit s'est arrêté (code {proc.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"l'application ne répond pas sur {url} après {timeout:.0f} s")


@contextlib.contextmanager
def running_app(env: dict[str, str], log_path: Path | None = None, port: int | None = None,
                timeout: float = 180.0, entry: str = "serve.py",
                extra_args: tuple[str, ...] = ()) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run serve.py`` (as ``make run``; ``entry="app.py"`` for the bare app) on localhost;
    ``extra_args`` are more Streamlit options (e.g. ``("--secrets.files", path)`` for a sign-in
    configuration kept outside the checkout); yields (base URL, process); stops it afterwards."""
    port = port or free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / entry), "--server.port", str(port),
         "--server.address", "localhost", "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false", *extra_args],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://localhost:{port}"
    try:
        wait_health(url, timeout, proc)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_path:
            log.close()


class WireMeter:
    """A TCP relay on a free localhost port in front of ``target_port`` that counts the bytes the
    server sends (HTTP and WebSocket, after compression: what a network would carry)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.received = 0
        self._lock = threading.Lock()
        meter = self

        class Relay(socketserver.BaseRequestHandler):
            def handle(self):
                upstream = socket.create_connection(("127.0.0.1", meter.target_port))
                down = threading.Thread(target=meter._pump, args=(upstream, self.request, True), daemon=True)
                down.start()
                meter._pump(self.request, upstream, False)
                down.join()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Relay)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _pump(self, src, dst, count: bool) -> None:
        try:
            while data := src.recv(65536):
                if count:
                    with self._lock:
                        self.received += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def reset(self) -> int:
        with self._lock:
            value, self.received = self.received, 0
        return value

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def map_frame(page, timeout: float = 120.0, where: Callable[[dict], bool] | None = None, skip=()):
    """The iframe whose map scripts have run (and whose ``ptceState()`` satisfies ``where``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame is page.main_frame or frame in skip:
                continue
            try:
                if frame.evaluate("window.ptceReady === true"):
                    state = frame.evaluate("window.ptceState()")
                    if where is None or where(state):
                        return frame
            except Exception:  # noqa: BLE001 - frame detached while re-rendering
                continue
        page.wait_for_timeout(200)  # not time.sleep: Playwright's sync API only sees events while called
    raise TimeoutError("la carte n'est pas apparue")


def settle(page, timeout: float = 180.0) -> None:
    """Wait until the page's script run is over (Streamlit's ``data-test-script-state``) and what it
    drew has had a moment to appear (component frames, the map's layers)."""
    page.wait_for_selector("h1", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        state = page.evaluate("(() => { const e = document.querySelector('[data-test-script-state]');"
                              " return e ? e.getAttribute('data-test-script-state') : 'none'; })()")
        running = page.locator("[data-testid='stSpinner'], [data-testid='stSkeleton']").count()
        quiet = quiet + 1 if state == "notRunning" and not running else 0
        if quiet >= 3:
            break
        page.wait_for_timeout(300)
    page.wait_for_timeout(800)


#: axe-core rules audited (WCAG 2.0/2.1/2.2 A and AA plus axe's best practices).
AXE_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                     "best-practice"]}}


def axe_violations(page, frames: bool = True) -> list[dict]:
    """axe-core (``axe-playwright-python``'s bundled copy) run in the page and, with ``frames``, in
    each of its frames on its own (a component frame is a document of its own: axe's script must be
    injected there too); frames not shown (in a hidden tab) are left for the state that shows them.
    Returns the violations as dicts with ``frame`` (``"page"`` or the frame's
    URL), ``id``, ``impact``, ``help`` and ``nodes`` (CSS targets and failure summaries)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    out = []
    targets = [page.main_frame] + ([f for f in page.frames if f is not page.main_frame] if frames else [])
    for frame in targets:
        if frame.is_detached() or frame.url in ("", "about:blank"):
            continue
        try:
            if frame is not page.main_frame and not frame.frame_element().is_visible():
                continue  # a frame in a folded tab or section: audited when it is shown
        except Exception:  # noqa: BLE001 - detached meanwhile
            continue
        try:
            frame.evaluate(axe.axe_script)
            result = frame.evaluate("opts => axe.run(document, opts)", {**AXE_OPTIONS, "iframes": False})
        except Exception as exc:  # noqa: BLE001 - a frame that navigated away meanwhile
            if "detached" in str(exc) or "destroyed" in str(exc):
                continue
            raise
        where = "page" if frame is page.main_frame else frame.url.split("?")[0]
        for v in result["violations"]:
            out.append({"frame": where, "id": v["id"], "impact": v["impact"], "help": v["help"],
                        "nodes": [{"target": n["target"], "summary": n.get("failureSummary", "")}
                                  for n in v["nodes"]]})
    return out


def format_violations(violations: list[dict], limit: int = 3) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']} ({v['frame']}) — {v['help']} : {len(v['nodes'])} élément(s)")
        for n in v["nodes"][:limit]:
            lines.append(f"    {n['target']} :: {n['summary'][:300]}")
    return "\n".join(lines)
