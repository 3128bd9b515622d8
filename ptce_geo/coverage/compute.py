"""``compute``: which communes and QPV the poles cover, for one radius, perimeter rule and
zoning; ``recompute`` and ``with_poles`` change the parameters or the poles of a result without
reloading anything (the fast path)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import poles as poles_mod
from .. import qpv
from ..registry_size import registry_counts
from .base import Base, default_base, default_flags, make_base, perimeter_mask, prepare_poles
from .model import DEFAULT_RADIUS_KM, TOLERANCE_M, ZONING_FLAGS, CommuneCoverage, check_params, stamp_frame

__all__ = ["compute", "with_poles", "recompute"]


def compute(radius_km: float | None = DEFAULT_RADIUS_KM, use_perimeter: bool = True, zoning: str = "all",
            poles: gpd.GeoDataFrame | None = None, flags: pd.DataFrame | None = None,
            communes: gpd.GeoDataFrame | None = None, qpv_layer: gpd.GeoDataFrame | None = None) -> CommuneCoverage:
    """Coverage of every commune and every QPV by the poles.

    Parameters
    ----------
    radius_km : float or None
        Radius of a pole's catchment (km, metric CRS). ``None``: perimeters only.
    use_perimeter : bool
        Count the communes of each pole's declared perimeter as covered.
    zoning : one of ``ZONINGS``
        Which flag makes a commune a priority one (``"all"`` = QPV or TI or FRR).
    poles : GeoDataFrame (default ``poles.load()``; only located poles are used, the others are
        counted in ``result.registry``)
    flags : DataFrame (default ``priority.flags()``), one row per commune code.
    communes : GeoDataFrame (default all French communes); columns code, nom,
        departement, region, epci, population, geometry (optional ``mairie`` Points).
    qpv_layer : GeoDataFrame of QPV (code, nom, communes, departement, geometry, optional
        population) for a hand-made ``communes``; default: the official layer for the national
        table, one point district per ``in_qpv`` commune otherwise.

    Returns
    -------
    CommuneCoverage whose ``communes`` has: code, nom, departement, region, epci, population,
    in_qpv, qpv_count, in_territoire_industrie, frr, frr_classement, zrr, zrr_classement,
    priority, in_zoning, poles (located in the commune), nearest_pole, nearest_pole_nom,
    nearest_distance_km, in_radius, in_perimeter, covered, covered_by, point_source, qpv_total,
    qpv_covered, qpv_population, qpv_population_covered, zoning_covered, priority_population,
    priority_population_covered; and whose ``qpv`` has one row per QPV (``qpv.coverage``).
    """
    check_params(radius_km, zoning)
    if communes is None:
        base = default_base(default_flags() if flags is None else flags)
    else:
        if flags is None:
            flags = default_flags()
        vintages = dict(communes.attrs.get("vintages") or {"communes": "table fournie"})
        vintages.update({f"zonage {k}": v for k, v in (flags.attrs.get("vintages") or {}).items()})
        districts = None
        if qpv_layer is not None:
            districts = qpv.build(qpv_layer)
        base = make_base(communes, flags, None, vintages, districts)
    vintages = dict(base.vintages)
    if poles is None:
        poles = poles_mod.load()
        vintages["poles"] = poles_mod.vintage()
    else:
        vintages["poles"] = poles.attrs.get("vintage", "registre fourni")
    registry = registry_counts(poles)
    if "localise" in poles.columns:
        poles = poles[poles["localise"].fillna(False).astype(bool)]
    pole_table = prepare_poles(poles, base)
    out = _compute(base, pole_table, radius_km, use_perimeter, zoning, vintages)
    out.registry = registry
    return out


def _nearest(base: Base, pole_table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Nearest pole (position in pole_table, -1 if none) and distance (m) of each commune."""
    from scipy.spatial import cKDTree

    n = len(base.table)
    near = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    pgroups = pole_table["group"].to_numpy()
    pxy = pole_table[["x", "y"]].to_numpy()
    for g, idx in base.group_idx.items():
        pi = np.flatnonzero(pgroups == g)
        if not len(pi):
            continue
        xy = base.group_xy[g]
        ok = np.isfinite(xy).all(axis=1)
        d, j = cKDTree(pxy[pi]).query(xy[ok], k=1)
        near[idx[ok]] = pi[j]
        dist[idx[ok]] = d
    return near, dist


def _compute(base: Base, pole_table: pd.DataFrame, radius_km, use_perimeter, zoning, vintages) -> CommuneCoverage:
    near, dist = _nearest(base, pole_table)
    t = base.table
    out = t.drop(columns=["group", "x", "y", "lon", "lat", "point_source"])
    out["in_zoning"] = t[ZONING_FLAGS[zoning]].to_numpy()
    home_pos = [base.pos_of_code[h] for h in pole_table["commune"] if isinstance(h, str) and h in base.pos_of_code]
    out["poles"] = np.bincount(np.asarray(home_pos, dtype=np.int64), minlength=len(t)).astype(int)
    has = near >= 0
    ids = pole_table["id"].to_numpy().astype(object)
    noms = pole_table["nom"].to_numpy().astype(object)
    out["nearest_pole"] = pd.array(np.where(has, ids[np.where(has, near, 0)] if len(ids) else None, None),
                                   dtype=object)
    out["nearest_pole_nom"] = pd.array(np.where(has, noms[np.where(has, near, 0)] if len(noms) else None, None),
                                       dtype=object)
    out["nearest_distance_km"] = np.where(has, dist / 1000.0, np.nan)
    in_radius = (dist <= float(radius_km) * 1000.0 + TOLERANCE_M) if radius_km is not None else np.zeros(len(t), bool)
    unknown: list[str] = []
    if use_perimeter and len(pole_table):
        in_perim, unknown = perimeter_mask(pole_table, base)
    else:
        in_perim = np.zeros(len(t), bool)
    out["in_radius"] = in_radius
    out["in_perimeter"] = in_perim
    out["covered"] = in_radius | in_perim
    out["covered_by"] = pd.array(np.select([in_radius & in_perim, in_radius, in_perim],
                                           ["rayon et périmètre", "rayon", "périmètre"], "").astype(object),
                                 dtype=object)
    out["point_source"] = t["point_source"].to_numpy()
    districts = _districts(base, pole_table, radius_km, in_perim, t)
    qpv.commune_columns(out, base, districts, zoning)
    params = {
        "radius_km": None if radius_km is None else float(radius_km),
        "use_perimeter": bool(use_perimeter),
        "zoning": zoning,
        "poles": int(len(pole_table)),
    }
    if unknown:
        params["perimetre_codes_inconnus"] = ";".join(unknown)
    params["qpv_population"] = "INSEE" if districts["population"].notna().any() else "absente"
    if base.districts.population_note:
        params["qpv_population"] = "fichier refusé"
    stamp_frame(out, params, vintages)
    return CommuneCoverage(out, params, vintages, pole_table, base, districts)


def _districts(base: Base, pole_table: pd.DataFrame, radius_km, in_perim: np.ndarray, t) -> pd.DataFrame:
    """Coverage of every QPV (``qpv.coverage``) and whether one of its communes is in a
    Territoire d'industrie or FRR (its residents are then in those communes' population)."""
    perim = set(t["code"].to_numpy()[in_perim]) if in_perim.any() else set()
    d = qpv.coverage(base.districts, pole_table, radius_km, perim)
    pairs = base.districts.commune_pairs
    ok = base.qpv_pos >= 0
    other = np.zeros(len(d), dtype=bool)
    if ok.any():
        tf = (t["in_territoire_industrie"].to_numpy() | t["frr"].to_numpy())[base.qpv_pos[ok]]
        hit = pairs["pos"].to_numpy()[ok][tf]
        other[hit] = True
    d["commune_ti_frr"] = other
    return d


def with_poles(result: CommuneCoverage, extra: gpd.GeoDataFrame, radius_km: float | None = None) -> CommuneCoverage:
    """Recompute ``result`` (same communes, flags and parameters) with ``extra`` poles added."""
    extra_table = prepare_poles(extra, result.base)
    poles = pd.concat([result.poles, extra_table], ignore_index=True)
    radius = result.params["radius_km"] if radius_km is None else radius_km
    out = _compute(result.base, poles, radius, result.params["use_perimeter"], result.params["zoning"],
                   result.vintages)
    out.registry = result.registry
    return out


def recompute(result: CommuneCoverage, radius_km: float | None, use_perimeter: bool | None = None,
              zoning: str | None = None) -> CommuneCoverage:
    """Same poles and communes, other parameters (the fast path: no loading, no projection)."""
    zoning = result.params["zoning"] if zoning is None else zoning
    check_params(radius_km, zoning)
    use_perimeter = result.params["use_perimeter"] if use_perimeter is None else use_perimeter
    out = _compute(result.base, result.poles, radius_km, use_perimeter, zoning, result.vintages)
    out.registry = result.registry
    return out
