"""How the explorer's layers look: colours, styles, tooltips, classes of the choropleth, the legend.

Pole colours come from a fixed palette (never from user data); the coverage choropleth is
classified in quantiles (``classify``, mapclassify) on a one-hue scale; ``legend_html`` builds the
legend of what a state draws, every label HTML-escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._fmt import esc, fmt_int
from .state import INDICATORS, LAYERS, NATIONAL_CLASSES, MapState, check_choice

if TYPE_CHECKING:
    from .compose import MapLayers

__all__ = ["Classes", "classify", "colour_map", "coverage_frame", "coverage_values", "FRR_COLOURS", "legend_html",
           "NO_DATA_COLOUR", "NO_DATA_LABEL", "OTHER_COLOUR", "outlined", "pole_colour_key", "POPUPS", "STYLES",
           "TOOLTIPS", "ZRR_COLOURS"]

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


# --------------------------------------------------------------------------- styles of the layers

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


def colour_map(values: list[str]) -> dict[str, str]:
    return {v: _PALETTE[i % len(_PALETTE)] for i, v in enumerate(values)}


def pole_colour_key(row, colour_by: str) -> str:
    if colour_by == "appel":
        return row["appel"] if isinstance(row["appel"], str) and row["appel"] else "autre"
    secteurs = row["secteurs"]
    if isinstance(secteurs, (list, tuple, np.ndarray)) and len(secteurs):
        return str(secteurs[0])
    return "autre"


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
    fmt = (lambda v: f"{v * 100:.0f} %") if percent else (lambda v: fmt_int(round(v)))
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


def coverage_frame(table: pd.DataFrame, indicator: str) -> tuple[pd.DataFrame, Classes]:
    """code, nom, valeur, couleur, valeur_texte of each row of a coverage table, and the classes."""
    values = coverage_values(table, indicator)
    frame = pd.DataFrame({"code": table["code"].to_numpy(), "nom": table["nom"].to_numpy(),
                          "valeur": values.to_numpy()})
    classes = classify(frame["valeur"], percent=indicator == "taux",
                       palette=_CHORO_RATE if indicator == "taux" else _CHORO)
    frame["couleur"] = [classes.colours[i] if i >= 0 else NO_DATA_COLOUR for i in classes.index]
    fmt = (lambda v: NO_DATA_LABEL if pd.isna(v) else f"{v * 100:.0f} %") if indicator == "taux" \
        else (lambda v: NO_DATA_LABEL if pd.isna(v) else f"{fmt_int(round(v))} hab.")
    frame["valeur_texte"] = frame["valeur"].map(fmt)
    return frame, classes


def _swatch(colour: str, label: str, shape: str = "square", edge: str | None = None) -> str:
    """A legend square (or disc); ``edge``: its outline as drawn on the map (« 2px dashed #b35806 »)."""
    radius = "50%" if shape == "circle" else "2px"
    border = edge or ("1px solid #222" if shape == "circle" else "1px solid #555")
    return (f"<div><span style='display:inline-block;width:11px;height:11px;margin-right:5px;"
            f"background:{esc(colour)};border:{esc(border)};border-radius:{radius}'></span>{esc(label)}</div>")


def _line(colour: str, label: str, weight: int = 2) -> str:
    return (f"<div><span style='display:inline-block;width:16px;height:0;margin:0 5px 3px 0;"
            f"border-top:{weight}px solid {esc(colour)}'></span>{esc(label)}</div>")


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
