"""The explorer's folium map: a base that never changes and one feature group of layers.

``explorer_base`` is the map (tiles or none, scale bar, Leaflet and MarkerCluster, the state
probe); ``explorer_layers`` is everything a state draws, in drawing order, which streamlit-folium
swaps in place on each rerun, so the reader keeps their pan and zoom; ``build_map`` joins both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import folium

from .._fmt import esc
from .elements import GeoLayer, Legend, PoleCluster, ReadySignal, Reset, Settle, View, base_map
from .files import asset_urls
from .state import BOUNDARY_SOURCE, FRANCE_BOUNDS, LAYERS, MapState
from .symbols import FRR_COLOURS, POPUPS, STYLES, TOOLTIPS, ZRR_COLOURS, Classes, legend_html, outlined

__all__ = ["build_map", "explorer_base", "explorer_layers", "MapLayers", "sources_text"]


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
