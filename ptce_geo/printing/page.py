"""Page composition: :func:`render` lays out one printable page — grid → header → map → legend →
footer — and the national page's metropolitan map with its five overseas insets, each with its
name and scale bar off the land.

Everything is placed in millimetres on the paper (:class:`Grid`), then turned into figure
fractions; text, line widths and symbols grow with the paper (``k``: 1 on A4, 1.41 on A3).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass

import shapely

from .. import settings
from .._text import plain_figure
from .choices import MARGIN_MM, ORIENTATIONS, PAPERS, check_layers, choice, default_layers
from .data import projected, table
from .furniture import DROM_REGIONS, add_locator, add_north_arrow, add_scalebar, nice_length, scalebar_size_mm
from .layers import plot_layers
from .legend import Drawn, fit_legend, legend_entries
from .territories import Territory
from .text import (CRS_NAMES, default_subtitle, default_title, fit_text, fit_title, footer_text, meta_territory,
                   text_width_mm, wrap_mm)

__all__ = ["Grid", "render"]

PT_MM = 25.4 / 72  # mm per point


@dataclass
class Grid:
    """The page in millimetres: paper ``pw`` × ``ph``, margin ``m``, paper scale ``k``; once the
    header is laid out, the boxes of the body (map, locator, legend panel)."""

    pw: float
    ph: float
    portrait: bool
    m: float = MARGIN_MM
    map_box: tuple = ()
    loc_box: tuple = ()
    legend_anchor: tuple = ()
    legend_max: tuple = ()
    legend_cols: int = 1

    @property
    def k(self) -> float:
        return min(self.pw, self.ph) / 210.0  # 1 on A4, 1.41 on A3

    @property
    def top(self) -> float:
        return self.ph - self.m

    @property
    def footer_h(self) -> float:
        return 15.0 * self.k

    def rect(self, x, y, w, h) -> list[float]:
        """mm → figure fraction (``fig.add_axes``)."""
        return [x / self.pw, y / self.ph, w / self.pw, h / self.ph]

    def lay_out_body(self, header_h: float, national: bool) -> None:
        """The map box, and beside it (landscape) or below it (portrait) the locator and the
        legend; France needs no locator: the legend takes the top of the panel."""
        pw, m, k = self.pw, self.m, self.k
        body_top = self.top - header_h
        body_bottom = m + self.footer_h
        if self.portrait:
            panel_h = 44.0 * k
            self.map_box = (m, body_bottom + panel_h + 3, pw - 2 * m, body_top - body_bottom - panel_h - 3)
            self.loc_box = (pw - m - 52.0 * k, body_bottom, 52.0 * k, panel_h)
            self.legend_anchor = (m, body_bottom + panel_h)
            self.legend_max = (pw - 2 * m - self.loc_box[2] - 3, panel_h)
            self.legend_cols = 2
            if national:
                self.legend_max = (pw - 2 * m, panel_h)
        else:
            panel_w = 62.0 * k
            self.map_box = (m, body_bottom, pw - 2 * m - panel_w - 4, body_top - body_bottom)
            self.loc_box = (pw - m - panel_w, body_top - 48.0 * k, panel_w, 48.0 * k)
            self.legend_anchor = (pw - m - panel_w, body_top - 52.0 * k)
            self.legend_max = (panel_w, self.legend_anchor[1] - body_bottom - 2)
            self.legend_cols = 1
            if national:
                self.legend_anchor = (self.legend_anchor[0], body_top)
                self.legend_max = (self.legend_max[0], body_top - body_bottom - 2)


def _auto_orientation(terr: Territory) -> str:
    """Landscape for France and for territories 15 % wider than high, portrait otherwise."""
    if terr.kind == "france":
        return "landscape"
    deps = projected("departement", terr.crs, "coarse")
    minx, miny, maxx, maxy = deps[deps["code"].isin(terr.departements)].total_bounds
    return "landscape" if (maxx - minx) > 1.15 * (maxy - miny) else "portrait"


def render(terr: Territory, *, paper: str = "a4", orientation: str | None = None, title: str | None = None,
           subtitle: str | None = None, layers: Sequence[str] | None = None, date: _dt.date | None = None,
           fig=None, page: str | None = None):
    """Lay out a whole printable page for ``terr``; return the matplotlib Figure.

    ``orientation=None`` picks landscape for wide territories. ``fig`` (cleared) is reused
    when given (the atlas draws every page in one figure). ``page`` (« 3 / 19 ») is printed at
    the bottom right. The figure carries ``fig.ptce_furniture`` (title, legend, scalebar,
    north, locator, footer, map axes, page) and ``fig.ptce_k`` (1 on A4, 1.41 on A3: text, line
    widths and symbols grow with the paper).
    """
    layers = default_layers(terr) if layers is None else check_layers(layers)
    grid = _grid(terr, paper, orientation)
    date = date or _dt.date.today()
    fig = _blank_page(fig, grid)
    header, header_h = _draw_header(fig, grid, terr, title, subtitle)
    grid.lay_out_body(header_h, national=terr.kind == "france")
    drawn, furniture = _draw_map(fig, grid, terr, layers)
    legend = _draw_legend(fig, grid, drawn)
    footer = _draw_footer(fig, grid, terr, drawn, date, furniture["scale"], page)
    fig.ptce_furniture = {**header, **furniture, "legend": legend, **footer, "paper_mm": (grid.pw, grid.ph),
                          "margin_mm": grid.m}
    fig.ptce_drawn = drawn
    fig.ptce_meta = {"territory": meta_territory(terr), "layers": tuple(layers)}  # the PDF's subject
    return plain_figure(fig)


def _grid(terr: Territory, paper: str, orientation: str | None) -> Grid:
    """The paper (``PAPERS``) in the chosen orientation, landscape for wide territories by default."""
    pw, ph = choice("Format de papier", paper, PAPERS)
    if orientation is None:
        orientation = _auto_orientation(terr)
    choice("Sens de la page", orientation, ORIENTATIONS)
    if orientation == "landscape":
        pw, ph = ph, pw
    return Grid(pw, ph, portrait=orientation == "portrait")


def _blank_page(fig, grid: Grid):
    """A new figure of the paper's size, or ``fig`` cleared and resized (the atlas reuses one)."""
    from matplotlib.figure import Figure

    size_in = (grid.pw / 25.4, grid.ph / 25.4)
    if fig is None:
        fig = Figure(figsize=size_in)
    else:
        fig.clear()
        fig.set_size_inches(*size_in)
    fig.patch.set_facecolor("white")
    fig.ptce_k = grid.k
    return fig


def _draw_header(fig, grid: Grid, terr: Territory, title: str | None, subtitle: str | None) -> dict:
    """The title (one or two lines, fitted) and the subtitle; returns them and the header's
    height (mm)."""
    pw, ph, m, k = grid.pw, grid.ph, grid.m, grid.k
    top = grid.top
    text, title_fs = fit_title(title if title is not None else default_title(terr), pw - 2 * m, 13.5 * k, 10.5 * k)
    title_artist = fig.text(m / pw, (top - 1) / ph, text, fontsize=title_fs, fontweight="bold", va="top",
                            ha="left", linespacing=1.15)
    n_title = text.count("\n") + 1
    title_mm = 1 + (title_fs + 1.15 * title_fs * (n_title - 1)) * PT_MM
    sub_top = top - title_mm - 3.2 * k
    sub = fig.text(m / pw, sub_top / ph, subtitle if subtitle is not None else default_subtitle(terr),
                   fontsize=9 * k, va="top", ha="left", color="#333333")
    fit_text(sub, pw - 2 * m, 9 * k)
    return {"title": title_artist, "subtitle": sub}, top - sub_top + 8.0 * k


def _draw_map(fig, grid: Grid, terr: Territory, layers) -> dict:
    """The map (France: metropolitan map and overseas insets) in its neatline, with its scale
    bar, north arrow and locator; returns what was drawn and the furniture."""
    from matplotlib.patches import Rectangle

    pw, ph, k = grid.pw, grid.ph, grid.k
    national = terr.kind == "france"
    if national:
        map_ax, scale, insets, frame_box = _national_axes(fig, terr, layers, grid.map_box, grid.rect, k)
    else:
        map_box = grid.map_box
        map_ax = fig.add_axes(grid.rect(*map_box))
        deps = projected("departement", terr.crs, "coarse")
        bounds = deps[deps["code"].isin(terr.departements)].total_bounds
        xlim, ylim, scale = _fit_extent(bounds, map_box[2], map_box[3])
        map_ax.set_xlim(*xlim)
        map_ax.set_ylim(*ylim)
        plot_layers(terr, layers, ax=map_ax, scale_denominator=scale)
        fig.ptce_scale = scale
        insets, frame_box = [], map_box
    map_ax.patch.set_visible(False)
    # a thin neatline around the map (the national insets have their own frames, flush with it)
    fig.add_artist(Rectangle((frame_box[0] / pw, frame_box[1] / ph), frame_box[2] / pw, frame_box[3] / ph,
                             transform=fig.transFigure, facecolor="none", edgecolor="#606060", linewidth=0.6 * k,
                             zorder=0))
    drawn: Drawn = map_ax.ptce_drawn
    xl = map_ax.get_xlim()
    scalebar = add_scalebar(map_ax, xl[1] - xl[0], fontsize=7 * k, k=k)
    north = add_north_arrow(map_ax, size=9 * k)
    locator = None if national else add_locator(fig, grid.rect(*grid.loc_box), terr)
    return drawn, {"map": map_ax, "scale": scale, "insets": insets, "frame_mm": frame_box, "scalebar": scalebar,
                   "north": north, "locator": locator}


def _draw_legend(fig, grid: Grid, drawn: Drawn):
    """The legend of everything drawn, in the panel the grid left for it."""
    return fit_legend(fig, legend_entries(drawn.handles, grid.legend_cols), grid.legend_anchor, *grid.legend_max,
                      grid.legend_cols, grid.k, grid.pw, grid.ph)


def _draw_footer(fig, grid: Grid, terr: Territory, drawn: Drawn, date: _dt.date, scale: float, page: str | None):
    """The footer (sources, notes, date, projection, scale, licence), smaller when long; the
    page number at the bottom right."""
    pw, ph, m, k = grid.pw, grid.ph, grid.m, grid.k
    national = terr.kind == "france"
    crs_names = CRS_NAMES.get(terr.crs, terr.crs) + (" ; outre-mer en UTM local" if national else "")
    text = footer_text(drawn, terr, date, scale, crs_names)
    page_w = 16.0 * k if page else 0.0
    for fs in (6.2, 5.9, 5.6, 5.3):  # a long footer gets smaller rather than run into the map
        wrapped = wrap_mm(text, (pw - 2 * m - page_w) * 0.99, fs * k)
        if (wrapped.count("\n") + 1) * 1.25 * fs * k * PT_MM <= grid.footer_h - 1.5:
            break
    footer = fig.text(m / pw, m / ph, wrapped, fontsize=fs * k, va="bottom", ha="left", color="#333333",
                      linespacing=1.25)
    page_artist = None
    if page:
        page_artist = fig.text((pw - m) / pw, m / ph, page, fontsize=7.5 * k, va="bottom", ha="right",
                               color="#333333")
    return {"footer": footer, "page": page_artist}


def _fit_extent(bounds, width_mm: float, height_mm: float, pad: float = 0.04):
    """Data limits around ``bounds`` with the aspect of the axes; and the scale denominator."""
    minx, miny, maxx, maxy = bounds
    w, h = maxx - minx, maxy - miny
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    if w / h > width_mm / height_mm:
        h = w * height_mm / width_mm
    else:
        w = h * width_mm / height_mm
    denom = w / (width_mm / 1000.0)
    return (cx - w / 2, cx + w / 2), (cy - h / 2, cy + h / 2), denom


def _corner_box(corner: str, xlim, ylim, w_mm: float, h_mm: float, m_per_mm: float, margin_mm: float = 0.8):
    """The data-space box of a ``w_mm`` × ``h_mm`` block in one corner of the axes."""
    v, hz = corner.split()
    x0 = xlim[0] + margin_mm * m_per_mm if hz == "left" else xlim[1] - (margin_mm + w_mm) * m_per_mm
    y0 = ylim[0] + margin_mm * m_per_mm if v == "lower" else ylim[1] - (margin_mm + h_mm) * m_per_mm
    return shapely.box(x0, y0, x0 + w_mm * m_per_mm, y0 + h_mm * m_per_mm)


_CORNERS = ("upper left", "upper right", "lower left", "lower right")


def _inset_layout(geom, w_mm: float, h_mm: float, name_mm: tuple[float, float], k: float, bar_fs: float):
    """Extent of an overseas inset and the corners of its name and scale bar, both off the land.

    A corner is used when the block put there does not touch the land (a shorter scale bar is
    tried before giving up); when no corner is free, a band is added above (name) or below
    (scale bar) the island instead of covering it.
    Returns ``(xlim, ylim, scale, name_corner, bar_corner, bar_km)``.
    """
    top_band = bottom_band = 0.0
    border = 0.4 * bar_fs * 25.4 / 72  # the scale bar's borderpad
    for _ in range(3):
        xlim, ylim, scale = _fit_extent(geom.bounds, w_mm, h_mm - top_band - bottom_band, pad=0.06)
        m_per_mm = (xlim[1] - xlim[0]) / w_mm
        ylim = (ylim[0] - bottom_band * m_per_mm, ylim[1] + top_band * m_per_mm)
        names = [(c, _corner_box(c, xlim, ylim, *name_mm, m_per_mm)) for c in _CORNERS]
        names = [(c, box) for c, box in names if not geom.intersects(box)]
        if not names:
            top_band = name_mm[1] + 1.0
            continue
        first = nice_length((xlim[1] - xlim[0]) / 1000 / 5)
        lengths = [first] + [v for v in (nice_length(first * 0.6), nice_length(first * 0.3)) if v < first]
        for km in dict.fromkeys(lengths):
            bar_mm = scalebar_size_mm(km, scale, bar_fs, k)
            for name_corner, name_box in names:
                for c in ("lower right", "lower left", "upper right", "upper left"):
                    box = _corner_box(c, xlim, ylim, *bar_mm, m_per_mm, border)
                    if c != name_corner and not geom.intersects(box) and not box.intersects(name_box):
                        return xlim, ylim, scale, name_corner, c, km
        bottom_band = scalebar_size_mm(first, scale, bar_fs, k)[1] + border
    return xlim, ylim, scale, "upper left", "lower right", None


def _national_axes(fig, terr, layers, map_box, rect, k):
    """The metropolitan map and the five overseas insets, framed edge to edge with the map box.
    Returns ``(map axes, scale, insets, frame of the metropolitan map in mm)``."""
    conf = settings.get()
    x, y, w, h = map_box
    wide = w / h > 1.15
    gap = 2.0 * k
    if wide:  # a column of insets on the left, flush with the top and bottom of the map
        col_w = w * 0.2
        main = (x + col_w + gap, y, w - col_w - gap, h)
        sh = (h - 4 * gap) / 5
        slots = [(x, y + h - (i + 1) * sh - i * gap, col_w, sh) for i in range(5)]
    else:  # a row of insets below, flush with the left and right of the map
        row_h = h * 0.18
        main = (x, y + row_h + gap, w, h - row_h - gap)
        sw = (w - 4 * gap) / 5
        slots = [(x + i * (sw + gap), y, sw, row_h) for i in range(5)]
    ax = fig.add_axes(rect(*main))
    deps = projected("departement", conf.metric_crs, "coarse")
    xlim, ylim, scale = _fit_extent(deps.total_bounds, main[2], main[3], pad=0.02)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    plot_layers(terr, layers, ax=ax, crs=conf.metric_crs, scale_denominator=scale)
    drawn = ax.ptce_drawn
    insets = []
    regions = table("region")
    name_fs, bar_fs = 6.5 * k, 5 * k
    for slot, code in zip(slots, DROM_REGIONS):
        if code not in regions.index:
            continue
        dep = regions.loc[code, "departements"].split(";")[0]
        crs = conf.crs_for_departement(dep)
        name = regions.loc[code, "nom"]
        sub = Territory("region", code, name, crs, (dep,))
        d = projected("departement", crs, "coarse")
        geom = shapely.union_all(d.geometry.values[d["code"].eq(dep).to_numpy()])
        # the name's block with 0.5 mm of clearance around the text
        name_mm = (text_width_mm(name, name_fs, "bold") + 1.0, name_fs * 1.25 * 25.4 / 72 + 1.0)
        ixl, iyl, iscale, name_corner, bar_corner, bar_km = _inset_layout(geom, slot[2], slot[3], name_mm, k,
                                                                          bar_fs)
        iax = fig.add_axes(rect(*slot))
        iax.set_xlim(*ixl)
        iax.set_ylim(*iyl)
        iax.ptce_drawn = drawn  # shared legend/sources
        plot_layers(sub, [lay for lay in layers if lay != "epci"], ax=iax, crs=crs, scale_denominator=iscale,
                    inset=True)
        iax.set_axis_on()
        iax.set_xticks([])
        iax.set_yticks([])
        for spine in iax.spines.values():
            spine.set(edgecolor="#606060", linewidth=0.6 * k)
        v, hz = name_corner.split()
        mx, my = 0.8 / slot[2], 0.8 / slot[3]
        iax.text(mx if hz == "left" else 1 - mx, 1 - my if v == "upper" else my, name, transform=iax.transAxes,
                 fontsize=name_fs, va="top" if v == "upper" else "bottom", ha=hz, fontweight="bold", zorder=20)
        add_scalebar(iax, ixl[1] - ixl[0], fontsize=bar_fs, loc=bar_corner, k=k, km=bar_km)
        iax.ptce_name_corner, iax.ptce_bar_corner = name_corner, bar_corner
        insets.append(iax)
    return ax, scale, insets, main
