"""Urban priority districts (QPV 2024) at their true scale: contours, coverage measured at the
district, and INSEE's population of each QPV.

Contours
    ``priority.load("qpv")`` gives one valid Polygon/MultiPolygon per QPV (repaired, see
    :func:`ptce_geo.priority.repair`), or the point of its commune when no contour exists
    (``geometry_kind = "point"``). :class:`Districts` projects them once into the metric CRS of
    each part of France (Lambert-93, the local UTM of each overseas département, and for the QPV
    outside the COG communes — Saint-Martin, French Polynesia — their own UTM).

Coverage of a QPV (:func:`coverage`)
    covered when a pole lies in it, or within the radius of its contour (distance from the pole
    to the polygon, metres, local CRS, inclusive), or one of its communes is in a pole's declared
    perimeter. Each QPV gets its nearest pole (same group only: never across an ocean) and the
    distance to it (0 when the pole is inside).

Population (:func:`population`, in ``qpv_population``, re-exported here)
    INSEE's population of the 2024 QPV (``pop_QPV24``, insee.fr/fr/statistiques/8210600), an
    optional source read from the mirror or the raw cache only. Without the file, QPV figures
    are counts: no commune's population ever stands in for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import priority, settings
from .qpv_population import (CODE_COLUMNS, POPULATION_COLUMNS, SOURCE_ID, population, population_file,
                             population_or_note, population_status, population_vintage, read_population)

__all__ = [
    # INSEE's population of the districts (``qpv_population``), re-exported
    "SOURCE_ID", "CODE_COLUMNS", "POPULATION_COLUMNS", "read_population", "population_file", "population",
    "population_or_note", "population_status", "population_vintage",
    # the districts and their coverage
    "EXTRA_CRS", "OUTSIDE_COG", "TOLERANCE_M", "COLUMNS", "group_of", "crs_of", "Districts", "build", "default",
    "fallback", "coverage", "is_metropolitan", "commune_columns", "territory_pairs", "territory_figures",
]

#: Metric CRS of the QPV outside the COG communes (``settings.EXTRA_CRS``) and their names.
EXTRA_CRS = settings.EXTRA_CRS
OUTSIDE_COG = settings.OUTSIDE_COG
TOLERANCE_M = 1e-3


# --------------------------------------------------------------------------- districts

def group_of(departement: str) -> str:
    """Analysis group of a QPV: ``metro``, an overseas département, or 978/987 (outside the COG)."""
    dep = str(departement or "")
    if dep in settings.get().overseas_crs or dep in EXTRA_CRS:
        return dep
    return "metro"


def crs_of(group: str) -> str:
    return settings.get().overseas_crs.get(group) or EXTRA_CRS.get(group) or settings.get().metric_crs


@dataclass
class Districts:
    """The QPV layer ready for coverage: attributes, metric geometries per group, commune links."""

    table: pd.DataFrame                     # code, nom, communes, departement, group, geometry_kind, hors_communes_cog
    metric: dict                            # group → (positions, metric geometries)
    population: pd.Series                   # Int64 per position (NA when unknown)
    population_source: str | None = None    # vintage text, or None without the INSEE file
    population_note: str | None = None      # why the INSEE file was refused
    commune_pairs: pd.DataFrame = field(default=None, repr=False)  # qpv position, commune code
    _reach: dict = field(default_factory=dict, repr=False)  # group → (centroids, reach), see _reach_of

    def __len__(self) -> int:
        return len(self.table)


def build(layer: gpd.GeoDataFrame, pop: pd.Series | None = None, source: str | None = None,
          note: str | None = None) -> Districts:
    """:class:`Districts` of a QPV layer (``priority.load("qpv")`` or a hand-made frame with
    ``code``, ``nom``, ``communes``, ``departement`` and geometry; a ``population`` column, when
    present, is used as is)."""
    gdf = layer.to_crs(settings.WEB_CRS) if layer.crs is not None else layer.set_crs(settings.WEB_CRS)
    gdf = gdf.reset_index(drop=True)
    table = pd.DataFrame({
        "code": gdf["code"].astype(str).to_numpy(),
        "nom": gdf["nom"].astype(object).to_numpy() if "nom" in gdf else gdf["code"].astype(str).to_numpy(),
        "communes": [list(c) if isinstance(c, (list, tuple, np.ndarray)) else
                     [x for x in str(c or "").replace(",", ";").split(";") if x] for c in gdf["communes"]],
        "departement": gdf["departement"].astype(str).to_numpy(),
        "geometry_kind": gdf["geometry_kind"].to_numpy() if "geometry_kind" in gdf else
        np.where(gdf.geom_type.isin(["Point", "MultiPoint"]), "point", "polygon"),
        "hors_communes_cog": gdf["hors_communes_cog"].astype(bool).to_numpy() if "hors_communes_cog" in gdf
        else np.zeros(len(gdf), dtype=bool),
    })
    table["group"] = [group_of(d) for d in table["departement"]]
    metric = {}
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    for g in pd.unique(table["group"]):
        pos = np.flatnonzero(table["group"].to_numpy() == g)
        m = np.asarray(gpd.GeoSeries(geoms[pos], crs=settings.WEB_CRS).to_crs(crs_of(g)).values, dtype=object)
        ok = ~(shapely.is_missing(m) | shapely.is_empty(m))
        metric[g] = (pos[ok], m[ok])
    if "population" in gdf:
        values = pd.array(pd.to_numeric(gdf["population"], errors="coerce"), dtype="Int64")
        source = source or "population fournie avec la couche"
    elif pop is not None:
        values = pd.array(table["code"].map(pop), dtype="Int64")
    else:
        values = pd.array([pd.NA] * len(table), dtype="Int64")
    pairs = table[["communes"]].assign(pos=np.arange(len(table))).explode("communes").dropna()
    pairs = pd.DataFrame({"pos": pairs["pos"].astype(int).to_numpy(), "commune": pairs["communes"].astype(str).to_numpy()})
    return Districts(table, metric, pd.Series(values, name="population"), source, note, pairs)


_DEFAULT: dict = {}


def default() -> Districts:
    """Districts of the QPV layer of the mirror/cache with INSEE's population when present
    (kept in the process until the layer or the population file changes)."""
    layer_key = priority.cache_key("qpv")
    got = population_file()
    pop_key = None if got is None else (str(got.path), got.path.stat().st_mtime_ns)
    key = (layer_key, pop_key)
    if _DEFAULT.get("key") != key:
        pop, note = population_or_note()
        _DEFAULT.clear()
        _DEFAULT.update(key=key, value=build(priority.load("qpv"), pop, population_vintage() if pop is not None else None,
                                             note))
    return _DEFAULT["value"]


def fallback(communes: pd.DataFrame, flags_in_qpv: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> Districts:
    """One point district per commune flagged ``in_qpv`` (its representative point): what a hand-made
    commune table without a QPV layer gets, so QPV figures stay counts of something real."""
    idx = np.flatnonzero(np.asarray(flags_in_qpv, dtype=bool))
    codes = communes["code"].astype(str).to_numpy()[idx]
    gdf = gpd.GeoDataFrame({
        "code": [f"QPV-{c}" for c in codes], "nom": [f"QPV de {c}" for c in codes],
        "communes": [[c] for c in codes], "departement": communes["departement"].astype(str).to_numpy()[idx],
        "geometry_kind": "point",
    }, geometry=gpd.points_from_xy(lon[idx], lat[idx]), crs=settings.WEB_CRS)
    return build(gdf)


# --------------------------------------------------------------------------- coverage

def _reach_of(districts: Districts, g: str) -> tuple[np.ndarray, np.ndarray]:
    """Centroid of each district of group ``g`` and the largest distance from it to a vertex:
    a pole nearer to the contour than ``d`` is nearer to the centroid than ``d + reach``."""
    if g not in districts._reach:
        _, geoms = districts.metric[g]
        cen = shapely.get_coordinates(shapely.centroid(geoms))
        coords, idx = shapely.get_coordinates(geoms, return_index=True)
        reach = np.zeros(len(geoms))
        np.maximum.at(reach, idx, np.hypot(coords[:, 0] - cen[idx, 0], coords[:, 1] - cen[idx, 1]))
        districts._reach[g] = (cen, reach)
    return districts._reach[g]


def _nearest(districts: Districts, g: str, pxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest pole (index into ``pxy``) and distance (m) to the contour of each district of ``g``.

    Exact: the candidates of a district are the poles whose distance to its centroid is at most
    the centroid distance of the nearest one plus the district's reach (no nearer pole can be
    farther from the centroid); then ``shapely.distance`` (0 inside) picks among them."""
    from scipy.spatial import cKDTree

    _, geoms = districts.metric[g]
    cen, reach = _reach_of(districts, g)
    tree = cKDTree(pxy)
    dc, _ = tree.query(cen, k=1)
    cands = tree.query_ball_point(cen, dc + reach + 1.0)
    qi = np.repeat(np.arange(len(geoms)), [len(c) for c in cands])
    pj = np.fromiter((j for c in cands for j in c), dtype=np.int64, count=len(qi))
    dist = shapely.distance(geoms[qi], shapely.points(pxy[pj, 0], pxy[pj, 1]))
    order = np.lexsort((pj, dist, qi))  # per district: smallest distance, then first pole
    first = np.ones(len(order), dtype=bool)
    first[1:] = qi[order][1:] != qi[order][:-1]
    best = order[first]
    return pj[best], dist[best]


COLUMNS = ["code", "nom", "communes", "departement", "group", "geometry_kind", "hors_communes_cog", "population",
           "nearest_pole", "nearest_pole_nom", "distance_km", "pole_inside", "in_radius", "in_perimeter",
           "covered", "covered_by"]


def coverage(districts: Districts, poles: pd.DataFrame, radius_km: float | None,
             perimeter_communes: set[str] | frozenset = frozenset()) -> pd.DataFrame:
    """Coverage of every QPV, one row per QPV (``COLUMNS``).

    ``poles``: the pole table of a coverage result (``group``, ``x``, ``y`` in metres of the
    group's CRS, ``id``, ``nom``); ``perimeter_communes``: INSEE codes in a declared perimeter.
    ``distance_km`` is the distance from the nearest pole to the contour (0 when inside; empty
    when the QPV's group has no pole).
    """
    n = len(districts)
    near = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    pgroups = poles["group"].astype(str).to_numpy() if len(poles) else np.array([], dtype=str)
    for g, (pos, geoms) in districts.metric.items():
        pi = np.flatnonzero(pgroups == g)
        if not len(pi) or not len(pos):
            continue
        pxy = np.column_stack([poles["x"].to_numpy(dtype=float)[pi], poles["y"].to_numpy(dtype=float)[pi]])
        j, d = _nearest(districts, g, pxy)
        near[pos] = pi[j]
        dist[pos] = d
    has = near >= 0
    inside = has & (dist <= 0.0)
    in_radius = has & (dist <= float(radius_km) * 1000.0 + TOLERANCE_M) if radius_km is not None else np.zeros(n, bool)
    pairs = districts.commune_pairs
    in_perim = np.zeros(n, dtype=bool)
    if perimeter_communes and len(pairs):
        hit = pairs.loc[pairs["commune"].isin(perimeter_communes), "pos"].to_numpy()
        in_perim[hit] = True
    covered = inside | in_radius | in_perim
    by = np.select([inside, in_radius & in_perim, in_radius, in_perim],
                   ["pôle dans le quartier", "rayon et périmètre", "rayon", "périmètre"], "")
    ids = poles["id"].astype(str).to_numpy() if len(poles) else np.array([], dtype=object)
    noms = poles["nom"].astype(object).to_numpy() if len(poles) else np.array([], dtype=object)
    t = districts.table
    out = pd.DataFrame({
        "code": t["code"].to_numpy(), "nom": t["nom"].to_numpy(), "communes": t["communes"].to_numpy(),
        "departement": t["departement"].to_numpy(), "group": t["group"].to_numpy(),
        "geometry_kind": t["geometry_kind"].to_numpy(), "hors_communes_cog": t["hors_communes_cog"].to_numpy(),
        "population": districts.population.to_numpy(),
        "nearest_pole": pd.array(np.where(has, ids[np.where(has, near, 0)] if len(ids) else None, None), dtype=object),
        "nearest_pole_nom": pd.array(np.where(has, noms[np.where(has, near, 0)] if len(noms) else None, None),
                                     dtype=object),
        "distance_km": np.where(has, np.round(dist / 1000.0, 3), np.nan),
        "pole_inside": inside, "in_radius": in_radius, "in_perimeter": in_perim, "covered": covered,
        "covered_by": pd.array(by.astype(object), dtype=object),
    })
    out["population"] = out["population"].astype("Int64")
    return out


def is_metropolitan(departement) -> bool:
    dep = str(departement or "")
    return not dep.startswith(("97", "98"))


# --------------------------------------------------------------------------- figures of a coverage result
# (used by ``coverage``: the QPV columns of the commune table and of every territory table)

def _int_na(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Float values with NaN for unknown → nullable integers (NA stays NA)."""
    mask = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(mask, 0, np.round(values)).astype("int64"), mask)


def commune_columns(out: pd.DataFrame, base, d: pd.DataFrame, zoning: str) -> None:
    """Per commune: its QPV (count, covered, residents) and the figures of the zoning in its unit."""
    n = len(out)
    ok = base.qpv_pos >= 0
    cpos = base.qpv_pos[ok]
    qi = base.districts.commune_pairs["pos"].to_numpy()[ok]
    cov = d["covered"].to_numpy()[qi]
    qpop = d["population"].to_numpy(dtype=float, na_value=np.nan)[qi]
    known = ~np.isnan(qpop)
    n_known = np.bincount(cpos, weights=known.astype(float), minlength=n)
    qp = np.where(n_known > 0, np.bincount(cpos, weights=np.where(known, qpop, 0.0), minlength=n), np.nan)
    qpc = np.where(n_known > 0, np.bincount(cpos, weights=np.where(known & cov, qpop, 0.0), minlength=n), np.nan)
    total = np.bincount(cpos, minlength=n)
    ncov = np.bincount(cpos, weights=cov.astype(float), minlength=n)
    out["qpv_total"] = total.astype(int)
    out["qpv_covered"] = ncov.astype(int)
    out["qpv_population"] = _int_na(qp)
    out["qpv_population_covered"] = _int_na(qpc)
    covered = out["covered"].to_numpy()
    in_zoning = out["in_zoning"].to_numpy()
    in_qpv = out["in_qpv"].to_numpy()
    ti_frr = out["in_territoire_industrie"].to_numpy() | out["frr"].to_numpy()
    any_qpv_cov = ncov > 0
    pop = out["population"].to_numpy(dtype=float, na_value=np.nan)
    pop = np.where(np.isnan(pop), 0.0, pop)
    qp0 = np.where(in_qpv, qp, 0.0)
    qpc0 = np.where(in_qpv, qpc, 0.0)
    if zoning == "qpv":
        zc, prio, prio_c = any_qpv_cov, qp0, qpc0
    elif zoning == "all":
        zc = (ti_frr & covered) | any_qpv_cov
        prio = np.where(ti_frr, pop, qp0)
        prio_c = np.where(ti_frr, np.where(covered, pop, 0.0), qpc0)
    else:
        zc, prio, prio_c = covered, pop, np.where(covered, pop, 0.0)
    out["zoning_covered"] = zc & in_zoning
    out["priority_population"] = _int_na(np.where(in_zoning, prio, 0.0))
    out["priority_population_covered"] = _int_na(np.where(in_zoning, prio_c, 0.0))


def territory_pairs(level: str, result, pairs: pd.DataFrame) -> pd.DataFrame:
    """(territory, QPV position) pairs: each QPV once in every territory one of its communes is in."""
    base = result.base
    d = result.qpv
    if level == "qpv":
        return pd.DataFrame({"territory": d["code"].to_numpy(), "q": np.arange(len(d))})
    ok = base.qpv_pos >= 0
    qc = pd.DataFrame({"q": base.districts.commune_pairs["pos"].to_numpy()[ok], "pos": base.qpv_pos[ok]})
    return qc.merge(pairs, on="pos")[["territory", "q"]].drop_duplicates()


def territory_figures(d: pd.DataFrame, qp: pd.DataFrame) -> pd.DataFrame:
    """QPV_COLUMNS (and the QPV part of zoning ``all``) per territory from (territory, QPV) pairs."""
    q = qp["q"].to_numpy()
    pop = pd.Series(pd.array(d["population"].to_numpy()[q], dtype="Int64"))
    cov = d["covered"].to_numpy()[q]
    outside = ~d["commune_ti_frr"].to_numpy()[q]
    frame = pd.DataFrame({
        "territory": qp["territory"].to_numpy(), "qpv_count": 1, "qpv_covered": cov.astype(int),
        "qpv_population": pop, "qpv_population_covered": pop * cov.astype(int),
        "qpv_without_population": pop.isna().astype(int).to_numpy(),
        "_all_qpv_pop": pop.where(pd.Series(outside), 0), "_all_qpv_pop_cov": pop.where(pd.Series(outside & cov), 0),
    })
    g = frame.groupby("territory", sort=True)
    out = g[["qpv_count", "qpv_covered", "qpv_without_population"]].sum()
    for col in ("qpv_population", "qpv_population_covered", "_all_qpv_pop", "_all_qpv_pop_cov"):
        out[col] = g[col].sum(min_count=1)
    return out
