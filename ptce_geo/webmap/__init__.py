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

The modules, each with one reason to change (a module imports only those above it):

========  =========================================================================
state     what a user chooses (vocabularies), ``MapState`` and its permalink
symbols   how layers look: colours, styles, tooltips, classes, the legend
data      what each layer carries per view: boundaries, priority layers, joins, poles
files     published layer files (versions, pruning) and Leaflet's own static files
search    place search: a commune by name or code, else an address (BAN)
elements  Leaflet elements (GeoLayer, PoleCluster, Legend…) and the empty base map
compose   the explorer's folium map: base + one feature group of layers
========  =========================================================================

Importing ``webmap`` imports folium (``elements``, ``compose`` import it at module level, as the
single-module ``webmap.py`` did): callers that must start fast import ``webmap`` inside functions.
"""

from __future__ import annotations

from .._fmt import esc, fmt_compact
from .state import (BASEMAPS, BOUNDARY_SOURCE, COLOUR_BY, DEFAULT_LAYERS, DEFAULT_RADIUS_KM, FRANCE_BOUNDS,
                    INDICATORS, LAYERS, LOCAL_LAYERS, NATIONAL_CLASSES, PRIORITY_LAYER, QPV_TOLERANCE_M,
                    ZONING_FILTERS, ZOOM_SNAP, MapState, check_choice, default_state, national_state, parse_state,
                    state_params, territory_key)
from .symbols import (_CHORO, _CHORO_RATE, FRR_COLOURS, NO_DATA_COLOUR, NO_DATA_LABEL,  # noqa: F401 (palettes: tests)
                      OTHER_COLOUR, POPUPS, STYLES, TOOLTIPS, ZRR_COLOURS, Classes, classify, colour_map,
                      coverage_frame, coverage_values, legend_html, outlined, pole_colour_key)
from .data import (CONTEXT_MARGIN, JOIN_LAYERS, NATION_WIDE, NATIONAL_TOLERANCE_M, boundary_layer,
                   commune_coverage_table, context_box, coverage_join, coverage_layer, filter_poles, pole_points,
                   pole_popup, priority_join, priority_layer, qpv_join, qpv_layer, territory_bounds, territory_communes,
                   territory_name, to_geojson)
from .files import (LAYER_FORMAT, LAYER_PROPS, NATIONAL_LAYERS, STATIC_URL, asset_urls, layer_geojson,
                    layer_precision, layer_version, layers_dir, national_layers, prepare_static, prune_layers,
                    publish_layer, static_dir)
from .search import Place, commune_place, find_communes, fold, homonyms, search_place
from .elements import GeoLayer, Legend, MetricScale, PoleCluster, ReadySignal, Reset, Settle, View, base_map
from .compose import MapLayers, build_map, explorer_base, explorer_layers, sources_text

__all__ = [
    # state
    "BASEMAPS", "BOUNDARY_SOURCE", "check_choice", "COLOUR_BY", "default_state", "DEFAULT_LAYERS",
    "DEFAULT_RADIUS_KM", "FRANCE_BOUNDS", "INDICATORS", "LAYERS", "LOCAL_LAYERS", "MapState", "NATIONAL_CLASSES",
    "national_state", "parse_state", "PRIORITY_LAYER", "QPV_TOLERANCE_M", "state_params", "territory_key",
    "ZONING_FILTERS", "ZOOM_SNAP",
    # symbols
    "Classes", "classify", "colour_map", "coverage_frame", "coverage_values", "FRR_COLOURS", "legend_html",
    "NO_DATA_COLOUR", "NO_DATA_LABEL", "OTHER_COLOUR", "outlined", "pole_colour_key", "POPUPS", "STYLES",
    "TOOLTIPS", "ZRR_COLOURS",
    # data
    "boundary_layer", "commune_coverage_table", "context_box", "CONTEXT_MARGIN", "coverage_join", "coverage_layer",
    "filter_poles", "JOIN_LAYERS", "NATION_WIDE", "NATIONAL_TOLERANCE_M", "pole_points", "pole_popup",
    "priority_join", "priority_layer", "qpv_join", "qpv_layer", "territory_bounds", "territory_communes",
    "territory_name", "to_geojson",
    # files
    "asset_urls", "LAYER_FORMAT", "layer_geojson", "layer_precision", "LAYER_PROPS", "layer_version", "layers_dir",
    "NATIONAL_LAYERS", "national_layers", "prepare_static", "prune_layers", "publish_layer", "static_dir",
    "STATIC_URL",
    # search
    "commune_place", "find_communes", "fold", "homonyms", "Place", "search_place",
    # elements
    "base_map", "GeoLayer", "Legend", "MetricScale", "PoleCluster", "ReadySignal", "Reset", "Settle", "View",
    # compose
    "build_map", "explorer_base", "explorer_layers", "MapLayers", "sources_text",
    # figures and escaping (``_fmt``)
    "esc", "fmt_compact",
]
