"""Pole names on the map: one or two balanced lines, placed greedily around the dots."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np

from .draw import to_points

__all__ = ["pole_label", "place_labels"]


def _shorten(text: str, n: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def pole_label(name: str, width: int = 28) -> str:
    """A pole's name on one line, or two balanced lines when long (cut only past two lines of 44)."""
    name = " ".join(str(name).split())
    if len(name) <= width:
        return name
    lines = textwrap.wrap(name, width)
    if len(lines) > 2:
        width = min(max(width, -(-len(name) // 2) + 4), 44)
        lines = textwrap.wrap(name, width)
    else:  # two lines: balance them
        for w in range(-(-len(name) // 2), width + 1):
            lines = textwrap.wrap(name, w)
            if len(lines) <= 2:
                break
    if len(lines) > 2:
        lines = [lines[0], _shorten(" ".join(lines[1:]), width)]
    return "\n".join(lines)


def place_labels(ax, xy: np.ndarray, names: Sequence[str], fontsize: float = 5.5, avoid=(), k: float = 1.0) -> int:
    """Greedy label placement around points: first free candidate position, else hidden.

    Boxes are estimated in points from the text length (no renderer needed); ``avoid`` holds
    boxes (points on paper: x0, y0, x1, y1) of other symbols labels must not cover (QPV
    squares). Long names go on two lines. Returns the number of labels left out.
    """
    if not len(xy):
        return 0
    pts = to_points(ax, xy)
    ax_box = ax.get_position().transformed(ax.figure.transFigure)
    x0, y0, x1, y1 = (np.array(ax_box.extents) / ax.figure.dpi * 72.0)
    r = 3.0 * k  # a pole's dot
    occupied = np.array([(px - r, py - r, px + r, py + r) for px, py in pts], dtype=float).reshape(-1, 4)
    symbols = np.array([tuple(b) for b in avoid], dtype=float).reshape(-1, 4)

    def hits(box, boxes) -> np.ndarray:
        return ((box[0] < boxes[:, 2]) & (boxes[:, 0] < box[2]) & (box[1] < boxes[:, 3]) & (boxes[:, 1] < box[3]))

    hidden = 0
    line_h = fontsize * 1.2
    order = np.argsort(-pts[:, 1])
    for i in order:
        text = pole_label(names[i])
        lines = text.split("\n")
        w = 0.56 * fontsize * max(len(line) for line in lines)
        h = fontsize * 1.15 + line_h * (len(lines) - 1)
        px, py = pts[i]
        g, gv = 4 * k, 4.5 * k
        candidates = [(g, 1), (g, -h - 1), (-g - w, 1), (-g - w, -h - 1), (-w / 2, gv), (-w / 2, -h - gv),
                      (1.5 * g, -h / 2), (-1.5 * g - w, -h / 2)]
        # free of labels, pole dots and other symbols; else (dense QPV) the position covering
        # the fewest symbols rather than no name at all
        best, best_cost = None, None
        for dx, dy in candidates:
            box = (px + dx, py + dy, px + dx + w, py + dy + h)
            if box[0] < x0 or box[2] > x1 or box[1] < y0 or box[3] > y1:
                continue
            if hits(box, occupied).any():
                continue
            cost = int(hits(box, symbols).sum())
            if best_cost is None or cost < best_cost:
                best, best_cost = (dx, dy, box), cost
                if cost == 0:
                    break
        if best is not None:
            dx, dy, box = best
            occupied = np.vstack([occupied, box])
            # a white box rather than a halo path effect: path effects turn text into paths,
            # and labels must stay searchable text in the PDF
            ax.annotate(text, xy=xy[i], xytext=(dx, dy + 0.15 * fontsize), textcoords="offset points", ha="left",
                        va="bottom", fontsize=fontsize, zorder=10, color="#000000", linespacing=1.0,
                        bbox={"boxstyle": "square,pad=0.12", "facecolor": "white", "edgecolor": "none",
                              "alpha": 0.75})
        else:
            hidden += 1
    return hidden
