"""Atlas time (cover + 18 régions in one PDF) beside the naive one-figure-per-region way.

ptce-geo: every layer projected and simplified once per CRS (cached GeoParquet), polygons of
one style drawn as ONE compound path, one figure reused for every page.
Naive: for each région, a new pyplot figure, the communes re-projected from EPSG:4326 and
drawn with ``GeoDataFrame.plot`` (one patch per polygon, limits walked vertex by vertex),
départements and EPCI with ``.boundary.plot``, saved to the same PdfPages. The naive way is
timed on a few régions and extrapolated to 18 (``--full`` times all of them).

Also: one région printed with its QPV contours by a whole ``ptce-geo print`` process (imports,
data, drawing, PDF), as a user runs it (issue 12 target ≤ 3 s, warm caches).

Target (2-core machine): atlas ≤ 20 s, warm caches.
Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_printing.py [--full]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PTCE_GEO_OFFLINE", "1")
_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "geodata"
if not os.environ.get("PTCE_GEO_MIRROR") and _MIRROR.exists():
    os.environ["PTCE_GEO_MIRROR"] = str(_MIRROR)

import matplotlib  # noqa: E402
import matplotlib.figure  # noqa: E402

matplotlib.use("Agg")


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def naive_atlas(path: Path, codes: list[str]) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from ptce_geo import boundaries, priority, settings

    communes = boundaries.load("commune")
    deps = boundaries.load("departement")
    epci = boundaries.load("epci")
    flags = priority.flags().set_index("code")
    regions = boundaries.load("region").set_index("code")
    with PdfPages(path) as pdf:
        for code in codes:
            dep_codes = regions.loc[code, "departements"].split(";")
            crs = settings.get().crs_for_departement(dep_codes[0])
            com = communes[communes["region"] == code].to_crs(crs)
            com["frr"] = com["code"].map(flags["frr"]).fillna(False)
            fig, ax = plt.subplots(figsize=(8.27, 11.69))
            com.plot(ax=ax, column="frr", categorical=True, cmap="Greens", edgecolor="#b0b0b0", linewidth=0.12)
            epci[epci["code"].isin(com["epci"].dropna().unique())].to_crs(crs).boundary.plot(
                ax=ax, color="#7a7a7a", linewidth=0.35)
            deps[deps["code"].isin(dep_codes)].to_crs(crs).boundary.plot(ax=ax, color="#303030", linewidth=0.8)
            ax.set_axis_off()
            ax.set_title(f"{regions.loc[code, 'nom']}")
            fig.text(0.05, 0.02, "Sources : …", fontsize=6)
            pdf.savefig(fig)
            plt.close(fig)


def main() -> None:
    from ptce_geo import printing

    full = "--full" in sys.argv
    codes = printing.region_codes()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t_load, _ = timed(lambda: [printing.plot_layers(printing.territory("region", c), None,
                                                        ax=matplotlib.figure.Figure().add_subplot())
                                   for c in ("32", "04")])
        print(f"first layer load (projected caches, priority layers, poles) : {t_load:6.2f} s")
        t_atlas, _ = timed(lambda: printing.atlas(tmp / "atlas.pdf", progress=False))
        size = (tmp / "atlas.pdf").stat().st_size / 1e6
        print(f"atlas, cover + {len(codes)} régions (ptce-geo)          : {t_atlas:6.2f} s  ({size:.1f} MB)")
        t_one, _ = timed(lambda: printing.print_map(printing.territory("region", "32"), tmp / "hdf.pdf"))
        print(f"one région, PDF (Hauts-de-France)                  : {t_one:6.2f} s")

        sample = codes if full else ["11", "32", "76", "04"]
        t_naive, _ = timed(lambda: naive_atlas(tmp / "naive.pdf", sample))
        per_page = t_naive / len(sample)
        naive_18 = per_page * len(codes)
        how = "measured" if full else f"extrapolated from {len(sample)} régions"
        print(f"naive one figure per région, {len(codes)} régions ({how}) : {naive_18:6.2f} s "
              f"({per_page:.2f} s/page, furniture not even drawn)")
        print(f"ratio naive / ptce-geo                             : {naive_18 / t_atlas:6.1f} x")
        print(f"target ≤ 20 s on 2 cores ({os.cpu_count()} here)              : "
              f"{'OK' if t_atlas <= 20 else 'MISSED'}")
        region_process(tmp)


def region_process(tmp: Path) -> None:
    """``ptce-geo print --region 11`` (Île-de-France: 298 QPV, polygons and sub-millimetre squares)
    as a whole process, three times (the first may rebuild a cache); PDF and PNG."""
    import resource
    import subprocess

    for fmt in ("pdf", "png"):
        times, cpu = [], []
        for _ in range(3):
            t = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-m", "ptce_geo", "print", "--region", "11", "-o", str(tmp / f"idf.{fmt}")],
                           check=True, capture_output=True, env=os.environ.copy())
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            times.append(time.perf_counter() - t)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        best = min(times[1:])
        print(f"région 11 with QPV contours, whole process, {fmt.upper()} : {best:6.2f} s best of 2 warm runs "
              f"(first {times[0]:.2f} s; CPU {min(cpu[1:]):.2f} s) / 3 s target ({best / 3:.0%}); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
