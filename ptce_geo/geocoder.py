"""Addresses → points with the national address API (BAN), cached, with a commune fallback.

``search(q)`` calls ``GET {base}/search/?q=…&limit=1`` and ``batch(queries)`` calls
``POST {base}/search/csv/`` (one request for many addresses); ``base`` is
``settings.geocoder_url`` (``https://api-adresse.data.gouv.fr`` or the Géoplateforme's
``https://data.geopf.fr/geocodage``). Answers are cached in ``cache_dir/geocoder.sqlite``
keyed by base URL, address and commune code, so an address is asked once.

``geocode(items)`` is what the importer uses: a result scoring below ``MIN_SCORE``, in
another commune, or no network at all (``PTCE_GEO_OFFLINE=1``, timeout, HTTP error) gives
the commune's representative point with ``geocodage = "commune"`` and a French note
saying why, so the import report can tell the user.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass

import requests

from . import poles, settings
from ._errors import GeocodingError, network_error_fr

__all__ = ["MIN_SCORE", "BATCH_MIN", "Result", "Outcome", "cache_path", "search", "batch", "geocode"]

MIN_SCORE = 0.5
BATCH_MIN = 2  # from this many uncached addresses on, one /search/csv/ request


@dataclass(frozen=True)
class Result:
    latitude: float
    longitude: float
    score: float
    label: str
    citycode: str | None
    type: str | None = None


@dataclass(frozen=True)
class Outcome:
    latitude: float | None
    longitude: float | None
    geocodage: str | None
    code_insee: str | None
    note: str | None = None


# ---------------------------------------------------------------- cache


def cache_path():
    """SQLite file of cached answers (in the cache dir: safe to delete)."""
    return settings.get().cache_dir / "geocoder.sqlite"


def _cache_con() -> sqlite3.Connection:
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=15)
    con.execute("CREATE TABLE IF NOT EXISTS answers (base TEXT, q TEXT, citycode TEXT, result TEXT, "
                "PRIMARY KEY (base, q, citycode))")
    return con


def _cache_get(q: str, citycode: str | None):
    """``(True, Result|None)`` when cached, ``(False, None)`` otherwise."""
    try:
        with closing(_cache_con()) as con:
            row = con.execute("SELECT result FROM answers WHERE base=? AND q=? AND citycode=?",
                              (settings.get().geocoder_url, q, citycode or "")).fetchone()
    except (sqlite3.Error, OSError):  # no cache or a read-only one: ask the API
        return False, None
    if row is None:
        return False, None
    data = json.loads(row[0])
    return True, (Result(**data) if data else None)


def _cache_put(q: str, citycode: str | None, result: Result | None) -> None:
    try:
        with closing(_cache_con()) as con, con:
            con.execute("INSERT OR REPLACE INTO answers VALUES (?,?,?,?)",
                        (settings.get().geocoder_url, q, citycode or "",
                         json.dumps(result.__dict__ if result else None)))
    except (sqlite3.Error, OSError):
        pass  # a cache that cannot be written (read-only shared folder) only costs a request next time


# ---------------------------------------------------------------- API calls


def _check_online() -> None:
    if settings.get().offline:
        raise GeocodingError("Géocodage impossible : mode hors ligne (PTCE_GEO_OFFLINE est défini ; "
                             "retirez-le pour géocoder les adresses).")


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def search(q: str, citycode: str | None = None) -> Result | None:
    """Best BAN match of one address (None if the API knows none); cached."""
    hit, cached = _cache_get(q, citycode)
    if hit:
        return cached
    _check_online()
    s = settings.get()
    params = {"q": q, "limit": 1}
    if citycode:
        params["citycode"] = citycode
    url = f"{s.geocoder_url}/search/"
    try:
        resp = requests.get(url, params=params, timeout=s.http_timeout, headers={"User-Agent": s.user_agent})
        resp.raise_for_status()
        features = resp.json().get("features") or []
    except (requests.RequestException, ValueError, AttributeError) as exc:
        raise GeocodingError(f"Géocodage impossible ({url!r}) : {network_error_fr(exc, s.http_timeout)}.") from exc
    result = None
    if features:
        f = features[0]
        lon, lat = (f.get("geometry") or {}).get("coordinates", [None, None])[:2]
        props = f.get("properties") or {}
        if _float(lat) is not None and _float(lon) is not None:
            result = Result(float(lat), float(lon), float(props.get("score") or 0), str(props.get("label") or ""),
                            props.get("citycode"), props.get("type"))
    _cache_put(q, citycode, result)
    return result


def batch(queries: list[tuple[str, str | None]]) -> list[Result | None]:
    """Best match of each ``(address, citycode)`` with one ``/search/csv/`` request; cached."""
    out: list[Result | None] = [None] * len(queries)
    todo = []
    for i, (q, code) in enumerate(queries):
        hit, cached = _cache_get(q, code)
        if hit:
            out[i] = cached
        else:
            todo.append(i)
    if not todo:
        return out
    _check_online()
    s = settings.get()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rid", "adresse", "code_insee"])
    for i in todo:
        w.writerow([i, queries[i][0], queries[i][1] or ""])
    url = f"{s.geocoder_url}/search/csv/"
    try:
        resp = requests.post(
            url, files={"data": ("adresses.csv", buf.getvalue().encode("utf-8"), "text/csv")},
            data=[("columns", "adresse"), ("citycode", "code_insee")],
            timeout=max(s.http_timeout, 60), headers={"User-Agent": s.user_agent})
        resp.raise_for_status()
        rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    except (requests.RequestException, UnicodeDecodeError, csv.Error) as exc:
        why = network_error_fr(exc, max(s.http_timeout, 60)) if isinstance(exc, requests.RequestException) else \
            "réponse illisible (ce n'est pas le CSV attendu)"
        raise GeocodingError(f"Géocodage par lot impossible ({url!r}) : {why}.") from exc
    for row in rows:
        try:
            i = int(row.get("rid", ""))
        except ValueError:
            continue
        if i not in todo:
            continue
        lat, lon = _float(row.get("latitude")), _float(row.get("longitude"))
        result = None
        if lat is not None and lon is not None:
            result = Result(lat, lon, _float(row.get("result_score")) or 0.0, row.get("result_label") or "",
                            row.get("result_citycode") or None, row.get("result_type") or None)
        out[i] = result
        _cache_put(queries[i][0], queries[i][1], result)
    return out


# ---------------------------------------------------------------- with fallback


def _fallback(code: str | None, why: str) -> Outcome:
    pt = poles.commune_point(code) if code else None
    if pt is None:
        return Outcome(None, None, None, code, f"{why} ; pôle non localisé (pas de commune connue).")
    return Outcome(pt[0], pt[1], "commune", code, f"{why} ; point placé au centre de la commune ({code}).")


def geocode(items: list[tuple[str, str | None]]) -> list[Outcome]:
    """Geocode ``(address, INSEE code or None)`` pairs, falling back to the commune's point."""
    if not items:
        return []
    try:
        results = batch(items) if len(items) >= BATCH_MIN else [search(*items[0])]
        error = None
    except GeocodingError as exc:
        results, error = [None] * len(items), str(exc)
    out = []
    for (q, code), res in zip(items, results):
        if error:
            out.append(_fallback(code, error.rstrip(".")))
        elif res is None:
            out.append(_fallback(code, f"adresse {q!r} introuvable dans la BAN"))
        elif res.score < MIN_SCORE:
            out.append(_fallback(code, f"adresse {q!r} trouvée avec un score trop faible ({res.score:.2f} < {MIN_SCORE})"))
        elif code and res.citycode and res.citycode != code:
            out.append(_fallback(code, f"adresse {q!r} trouvée dans une autre commune ({res.citycode})"))
        else:
            out.append(Outcome(round(res.latitude, 6), round(res.longitude, 6), "adresse", code or res.citycode,
                               f"adresse géocodée : {res.label!r} (score {res.score:.2f})."))
    return out
