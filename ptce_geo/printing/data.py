"""The data a print draws, prepared once and kept in memory (:func:`memo`).

Boundaries projected per metric CRS and simplified for print scale (cached as GeoParquet,
:func:`projected`); the priority layers, the pole registry and the coverage table, each
optional: a layer whose module or data is unavailable comes back as ``(None, French note)``
and the map leaves it out and says so.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _cache, boundaries, settings
from .._errors import PtceGeoError
from .choices import TIERS_M, choice

__all__ = ["clear_memo", "communes_of", "memo", "table", "projected", "prepare", "flags_layer", "priority_layer",
           "priority_label", "registry_stamp", "poles_layer", "coverage_layer", "projected_extra", "ti_in_crs",
           "qpv_points", "qpv_points_in_crs", "catchment_radius_km"]


_MEMO: dict[tuple, object] = {}


_PARTS_READ: set[tuple] = set()  # projected layers already read in part (see communes_of)


def clear_memo() -> None:
    """Forget the layers kept in memory (tests switching cache dirs, new registry data)."""
    _MEMO.clear()
    _PARTS_READ.clear()


def _memo_key(name: str) -> tuple:
    return (str(settings.get().cache_dir), str(settings.get().data_dir), name)


def memo(name: str, build):
    """``build()`` once per cache dir, data dir and ``name`` (see :func:`clear_memo`)."""
    key = _memo_key(name)
    if key not in _MEMO:
        _MEMO[key] = build()
    return _MEMO[key]


def table(kind: str) -> pd.DataFrame:
    """Codes (index), names and départements (régions) or région (départements), sorted by code."""
    def build():
        gdf = boundaries.load(kind, simplified=True)
        cols = ["code", "nom"] + (["departements"] if kind == "region" else ["region"])
        return pd.DataFrame(gdf[cols]).set_index("code").sort_index()

    return memo(f"table-{kind}", build)


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
    tol = TIERS_M[tier]
    try:
        simple = shapely.coverage_simplify(part.geometry.values, tol)
    except shapely.errors.GEOSException:
        simple = shapely.simplify(part.geometry.values, tol, preserve_topology=True)
    simple = shapely.set_precision(np.asarray(simple), 1.0)  # metre grid
    out = part.set_geometry(gpd.GeoSeries(simple, crs=crs, index=part.index))
    return out.reset_index(drop=True)


def projected(level: str, crs: str, tier: str = "fine") -> gpd.GeoDataFrame:
    """Boundaries of ``level`` lying in ``crs``, projected and simplified for print (cached).

    ``tier`` ("fine", "medium", "coarse") is the simplification tolerance, see ``TIERS_M``.
    """
    name, key = _projected_name(level, crs, tier)
    return memo(name, lambda: _cache.cached_frame(name, key, lambda: _build_projected(level, crs, tier)))


def _projected_name(level: str, crs: str, tier: str) -> tuple[str, str]:
    boundaries.check_level(level)
    choice("Niveau de simplification", tier, TIERS_M)
    return f"print-{level}-{crs.replace(':', '')}-{tier}", f"{boundaries.cache_key()}-tol{TIERS_M[tier]:g}"


def communes_of(crs: str, tier: str, departements) -> gpd.GeoDataFrame:
    """The communes of ``departements`` in ``projected("commune", crs, tier)``, in its order.

    The first territory a process prints reads only its communes' rows from the cache (a
    région's 1,300 communes without decoding the 35,000 of France: 0.1 s instead of 0.35 s);
    from the second on (an atlas, the app's server) the whole layer is read once and kept."""
    name, key = _projected_name("commune", crs, tier)
    deps = sorted({str(d) for d in departements})
    path = _cache.path_for(name, key)
    if _memo_key(name) not in _MEMO and _memo_key(name) not in _PARTS_READ and path.exists():
        _PARTS_READ.add(_memo_key(name))
        try:
            return memo(f"{name}-part-{';'.join(deps)}",
                        lambda: gpd.read_parquet(path, filters=[("departement", "in", deps)]))
        except Exception:  # noqa: BLE001 - an unreadable cache: the whole layer is rebuilt below
            pass
    whole = projected("commune", crs, tier)
    return whole[whole["departement"].isin(deps).to_numpy()]


def prepare() -> int:
    """Build the print caches (every level, CRS and simplification tier); returns their count."""
    n = 0
    for crs in dict.fromkeys([settings.get().metric_crs, *settings.get().overseas_crs.values()]):
        for tier in TIERS_M:
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


def flags_layer():
    """``((flags by commune code, vintages, missing layers), None)`` or ``(None, note)``."""
    def build():
        from .. import priority

        flags = priority.flags()
        return flags.set_index("code"), dict(flags.attrs.get("vintages", {})), list(flags.attrs.get("missing_layers", []))

    return memo("flags", lambda: _try("Zonages prioritaires", build))


def priority_layer(name: str):
    """``((GeoDataFrame, vintage), None)`` of a priority layer (``qpv``…) or ``(None, note)``."""
    def build():
        from .. import priority

        gdf = priority.load(name)
        return gdf, priority.vintage(name)

    return memo(f"priority-{name}", lambda: _try(priority_label(name), build))


def priority_label(name: str) -> str:
    """The French label of a priority layer, even when ``priority`` cannot be imported."""
    try:
        from .. import priority

        return priority.LABELS.get(name, name)
    except ImportError:
        return {"qpv": "Quartiers prioritaires (QPV)", "territoires-industrie": "Territoires d'industrie"}.get(name, name)


_LAST_REGISTRY_STAMP = {"stamp": ""}


def registry_stamp() -> str:
    """Last change of the pole registry (by this server or another sharing its database): a new
    pole or an edit invalidates the memoised layers, and those of the previous state are dropped
    (a long-running server does not keep one coverage table per edit)."""
    try:
        from .. import registry

        stamp = registry.stamp()
    except Exception:  # noqa: BLE001 - no registry yet: the loader itself will say why
        return ""
    previous, _LAST_REGISTRY_STAMP["stamp"] = _LAST_REGISTRY_STAMP["stamp"], stamp
    if previous and previous != stamp:
        for key in [k for k in list(_MEMO) if previous in k[2]]:
            _MEMO.pop(key, None)
    return stamp


def poles_layer():
    """``((localised poles, vintage, registry text), None)`` or ``(None, note)``; memoised per registry state."""
    def build():
        from .. import poles

        from .. import coverage

        every = poles.load()
        registry = coverage.registry_counts(every)
        gdf = every[every["localise"].fillna(False).astype(bool)].reset_index(drop=True)
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        return gdf, poles.vintage(), coverage.registry_text(registry).rstrip(".")

    return memo(f"poles-{registry_stamp()}", lambda: _try("Pôles (registre)", build))


def coverage_layer():
    """``((priority/covered by commune code, params, vintages), None)`` or ``(None, note)``."""
    def build():
        from .. import coverage

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

    return memo(f"coverage-{registry_stamp()}", lambda: _try("Couverture par les pôles", build))


def _points_in_crs(gdf: gpd.GeoDataFrame, crs: str, dep_col: str = "departement") -> gpd.GeoDataFrame:
    conf = settings.get()
    if dep_col in gdf:
        mask = gdf[dep_col].astype(str).map(conf.crs_for_departement).eq(crs).to_numpy()
    else:
        mask = np.ones(len(gdf), dtype=bool)
    return gdf[mask].to_crs(crs)


def projected_extra(name: str, crs: str, gdf: gpd.GeoDataFrame, dep_col="departement"):
    """The rows of ``gdf`` lying in ``crs`` (by their département), projected; memoised as ``name``."""
    return memo(f"{name}-{crs}", lambda: _points_in_crs(gdf, crs, dep_col))


def ti_in_crs(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """The Territoires d'industrie of ``crs``, projected and simplified (60 m); memoised."""
    def build():
        conf = settings.get()
        regions = table("region")
        if "region" in gdf:
            first_dep = gdf["region"].astype(str).map(regions["departements"].str.split(";").str[0])
            mask = first_dep.map(lambda d: conf.crs_for_departement(d) if isinstance(d, str) else conf.metric_crs)
            part = gdf[mask.eq(crs).to_numpy()]
        else:
            part = gdf
        out = part.to_crs(crs)
        return out.set_geometry(shapely.simplify(out.geometry.values, 60.0, preserve_topology=True))

    return memo(f"ti-{crs}", build)


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


def qpv_points_in_crs(source, crs: str, qpv: gpd.GeoDataFrame) -> pd.DataFrame:
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

    return memo(f"qpv-points-{crs}-{id(source)}", build)


def catchment_radius_km() -> float:
    """The radius the coverage layer and the catchment circles use (``coverage.DEFAULT_RADIUS_KM``)."""
    from .. import coverage

    return float(coverage.DEFAULT_RADIUS_KM)
