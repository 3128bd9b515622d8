"""K concurrent newcomers on the national map: waiting time and the server's CPU per session.

One run: prepares the caches (as ``ptce-geo prepare`` does), starts the app as ``make run`` does
(``streamlit run serve.py``: mirror, offline), waits for its warm-up (« Préchargement terminé »
in its log), then:

1. one first session (it builds what every later session shares: reported apart);
2. rounds of K = 1, 5, 10 sessions opened at the same moment, each in a fresh browser context
   (empty HTTP cache, new Streamlit session: a newcomer), on the national view with the default
   layers (``/?fond=aucun``: no tiles, offline). K = 1 is run three times.

Waiting time = from ``page.goto`` until the map's iframe shows a first pole marker (a pole or a
cluster of poles, ``.ptce-pole, .marker-cluster``, Leaflet.markercluster's DOM), per session;
the table gives the median and the maximum over the K sessions. The K browsers run in one
Chromium on the same machine as the server, so they compete for the same cores: the waiting
times are as measured, and the server is judged by its CPU.

Server CPU = user + system time of the server's process tree (``streamlit run`` and any child:
``utime + stime`` of ``/proc/<pid>/stat``, which counts every thread of a process, summed over
the process and its descendants), read before the K sessions open and after they are over —
every page script run finished, the contexts closed (session teardown counted) and the server
quiet again (less than 20 ms of CPU over 0.5 s) — divided by K. The server's idle CPU over the
same span is measured just before each round and printed beside it (not subtracted).

Target (issue 14): ≤ 0.15 s of server CPU per national-view session.

    .venv/bin/python benchmarks/bench_load.py [--rounds 1,1,1,5,10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests"))  # the browser plumbing of the tests (tests/_browser.py)

import _browser  # noqa: E402
from _app import app_env, prepare  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
MARKER_JS = ("() => { const f = !!document.querySelector('.ptce-pole, .marker-cluster');"
             " return f; }")


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def cpu_times(pid: int) -> tuple[float, float]:
    """(utime, stime) of ``pid`` and all its descendants (every thread counted), in seconds."""
    tree = _children()
    todo, user, system = [pid], 0, 0
    while todo:
        p = todo.pop()
        todo.extend(tree.get(p, ()))
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11])  # utime, stime (fields 14 and 15 of stat)
        system += int(fields[12])
    return user / TICKS, system / TICKS


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and all its descendants (every thread counted), in seconds."""
    return sum(cpu_times(pid))


async def _quiet(pid: int, quiet: float = 0.02, span: float = 0.5, limit: float = 120.0) -> None:
    """Wait until the server uses less than ``quiet`` s of CPU over ``span`` s."""
    deadline = time.monotonic() + limit
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(span)
        now = cpu_seconds(pid)
        if now - last < quiet:
            return
        last = now


async def _script_done(page, limit: float = 300.0) -> None:
    """Wait until the page's script run is over (Streamlit's ``data-test-script-state``)."""
    deadline = time.monotonic() + limit
    calm = 0
    while time.monotonic() < deadline and calm < 3:
        state = await page.evaluate("(() => { const e = document.querySelector('[data-test-script-state]');"
                                    " return e ? e.getAttribute('data-test-script-state') : 'none'; })()")
        calm = calm + 1 if state == "notRunning" else 0
        await asyncio.sleep(0.2)


async def _session(browser, url: str, start: asyncio.Event, limit: float = 300.0):
    """One newcomer: fresh context, open the page, wait for the first pole marker; returns
    (seconds to the first marker, context)."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    page.set_default_timeout(limit * 1000)
    await start.wait()
    t = time.perf_counter()
    await page.goto(url, wait_until="commit")
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame is page.main_frame:
                continue
            try:
                if await frame.evaluate(MARKER_JS):
                    elapsed = time.perf_counter() - t
                    await _script_done(page)
                    return elapsed, ctx
            except Exception:  # noqa: BLE001 - frame detached while re-rendering
                continue
        await asyncio.sleep(0.05)
    raise TimeoutError(f"aucun marqueur de pôle après {limit:.0f} s")


async def _round(browser, url: str, k: int, pid: int) -> dict:
    await _quiet(pid)
    idle0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(2.0)
    idle_rate = (cpu_seconds(pid) - idle0) / (time.monotonic() - t0)
    start = asyncio.Event()
    tasks = [asyncio.create_task(_session(browser, url, start)) for _ in range(k)]
    await asyncio.sleep(0.5)  # contexts created before the clock starts
    (user0, sys0), wall0 = cpu_times(pid), time.monotonic()
    start.set()
    results = await asyncio.gather(*tasks)
    for _, ctx in results:
        await ctx.close()
    await _quiet(pid)
    (user1, sys1), wall1 = cpu_times(pid), time.monotonic()
    waits = [r[0] for r in results]
    return {"k": k, "median": statistics.median(waits), "max": max(waits),
            "cpu": (user1 + sys1 - user0 - sys0) / k, "sys": (sys1 - sys0) / k,
            "idle": idle_rate * (wall1 - wall0) / k, "span": wall1 - wall0}


async def _main(rounds: list[int], profile: str | None = None) -> int:
    from playwright.async_api import async_playwright

    env = app_env()
    print(f"prepare (caches): {prepare(env):.1f} s")
    out = ROOT / "benchmarks" / "output"
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "bench_load_streamlit.log"
    rows = []
    with _browser.running_app(env, log_path=log_path) as (url, proc):
        deadline = time.monotonic() + 300
        while "Préchargement terminé" not in log_path.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.5)
        warm = cpu_seconds(proc.pid)
        print(f"server up, warm-up done: {warm:.2f} s of CPU since start")
        nat = f"{url}/?fond=aucun"
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=_browser.CHROMIUM, args=_browser.CHROMIUM_ARGS)
            first = await _round(browser, nat, 1, proc.pid)
            first["label"] = "first session after start"
            rows.append(first)
            spy = _py_spy(proc.pid, profile) if profile else None
            for k in rounds:
                r = await _round(browser, nat, k, proc.pid)
                r["label"] = f"K = {k}"
                rows.append(r)
            if spy is not None:
                import signal

                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
                print(f"py-spy profile of the rounds (collapsed stacks): {profile}")
            await browser.close()
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores: {os.cpu_count()})")
    print(f"{'round':28} {'first marker median (s)':>24} {'max (s)':>8} {'server CPU/session (s)':>23}"
          f" {'of which system (s)':>20} {'of which idle (s)':>18}")
    for r in rows:
        print(f"{r['label']:28} {r['median']:24.2f} {r['max']:8.2f} {r['cpu']:23.3f} {r['sys']:20.3f}"
              f" {r['idle']:18.3f}")
    steady = [r["cpu"] for r in rows[1:]]
    if steady:
        worst = max(steady)
        print(f"server CPU per national-view session: {min(steady):.3f}–{worst:.3f} s "
              f"/ 0.15 s target ({worst / 0.15:.0%} at worst)")
    return 0


def _py_spy(pid: int, path: str):
    """``py-spy record`` of the server during the rounds (``pip install py-spy``; a profiling aid, not a
    dependency of the project): collapsed stacks of the thread holding the GIL (``--gil``: a thread
    waiting for it is not counted — without it, the page script's thread shows wherever the event
    loop made it wait), 100 samples a second."""
    import shutil
    import subprocess

    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--format", "raw", "--rate", "100",
                             "--nonblocking", "--gil", "--output", path], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def main() -> int:
    if not _browser.chromium_available():
        print(f"Chromium absent ({_browser.CHROMIUM}) : benchmark impossible.")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", default="1,1,1,5,10", help="K of each round, in order (default 1,1,1,5,10)")
    parser.add_argument("--py-spy", dest="profile", metavar="FILE",
                        help="also profile the server with py-spy during the rounds (collapsed stacks to FILE)")
    args = parser.parse_args()
    return asyncio.run(_main([int(k) for k in args.rounds.split(",") if k.strip()], args.profile))


if __name__ == "__main__":
    sys.exit(main())
