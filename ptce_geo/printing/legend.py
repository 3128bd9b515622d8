"""The legend: what a map drew (:class:`Drawn`: handles, sources, notes), the legend's
symbols, and the legend laid out in one or two columns to fit its panel."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np

from .style import RANK, pattern_label
from .text import text_width_mm

__all__ = ["legend_entries", "Drawn", "legend_patch", "legend_line", "legend_marker", "legend_text", "fit_legend"]


@dataclass
class Drawn:
    """What a map drew: legend handles, sources (label → vintage), notes on layers asked for but
    not drawn, remarks on this page only, and the number of pole names left out."""
    handles: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)  # label → vintage
    notes: list = field(default_factory=list)  # layers asked for but not drawn
    remarks: list = field(default_factory=list)  # facts about this page only (« aucun pôle… »)
    hidden_labels: int = 0

    def legend(self, handle, rank: str) -> None:
        handle.ptce_rank = RANK[rank]
        self.handles.append(handle)


def legend_patch(style: dict, label: str | None = None, k: float = 1.0):
    """A legend box of a filled style (a visible edge for white classes, its hatch if any)."""
    from matplotlib.patches import Patch

    kw = {
        "facecolor": style.get("facecolor", "none"),
        "edgecolor": style.get("edgecolor", "#808080"),
        "linewidth": style.get("linewidth", 0.4) * k,
        "label": pattern_label(label or style["label"], style),
    }
    if kw["facecolor"] == "#ffffff" or "linewidth" not in style:  # white classes: a visible box
        kw["edgecolor"], kw["linewidth"] = "#808080", 0.4 * k
    if "hatch" in style:
        kw["hatch"] = style["hatch"]
        kw["hatchcolor"] = style.get("edgecolor", "#4d4d4d") if kw["facecolor"] == "none" else "#4d4d4d"
    patch = Patch(**kw)
    patch.set_hatch_linewidth(0.45 * k)
    return patch


def legend_line(style: dict, label: str | None = None, k: float = 1.0):
    """A legend line of a line style."""
    from matplotlib.lines import Line2D

    return Line2D([], [], color=style["edgecolor"], linewidth=style["linewidth"] * k, label=label or style["label"])


def legend_marker(marker: str, color: str, label: str, size: float = 5, k: float = 1.0):
    """A legend marker (pole dots, QPV squares)."""
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", marker=marker, markersize=size, markerfacecolor=color,
                  markeredgecolor="white" if color == "#000000" else "#000000", markeredgewidth=0.4 * k, label=label)


def legend_text(label: str):
    """A legend line without a symbol (a heading, a definition)."""
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", marker="None", label=label)


def legend_entries(handles: list, ncols: int) -> list:
    """The legend's entries: one per label (the first drawn), in legend order (``RANK``, then
    class), long labels wrapped to fit the panel, laid out for ``ncols`` columns."""
    handles = list({h.get_label(): h for h in reversed(handles)}.values())[::-1]  # unique, in order
    handles.sort(key=lambda h: (getattr(h, "ptce_rank", 99), getattr(h, "ptce_sub", 0)))
    for h in handles:  # long labels wrap inside the panel
        h.set_label(textwrap.fill(h.get_label(), 34))
    if ncols == 2:
        handles = _two_columns(handles)
    return handles


def _two_columns(handles: list) -> list:
    """Legend entries for two columns (matplotlib fills the first column first) so that no
    group is split: areas, QPV, poles, lines; the split (and the place of the lines) that makes
    the shorter legend wins; blank entries even the columns out."""
    def group(h) -> int:
        rank = getattr(h, "ptce_rank", 99)
        return 0 if rank < 30 else 1 if rank < 40 else 2 if rank < 50 else 3

    groups = [[h for h in handles if group(h) == g] for g in range(4)]
    best = None
    for order in ((0, 1, 2, 3), (0, 3, 1, 2)):
        seq = [groups[g] for g in order if groups[g]]
        for cut in range(1, len(seq)):
            left = [h for grp in seq[:cut] for h in grp]
            right = [h for grp in seq[cut:] for h in grp]
            rows = sum(h.get_label().count("\n") + 1 for h in left), sum(h.get_label().count("\n") + 1 for h in right)
            if best is None or max(rows) < best[0]:
                best = (max(rows), left, right)
    if best is None:
        return handles
    _, left, right = best
    n = max(len(left), len(right))
    return left + [legend_text("") for _ in range(n - len(left))] + right + [
        legend_text("") for _ in range(n - len(right))]


def _legend_size_mm(handles, ncols: int, fs: float, title_fs: float) -> tuple[float, float]:
    """Width and height (mm) of ``fig.legend(handles, ncols=…, fontsize=fs)`` with the options
    ``fit_legend`` uses, computed from the font (no renderer: measuring a legend means laying
    its text out twice)."""
    pt = 25.4 / 72
    cols = [list(c) for c in np.array_split(np.arange(len(handles)), ncols) if len(c)]
    widths, heights = [], []
    for col in cols:
        rows, width = [], 0.0
        for i in col:
            lines = handles[i].get_label().split("\n")
            rows.append(max(1.3 * fs, (1.2 * (len(lines) - 1) + 1.0) * fs * 1.17))
            width = max(width, max(text_width_mm(line, fs) for line in lines) / pt if lines[0] else 0.0)
        heights.append(sum(rows) + 0.45 * fs * (len(rows) - 1))
        widths.append(width + (2.2 + 0.8) * fs)
    width = sum(widths) + 2.0 * fs * (len(widths) - 1) + 0.4 * fs
    height = max(heights, default=0.0) + 1.4 * title_fs + 0.4 * fs + 0.5 * fs
    return width * pt * 1.03, height * pt * 0.95  # calibrated on rendered legends (≥ them, within 10 %)


def fit_legend(fig, handles, anchor_mm, max_w_mm: float, max_h_mm: float, ncols: int, k: float, pw, ph):
    """The legend at ``anchor_mm`` (upper left), its font reduced (down to 6 pt × k) until it
    fits ``max_w_mm`` × ``max_h_mm``."""
    for fs in (7.5, 7.0, 6.5, 6.0):
        w, h = _legend_size_mm(handles, ncols, fs * k, 8.5 * k)
        if w <= max_w_mm and h <= max_h_mm:
            break
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(anchor_mm[0] / pw, anchor_mm[1] / ph),
                        bbox_transform=fig.transFigure, ncols=ncols, frameon=False,
                        fontsize=fs * k, title="Légende", title_fontsize=8.5 * k, alignment="left",
                        handlelength=2.2, handleheight=1.3, borderaxespad=0.0, borderpad=0.2,
                        labelspacing=0.45)
    legend.ptce_estimate_mm = (w, h)
    return legend
