"""How each layer looks on paper: colours, hatches, line widths, symbol sizes, legend order.

Colour-blind-safe (Okabe-Ito) colours with distinct lightness steps, plus hatching, so that
every class stays distinguishable in greyscale. Line widths are for A4 and scale with the
paper (:func:`scaled`).
"""

from __future__ import annotations



__all__ = ["STYLE", "POLE_SIZE", "QPV_SQUARE", "QPV_MIN_MM", "LOCATOR_COLOUR", "PRIORITY_NOTE", "QPV_CLASSES",
           "RANK", "PATTERN_NAMES", "pattern_label", "scaled"]


# Colour-blind-safe (Okabe-Ito) colours with distinct lightness steps, plus hatching,
# so that every class stays distinguishable in greyscale (luminance steps ≥ 0.15 between the
# classes of one map and the grey of the context, see tests). Line widths are for A4 and
# scale with the paper (``scaled``).
STYLE = {
    "context": {"facecolor": "#d6d6d6", "edgecolor": "#f4f4f4", "linewidth": 0.4},
    # commune edges: translucent black, so that they stay a faint mesh on every fill (a PDF
    # viewer draws hairlines at one pixel at least: a grey line would turn into a dark mesh)
    "commune_edge": {"edgecolor": (0.0, 0.0, 0.0, 0.16), "linewidth": 0.15},
    "frr_plus": {"facecolor": "#009E73", "label": "Commune FRR+"},
    "frr": {"facecolor": "#7fcaa6", "label": "Commune FRR (socle, bénéficiaire, partielle)"},
    "other": {"facecolor": "#ffffff", "label": "Commune non classée FRR"},
    "commune": {"facecolor": "#ffffff", "label": "Commune"},
    "covered": {"facecolor": "#0072B2", "label": "Commune prioritaire à portée d'un pôle"},
    "uncovered": {"facecolor": "#E69F00", "hatch": "....", "label": "Commune prioritaire sans pôle à portée"},
    "not_priority": {"facecolor": "#ffffff", "label": "Commune non prioritaire"},
    "ti": {"edgecolor": "#56B4E9", "hatch": "////", "linewidth": 0.9, "label": "Territoire d'industrie"},
    "qpv": {"color": "#D55E00", "label": "Quartier prioritaire (QPV 2024)"},
    "qpv_small": {"color": "#D55E00",
                  "label": "Quartier prioritaire (QPV 2024), symbole là où son contour ferait moins de 1 mm"},
    "qpv_points": {"color": "#D55E00", "label": "Commune comptant au moins un QPV :"},
    "departement": {"edgecolor": "#1a1a1a", "linewidth": 1.1, "label": "Limites des départements"},
    "epci": {"edgecolor": "#6b6b6b", "linewidth": 0.45, "label": "Limite d'EPCI"},
    "territory": {"edgecolor": "#000000", "linewidth": 1.8},
    "coast": {"edgecolor": "#000000", "linewidth": 0.9, "label": "Contour de la France (littoral, frontières)"},
    "pole": {"color": "#000000", "label": "Pôle (PTCE)"},
    "catchment": {"edgecolor": "#000000", "facecolor": (0.0, 0.0, 0.0, 0.035), "linewidth": 0.7,
                  "linestyle": (0, (4, 2))},
}

#: Diameter of a pole's dot (points on A4): the subject of the map, its strongest symbol.
POLE_SIZE = 7.0

#: Side (points on A4) of the square standing for a QPV whose contour would be under 1 mm.
QPV_SQUARE = 2.2
QPV_MIN_MM = 1.0

#: Locator map: the territory shown (not the vermilion of the QPV).
LOCATOR_COLOUR = "#CC79A7"
PRIORITY_NOTE = ("Prioritaire : commune comptant un QPV, membre d'un Territoire d'industrie ou classée FRR ; "
                 "une commune qui ne compte qu'un QPV est couverte quand l'un de ses QPV l'est")

#: QPV drawn as the point of their commune: classes of the number of QPV at one point
#: (low, high, legend label, side of the square in points on A4 at regional scale).
QPV_CLASSES = ((1, 1, "1 QPV", 2.8), (2, 4, "2 à 4 QPV", 3.8), (5, 9, "5 à 9 QPV", 5.0),
               (10, 10**9, "10 QPV ou plus", 6.4))

#: Order of the legend entries (``handle.ptce_rank``).
RANK = {"frr_plus": 10, "frr": 11, "covered": 12, "uncovered": 13, "not_priority": 14, "priority_note": 15,
         "other": 16, "commune": 16, "context": 18, "ti": 20, "qpv": 30, "qpv_points": 31, "pole": 40, "catchment": 41,
         "territory": 50, "coast": 50, "departement": 51, "epci": 52}

#: What each hatch looks like, in the legend's words: a class never told by its colour alone
#: (greyscale prints, colour-blind readers).
PATTERN_NAMES = {"....": "pointillé", "////": "hachures obliques", "\\\\": "hachures obliques",
                 "xx": "quadrillage", "--": "hachures horizontales", "||": "hachures verticales"}


def pattern_label(label: str, style: dict) -> str:
    """``label`` followed by the name of its hatch, if any (« Territoire d'industrie (hachures obliques) »)."""
    name = PATTERN_NAMES.get(style.get("hatch", ""))
    return f"{label} ({name})" if name and f"({name})" not in label else label


def scaled(style: dict, k: float) -> dict:
    """A style for paper scale ``k`` (1 on A4, 1.41 on A3): line widths grow with the paper."""
    out = {key: value for key, value in style.items() if key != "label"}
    if "linewidth" in out:
        out["linewidth"] = out["linewidth"] * k
    if "hatch" in out:
        out["hatch_linewidth"] = 0.45 * k
    return out
