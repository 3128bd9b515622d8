"""What a coverage result is: the zonings and levels, ``CommuneCoverage``, and the French texts
of its parameters and vintages (``describe`` for export files, ``explain`` for readers)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from .._errors import ParameterError, UnknownChoiceError

if TYPE_CHECKING:
    from .base import Base

__all__ = [
    "ZONINGS", "LEVELS", "TERRITORY_LEVELS", "GAP_LEVELS", "DEFAULT_RADIUS_KM", "TOLERANCE_M", "ZONING_FLAGS",
    "ZONING_LAYERS", "ZONING_SHORT", "ZONING_LABELS", "ALL_DEFINITION", "TERRITORY_COLUMNS", "QPV_COLUMNS",
    "CommuneCoverage", "stamp_frame", "describe", "explain", "vintages_text", "check_params",
]


ZONINGS = ("qpv", "territoires-industrie", "frr", "zrr", "all")
LEVELS = ("commune", "epci", "departement", "region")
TERRITORY_LEVELS = LEVELS + ("qpv", "territoires-industrie")
GAP_LEVELS = ("commune", "epci", "qpv", "territoires-industrie")
DEFAULT_RADIUS_KM = 15.0
TOLERANCE_M = 1e-3

# zoning key → flag column of priority.flags()
ZONING_FLAGS = {
    "qpv": "in_qpv",
    "territoires-industrie": "in_territoire_industrie",
    "frr": "frr",
    "zrr": "zrr",
    "all": "priority",
}
# zoning key → the priority layers it is made of (ZRR is historical: not in "all")
ZONING_LAYERS = {
    "qpv": ("qpv",),
    "territoires-industrie": ("territoires-industrie",),
    "frr": ("frr",),
    "zrr": ("zrr",),
    "all": ("qpv", "territoires-industrie", "frr"),
}
# zoning key → short suffix used in per-zoning column names
ZONING_SHORT = {"qpv": "qpv", "territoires-industrie": "ti", "frr": "frr", "zrr": "zrr", "all": "all"}
ZONING_LABELS = {
    "qpv": "QPV",
    "territoires-industrie": "Territoire d'industrie",
    "frr": "FRR",
    "zrr": "ZRR",
    "all": "toutes zones prioritaires",
}
#: What the population of zoning ``all`` is made of (said wherever the figure is shown).
ALL_DEFINITION = ("population des communes en Territoire d'industrie ou FRR, plus les habitants (INSEE) des QPV "
                  "dont aucune commune n'est l'une d'elles ; les autres habitants d'une commune qui compte "
                  "seulement un QPV ne sont jamais comptés")

TERRITORY_COLUMNS = [
    "code", "nom", "poles", "communes", "population", "priority_communes", "priority_population",
    "priority_population_covered", "coverage_rate",
]
#: QPV columns of every territory table (QPV counted once per territory they touch).
QPV_COLUMNS = ["qpv_count", "qpv_covered", "qpv_share_covered", "qpv_population", "qpv_population_covered",
               "qpv_coverage_rate", "qpv_without_population"]


# --------------------------------------------------------------------------- results

@dataclass
class CommuneCoverage:
    """Coverage of every commune for one set of parameters.

    communes : DataFrame, one row per commune (see ``compute``).
    params : dict, the parameters (radius_km, use_perimeter, zoning, counts of poles).
    vintages : dict, layer → vintage text of every layer used.
    poles : DataFrame, the poles used (id, nom, commune, group, x, y in metres).
    """

    communes: pd.DataFrame
    params: dict
    vintages: dict
    poles: pd.DataFrame = field(repr=False, default=None)
    base: "Base" = field(repr=False, default=None)
    qpv: pd.DataFrame = field(repr=False, default=None)  # one row per QPV (qpv.COLUMNS + commune_ti_frr)
    registry: dict = field(repr=False, default=None)  # size of the pole registry (see registry_counts)


def stamp_frame(frame: pd.DataFrame, params: dict, vintages: dict) -> pd.DataFrame:
    frame.attrs["params"] = dict(params)
    frame.attrs["vintages"] = dict(vintages)
    return frame


def describe(params: dict, vintages: dict) -> tuple[str, str]:
    """The parameters and vintages as two short French texts (export columns, captions)."""
    p = params
    parts = [f"rayon_km={p.get('radius_km') if p.get('radius_km') is not None else 'aucun'}",
             f"perimetre={'oui' if p.get('use_perimeter') else 'non'}",
             f"zonage={p.get('zoning')}"]
    for key in ("count", "region", "candidates_in_zoning", "level", "objective", "qpv_population"):
        if key in p and p[key] is not None:
            parts.append(f"{key}={p[key]}")
    return "; ".join(parts), "; ".join(f"{k} : {v}" for k, v in vintages.items())


_LEVEL_LABELS = {"commune": "communes", "epci": "EPCI", "departement": "départements", "region": "régions",
                 "qpv": "quartiers prioritaires", "territoires-industrie": "Territoires d'industrie"}
_VINTAGE_LABELS = {"communes": "Communes", "poles": "Pôles", "zonage qpv": "QPV",
                   "zonage territoires-industrie": "Territoires d'industrie", "zonage frr": "FRR",
                   "population qpv": "Population des QPV",
                   "zonage zrr": "ZRR (historique)", "couches manquantes": "Couches manquantes"}


def explain(params: dict, vintages: dict) -> tuple[str, str]:
    """The parameters and vintages as two French sentences for a reader (page captions);
    ``describe`` gives the compact form written in export files."""
    p = params
    radius = p.get("radius_km")
    parts = [f"rayon de {radius:g} km autour de chaque pôle" if radius else "sans rayon (périmètres seuls)",
             "périmètres déclarés comptés" if p.get("use_perimeter") else "périmètres déclarés ignorés",
             f"zonage : {ZONING_LABELS.get(p.get('zoning'), p.get('zoning'))}"]
    if p.get("level"):
        parts.append(f"territoires : {_LEVEL_LABELS.get(p['level'], p['level'])}")
    if p.get("count") is not None:
        parts.append(f"{p['count']} sites demandés")
    if p.get("region"):
        parts.append(f"région {p['region']}")
    if p.get("candidates_in_zoning"):
        parts.append("sites choisis dans le zonage")
    if p.get("zoning") in ("qpv", "all") and p.get("qpv_population"):
        parts.append("population des QPV : " + ("INSEE" if p["qpv_population"] == "INSEE" else
                                                 "inconnue, les QPV sont comptés en nombre de quartiers"))
    if p.get("zoning") == "all":
        parts.append(f"population « toutes zones » = {ALL_DEFINITION}")
    return " ; ".join(parts), vintages_text(vintages)


def vintages_text(vintages: dict) -> str:
    """« Communes : COG 2025 … ; QPV : … » — the vintages of a result in French."""
    return " ; ".join(f"{_VINTAGE_LABELS.get(k, k)} : {v}" for k, v in vintages.items())


def check_params(radius_km, zoning) -> None:
    if zoning not in ZONING_FLAGS:
        raise UnknownChoiceError("Zonage", zoning, ZONINGS)
    if radius_km is not None:
        try:
            ok = float(radius_km) >= 0 and math.isfinite(float(radius_km))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ParameterError(
                f"Rayon invalide : {radius_km!r}. Donnez un nombre de kilomètres positif (par exemple 15)."
            )
