"""What a map shows: a région, a département or France (:class:`Territory`), and its shape."""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely

from .. import settings
from .._errors import UnknownChoiceError
from .choices import KINDS, choice
from .data import memo, projected, table

__all__ = ["Territory", "territory", "territory_choices", "region_codes", "territory_shape"]


@dataclass(frozen=True)
class Territory:
    """What a map shows: a région, a département or France (``kind``, ``code``)."""

    kind: str
    code: str | None
    nom: str
    crs: str
    departements: tuple[str, ...] = field(default=())

    @property
    def overseas(self) -> bool:
        return self.crs != settings.get().metric_crs

    @property
    def label(self) -> str:
        if self.kind == "france":
            return "France"
        if self.kind == "departement":
            return f"{self.nom} ({self.code})"
        return self.nom


def territory(kind: str, code: str | None = None) -> Territory:
    """Resolve ``("region", "32")``, ``("departement", "974")`` or ``("france",)``."""
    choice("Type de territoire", kind, KINDS)
    conf = settings.get()
    if kind == "france":
        return Territory("france", None, "France", conf.metric_crs)
    layer = table(kind)
    code = str(code).strip().upper() if code is not None else code  # "2a" → "2A"
    if code and len(code) == 1 and code.isdigit():  # "3" → "03" (région), "1" → "01" (département)
        code = "0" + code
    if code not in layer.index:
        raise UnknownChoiceError(
            "Code de région" if kind == "region" else "Code de département", code, layer.index
        )
    row = layer.loc[code]
    deps = tuple(row["departements"].split(";")) if kind == "region" else (code,)
    return Territory(kind, code, row["nom"], conf.crs_for_departement(deps[0]), deps)


def territory_choices() -> dict[str, tuple[str, str | None]]:
    """French labels → ``(kind, code)`` for a select box: France, régions, départements."""
    out: dict[str, tuple[str, str | None]] = {"France entière": ("france", None)}
    for code, row in table("region").iterrows():
        out[f"Région — {row['nom']} ({code})"] = ("region", code)
    for code, row in table("departement").iterrows():
        out[f"Département — {row['nom']} ({code})"] = ("departement", code)
    return out


def region_codes() -> list[str]:
    """The 18 région codes, overseas first (INSEE order)."""
    return list(table("region").index)


def territory_shape(terr: Territory, crs: str | None = None, tier: str = "fine"):
    """The territory as one polygon in ``crs`` (prepared): the région, the département, or
    France (what lies in ``crs``) — what every layer is clipped to."""
    crs = crs or terr.crs

    def build():
        if terr.kind == "region":
            regions = projected("region", crs, tier)
            geoms = regions.geometry.values[regions["code"].eq(terr.code).to_numpy()]
        elif terr.kind == "departement":
            deps = projected("departement", crs, tier)
            geoms = deps.geometry.values[deps["code"].isin(terr.departements).to_numpy()]
        else:
            geoms = projected("region", crs, tier).geometry.values
        shape = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        shapely.prepare(shape)
        return shape

    return memo(f"shape-{terr.kind}-{terr.code}-{crs}-{tier}", build)
