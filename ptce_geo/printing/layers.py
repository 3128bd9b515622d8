"""The map itself: :func:`plot_layers` sets up a canvas (:class:`Canvas`: the axes, the
territory's frames, the paper scale) and runs one drawer per layer, in drawing order
(:data:`DRAWERS`: context, communes, Territoires d'industrie, EPCI, départements, outline, QPV,
poles). Every layer is clipped to the territory; a layer whose data is missing is noted in the
footer, not drawn.

The drawers read the layers through the module ``data`` (``data.poles_layer()``…), so that a
test replaces one layer with ``monkeypatch.setattr(printing.data, "poles_layer", …)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import shapely

from . import data
from .choices import check_layers, scale_tier
from .draw import add_fill, add_lines, clip, to_points
from .labels import place_labels
from .legend import Drawn, legend_line, legend_marker, legend_patch, legend_text
from .style import POLE_SIZE, PRIORITY_NOTE, QPV_CLASSES, QPV_MIN_MM, QPV_SQUARE, STYLE, scaled
from .territories import Territory, territory_shape
from .text import NBSP, boundaries_source

__all__ = ["Canvas", "DRAWERS", "plot_layers"]


@dataclass
class Canvas:
    """What every drawer needs: the axes, the territory and its frames in ``crs``, the paper
    scale ``k`` (1 on A4) and what has been drawn so far (``drawn``)."""

    ax: object
    terr: Territory
    layers: tuple[str, ...]
    crs: str
    scale_denominator: float | None
    inset: bool
    k: float
    drawn: Drawn
    com: object  # the communes shown (GeoDataFrame): the territory's, or all those of ``crs`` (France)
    deps: object  # départements of ``crs``, ``dep_mask`` those of the territory
    dep_mask: np.ndarray
    shape: object  # the territory (prepared polygon)
    tier: str
    avoid: list = field(default_factory=list)  # boxes (points on paper) pole labels must not cover

    @property
    def national(self) -> bool:
        return self.terr.kind == "france"

    @property
    def small_symbols(self) -> bool:
        """The France map and its insets share one legend (national symbol sizes)."""
        return self.national or self.inset

    @property
    def symbol_k(self) -> float:
        return self.k * (0.65 if self.small_symbols else 1.0)

    @property
    def clip(self):
        """What layers are cut to: the territory (the national map shows all it has)."""
        return None if self.national else self.shape

    @cached_property
    def edge(self) -> dict:
        """Commune edges, stroked with the fills (one path per class, every vertex written once)."""
        return {} if self.national else scaled(STYLE["commune_edge"], self.k)

    def style(self, key: str, **extra) -> dict:
        return scaled({**STYLE[key], **extra}, self.k)


def _view_frames(terr: Territory, crs: str, tier: str = "fine"):
    """The communes shown (France: all those of ``crs``; a région or a département: its own,
    see ``data.communes_of``), the départements of ``crs`` and the mask of the territory's."""
    deps = data.projected("departement", crs, tier)
    if terr.kind == "france":
        com = data.projected("commune", crs, tier)
        dep_mask = np.ones(len(deps), dtype=bool)
    else:
        com = data.communes_of(crs, tier, terr.departements)
        dep_mask = deps["code"].isin(terr.departements).to_numpy()
    return com, deps, dep_mask


def _canvas(terr: Territory, layers: tuple[str, ...], ax, crs: str | None, scale_denominator: float | None,
            inset: bool) -> Canvas:
    """The canvas of ``terr`` on ``ax``: a fresh axes is framed on the territory."""
    crs = crs or terr.crs
    tier = scale_tier(scale_denominator)
    com, deps, dep_mask = _view_frames(terr, crs, tier)
    if ax.get_autoscale_on():  # a fresh axes: frame the territory
        bounds = deps.total_bounds if terr.kind == "france" else deps[dep_mask].total_bounds
        pad = 0.03 * max(bounds[2] - bounds[0], bounds[3] - bounds[1])
        ax.set_xlim(bounds[0] - pad, bounds[2] + pad)
        ax.set_ylim(bounds[1] - pad, bounds[3] + pad)
    ax.set_autoscale_on(False)
    ax.set_aspect("equal")
    ax.set_axis_off()
    shape = territory_shape(terr, crs, tier)
    return Canvas(ax=ax, terr=terr, layers=layers, crs=crs, scale_denominator=scale_denominator, inset=inset,
                  k=float(getattr(ax.figure, "ptce_k", 1.0)), drawn=getattr(ax, "ptce_drawn", None) or Drawn(),
                  com=com, deps=deps, dep_mask=dep_mask, shape=shape, tier=tier)


def plot_layers(terr: Territory, layers: Sequence[str] | None = None, ax=None, crs: str | None = None,
                scale_denominator: float | None = None, *, inset: bool = False):
    """Draw the chosen layers of ``terr`` into ``ax`` (a new figure when ``None``); return the figure.

    ``crs`` picks one part of France for the national map (its overseas insets); by default
    the territory's own CRS. ``inset=True`` draws ``terr`` as one overseas inset of the national
    map (its coast like the metropolitan one, symbols of the national size). Every layer is
    clipped to the territory. The figure carries ``fig.ptce_drawn`` (legend handles, sources,
    notes, remarks) for the furniture; line widths and symbols follow ``fig.ptce_k`` (1 on A4).
    """
    layers = check_layers(layers)
    if ax is None:
        import matplotlib.pyplot as plt  # only here: pyplot costs a print 0.2 s to import

        _, ax = plt.subplots(figsize=(6, 6))
    canvas = _canvas(terr, layers, ax, crs, scale_denominator, inset)
    for drawer in DRAWERS:
        drawer(canvas)
    ax.ptce_drawn = canvas.drawn
    ax.figure.ptce_drawn = canvas.drawn
    return ax.figure


# --------------------------------------------------------------------------- the drawers


def _available(c: Canvas, loaded: tuple):
    """The data of a layer (``loaded`` = ``(data, None)``), or ``None`` after noting in the footer
    why the layer is not drawn (``(None, note)``)."""
    value, note = loaded
    if value is None:
        c.drawn.notes.append(note)
    return value


def draw_context(c: Canvas) -> None:
    """The rest of France in grey, only what shows (a PDF writes every vertex it is given)."""
    if not c.dep_mask.all():
        xmin, xmax = sorted(c.ax.get_xlim())
        ymin, ymax = sorted(c.ax.get_ylim())
        pad = (xmax - xmin) * 0.01
        context = shapely.clip_by_rect(c.deps.geometry.values[~c.dep_mask], xmin - pad, ymin - pad, xmax + pad,
                                       ymax + pad)
        if add_fill(c.ax, context, 0, "context", **c.style("context")):
            label = "Autres régions" if c.terr.kind == "region" else "Autres départements"
            c.drawn.legend(legend_patch(STYLE["context"], label, c.k), "context")
    c.drawn.sources["Limites administratives"] = boundaries_source()


def draw_communes(c: Canvas) -> None:
    """The communes of the territory, filled by coverage (« couverture »), by FRR class
    (« zonage ») or plain white."""
    if "couverture" in c.layers:
        _communes_by_coverage(c)
    elif "zonage" in c.layers:
        _communes_by_frr(c)
    elif add_fill(c.ax, c.com.geometry.values, 1, "commune", **c.style("commune"), **c.edge) and not c.national:
        c.drawn.legend(legend_patch(STYLE["commune"], k=c.k), "commune")


def _fill_classes(c: Canvas, geoms, classes, always: tuple[str, ...] = ()) -> None:
    """One fill per class ``(key, mask, style)`` of the communes, and its legend entry when
    it drew something (or always, for the keys in ``always``)."""
    for key, mask, style in classes:
        if add_fill(c.ax, geoms[mask], 1, key, **scaled(style, c.k), **c.edge) or key in always:
            c.drawn.legend(legend_patch(style, k=c.k), key)


def _communes_by_coverage(c: Canvas) -> None:
    """Communes as not priority / priority covered / priority uncovered (« couverture »)."""
    cov = _available(c, data.coverage_layer())
    if cov is None:
        return
    frame, params, vintages = cov
    radius = params["radius_km"]
    com = c.com
    joined = com[["code"]].join(frame, on="code")
    prio = joined["priority"].fillna(False).astype(bool).to_numpy()
    covered = joined["covered"].fillna(False).astype(bool).to_numpy()
    reach = f"à moins de {radius:g} km d'un pôle" + (" ou dans son périmètre" if params["use_perimeter"] else "")
    st_cov = dict(STYLE["covered"], label=f"Commune prioritaire {reach}")
    _fill_classes(c, com.geometry.values, (("not_priority", ~prio, STYLE["not_priority"]),
                                           ("covered", prio & covered, st_cov),
                                           ("uncovered", prio & ~covered, STYLE["uncovered"])),
                  always=("covered", "uncovered"))
    c.drawn.legend(legend_text(PRIORITY_NOTE), "priority_note")
    _coverage_sources(c.drawn, vintages)
    c.drawn.sources["Couverture"] = f"calcul ptce-geo, rayon {radius:g}{NBSP}km"


def _communes_by_frr(c: Canvas) -> None:
    """Communes by FRR class: FRR+, FRR, not classified (« zonage »)."""
    res = _available(c, data.flags_layer())
    if res is None:
        return
    flags, vintages, missing = res
    com = c.com
    geoms = com.geometry.values
    if "frr" in missing:
        add_fill(c.ax, geoms, 1, "commune", **c.style("commune"), **c.edge)
        c.drawn.notes.append("France Ruralités Revitalisation : couche indisponible")
        return
    cls = com["code"].map(flags["frr_classement"]) if "frr_classement" in flags else None
    is_frr = com["code"].map(flags["frr"]).fillna(False).astype(bool).to_numpy()
    plus = (cls.fillna("").astype(str).str.contains(r"FRR\s*\+", regex=True).to_numpy()
            if cls is not None else np.zeros(len(com), bool))
    _fill_classes(c, geoms, [(key, mask, STYLE[key]) for key, mask in
                             (("other", ~is_frr), ("frr_plus", is_frr & plus), ("frr", is_frr & ~plus))])
    c.drawn.sources[data.priority_label("frr")] = vintages.get("frr", "DGCL")


def draw_territoires_industrie(c: Canvas) -> None:
    """Territoires d'industrie: hatched outlines over the communes."""
    if "territoires-industrie" not in c.layers:
        return
    res = _available(c, data.priority_layer("territoires-industrie"))
    if res is None:
        return
    ti = data.ti_in_crs(res[0], c.crs)
    if c.terr.kind == "region" and "region" in ti:
        ti = ti[ti["region"].astype(str).eq(c.terr.code)]
    style = STYLE["ti"]
    add_fill(c.ax, clip(ti.geometry.values, c.clip), 3, "ti", **scaled(dict(style, facecolor="none"), c.k),
             hatchcolor=style["edgecolor"])
    c.drawn.legend(legend_patch(dict(style, facecolor="none"), k=c.k), "ti")
    c.drawn.sources[data.priority_label("territoires-industrie")] = res[1]


_EPCI_OMITTED = "Limites des EPCI omises à l'échelle nationale"


def draw_epci(c: Canvas) -> None:
    """EPCI limits (not on the national map, unreadable at 1:7 000 000: the footer says so)."""
    if "epci" not in c.layers:
        return
    if c.national:
        if _EPCI_OMITTED not in c.drawn.notes:
            c.drawn.notes.append(_EPCI_OMITTED)
        return
    epci = data.projected("epci", c.crs, c.tier)
    epci = epci[epci["code"].isin(c.com["epci"].dropna().unique())]
    add_lines(c.ax, clip(epci.geometry.values, c.clip), 4, "epci", **c.style("epci"))
    c.drawn.legend(legend_line(STYLE["epci"], k=c.k), "epci")


def draw_departements(c: Canvas) -> None:
    """The limits of the départements of the territory."""
    if "departements" in c.layers:
        add_lines(c.ax, c.deps.geometry.values[c.dep_mask], 5, "departement", **c.style("departement"))
        c.drawn.legend(legend_line(STYLE["departement"], k=c.k), "departement")


def draw_outline(c: Canvas) -> None:
    """The outline of what is shown: the territory, or the coasts and borders of France."""
    if c.small_symbols:
        add_lines(c.ax, [c.shape], 6, "coast", **c.style("coast"))
        c.drawn.legend(legend_line(STYLE["coast"], k=c.k), "coast")
    else:
        add_lines(c.ax, [c.shape], 6, "territory", **c.style("territory"))
        label = "Contour de la région" if c.terr.kind == "region" else "Contour du département"
        c.drawn.legend(legend_line(STYLE["territory"], label, k=c.k), "territory")


def draw_qpv(c: Canvas) -> None:
    """QPV as polygons when big enough on paper, as squares otherwise; QPV known only by the point
    of their commune as one graduated square per commune (legend says so). The boxes of the
    squares, in points, go to ``c.avoid`` for label placement."""
    if "qpv" not in c.layers:
        return
    res = _available(c, data.priority_layer("qpv"))
    if res is None:
        return
    qpv = qpv_all = data.projected_extra("qpv", c.crs, res[0])
    if c.terr.kind != "france":
        qpv = qpv[qpv["departement"].astype(str).isin(c.terr.departements)]
    kind = qpv["geometry_kind"] if "geometry_kind" in qpv else pd.Series("polygon", index=qpv.index)
    points = qpv.geometry.geom_type.isin(["Point", "MultiPoint"]).to_numpy() | kind.eq("point").to_numpy()
    _qpv_contours(c, qpv[~points])
    if points.any():
        _qpv_commune_points(c, res[0], qpv_all)
    c.drawn.sources[data.priority_label("qpv")] = res[1]


def _squares(xy_paper, side: float) -> list:
    return [(x - side / 2, y - side / 2, x + side / 2, y + side / 2) for x, y in xy_paper]


def _qpv_contours(c: Canvas, polys) -> None:
    """Real contours at département and région scale; a small square only where the contour
    would be under ``QPV_MIN_MM`` on paper (and on the national map)."""
    colour, k = STYLE["qpv"]["color"], c.k
    small = np.zeros(len(polys), dtype=bool)
    if c.scale_denominator and len(polys):
        small = np.sqrt(polys.area.to_numpy()) / c.scale_denominator * 1000 < QPV_MIN_MM
    if c.terr.kind == "france":
        small[:] = True
    if add_fill(c.ax, polys.geometry.values[~small], 7, "qpv", facecolor=colour, edgecolor="#000000",
                linewidth=0.2 * k):
        c.drawn.legend(legend_patch({"facecolor": colour, "edgecolor": "#000000", "linewidth": 0.3},
                                    STYLE["qpv"]["label"], k), "qpv")
    side = QPV_SQUARE * c.symbol_k
    if small.any():
        xy = shapely.get_coordinates(shapely.point_on_surface(polys.geometry.values[small]))
        c.ax.scatter(xy[:, 0], xy[:, 1], s=side**2, marker="s", facecolor=colour, edgecolor="none",
                     linewidth=0, zorder=7).ptce_role = "qpv"
        c.avoid += _squares(to_points(c.ax, xy), side)
        label = STYLE["qpv"]["label"] if c.terr.kind == "france" else STYLE["qpv_small"]["label"]
        marker = legend_marker("s", colour, label, side, k)
        marker.set_markeredgecolor(colour)
        c.drawn.legend(marker, "qpv")


def _qpv_commune_points(c: Canvas, source, qpv_all) -> None:
    """QPV known by the point of their commune: one square per commune, graduated by count."""
    colour, k = STYLE["qpv"]["color"], c.k
    pts = data.qpv_points_in_crs(source, c.crs, qpv_all)
    if c.terr.kind != "france":
        pts = pts[pts["departement"].isin(c.terr.departements)]
    xy = pts[["x", "y"]].to_numpy()
    counts = pts["count"].to_numpy()
    paper = to_points(c.ax, xy) if len(xy) else np.empty((0, 2))
    c.drawn.legend(legend_text(STYLE["qpv_points"]["label"]), "qpv_points")
    for n, (lo, hi, label, base) in enumerate(reversed(QPV_CLASSES)):  # big squares first, small on top
        mask = (counts >= lo) & (counts <= hi)
        if not mask.any():
            continue
        side = base * c.symbol_k
        c.ax.scatter(xy[mask, 0], xy[mask, 1], s=side**2, marker="s", facecolor=colour, edgecolor="#000000",
                     linewidth=0.3 * k, zorder=7 + n * 0.01).ptce_role = f"qpv-points-{lo}"
        c.avoid += _squares(paper[mask], side)
        marker = legend_marker("s", colour, label, side, k)
        marker.ptce_sub = lo  # ordered by class within the group
        c.drawn.legend(marker, "qpv_points")


def draw_poles(c: Canvas) -> None:
    """The poles (black dots), their catchment circles (not on the national map) and names."""
    if "poles" not in c.layers:
        return
    res = _available(c, data.poles_layer())
    if res is None:
        return
    gdf = data.projected_extra(f"poles-{data.registry_stamp()}", c.crs, res[0])
    if not c.national:
        gdf = gdf[gdf["departement"].astype(str).isin(c.terr.departements)]
    xy = shapely.get_coordinates(gdf.geometry.values)
    c.drawn.sources["Pôles"] = res[1] + (f" ; {res[2]}" if len(res) > 2 and res[2] else "")
    if len(xy) and not c.small_symbols:
        _draw_catchments(c.ax, c.drawn, xy, c.k)
    if len(xy):
        size = POLE_SIZE * c.symbol_k
        c.ax.scatter(xy[:, 0], xy[:, 1], s=size**2, marker="o", facecolor="#000000", edgecolor="#ffffff",
                     linewidth=1.0 * c.k, zorder=9).ptce_role = "poles"
        c.drawn.legend(legend_marker("o", "#000000", STYLE["pole"]["label"], size, c.k), "pole")
    elif not c.inset:  # say it rather than leave the reader wondering (this page only)
        c.drawn.remarks.append("aucun pôle localisé dans ce territoire")
    c.drawn.hidden_labels += place_labels(c.ax, xy, list(gdf["nom"].astype(str)), fontsize=5.5 * c.k,
                                          avoid=c.avoid, k=c.k)


def _draw_catchments(ax, drawn: Drawn, xy, k: float) -> None:
    """Each pole's catchment: a circle of the coverage radius (metres in the map's metric CRS,
    the distance coverage measures), so a reader sees what « couvert » means."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle

    radius = data.catchment_radius_km()
    style = STYLE["catchment"]
    circles = [Circle((x, y), radius * 1000.0) for x, y in xy]
    coll = PatchCollection(circles, facecolor=style["facecolor"], edgecolor=style["edgecolor"],
                           linewidth=style["linewidth"] * k, linestyle=style["linestyle"], zorder=8)
    coll.ptce_role = "catchments"
    ax.add_collection(coll)
    from matplotlib.patches import Patch

    handle = Patch(facecolor=style["facecolor"], edgecolor=style["edgecolor"], linewidth=style["linewidth"] * k,
                   linestyle=style["linestyle"],
                   label=f"Rayon d'action d'un pôle ({radius:g}{NBSP}km) : zone où il couvre communes et QPV")
    drawn.legend(handle, "catchment")


def _coverage_sources(drawn: Drawn, vintages: dict) -> None:
    """The vintages ``coverage`` reports (``"zonage qpv"``, ``"communes"``, ``"poles"``…) under
    the French labels of the map's own layers: the communes are the boundaries already cited,
    ZRR is not part of the priority zoning."""
    for key, vintage in vintages.items():
        if key == "communes":
            continue  # the COG communes: « Limites administratives »
        if key == "couches manquantes":
            drawn.notes.append(f"Zonages prioritaires manquants dans le calcul de couverture : {vintage}")
            continue
        if key == "poles":
            drawn.sources.setdefault("Pôles", vintage)
            continue
        name = key.removeprefix("zonage ").strip()
        if name == "zrr":  # historical, not one of the priority zonings (QPV, TI, FRR)
            continue
        drawn.sources.setdefault(data.priority_label(name), vintage)


#: The drawers, in drawing order (bottom to top); each draws its layer when it is chosen.
DRAWERS = (draw_context, draw_communes, draw_territoires_industrie, draw_epci, draw_departements, draw_outline,
           draw_qpv, draw_poles)
