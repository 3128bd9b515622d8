"""Map furniture: the scale bar in km, the north arrow and the locator map of France."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from .. import _cache, boundaries, settings
from .data import memo, projected, table
from .draw import add_fill
from .style import LOCATOR_COLOUR
from .territories import Territory
from .text import text_width_mm

__all__ = ["nice_length", "add_scalebar", "scalebar_size_mm", "add_north_arrow", "DROM_REGIONS", "locator_shapes",
           "add_locator"]


def nice_length(max_km: float) -> float:
    """The longest round length (1000, 500, 200… 0.5 km) not over ``max_km``."""
    for step in (1000, 500, 200, 100, 50, 20, 10, 5, 2, 1, 0.5):
        if step <= max_km:
            return float(step)
    return 0.5


def _subdivisions(km: float) -> int:
    """Segments of a scale bar of ``km``: 5 for 1, 5, 10, 50…; 4 for 2, 20, 200…"""
    lead = int(round(km / 10 ** np.floor(np.log10(km))))
    return 4 if lead == 2 else 5


def _km(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def add_scalebar(ax, width_m: float, fontsize: float = 7, loc: str = "lower left", k: float = 1.0,
                 km: float | None = None):
    """A scale bar in km (``km``, by default about a fifth of the map width) inside ``ax``:
    alternate black and white segments from 0, labelled 0, the middle (when there is room) and
    the end."""
    from matplotlib.offsetbox import AnchoredOffsetbox, AuxTransformBox
    from matplotlib.patches import Rectangle
    from matplotlib.text import Text

    km = km or nice_length(width_m / 1000 / 5)
    n = _subdivisions(km)
    step = km * 1000 / n
    ax_w_mm = ax.get_position().width * ax.figure.get_figwidth() * 25.4
    m_per_mm = width_m / ax_w_mm
    bar_h = 1.1 * k * m_per_mm
    box = AuxTransformBox(ax.transData)
    segments = []
    for i in range(n):
        seg = Rectangle((i * step, 0), step, bar_h, facecolor="#000000" if i % 2 == 0 else "#ffffff",
                        edgecolor="#000000", linewidth=0.4 * k)
        box.add_artist(seg)
        segments.append(seg)
    bar_mm = km * 1000 / m_per_mm
    ticks = [0, n // 2, n] if n % 2 == 0 and bar_mm > 9 * fontsize * 25.4 / 72 else [0, n]
    labels = []
    for i in ticks:
        value = km * i / n
        text = Text(i * step, -0.5 * k * m_per_mm, _km(value) + (" km" if i == n else ""), ha="center", va="top",
                    fontsize=fontsize)
        box.add_artist(text)
        labels.append(text)
    bar = AnchoredOffsetbox(loc, child=box, pad=0.35, borderpad=0.4, frameon=True, prop={"size": fontsize})
    bar.patch.set(facecolor="white", alpha=0.85, edgecolor="none")
    bar.set_zorder(20)
    bar.ptce_km = km
    bar.ptce_segments = segments
    bar.ptce_labels = labels
    ax.add_artist(bar)
    return bar


def scalebar_size_mm(km: float, scale: float, fontsize: float, k: float) -> tuple[float, float]:
    """Width and height (mm) of ``add_scalebar``'s box for a bar of ``km`` at ``scale``."""
    pt = 25.4 / 72
    pads = 2 * 0.35 * fontsize * pt
    label_w = text_width_mm(f"{_km(km)} km", fontsize) / 2 + text_width_mm("0", fontsize) / 2
    return km * 1e6 / scale + label_w + pads + 0.6, 1.1 * k + 0.5 * k + fontsize * 1.25 * pt + pads + 0.6


def add_north_arrow(ax, size: float = 9, xy=(0.955, 0.97)):
    """A north arrow (grid north of the projection) in the upper-right corner of ``ax``."""
    x, y = xy
    arrow = ax.annotate(
        "N", xy=(x, y), xytext=(x, y - 0.075), xycoords="axes fraction", textcoords="axes fraction",
        ha="center", va="center", fontsize=size, fontweight="bold", zorder=20,
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 3, "headwidth": 9, "headlength": 9},
        bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
    )
    return arrow


_LOCATOR_BOXES = [(-330_000, 6_880_000), (-330_000, 6_680_000), (-330_000, 6_480_000),
                  (-330_000, 6_280_000), (-330_000, 6_080_000)]
DROM_REGIONS = ("01", "02", "03", "04", "06")


def locator_shapes():
    """Régions of France in one drawing: metro in Lambert-93, the DROM scaled into boxes
    (cached as GeoParquet: six projected layers read and simplified once, not at every print)."""
    def build():
        from shapely import affinity

        conf = settings.get()
        rows = []
        metro = projected("region", conf.metric_crs, "coarse")
        for code, geom in zip(metro["code"], metro.geometry.values):
            rows.append((code, shapely.simplify(geom, 2000.0)))
        for (bx, by), code in zip(_LOCATOR_BOXES, DROM_REGIONS):
            regions = table("region")
            if code not in regions.index:
                continue
            dep = regions.loc[code, "departements"].split(";")[0]
            part = projected("region", conf.crs_for_departement(dep), "coarse")
            part = part[part["code"] == code]
            if part.empty:
                continue
            geom = part.geometry.values[0]
            minx, miny, maxx, maxy = geom.bounds
            scale = 150_000 / max(maxx - minx, maxy - miny)
            geom = affinity.scale(geom, scale, scale, origin=(minx, miny))
            geom = affinity.translate(geom, bx - minx, by - miny)
            rows.append((code, shapely.simplify(geom, 1000.0)))
        return gpd.GeoDataFrame({"code": [r[0] for r in rows]}, geometry=[r[1] for r in rows],
                                crs=conf.metric_crs)

    key = f"{boundaries.cache_key()}-locator1"
    return memo("locator", lambda: _cache.cached_frame("print-locator", key, build))


def add_locator(fig, rect, terr: Territory):
    """A small map of France (DROM in boxes) with the territory in reddish purple."""
    from matplotlib.patches import Rectangle

    ax = fig.add_axes(rect)
    ax.set_axis_off()
    ax.set_aspect("equal")
    shapes = locator_shapes()
    add_fill(ax, shapes.geometry.values, 1, facecolor="#e0e0e0", edgecolor="#9e9e9e", linewidth=0.25)
    if terr.kind == "region":
        hit = shapes[shapes["code"] == terr.code].geometry.values
    elif terr.kind == "departement":
        dep_region = table("departement").loc[terr.code, "region"]
        hit = shapes[shapes["code"] == dep_region].geometry.values
        if not terr.overseas:
            deps = projected("departement", terr.crs, "coarse")
            add_fill(ax, hit, 2, facecolor="#ecc9dc", edgecolor="none")
            hit = deps[deps["code"] == terr.code].geometry.values
    else:
        hit = shapes.geometry.values
    add_fill(ax, hit, 3, "locator", facecolor=LOCATOR_COLOUR, edgecolor="#000000", linewidth=0.3)
    for bx, by in _LOCATOR_BOXES:
        ax.add_patch(Rectangle(
            (bx - 15_000, by - 15_000), 180_000, 180_000, facecolor="none", edgecolor="#9e9e9e", linewidth=0.3))
    minx, miny, maxx, maxy = shapes.total_bounds
    ax.set_xlim(min(minx, -350_000), maxx + 10_000)
    ax.set_ylim(miny - 20_000, maxy + 10_000)
    ax.patch.set_visible(False)
    return ax
