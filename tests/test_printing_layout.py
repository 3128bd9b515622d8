"""The shape of the ``printing`` package (issue 15): small modules in layers with no import
circle, one public face re-exported from ``printing/__init__``, matplotlib imported only when a
map is drawn, and the map drawn by one drawer per layer."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import _layout
import pytest

from ptce_geo import printing
from ptce_geo._errors import UnknownChoiceError

PACKAGE = Path(printing.__file__).parent
MODULES = _layout.modules(PACKAGE)

#: The public names of the single-module ``printing.py`` (callers: cli, ui.impression, tests, benchmarks),
#: plus ``choice`` (formerly the private ``_choice``, which the CLI used).
PUBLIC_API = {
    "ATLAS_ORIENTATION", "DEFAULT_LAYERS", "DEFAULT_TITLE", "DPI_PNG", "DPI_RANGE", "FORMATS", "KINDS", "LAYERS",
    "LICENCE", "LOCATOR_COLOUR", "MARGIN_MM", "NBSP", "ORIENTATIONS", "PAPERS", "PATTERN_NAMES", "POLE_SIZE",
    "PRIORITY_NOTE", "QPV_CLASSES", "QPV_MIN_MM", "QPV_SQUARE", "STYLE", "Territory", "add_locator",
    "add_north_arrow", "add_scalebar", "atlas", "bind_punctuation", "boundaries_source", "catchment_radius_km",
    "check_dpi", "check_layers", "choice", "clear_memo", "default_layers", "default_subtitle", "default_title", "fit_title",
    "footer_text", "format_scale", "french_dates", "line_path", "pattern_label", "place_labels", "plot_layers",
    "pole_label", "polygon_path", "prepare", "print_map", "projected", "qpv_points", "region_codes", "render",
    "render_cover", "save", "source_item", "territory", "territory_choices", "territory_shape", "to_bytes",
}


@pytest.mark.parametrize("module", MODULES)
def test_each_module_is_under_600_lines_and_declares_its_public_names(module):
    _layout.assert_small_and_declared(PACKAGE, "ptce_geo.printing", module)


def test_modules_import_each_other_without_a_circle():
    graph = _layout.import_graph(PACKAGE)
    assert graph["layers"] >= {"data", "draw", "legend"}  # the walk does see the imports
    _layout.assert_no_circle(graph)
    # and as the package's docstring says: each module imports only those listed above it
    _layout.assert_documented_order(graph, printing.__doc__)
    # the plumbing at the bottom knows nothing of the page
    for low in ("choices", "style", "draw"):
        assert not graph[low] - {"choices", "style"}, (low, graph[low])


def test_package_re_exports_the_public_api_of_the_former_module():
    assert set(printing.__all__) == PUBLIC_API
    for name in PUBLIC_API:
        assert getattr(printing, name) is not None
    # submodules stay reachable beside same-named functions
    assert callable(printing.territory) and callable(printing.atlas)
    assert printing.data.poles_layer is not None and printing.output.print_rc is not None
    # the CLI validates the atlas format with it
    with pytest.raises(UnknownChoiceError, match="Format de l'atlas"):
        printing.choice("Format de l'atlas", "png", {"pdf": "pdf"})


def test_importing_printing_leaves_matplotlib_unloaded():
    """The CLI and the app import ``printing`` without drawing anything: matplotlib (≈ 0.5 s)
    is imported by the functions that draw."""
    code = "import sys, ptce_geo.printing; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plot_layers_is_a_canvas_and_its_drawers_in_drawing_order():
    from ptce_geo.printing import layers

    names = [d.__name__ for d in layers.DRAWERS]
    assert names == ["draw_context", "draw_communes", "draw_territoires_industrie", "draw_epci",
                     "draw_departements", "draw_outline", "draw_qpv", "draw_poles"]
    body = ast.parse((PACKAGE / "layers.py").read_text(encoding="utf-8"))
    plot = next(n for n in body.body if getattr(n, "name", "") == "plot_layers")
    assert plot.end_lineno - plot.lineno < 30  # a table of contents, not the drawing itself


def test_render_reads_as_grid_header_map_legend_footer():
    from ptce_geo.printing import page

    tree = ast.parse((PACKAGE / "page.py").read_text(encoding="utf-8"))
    render = next(n for n in tree.body if getattr(n, "name", "") == "render")
    nodes = sorted((n for n in ast.walk(render) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    calls = [n.func.id if isinstance(n.func, ast.Name) else n.func.attr for n in nodes]
    order = [name for name in calls if name in ("_grid", "_draw_header", "lay_out_body", "_draw_map", "_draw_legend",
                                                "_draw_footer")]
    assert order == sorted(order, key=["_grid", "_draw_header", "lay_out_body", "_draw_map", "_draw_legend",
                                       "_draw_footer"].index)
    assert len(set(order)) == 6
    assert render.end_lineno - render.lineno < 40
    assert page.Grid(210.0, 297.0, portrait=True).k == 1.0


def test_a_single_print_reads_only_its_communes_then_the_whole_layer_is_kept():
    """Print speed: the first territory of a process reads only its communes' rows of the
    cached layer; the next ones (atlas, app server) read the whole layer once. Same rows, same
    order, same geometries either way."""
    import shapely

    from ptce_geo import settings
    from ptce_geo.printing import data

    crs = settings.get().metric_crs
    whole = data.projected("commune", crs, "fine")  # the cache file exists
    data.clear_memo()
    part = data.communes_of(crs, "fine", ("93",))
    name = data._projected_name("commune", crs, "fine")[0]
    assert data._memo_key(name) not in data._MEMO  # France's 35,000 communes not decoded
    expected = whole[whole["departement"].eq("93").to_numpy()]
    assert 30 < len(part) < 100
    assert list(part["code"]) == list(expected["code"])
    assert shapely.equals_exact(part.geometry.values, expected.geometry.values, tolerance=0).all()
    assert part.crs == whole.crs
    other = data.communes_of(crs, "fine", ("94", "92"))  # the second territory: the whole layer
    assert data._memo_key(name) in data._MEMO
    assert set(other["departement"]) == {"92", "94"}
    data.clear_memo()
