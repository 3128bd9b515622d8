"""What each layer of the explorer carries, with a level of detail per view.

At national scale: régions and départements simplified again (``NATIONAL_TOLERANCE_M``),
Territoires d'industrie, one dot per QPV, one value per département for coverage. In a
département or a région: its communes, EPCI, FRR/ZRR classes and QPV contours, and the régions
and départements around it (``context_box``). FRR, ZRR and the choropleth are joins by code on
the communes (or départements) file (``priority_join``, ``coverage_join``); the QPV popup adds
the nearest pole (``qpv_join``). Every string is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html
import json
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import boundaries, settings
from .._errors import PtceGeoError, UnknownChoiceError
from .._fmt import esc
from .state import FRANCE_BOUNDS, LAYERS, QPV_TOLERANCE_M, MapState, check_choice
from .symbols import OTHER_COLOUR, Classes, coverage_frame, pole_colour_key

__all__ = ["boundary_layer", "commune_coverage_table", "CONTEXT_MARGIN", "context_box", "coverage_join",
           "coverage_layer", "filter_poles", "JOIN_LAYERS", "NATION_WIDE", "NATIONAL_TOLERANCE_M", "pole_popup",
           "pole_points", "priority_join", "priority_layer", "qpv_join", "qpv_layer", "territory_bounds",
           "territory_communes", "territory_name", "to_geojson"]

_ZONING_FLAG = {"all": "priority", "qpv": "in_qpv", "territoires-industrie": "in_territoire_industrie",
                "frr": "frr", "zrr": "zrr"}


def to_geojson(frame: gpd.GeoDataFrame, props: list[str], precision: int = 5) -> str:
    """Compact GeoJSON (EPSG:4326): only ``props`` (strings HTML-escaped), coordinates rounded."""
    frame = frame.to_crs(settings.WEB_CRS) if frame.crs is not None else frame
    geoms = shapely.set_precision(frame.geometry.values, 10.0 ** -precision)
    features = []
    cols = {p: frame[p].tolist() for p in props}
    for i, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            continue
        properties = {}
        for p in props:
            v = cols[p][i]
            if isinstance(v, str):
                v = html.escape(v)
            elif v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                v = None
            elif isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (np.floating,)):
                v = float(v)
            properties[p] = v
        features.append({"type": "Feature", "properties": properties,
                         "geometry": json.loads(shapely.to_geojson(geom))})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      separators=(",", ":"))


def territory_communes(state_or_key) -> pd.DataFrame:
    """Communes (table, no geometry) of the state's territory; every commune at national scale."""
    key = state_or_key.territoire if isinstance(state_or_key, MapState) else state_or_key
    table = boundaries.commune_table()
    if not key:
        return table
    kind, code = key.split("-", 1)
    return table[table["departement" if kind == "dep" else "region"] == code]


def territory_bounds(key: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """((south, west), (north, east)) of a territory key; metropolitan France for ``""``."""
    if not key:
        return FRANCE_BOUNDS
    kind, code = key.split("-", 1)
    level = "departement" if kind == "dep" else "region"
    gdf = boundaries.load(level, simplified=True)
    row = gdf[gdf["code"] == code]
    if row.empty:
        raise UnknownChoiceError("Territoire", key, [])
    minx, miny, maxx, maxy = row.total_bounds
    return (miny, minx), (maxy, maxx)


def territory_name(key: str) -> str:
    if not key:
        return "France entière"
    kind, code = key.split("-", 1)
    level = "departement" if kind == "dep" else "region"
    gdf = boundaries.load(level, simplified=True)
    nom = gdf.loc[gdf["code"] == code, "nom"]
    label = "Département" if kind == "dep" else "Région"
    return f"{label} {nom.iloc[0]} ({code})" if len(nom) else key


# Régions and départements seen whole (national view, zoom 5-6: a pixel is 2-5 km) are simplified
# further; a territory view uses the web contours (250-400 m).
NATIONAL_TOLERANCE_M = {"regions": 1500.0, "departements": 1000.0}


def boundary_layer(layer: str, key: str) -> gpd.GeoDataFrame:
    """Boundaries of ``layer`` (regions|departements|epci|communes) with the level of detail of ``key``."""
    level = {"regions": "region", "departements": "departement", "epci": "epci", "communes": "commune"}[layer]
    gdf = boundaries.load(level, simplified=True)
    if layer in NATIONAL_TOLERANCE_M and not key:
        gdf = boundaries.simplify(gdf, level, NATIONAL_TOLERANCE_M[layer])
    elif layer in NATION_WIDE and key:
        gdf = gdf[gdf.intersects(context_box(key))]
    if layer in ("epci", "communes"):
        if not key:
            raise PtceGeoError(
                f"La couche {LAYERS[layer]!r} n'est affichée que pour un département ou une région : "
                "choisissez un territoire."
            )
        table = territory_communes(key)
        codes = set(table["epci"].dropna()) if layer == "epci" else set(table.index)
        gdf = gdf[gdf["code"].isin(codes)]
    cols = ["code", "nom"] + (["population"] if "population" in gdf.columns else [])
    return gdf[cols + ["geometry"]]


CONTEXT_MARGIN = 0.25  # share of the territory's width and height added around it (its neighbours)


def context_box(key: str):
    """The frame of a territory view and a margin around it (``CONTEXT_MARGIN`` of its extent on
    each side), EPSG:4326: the régions and départements drawn in that view are those it touches —
    the territory's own and its neighbours —, not the whole country (issue 12: the Île-de-France view
    carried 360 KB of contours from Brittany to Corsica)."""
    (south, west), (north, east) = territory_bounds(key)
    dy, dx = (north - south) * CONTEXT_MARGIN, (east - west) * CONTEXT_MARGIN
    return shapely.box(west - dx, south - dy, east + dx, north + dy)


def priority_layer(name: str, frame: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """A priority layer (``priority.load(name)``) cut to the territory, with display geometry.

    FRR/ZRR communes take the simplified commune contour; Territoires d'industrie are
    simplified (1 km) for the national view; QPV: see ``qpv_layer``.
    """
    if name in ("frr", "zrr") and not key:
        raise PtceGeoError(
            f"La couche {LAYERS[name]!r} n'est affichée que pour un département ou une région : "
            "choisissez un territoire."
        )
    if name == "qpv":
        return qpv_layer(frame, key)
    codes = set(territory_communes(key).index)
    if name in ("frr", "zrr"):
        sub = frame[frame["code"].isin(codes)][["code", "nom", "classement"]]
        com = boundaries.load("commune", simplified=True)[["code", "geometry"]]
        return gpd.GeoDataFrame(sub.merge(com, on="code"), geometry="geometry", crs=settings.WEB_CRS)
    # territoires-industrie
    sub = frame
    if key:
        sub = frame[frame["communes"].map(lambda cs: any(c in codes for c in list(cs)))]
    sub = sub[["code", "nom", "geometry"]].copy()
    metric = sub.to_crs(settings.METRIC_CRS)
    simple = shapely.simplify(metric.geometry.values, 1000.0 if not key else 200.0, preserve_topology=True)
    return sub.set_geometry(gpd.GeoSeries(simple, crs=settings.METRIC_CRS).to_crs(settings.WEB_CRS).values)


def qpv_layer(frame: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """QPV for the explorer: one dot per QPV (its representative point) for the whole country; in a
    département or région, the contours touching it, simplified for the web (``QPV_TOLERANCE_M``
    in the metric CRS of each part of France), with their communes' names."""
    from .. import qpv as qpv_mod

    if not key:
        return gpd.GeoDataFrame(frame[["code", "nom"]].copy(), geometry=frame.geometry.representative_point().values,
                                crs=settings.WEB_CRS)
    codes = set(territory_communes(key).index)
    sub = frame[frame["communes"].map(lambda cs: any(c in codes for c in list(cs)))]
    out = sub[["code", "nom", "departement", "geometry"]].copy()
    names = boundaries.commune_table()["nom"]
    out["communes"] = sub["communes"].map(lambda cs: ", ".join(f"{names.get(c, c)} ({c})" for c in cs))
    geoms = np.asarray(out.geometry.values, dtype=object)
    groups = np.array([qpv_mod.group_of(d) for d in out["departement"]], dtype=object)
    for g in np.unique(groups) if len(groups) else []:
        idx = np.flatnonzero(groups == g)
        metric = gpd.GeoSeries(geoms[idx], crs=settings.WEB_CRS).to_crs(qpv_mod.crs_of(g))
        simple = shapely.simplify(metric.values, QPV_TOLERANCE_M, preserve_topology=True)
        geoms[idx] = gpd.GeoSeries(simple, crs=qpv_mod.crs_of(g)).to_crs(settings.WEB_CRS).values
    return gpd.GeoDataFrame(out[["code", "nom", "communes"]], geometry=geoms, crs=settings.WEB_CRS)


def qpv_join(districts: pd.DataFrame, key: str, radius_km: float) -> dict[str, dict]:
    """Per QPV of the territory: nearest pole (escaped) and distance to its contour, and whether it
    is covered at ``radius_km`` — what the QPV popup adds to the published contours file."""
    codes = set(territory_communes(key).index)
    sub = districts[districts["communes"].map(lambda cs: any(c in codes for c in list(cs)))]
    out = {}
    for r in sub.itertuples():
        if isinstance(r.nearest_pole_nom, str):
            km = "dans le quartier" if r.distance_km == 0 else f"{r.distance_km:.1f}".replace(".", ",") + "\u202fkm"
            pole, dist = esc(r.nearest_pole_nom), km
        else:
            pole, dist = "aucun pôle localisé dans cette partie de la France", "—"
        state = (f"couvert ({esc(r.covered_by)})" if r.covered else f"non couvert à {radius_km:g}\u202fkm")
        out[str(r.code)] = {"pole": pole, "distance": dist, "couvert": state}
    return out


# FRR and ZRR colour the communes file of the territory (a join by code) instead of shipping
# the same commune contours again; the coverage choropleth does the same (``coverage_join``).
JOIN_LAYERS = {"frr": "communes", "zrr": "communes"}
# Drawn in every view: one coarse file of the whole country for the national view; in a territory
# view, the territory's own and its neighbours (``context_box``), one file per territory.
NATION_WIDE = ("regions", "departements")


def priority_join(name: str, frame: pd.DataFrame, key: str) -> dict[str, dict]:
    """FRR/ZRR classes of the territory's classified communes, by INSEE code (labels escaped):
    what a ``GeoLayer`` adds to the communes file to draw the layer."""
    check_choice("Couche", name, JOIN_LAYERS)
    if not key:
        raise PtceGeoError(
            f"La couche {LAYERS[name]!r} n'est affichée que pour un département ou une région : "
            "choisissez un territoire."
        )
    codes = set(territory_communes(key).index)
    sub = frame[frame["code"].isin(codes)]
    return {str(c): {"classement": esc(lab)} for c, lab in zip(sub["code"], sub["classement"])}


# --------------------------------------------------------------------------- poles

def filter_poles(poles: pd.DataFrame, state: MapState, flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """Located poles matching the state's filters (sectors: any; calls; creation years; zoning)."""
    out = poles
    if "localise" in out.columns:
        out = out[out["localise"].fillna(False).astype(bool)]
    if state.secteurs:
        wanted = set(state.secteurs)
        out = out[out["secteurs"].map(lambda s: bool(wanted & set(s if isinstance(s, (list, tuple, np.ndarray)) else [])))]
    if state.appels:
        out = out[out["appel"].isin(state.appels)]
    if state.annees:
        years = pd.to_numeric(out["annee_creation"], errors="coerce")
        out = out[(years >= state.annees[0]) & (years <= state.annees[1])]
    if state.zonage:
        if flags is None:
            raise PtceGeoError("Filtre par zonage indisponible : les couches prioritaires ne sont pas chargées.")
        col = _ZONING_FLAG[state.zonage]
        ok = set(flags.loc[flags[col].astype(bool), "code"])
        out = out[out["code_insee"].isin(ok)]
    if state.territoire:
        out = out[out["code_insee"].isin(set(territory_communes(state.territoire).index))]
    return out


def pole_popup(row) -> str:
    """HTML of a pole's popup; every value is escaped (names come from users)."""
    secteurs = row.get("secteurs")
    secteurs = ", ".join(map(str, secteurs)) if isinstance(secteurs, (list, tuple, np.ndarray)) else ""
    parts = [f"<b class='pole-nom'>{esc(row.get('nom'))}</b>"]
    commune = esc(row.get("commune"))
    if row.get("code_insee"):
        commune += f" ({esc(row.get('code_insee'))})"
    parts.append(f"Commune : {commune or 'n.c.'}")
    parts.append(f"Secteurs : {esc(secteurs) or 'n.c.'}")
    parts.append(f"Appel : {esc(row.get('appel')) or 'n.c.'}")
    year = row.get("annee_creation")
    if year is not None and year is not pd.NA and not (isinstance(year, float) and math.isnan(year)):
        parts.append(f"Création : {esc(int(year))}")
    site = row.get("site_web")
    if isinstance(site, str) and re.match(r"^https?://", site.strip(), re.I):
        parts.append(f"<a href='{esc(site.strip())}' target='_blank' rel='noopener noreferrer'>Site web</a>")
    return "<br>".join(parts)


def pole_points(poles: pd.DataFrame, colour_by: str, colours: dict[str, str]) -> list[dict]:
    out = []
    for _, row in poles.iterrows():
        key = pole_colour_key(row, colour_by)
        out.append({
            "lat": round(float(row["latitude"]), 6), "lon": round(float(row["longitude"]), 6),
            "c": colours.get(key, OTHER_COLOUR), "t": esc(row["nom"]), "p": pole_popup(row),
        })
    return out


def coverage_layer(table: pd.DataFrame, key: str, indicator: str) -> tuple[gpd.GeoDataFrame, Classes]:
    """Choropleth frame (code, nom, valeur, couleur, valeur_texte, geometry) and its classes.

    ``table``: national → ``coverage.by_territory(result, "departement")``; territory →
    per-commune rows (code, nom, coverage_rate, priority_population, priority_population_covered).
    """
    level = "departement" if not key else "commune"
    gdf = boundaries.load(level, simplified=True)[["code", "geometry"]]
    if key:
        table = table[table["code"].isin(set(territory_communes(key).index))]
    frame, classes = coverage_frame(table, indicator)
    frame = gdf.merge(frame, on="code", how="inner")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=settings.WEB_CRS), classes


def coverage_join(table: pd.DataFrame, key: str, indicator: str) -> tuple[str, dict[str, dict], Classes]:
    """The choropleth without geometry, for a ``GeoLayer`` that colours a published outline file:
    (outline layer — ``departements`` nationally, ``communes`` in a territory — , code → escaped
    ``valeur_texte`` and ``couleur``, classes)."""
    if key:
        table = table[table["code"].isin(set(territory_communes(key).index))]
    frame, classes = coverage_frame(table, indicator)
    join = {str(c): {"valeur_texte": esc(t), "couleur": col}
            for c, t, col in zip(frame["code"], frame["valeur_texte"], frame["couleur"])}
    return ("communes" if key else "departements"), join, classes


def commune_coverage_table(communes: pd.DataFrame) -> pd.DataFrame:
    """Per-commune coverage rows (same columns as ``by_territory``) from ``CommuneCoverage.communes``:
    the priority population in the unit of the zoning (``priority_population``: QPV residents for
    ``qpv`` — unknown without INSEE's file —, never a QPV commune's whole population)."""
    if "priority_population" in communes:
        prio = pd.to_numeric(communes["priority_population"], errors="coerce").astype(float).to_numpy()
        covered = pd.to_numeric(communes["priority_population_covered"], errors="coerce").astype(float).to_numpy()
    else:  # a hand-made table: commune populations of the flagged communes
        pop = communes["population"].astype("Float64").fillna(0).to_numpy(dtype=float)
        zon = communes["in_zoning"].to_numpy(dtype=bool)
        cov = communes["covered"].to_numpy(dtype=bool)
        prio = np.where(zon, pop, 0.0)
        covered = np.where(zon & cov, pop, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(prio > 0, covered / np.where(prio > 0, prio, 1), np.nan)
    return pd.DataFrame({"code": communes["code"].to_numpy(), "nom": communes["nom"].to_numpy(),
                         "priority_population": prio, "priority_population_covered": covered,
                         "coverage_rate": rate})
