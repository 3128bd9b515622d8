"""Fast drawing primitives: polygons of one style as ONE compound matplotlib path.

A PDF writes every vertex it is given and matplotlib walks every vertex of a patch it adds for
the axes limits: one ``PathPatch`` per style, added as an artist, keeps a page under a second.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["polygon_path", "line_path", "add_fill", "add_lines", "clip", "to_points"]


def _parts(geoms) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    parts = shapely.get_parts(geoms)
    # make_valid may leave collections: flatten once more, keep polygons only
    parts = shapely.get_parts(parts)
    return parts[shapely.get_type_id(parts) == 3]


def polygon_path(geoms):
    """One compound matplotlib Path of every polygon (holes kept by ring orientation)."""
    from matplotlib.path import Path as MplPath

    parts = _parts(geoms)
    if not len(parts):
        return None
    parts = shapely.orient_polygons(parts)
    rings = shapely.get_rings(parts)
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    starts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
    codes[starts] = MplPath.MOVETO
    codes[np.r_[starts[1:] - 1, len(coords) - 1]] = MplPath.CLOSEPOLY
    return MplPath(coords, codes)


def line_path(geoms):
    """One compound Path of the rings of every polygon (outlines, no fill)."""
    from matplotlib.path import Path as MplPath

    parts = _parts(geoms)
    if not len(parts):
        return None
    rings = shapely.get_rings(parts)
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    codes[np.r_[0, np.flatnonzero(np.diff(idx)) + 1]] = MplPath.MOVETO
    return MplPath(coords, codes)


def add_fill(ax, geoms, zorder, role: str | None = None, **style):
    """One PathPatch of every polygon of ``geoms`` (``None`` when there is none); ``role``
    names the layer on the artist (``patch.ptce_role``) for tests and later styling."""
    from matplotlib.patches import PathPatch

    path = polygon_path(geoms)
    if path is None:
        return None
    style = {k: v for k, v in style.items() if k != "label"}
    style.setdefault("edgecolor", "none")
    style.setdefault("linewidth", 0.0)
    hatch_lw = style.pop("hatch_linewidth", 0.45)
    if "hatch" in style:
        style.setdefault("hatchcolor", "#4d4d4d")
    patch = PathPatch(path, zorder=zorder, **style)
    if "hatch" in style:
        patch.set_hatch_linewidth(hatch_lw)  # not rcParams: the same in the app as in the CLI
    patch.ptce_role = role
    ax.add_artist(patch)  # add_patch would walk every vertex for limits
    return patch


def add_lines(ax, geoms, zorder, role: str | None = None, **style):
    """One PathPatch of the rings of ``geoms`` (outlines), or ``None``."""
    from matplotlib.patches import PathPatch

    path = line_path(geoms)
    if path is None:
        return None
    style = {k: v for k, v in style.items() if k not in ("label", "hatch_linewidth")}
    patch = PathPatch(path, facecolor="none", zorder=zorder, capstyle="round", joinstyle="round", **style)
    patch.ptce_role = role
    ax.add_artist(patch)
    return patch


def clip(geoms, shape) -> np.ndarray:
    """``geoms`` cut to ``shape`` (a prepared polygon): what lies outside the territory is not drawn."""
    geoms = np.asarray(geoms, dtype=object)
    if shape is None or not len(geoms):
        return geoms
    geoms = geoms[shapely.intersects(shape, geoms)]
    inside = shapely.contains_properly(shape, geoms)
    out = geoms.copy()
    if (~inside).any():
        try:
            out[~inside] = shapely.intersection(geoms[~inside], shape)
        except shapely.errors.GEOSException:
            out[~inside] = shapely.intersection(shapely.make_valid(geoms[~inside]), shape)
    return out


def to_points(ax, xy: np.ndarray) -> np.ndarray:
    """Data coordinates → points on paper (what label placement works in)."""
    to_in = ax.transData + ax.figure.dpi_scale_trans.inverted()
    return to_in.transform(xy) * 72.0
