"""The shape of the ``webmap`` package (issue 15): small modules in layers with no import circle,
one public face re-exported from ``webmap/__init__`` (callers write ``webmap.publish_layer`` as
before the split), and folium imported by the modules that build Leaflet elements only."""

from __future__ import annotations

import ast
from pathlib import Path

import _layout
import pytest

from ptce_geo import webmap

PACKAGE = Path(webmap.__file__).parent
MODULES = _layout.modules(PACKAGE)

#: The names callers of the single-module ``webmap.py`` used (ptce_geo/, tests/, benchmarks/,
#: app_pages/: ``grep -o 'webmap\.[A-Za-z_]*'``), each still reachable as ``webmap.<name>``.
CALLERS_USE = {
    "BASEMAPS", "BOUNDARY_SOURCE", "COLOUR_BY", "FRR_COLOURS", "GeoLayer", "INDICATORS", "JOIN_LAYERS", "LAYERS",
    "LOCAL_LAYERS", "MapLayers", "MapState", "NO_DATA_COLOUR", "NO_DATA_LABEL", "OTHER_COLOUR", "PRIORITY_LAYER",
    "PoleCluster", "ReadySignal", "STYLES", "ZONING_FILTERS", "asset_urls", "base_map", "boundary_layer",
    "build_map", "check_choice", "classify", "colour_map", "commune_coverage_table", "commune_place",
    "coverage_join", "coverage_layer", "esc", "explorer_base", "explorer_layers", "filter_poles", "find_communes",
    "fmt_compact", "fold", "homonyms", "layer_geojson", "layers_dir", "legend_html", "national_layers", "outlined",
    "parse_state", "pole_colour_key", "pole_points", "pole_popup", "prepare_static", "priority_join",
    "priority_layer", "prune_layers", "publish_layer", "qpv_join", "search_place", "sources_text", "state_params",
    "territory_bounds", "territory_communes", "territory_key", "territory_name", "to_geojson",
}


def _imports_folium(module: str) -> bool:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    return any(isinstance(n, ast.Import) and any(a.name.split(".")[0] == "folium" for a in n.names)
               or isinstance(n, ast.ImportFrom) and not n.level and (n.module or "").split(".")[0] == "folium"
               for n in ast.walk(tree))


@pytest.mark.parametrize("module", MODULES)
def test_each_module_is_under_600_lines_and_declares_its_public_names(module):
    _layout.assert_small_and_declared(PACKAGE, "ptce_geo.webmap", module)


def test_modules_import_each_other_without_a_circle_in_the_documented_order():
    graph = _layout.import_graph(PACKAGE)
    assert graph["compose"] >= {"elements", "files", "state", "symbols"}  # the walk does see the imports
    _layout.assert_no_circle(graph)
    # as the package's docstring says: each module imports only those listed above it
    _layout.assert_documented_order(graph, webmap.__doc__)
    # the permalink and the place search know nothing of the map they are drawn on
    assert graph["state"] == set() and graph["search"] == set()


def test_only_the_leaflet_modules_import_folium():
    assert sorted(m for m in MODULES if _imports_folium(m)) == ["compose", "elements"]


def test_package_re_exports_what_callers_use():
    assert CALLERS_USE <= set(webmap.__all__)
    assert len(webmap.__all__) == len(set(webmap.__all__))
    for name in webmap.__all__:
        assert getattr(webmap, name) is not None, name
    # one object per name: the package's name is the submodule's (a caller and a test that patches
    # the submodule see the same function)
    assert webmap.publish_layer is webmap.files.publish_layer and webmap.MapState is webmap.state.MapState
    assert webmap.static_dir() == Path(webmap.__file__).resolve().parents[2] / "static"  # beside app.py

