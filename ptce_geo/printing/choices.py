"""What a user may choose for a print: paper, orientation, format, territory kind, layers, resolution.

A choice is a dict lookup (:func:`choice`): a wrong key raises ``UnknownChoiceError`` listing the
valid ones. Also the page constants every other module shares (margins, licence, default title)
and the simplification tiers of the print layers (one per scale).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._errors import UnknownChoiceError, ValidationError

if TYPE_CHECKING:
    from .territories import Territory

__all__ = ["PAPERS", "ORIENTATIONS", "FORMATS", "KINDS", "LAYERS", "DEFAULT_LAYERS", "DPI_PNG", "DPI_RANGE",
           "MARGIN_MM", "LICENCE", "DEFAULT_TITLE", "TIERS_M", "scale_tier", "choice", "check_dpi",
           "default_layers", "check_layers"]


#: Paper sizes in millimetres (portrait width, height).
PAPERS: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "a3": (297.0, 420.0)}
ORIENTATIONS: dict[str, str] = {"portrait": "portrait", "landscape": "paysage"}

#: Output formats and the matplotlib backend format they use.
FORMATS: dict[str, str] = {"pdf": "pdf", "png": "png", "svg": "svg"}
KINDS: dict[str, str] = {"region": "Région", "departement": "Département", "france": "France"}

#: Map layers a user may choose (key → French label).
LAYERS: dict[str, str] = {
    "departements": "Limites départementales",
    "epci": "Limites des EPCI",
    "zonage": "Communes selon le classement FRR (FRR, FRR+)",
    "couverture": "Communes selon la couverture par un pôle",
    "territoires-industrie": "Territoires d'industrie",
    "qpv": "Quartiers prioritaires (QPV 2024)",
    "poles": "Pôles (PTCE)",
}
DEFAULT_LAYERS: tuple[str, ...] = ("departements", "epci", "zonage", "territoires-industrie", "qpv", "poles")
DPI_PNG = 300

#: Valid PNG resolutions (dots per inch).
DPI_RANGE = (72, 600)
MARGIN_MM = 10.0
LICENCE = (
    "Licence Ouverte / Etalab 2.0 — données publiques INSEE, IGN, ANCT, DGCL, réutilisables "
    "librement sous réserve de mentionner la source et la date"
)
DEFAULT_TITLE = "Pôles territoriaux de coopération économique et territoires prioritaires"

# Print simplification tolerances (metres), one tier per scale: about 0.08 mm on paper at the
# smallest scale each tier serves (département ≈ 1:500k, région ≈ 1:1.5M, France ≈ 1:5M).
TIERS_M: dict[str, float] = {"fine": 40.0, "medium": 120.0, "coarse": 400.0}


def scale_tier(scale_denominator: float | None) -> str:
    """The simplification tier (``TIERS_M``) of a map at 1:``scale_denominator`` (« fine » when unknown)."""
    if not scale_denominator:
        return "fine"
    tol = scale_denominator * 0.1e-3  # 0.1 mm on paper, in metres
    return "coarse" if tol >= TIERS_M["coarse"] else "medium" if tol >= TIERS_M["medium"] else "fine"


def choice(what: str, value, valid: dict):
    """``valid[value]``, else ``UnknownChoiceError`` naming ``what`` and listing the valid keys."""
    try:
        return valid[value]
    except (KeyError, TypeError):
        raise UnknownChoiceError(what, value, valid) from None


def check_dpi(dpi) -> int:
    """A PNG resolution between 72 and 600 dpi, else a French error naming the value."""
    lo, hi = DPI_RANGE
    try:
        value = int(dpi)
        ok = value == float(dpi) and lo <= value <= hi
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValidationError(
            f"Résolution invalide : {dpi!r} dpi. Valeurs possibles : un entier de {lo} à {hi} "
            f"(défaut {DPI_PNG})."
        )
    return value


def default_layers(terr: "Territory | None" = None) -> tuple[str, ...]:
    """The layers drawn when none are chosen: EPCI limits are left out of the national map
    (unreadable at 1:7 000 000), so they are not « omitted » there either."""
    if terr is not None and terr.kind == "france":
        return tuple(key for key in DEFAULT_LAYERS if key != "epci")
    return DEFAULT_LAYERS


def check_layers(layers: Iterable[str] | None) -> tuple[str, ...]:
    """Validated layer keys (``None`` → :data:`DEFAULT_LAYERS`)."""
    if layers is None:
        return DEFAULT_LAYERS
    if isinstance(layers, str):
        layers = [part for part in layers.replace(",", " ").split() if part]
    out = []
    for key in layers:
        choice("Nom de couche", key, LAYERS)
        if key not in out:
            out.append(key)
    if "zonage" in out and "couverture" in out:
        raise ValidationError(
            "Les couches 'zonage' et 'couverture' colorient toutes deux les communes : "
            "choisissez l'une ou l'autre."
        )
    return tuple(out)
