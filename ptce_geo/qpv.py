"""Urban priority districts (QPV 2024) at their true scale: contours, coverage measured at the
district, and INSEE's population of each QPV.

Contours
    ``priority.load("qpv")`` gives one valid Polygon/MultiPolygon per QPV (repaired, see
    :func:`ptce_geo.priority.repair`), or the point of its commune when no contour exists
    (``geometry_kind = "point"``). :class:`Districts` projects them once into the metric CRS of
    each part of France (Lambert-93, the local UTM of each overseas département, and for the QPV
    outside the COG communes — Saint-Martin, French Polynesia — their own UTM).

Coverage of a QPV (:func:`coverage`)
    covered when a pole lies in it, or within the radius of its contour (distance from the pole
    to the polygon, metres, local CRS, inclusive), or one of its communes is in a pole's declared
    perimeter. Each QPV gets its nearest pole (same group only: never across an ocean) and the
    distance to it (0 when the pole is inside).

Population (:func:`population`)
    INSEE's population of the 2024 QPV (``pop_QPV24``, insee.fr/fr/statistiques/8210600), an
    optional source read from the mirror or the raw cache only. Parsed by its columns: a QPV
    code column (one of ``CODE_COLUMNS``) and a municipal population column (one of
    ``POPULATION_COLUMNS``); a file without them is refused with a French message listing them.
    Without the file, QPV figures are counts: no commune's population ever stands in for it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._errors import DataFormatError, PtceGeoError

SOURCE_ID = "qpv-2024-population"
#: Metric CRS of the QPV outside the COG communes (no commune, hence no group of their own
#: in ``settings.OVERSEAS_CRS``): Saint-Martin (RGAF09 / UTM 20N), Tahiti (RGPF / UTM 6S).
EXTRA_CRS = {"978": "EPSG:5490", "987": "EPSG:3297"}
OUTSIDE_COG = {"978": "Saint-Martin", "987": "Polynésie française"}
TOLERANCE_M = 1e-3

#: Accepted names (case, accents, spaces and underscores ignored) of the QPV code column of
#: INSEE's file, and of its municipal population column.
CODE_COLUMNS = ("CODE_QP", "CODGEO", "QP", "CODE_QPV", "QP2024", "CODE_QP2024")
POPULATION_COLUMNS = ("POP_MUN", "PMUN", "POPMUN", "POP_MUN_QP", "POPMUNIQPV", "POPULATION_MUNICIPALE",
                      "POP_MUNICIPALE", "POPULATION")
_QP_CODE = re.compile(r"^QN[0-9]{2}[0-9AB][0-9]{2}[A-Z]$")


# --------------------------------------------------------------------------- population

def _fold(name) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().upper()
    return re.sub(r"[^A-Z0-9]", "", text)


_CODE_KEYS = {_fold(c) for c in CODE_COLUMNS}
_POP_KEYS = {_fold(c) for c in POPULATION_COLUMNS}


def _expected() -> str:
    return (f"une colonne du code du quartier ({', '.join(CODE_COLUMNS)}) et une colonne de sa population "
            f"municipale ({', '.join(POPULATION_COLUMNS)})")


def _rows_of(path: Path) -> tuple[list[list[str]], str]:
    """Rows of a CSV/XLSX file, or of the first such member of a ZIP (INSEE ships both)."""
    data = path.read_bytes()
    name = path.name
    if data[:2] == b"PK":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, NotImplementedError, EOFError) as exc:
            raise DataFormatError(f"Fichier de population des QPV illisible : {str(path)!r} ({exc}).") from exc
        if "xl/workbook.xml" in zf.namelist():  # an XLSX workbook is itself a ZIP
            return _xlsx_rows(data, path), name
        members = [n for n in zf.namelist() if n.lower().endswith((".csv", ".xlsx"))]
        if not members:
            raise DataFormatError(f"L'archive {str(path)!r} ne contient aucun fichier CSV ou XLSX de population des QPV.")
        members.sort(key=lambda n: (0 if "pop" in n.lower() and "qp" in n.lower() else 1, n))
        name = members[0]
        data = zf.read(name)
        if name.lower().endswith(".xlsx"):
            return _xlsx_rows(data, path), name
    return _csv_rows(data), name


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    lines = text.splitlines()
    sample = "\n".join(lines[:30])
    counts = {sep: sample.count(sep) for sep in (";", ",", "\t")}
    sep = max(counts, key=counts.get)
    return [row for row in csv.reader(io.StringIO(text), delimiter=sep)]


def _xlsx_rows(data: bytes, path: Path) -> list[list[str]]:
    try:
        frame = pd.read_excel(io.BytesIO(data), sheet_name=0, header=None, dtype=str)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds of errors
        raise DataFormatError(f"Classeur de population des QPV illisible : {str(path)!r} ({exc}).") from exc
    return [["" if pd.isna(v) else str(v) for v in row] for row in frame.itertuples(index=False)]


def _count(text: str) -> int | None:
    """An INSEE count: ``12345``, ``12 345``, ``12345.0``, a weighted ``12345,6`` (rounded to the
    unit: census figures below the commune may be weighted); secret/empty → None; else ValueError."""
    value = str(text).replace("\u202f", "").replace("\xa0", "").replace(" ", "").strip()
    if value in ("", "s", "nd", "NA", "ND", "-", ".", "nan"):
        return None
    number = float(value.replace(",", "."))
    if not number >= 0 or number == float("inf"):
        raise ValueError(value)
    return int(round(number))


def read_population(path) -> pd.Series:
    """INSEE's population of the 2024 QPV from ``path`` (CSV with any separator, XLSX, or a ZIP
    holding one; title lines above the header skipped): a Series of integers (nullable, a
    secret value is empty) indexed by QPV code, named ``population``.

    Raises DataFormatError (French) naming the file and the expected columns when the header is
    not found, and naming the line when a code or a population cannot be read.
    """
    path = Path(path)
    rows, member = _rows_of(path)
    where = str(path) if member == path.name else f"{path} ({member})"
    header_at = None
    for i, row in enumerate(rows[:30]):
        keys = [_fold(c) for c in row]
        if any(k in _CODE_KEYS for k in keys) and any(k in _POP_KEYS for k in keys):
            header_at = i
            break
    if header_at is None:
        seen = next((r for r in rows if any(str(c).strip() for c in r)), [])
        raise DataFormatError(
            f"Fichier de population des QPV non reconnu : {where!r}. Colonnes attendues : {_expected()}. "
            f"Colonnes lues : {[c for c in seen if str(c).strip()][:12]}."
        )
    keys = [_fold(c) for c in rows[header_at]]
    code_i = next(i for i, k in enumerate(keys) if k in _CODE_KEYS)
    pop_i = next(i for k in [_fold(c) for c in POPULATION_COLUMNS] for i, kk in enumerate(keys) if kk == k)
    out: dict[str, int | None] = {}
    for n, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        if len(row) <= max(code_i, pop_i) or not str(row[code_i]).strip():
            continue  # blank line or footnote
        code = str(row[code_i]).strip().upper()
        if not _QP_CODE.match(code):
            if not any(str(c).strip() for c in row[pop_i:pop_i + 1]):
                continue  # a note below the table
            raise DataFormatError(
                f"{where!r}, ligne {n} : code de quartier {code!r} illisible (attendu un code QPV 2024 tel que "
                f"QN09301I). Colonnes attendues : {_expected()}."
            )
        try:
            value = _count(row[pop_i])
        except ValueError:
            raise DataFormatError(
                f"{where!r}, ligne {n} : population {row[pop_i]!r} du quartier {code} illisible "
                "(attendu un nombre entier d'habitants)."
            ) from None
        if code in out:
            raise DataFormatError(f"{where!r}, ligne {n} : quartier {code} présent deux fois.")
        out[code] = value
    if not out:
        raise DataFormatError(f"Fichier de population des QPV sans aucune ligne de quartier : {where!r}.")
    series = pd.Series(out, name="population", dtype="Int64")
    series.index.name = "code"
    return series


_POP_MEMO: dict = {}


def population_file():
    """The local copy (mirror, else raw cache) of INSEE's QPV population file, or None.
    Never downloads: INSEE publishes no stable file URL (see the catalogue)."""
    from . import _http, sources

    return _http.local_copy(sources.get(SOURCE_ID))


def population() -> pd.Series | None:
    """Population of each QPV (INSEE) when the file is in the mirror or the cache, else None.
    A file that does not match raises DataFormatError (French, expected columns listed)."""
    got = population_file()
    if got is None:
        return None
    st = got.path.stat()
    key = (str(got.path), st.st_size, st.st_mtime_ns)
    if _POP_MEMO.get("key") != key:
        _POP_MEMO.clear()
        _POP_MEMO.update(key=key, value=read_population(got.path), origin=got.origin, date=got.date)
    return _POP_MEMO["value"]


def population_or_note() -> tuple[pd.Series | None, str | None]:
    """``population()`` for pages and exports: (series, None), (None, None) without the file, or
    (None, French reason) when the file is refused."""
    try:
        return population(), None
    except PtceGeoError as exc:
        return None, str(exc)


def population_status() -> str:
    """One French line on INSEE's QPV population file (for ``data status`` and the page Données)."""
    from . import sources

    pop, err = population_or_note()
    src = sources.get(SOURCE_ID)
    if err:
        return f"Population des QPV (INSEE) : fichier refusé — {err}"
    if pop is None:
        return (f"Population des QPV (INSEE) : absente — les chiffres des QPV sont des nombres de quartiers. "
                f"Pour l'ajouter : téléchargez {src.filename} sur {src.page} et placez-le dans le dossier "
                "PTCE_GEO_MIRROR (ou le cache brut).")
    known = int(pop.notna().sum())
    return f"Population des QPV (INSEE) : {known} quartiers renseignés, {_fmt(int(pop.sum()))} habitants."


def _fmt(n: int) -> str:
    return f"{int(n):,}".replace(",", "\u202f")


def population_vintage() -> str | None:
    from . import sources

    got = population_file()
    if got is None:
        return None
    src = sources.get(SOURCE_ID)
    return f"{src.vintage} — INSEE ({got.path.name}, {got.origin} du {got.date})"


# --------------------------------------------------------------------------- districts

def group_of(departement: str) -> str:
    """Analysis group of a QPV: ``metro``, an overseas département, or 978/987 (outside the COG)."""
    dep = str(departement or "")
    if dep in settings.get().overseas_crs or dep in EXTRA_CRS:
        return dep
    return "metro"


def crs_of(group: str) -> str:
    return settings.get().overseas_crs.get(group) or EXTRA_CRS.get(group) or settings.get().metric_crs


@dataclass
class Districts:
    """The QPV layer ready for coverage: attributes, metric geometries per group, commune links."""

    table: pd.DataFrame                     # code, nom, communes, departement, group, geometry_kind, hors_communes_cog
    metric: dict                            # group → (positions, metric geometries)
    population: pd.Series                   # Int64 per position (NA when unknown)
    population_source: str | None = None    # vintage text, or None without the INSEE file
    population_note: str | None = None      # why the INSEE file was refused
    commune_pairs: pd.DataFrame = field(default=None, repr=False)  # qpv position, commune code
    _reach: dict = field(default_factory=dict, repr=False)  # group → (centroids, reach), see _reach_of

    def __len__(self) -> int:
        return len(self.table)


def build(layer: gpd.GeoDataFrame, pop: pd.Series | None = None, source: str | None = None,
          note: str | None = None) -> Districts:
    """:class:`Districts` of a QPV layer (``priority.load("qpv")`` or a hand-made frame with
    ``code``, ``nom``, ``communes``, ``departement`` and geometry; a ``population`` column, when
    present, is used as is)."""
    gdf = layer.to_crs(settings.WEB_CRS) if layer.crs is not None else layer.set_crs(settings.WEB_CRS)
    gdf = gdf.reset_index(drop=True)
    table = pd.DataFrame({
        "code": gdf["code"].astype(str).to_numpy(),
        "nom": gdf["nom"].astype(object).to_numpy() if "nom" in gdf else gdf["code"].astype(str).to_numpy(),
        "communes": [list(c) if isinstance(c, (list, tuple, np.ndarray)) else
                     [x for x in str(c or "").replace(",", ";").split(";") if x] for c in gdf["communes"]],
        "departement": gdf["departement"].astype(str).to_numpy(),
        "geometry_kind": gdf["geometry_kind"].to_numpy() if "geometry_kind" in gdf else
        np.where(gdf.geom_type.isin(["Point", "MultiPoint"]), "point", "polygon"),
        "hors_communes_cog": gdf["hors_communes_cog"].astype(bool).to_numpy() if "hors_communes_cog" in gdf
        else np.zeros(len(gdf), dtype=bool),
    })
    table["group"] = [group_of(d) for d in table["departement"]]
    metric = {}
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    for g in pd.unique(table["group"]):
        pos = np.flatnonzero(table["group"].to_numpy() == g)
        m = np.asarray(gpd.GeoSeries(geoms[pos], crs=settings.WEB_CRS).to_crs(crs_of(g)).values, dtype=object)
        ok = ~(shapely.is_missing(m) | shapely.is_empty(m))
        metric[g] = (pos[ok], m[ok])
    if "population" in gdf:
        values = pd.array(pd.to_numeric(gdf["population"], errors="coerce"), dtype="Int64")
        source = source or "population fournie avec la couche"
    elif pop is not None:
        values = pd.array(table["code"].map(pop), dtype="Int64")
    else:
        values = pd.array([pd.NA] * len(table), dtype="Int64")
    pairs = table[["communes"]].assign(pos=np.arange(len(table))).explode("communes").dropna()
    pairs = pd.DataFrame({"pos": pairs["pos"].astype(int).to_numpy(), "commune": pairs["communes"].astype(str).to_numpy()})
    return Districts(table, metric, pd.Series(values, name="population"), source, note, pairs)


_DEFAULT: dict = {}


def default() -> Districts:
    """Districts of the QPV layer of the mirror/cache with INSEE's population when present
    (kept in the process until the layer or the population file changes)."""
    from . import priority

    layer_key = priority.cache_key("qpv")
    got = population_file()
    pop_key = None if got is None else (str(got.path), got.path.stat().st_mtime_ns)
    key = (layer_key, pop_key)
    if _DEFAULT.get("key") != key:
        pop, note = population_or_note()
        _DEFAULT.clear()
        _DEFAULT.update(key=key, value=build(priority.load("qpv"), pop, population_vintage() if pop is not None else None,
                                             note))
    return _DEFAULT["value"]


def fallback(communes: pd.DataFrame, flags_in_qpv: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> Districts:
    """One point district per commune flagged ``in_qpv`` (its representative point): what a hand-made
    commune table without a QPV layer gets, so QPV figures stay counts of something real."""
    idx = np.flatnonzero(np.asarray(flags_in_qpv, dtype=bool))
    codes = communes["code"].astype(str).to_numpy()[idx]
    gdf = gpd.GeoDataFrame({
        "code": [f"QPV-{c}" for c in codes], "nom": [f"QPV de {c}" for c in codes],
        "communes": [[c] for c in codes], "departement": communes["departement"].astype(str).to_numpy()[idx],
        "geometry_kind": "point",
    }, geometry=gpd.points_from_xy(lon[idx], lat[idx]), crs=settings.WEB_CRS)
    return build(gdf)


# --------------------------------------------------------------------------- coverage

def _reach_of(districts: Districts, g: str) -> tuple[np.ndarray, np.ndarray]:
    """Centroid of each district of group ``g`` and the largest distance from it to a vertex:
    a pole nearer to the contour than ``d`` is nearer to the centroid than ``d + reach``."""
    if g not in districts._reach:
        _, geoms = districts.metric[g]
        cen = shapely.get_coordinates(shapely.centroid(geoms))
        coords, idx = shapely.get_coordinates(geoms, return_index=True)
        reach = np.zeros(len(geoms))
        np.maximum.at(reach, idx, np.hypot(coords[:, 0] - cen[idx, 0], coords[:, 1] - cen[idx, 1]))
        districts._reach[g] = (cen, reach)
    return districts._reach[g]


def _nearest(districts: Districts, g: str, pxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest pole (index into ``pxy``) and distance (m) to the contour of each district of ``g``.

    Exact: the candidates of a district are the poles whose distance to its centroid is at most
    the centroid distance of the nearest one plus the district's reach (no nearer pole can be
    farther from the centroid); then ``shapely.distance`` (0 inside) picks among them."""
    from scipy.spatial import cKDTree

    _, geoms = districts.metric[g]
    cen, reach = _reach_of(districts, g)
    tree = cKDTree(pxy)
    dc, _ = tree.query(cen, k=1)
    cands = tree.query_ball_point(cen, dc + reach + 1.0)
    qi = np.repeat(np.arange(len(geoms)), [len(c) for c in cands])
    pj = np.fromiter((j for c in cands for j in c), dtype=np.int64, count=len(qi))
    dist = shapely.distance(geoms[qi], shapely.points(pxy[pj, 0], pxy[pj, 1]))
    order = np.lexsort((pj, dist, qi))  # per district: smallest distance, then first pole
    first = np.ones(len(order), dtype=bool)
    first[1:] = qi[order][1:] != qi[order][:-1]
    best = order[first]
    return pj[best], dist[best]


COLUMNS = ["code", "nom", "communes", "departement", "group", "geometry_kind", "hors_communes_cog", "population",
           "nearest_pole", "nearest_pole_nom", "distance_km", "pole_inside", "in_radius", "in_perimeter",
           "covered", "covered_by"]


def coverage(districts: Districts, poles: pd.DataFrame, radius_km: float | None,
             perimeter_communes: set[str] | frozenset = frozenset()) -> pd.DataFrame:
    """Coverage of every QPV, one row per QPV (``COLUMNS``).

    ``poles``: the pole table of a coverage result (``group``, ``x``, ``y`` in metres of the
    group's CRS, ``id``, ``nom``); ``perimeter_communes``: INSEE codes in a declared perimeter.
    ``distance_km`` is the distance from the nearest pole to the contour (0 when inside; empty
    when the QPV's group has no pole).
    """
    n = len(districts)
    near = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    pgroups = poles["group"].astype(str).to_numpy() if len(poles) else np.array([], dtype=str)
    for g, (pos, geoms) in districts.metric.items():
        pi = np.flatnonzero(pgroups == g)
        if not len(pi) or not len(pos):
            continue
        pxy = np.column_stack([poles["x"].to_numpy(dtype=float)[pi], poles["y"].to_numpy(dtype=float)[pi]])
        j, d = _nearest(districts, g, pxy)
        near[pos] = pi[j]
        dist[pos] = d
    has = near >= 0
    inside = has & (dist <= 0.0)
    in_radius = has & (dist <= float(radius_km) * 1000.0 + TOLERANCE_M) if radius_km is not None else np.zeros(n, bool)
    pairs = districts.commune_pairs
    in_perim = np.zeros(n, dtype=bool)
    if perimeter_communes and len(pairs):
        hit = pairs.loc[pairs["commune"].isin(perimeter_communes), "pos"].to_numpy()
        in_perim[hit] = True
    covered = inside | in_radius | in_perim
    by = np.select([inside, in_radius & in_perim, in_radius, in_perim],
                   ["pôle dans le quartier", "rayon et périmètre", "rayon", "périmètre"], "")
    ids = poles["id"].astype(str).to_numpy() if len(poles) else np.array([], dtype=object)
    noms = poles["nom"].astype(object).to_numpy() if len(poles) else np.array([], dtype=object)
    t = districts.table
    out = pd.DataFrame({
        "code": t["code"].to_numpy(), "nom": t["nom"].to_numpy(), "communes": t["communes"].to_numpy(),
        "departement": t["departement"].to_numpy(), "group": t["group"].to_numpy(),
        "geometry_kind": t["geometry_kind"].to_numpy(), "hors_communes_cog": t["hors_communes_cog"].to_numpy(),
        "population": districts.population.to_numpy(),
        "nearest_pole": pd.array(np.where(has, ids[np.where(has, near, 0)] if len(ids) else None, None), dtype=object),
        "nearest_pole_nom": pd.array(np.where(has, noms[np.where(has, near, 0)] if len(noms) else None, None),
                                     dtype=object),
        "distance_km": np.where(has, np.round(dist / 1000.0, 3), np.nan),
        "pole_inside": inside, "in_radius": in_radius, "in_perimeter": in_perim, "covered": covered,
        "covered_by": pd.array(by.astype(object), dtype=object),
    })
    out["population"] = out["population"].astype("Int64")
    return out


def is_metropolitan(departement) -> bool:
    dep = str(departement or "")
    return not dep.startswith(("97", "98"))


# --------------------------------------------------------------------------- figures of a coverage result
# (used by ``coverage``: the QPV columns of the commune table and of every territory table)

def _int_na(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Float values with NaN for unknown → nullable integers (NA stays NA)."""
    mask = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(mask, 0, np.round(values)).astype("int64"), mask)


def commune_columns(out: pd.DataFrame, base, d: pd.DataFrame, zoning: str) -> None:
    """Per commune: its QPV (count, covered, residents) and the figures of the zoning in its unit."""
    n = len(out)
    ok = base.qpv_pos >= 0
    cpos = base.qpv_pos[ok]
    qi = base.districts.commune_pairs["pos"].to_numpy()[ok]
    cov = d["covered"].to_numpy()[qi]
    qpop = d["population"].to_numpy(dtype=float, na_value=np.nan)[qi]
    known = ~np.isnan(qpop)
    n_known = np.bincount(cpos, weights=known.astype(float), minlength=n)
    qp = np.where(n_known > 0, np.bincount(cpos, weights=np.where(known, qpop, 0.0), minlength=n), np.nan)
    qpc = np.where(n_known > 0, np.bincount(cpos, weights=np.where(known & cov, qpop, 0.0), minlength=n), np.nan)
    total = np.bincount(cpos, minlength=n)
    ncov = np.bincount(cpos, weights=cov.astype(float), minlength=n)
    out["qpv_total"] = total.astype(int)
    out["qpv_covered"] = ncov.astype(int)
    out["qpv_population"] = _int_na(qp)
    out["qpv_population_covered"] = _int_na(qpc)
    covered = out["covered"].to_numpy()
    in_zoning = out["in_zoning"].to_numpy()
    in_qpv = out["in_qpv"].to_numpy()
    ti_frr = out["in_territoire_industrie"].to_numpy() | out["frr"].to_numpy()
    any_qpv_cov = ncov > 0
    pop = out["population"].to_numpy(dtype=float, na_value=np.nan)
    pop = np.where(np.isnan(pop), 0.0, pop)
    qp0 = np.where(in_qpv, qp, 0.0)
    qpc0 = np.where(in_qpv, qpc, 0.0)
    if zoning == "qpv":
        zc, prio, prio_c = any_qpv_cov, qp0, qpc0
    elif zoning == "all":
        zc = (ti_frr & covered) | any_qpv_cov
        prio = np.where(ti_frr, pop, qp0)
        prio_c = np.where(ti_frr, np.where(covered, pop, 0.0), qpc0)
    else:
        zc, prio, prio_c = covered, pop, np.where(covered, pop, 0.0)
    out["zoning_covered"] = zc & in_zoning
    out["priority_population"] = _int_na(np.where(in_zoning, prio, 0.0))
    out["priority_population_covered"] = _int_na(np.where(in_zoning, prio_c, 0.0))


def territory_pairs(level: str, result, pairs: pd.DataFrame) -> pd.DataFrame:
    """(territory, QPV position) pairs: each QPV once in every territory one of its communes is in."""
    base = result._base
    d = result.qpv
    if level == "qpv":
        return pd.DataFrame({"territory": d["code"].to_numpy(), "q": np.arange(len(d))})
    ok = base.qpv_pos >= 0
    qc = pd.DataFrame({"q": base.districts.commune_pairs["pos"].to_numpy()[ok], "pos": base.qpv_pos[ok]})
    return qc.merge(pairs, on="pos")[["territory", "q"]].drop_duplicates()


def territory_figures(d: pd.DataFrame, qp: pd.DataFrame) -> pd.DataFrame:
    """QPV_COLUMNS (and the QPV part of zoning ``all``) per territory from (territory, QPV) pairs."""
    q = qp["q"].to_numpy()
    pop = pd.Series(pd.array(d["population"].to_numpy()[q], dtype="Int64"))
    cov = d["covered"].to_numpy()[q]
    outside = ~d["commune_ti_frr"].to_numpy()[q]
    frame = pd.DataFrame({
        "territory": qp["territory"].to_numpy(), "qpv_count": 1, "qpv_covered": cov.astype(int),
        "qpv_population": pop, "qpv_population_covered": pop * cov.astype(int),
        "qpv_without_population": pop.isna().astype(int).to_numpy(),
        "_all_qpv_pop": pop.where(pd.Series(outside), 0), "_all_qpv_pop_cov": pop.where(pd.Series(outside & cov), 0),
    })
    g = frame.groupby("territory", sort=True)
    out = g[["qpv_count", "qpv_covered", "qpv_without_population"]].sum()
    for col in ("qpv_population", "qpv_population_covered", "_all_qpv_pop", "_all_qpv_pop_cov"):
        out[col] = g[col].sum(min_count=1)
    return out
