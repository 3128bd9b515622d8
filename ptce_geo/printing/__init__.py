"""Printable maps and the regional atlas (matplotlib, no Streamlit).

A map of one région, one département or the whole of France on A4/A3 paper, portrait or
landscape, saved as PDF, PNG (300 dpi) or SVG, with a title, a subtitle, a legend of every
layer drawn, a scale bar in km, a north arrow, a locator inset and a footer naming the
sources and vintages of every layer drawn, the date of the map and the licence.

Layers are projected once per metric CRS (Lambert-93 in metropolitan France, the local UTM
CRS overseas, see :data:`ptce_geo.settings.OVERSEAS_CRS`), simplified in metres for print
scale and cached as GeoParquet (:func:`ptce_geo._cache.cached_frame`). Polygons of one style
are drawn as ONE compound path, which keeps a page under a second.

Every layer is optional: a layer whose module or data is unavailable (priority layers,
pole registry, coverage) is left out of the map, the legend and the footer, and the footer
says which layer is missing.

Main entry points::

    fig = printing.render(printing.territory("region", "32"))
    printing.save(fig, "hdf.pdf")
    printing.print_map(printing.territory("departement", "974"), "reunion.png")
    printing.atlas("atlas.pdf")               # cover + the 18 régions

The modules, each with one reason to change (a module imports only those above it):

============  =====================================================================
choices       what a user may choose (paper, orientation, format, layers, dpi)
style         how each layer looks (colours, hatches, widths, symbol sizes)
data          the layers a print draws, projected, simplified and kept in memory
territories   a région, a département or France, and its shape
draw          fast drawing: one compound path per style
text          titles, footer, sources and dates, French typography, text measure
legend        what a map drew (``Drawn``), legend symbols and layout
labels        pole names placed around the dots
layers        ``plot_layers``: a canvas and one drawer per layer
furniture     scale bar, north arrow, locator map
page          ``render``: grid → header → map → legend → footer; the national page
output        files (PDF/PNG/SVG with metadata) and the atlas
============  =====================================================================
"""

from __future__ import annotations

from .choices import (DEFAULT_LAYERS, DEFAULT_TITLE, DPI_PNG, DPI_RANGE, FORMATS, KINDS, LAYERS, LICENCE,
                      MARGIN_MM, ORIENTATIONS, PAPERS, check_dpi, check_layers, choice, default_layers)
from .style import (LOCATOR_COLOUR, PATTERN_NAMES, POLE_SIZE, PRIORITY_NOTE, QPV_CLASSES, QPV_MIN_MM,
                    QPV_SQUARE, STYLE, pattern_label)
from .data import catchment_radius_km, clear_memo, prepare, projected, qpv_points
from .territories import region_codes, Territory, territory, territory_choices, territory_shape
from .draw import line_path, polygon_path
from .text import (NBSP, bind_punctuation, boundaries_source, default_subtitle, default_title, fit_title,
                   footer_text, format_scale, french_dates, source_item)
from .labels import place_labels, pole_label
from .layers import plot_layers
from .furniture import add_locator, add_north_arrow, add_scalebar
from .page import render
from .output import ATLAS_ORIENTATION, atlas, print_map, render_cover, save, to_bytes

__all__ = ["add_locator", "add_north_arrow", "add_scalebar", "atlas", "ATLAS_ORIENTATION", "bind_punctuation",
           "boundaries_source", "catchment_radius_km", "check_dpi", "check_layers", "choice", "clear_memo", "default_layers",
           "DEFAULT_LAYERS", "default_subtitle", "default_title", "DEFAULT_TITLE", "DPI_PNG", "DPI_RANGE",
           "fit_title", "footer_text", "format_scale", "FORMATS", "french_dates", "KINDS", "LAYERS", "LICENCE",
           "line_path", "LOCATOR_COLOUR", "MARGIN_MM", "NBSP", "ORIENTATIONS", "PAPERS", "pattern_label",
           "PATTERN_NAMES", "place_labels", "plot_layers", "pole_label", "POLE_SIZE", "polygon_path", "prepare",
           "print_map", "PRIORITY_NOTE", "projected", "QPV_CLASSES", "QPV_MIN_MM", "qpv_points", "QPV_SQUARE",
           "region_codes", "render", "render_cover", "save", "source_item", "STYLE", "territory", "Territory",
           "territory_choices", "territory_shape", "to_bytes"]
