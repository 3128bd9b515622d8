"""The poles as a layer: ``load()`` of the registry, search, and the checks of a record's place.

A pole (PTCE) is one row with the columns of ``COLUMNS``. ``load()`` reads the registry
(``registry.py``, created from ``geodata/poles_seed.csv`` on first use) and returns a
GeoDataFrame in EPSG:4326 where a pole without a point (``localise=False``) has an
empty geometry: such poles are listed but never drawn at a guessed place.

The columns, vocabularies and ``normalize(raw)`` (one raw record → clean record and its
``(field, French message)`` problems) live in the pure ``schema`` module and are re-exported
here; ``validate`` adds the territory checks (``_territory``: the code exists, the point is in
France), ``edit`` saves a form's values with the registry's version check.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import shapely

from . import _territory, registry, settings
from ._errors import ValidationError
from .communes import commune_point
from .schema import (APPELS, COLUMNS, EDITABLE, FIRST_YEAR, GEOCODAGES, MAX_SECTEUR_CHARS, SECTEURS, blank,
                     canonical_appel, canonical_secteur, fold, guess_secteur, normalize, normalize_insee, parse_bool,
                     parse_int, parse_number, parse_secteurs, same_commune_name)

__all__ = [
    # the schema (``schema``), re-exported: the names callers have always used
    "COLUMNS", "EDITABLE", "SECTEURS", "APPELS", "GEOCODAGES", "FIRST_YEAR", "MAX_SECTEUR_CHARS", "fold", "blank",
    "parse_number", "parse_int", "parse_bool", "canonical_secteur", "guess_secteur", "parse_secteurs",
    "canonical_appel", "normalize_insee", "normalize", "same_commune_name", "commune_point",
    # the layer and the checks of a place
    "MAX_DISTANCE_M", "to_frame", "load", "vintage", "search", "commune_at", "validate", "validate_many",
    "check_territory", "edit_changes", "edit",
]
# ---------------------------------------------------------------- load


def to_frame(records: list[dict]) -> gpd.GeoDataFrame:
    """Records (dicts with ``COLUMNS``) → GeoDataFrame EPSG:4326, None geometry if not located."""
    table = pd.DataFrame(records, columns=COLUMNS)
    for col in ("annee_creation", "membres"):
        table[col] = pd.array(table[col].tolist(), dtype="Int64")
    table["latitude"] = pd.to_numeric(table["latitude"], errors="coerce").astype(float)
    table["longitude"] = pd.to_numeric(table["longitude"], errors="coerce").astype(float)
    table["localise"] = table["localise"].astype(bool)
    table["version"] = table["version"].astype(int)
    for col in ("secteurs", "perimetre"):
        table[col] = [list(v) if isinstance(v, (list, tuple)) else [] for v in table[col]]
    geom = [
        shapely.Point(lon, lat) if loc and not (math.isnan(lat) or math.isnan(lon)) else None
        for loc, lat, lon in zip(table["localise"], table["latitude"], table["longitude"])
    ]
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geom, crs=settings.WEB_CRS), crs=settings.WEB_CRS)


def load(located_only: bool = False) -> gpd.GeoDataFrame:
    """Every pole of the registry (created from the seed on first use), EPSG:4326.

    Parameters
    ----------
    located_only : bool
        Keep only poles with a point (``localise``), e.g. for coverage and the map.
    """
    frame = to_frame(registry.records())
    if located_only:
        frame = frame[frame["localise"]].reset_index(drop=True)
    return frame


def vintage(stamp: str | None = None) -> str:
    """``"registre ptce-geo, mis à jour le 2026-11-22"`` (date of the last change; read from a
    ``registry.stamp()`` already at hand, else from the registry)."""
    updated = registry.stamp_date(stamp) if stamp else registry.updated_at()
    return f"registre ptce-geo, mis à jour le {updated[:10]}"


def search(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows whose name, commune, address, sectors, call or id contain every word of ``text``."""
    words = fold(text).split()
    if not words:
        return frame
    hay = (
        frame["nom"].fillna("") + " " + frame["commune"].fillna("") + " " + frame["adresse"].fillna("") + " "
        + frame["secteurs"].map(lambda v: " ".join(v) if isinstance(v, list) else "") + " "
        + frame["appel"].fillna("") + " " + frame["id"].fillna("") + " " + frame["code_insee"].fillna("")
    ).map(fold)
    mask = pd.Series(True, index=frame.index)
    for w in words:
        mask &= hay.str.contains(w, regex=False)
    return frame[mask]


# ---------------------------------------------------------------- territory checks

# A point farther than this from its commune (or from any commune) is rejected.
MAX_DISTANCE_M = _territory.MAX_DISTANCE_M


def commune_at(lat: float, lon: float) -> str | None:
    """INSEE code of the commune holding (or within 2 km of) a point; None outside France."""
    return _territory.communes_at(_territory.communes(_territory.communes_key()), [lat], [lon])[0]


def validate(raw: dict, warnings: list | None = None) -> tuple[dict, list[tuple[str, str]]]:
    """``normalize`` then ``check_territory``: every problem of a record at once.

    The place is checked even when other fields are wrong (a bad year does not hide an
    unknown INSEE code); it is skipped only when the code itself is malformed.
    """
    return validate_many([raw], [warnings] if warnings is not None else None)[0]


def validate_many(raws: list[dict], warnings: list[list] | None = None) -> list[tuple[dict, list[tuple[str, str]]]]:
    """``validate`` of many records, their places checked in one vectorised pass (``_territory``)."""
    out, places, where = [], [], []
    for i, raw in enumerate(raws):
        rec, problems = normalize(raw, warnings[i] if warnings is not None else None)
        out.append((rec, problems))
        if not any(f == "code_insee" for f, _ in problems):
            place = dict(rec)
            if any(f in ("latitude", "longitude") for f, _ in problems):
                place["latitude"] = place["longitude"] = None  # an unreadable point is reported once
            places.append(place)
            where.append(i)
    for i, place, problems in zip(where, places, _territory.check_many(places)):
        out[i] = (place, out[i][1] + problems)
    return out


def check_territory(rec: dict) -> list[tuple[str, str]]:
    """Resolve and check a record's place (COG 2025); fill commune, departement, region, point.

    - a code must exist in the COG 2025; a commune name alone must match one commune;
    - a point must lie in (or within 2 km of, measured in a metric CRS) its commune, or,
      without a code, in a French commune (metropolitan or overseas);
    - a located record without a point gets its commune's representative point,
      ``geocodage = "commune"``; a record marked ``localise = False`` keeps no point.

    One record through the vectorised ``_territory.check_many``.
    """
    return _territory.check_many([rec])[0]


def edit_changes(current: dict, raw: dict) -> dict:
    """Clean fields of the pole ``current`` once a form's ``raw`` values are applied (same rules
    as an import); ``ValidationError`` listing every problem."""
    merged = {k: current.get(k) for k in EDITABLE}
    merged.update(raw)
    if "code_insee" in raw and raw.get("code_insee") != current.get("code_insee") and "latitude" not in raw:
        merged["latitude"] = merged["longitude"] = None  # moved to another commune: its point follows
    same_point = (merged.get("latitude"), merged.get("longitude")) == (current.get("latitude"), current.get("longitude"))
    if not blank(merged.get("latitude")) and current.get("geocodage") == "commune" and same_point:
        merged["latitude"] = merged["longitude"] = None  # a commune point is recomputed, not kept as typed
    elif not blank(merged.get("latitude")) and same_point:
        merged["geocodage"] = current.get("geocodage")  # an address point stays an address point
    rec, problems = validate(merged)
    if problems:
        raise ValidationError("Fiche invalide : " + " ; ".join(f"{f} : {m}" for f, m in problems), problems)
    return {k: rec.get(k) for k in rec if k in COLUMNS and k not in ("id", "version")}


def edit(pole_id: str, raw: dict, version: int, who) -> dict:
    """Validate a form's values (same rules as an import) and save them with the version check."""
    return registry.update(pole_id, edit_changes(registry.get(pole_id), raw), version, who)
