"""Import poles from CSV, XLSX or GeoJSON files, validated row by row, all or nothing.

Files as French Excel writes them are read as they are: UTF-8 (with or without BOM) or
cp1252, ``;`` or ``,`` separator, decimal comma. Columns are matched on common French
headers (``HEADERS``); a file with only a name and an INSEE code is enough.

``check(path)`` reads and validates without writing: per row, missing name, unknown
INSEE code (COG 2025), unknown or ambiguous commune name, point outside France or far
from its commune (measured in a metric CRS), bad year, count, sector or call, duplicate
of an existing pole (same name in the same commune) or of an earlier row. Rows with an
address and no point are geocoded (``geocoder.py``), falling back to the commune's point.
The ``ImportReport`` names each bad row and field in French.

Every problem of a row is reported at once (the place is checked even when another field
is wrong); a commune name given with a code must name that code's commune. GeoJSON rows
are called « objet N » (feature number), CSV/XLSX rows « ligne N » (file line).

``run(path, skip_invalid=False, rejects=None)`` writes nothing and raises
``ValidationError`` if any row is invalid; with ``skip_invalid`` it imports the valid rows
in one transaction and writes the rejected rows, with their reasons, to ``rejects``
(default ``<name>_rejets.csv`` beside the file, ``<name>_rejets-2.csv``… when it exists:
an earlier rejects file is never overwritten).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import export, geocoder, poles, registry
from ._cache import atomic_write
from ._errors import DataFormatError, FileAccessError, UnknownChoiceError, ValidationError, file_error

FORMATS = ("csv", "xlsx", "geojson")

# field → accepted headers (compared after ``poles.fold``: case, accents, punctuation ignored)
HEADERS = {
    "nom": ["nom", "nom du pole", "nom du ptce", "nom pole", "pole", "ptce", "denomination", "raison sociale", "name",
            "intitule"],
    "code_insee": ["code insee", "insee", "code commune", "code insee commune", "codgeo", "cog", "citycode",
                   "code officiel geographique", "depcom", "com"],
    "commune": ["commune", "ville", "localite", "nom commune", "nom de la commune", "city"],
    "departement": ["departement", "dept", "dep", "code departement", "num departement"],
    "adresse": ["adresse", "adresse postale", "address", "rue", "voie", "siege", "adresse du siege"],
    "code_postal": ["code postal", "cp", "postcode"],
    "latitude": ["latitude", "lat", "y", "coord y"],
    "longitude": ["longitude", "lon", "lng", "long", "x", "coord x"],
    "forme_juridique": ["forme juridique", "statut", "statut juridique", "forme", "structure porteuse"],
    "secteurs": ["secteurs", "secteur", "secteurs d activite", "secteur d activite", "thematiques", "thematique",
                 "filieres", "filiere", "activites", "domaines"],
    "annee_creation": ["annee de creation", "annee creation", "annee", "creation", "date de creation", "cree en"],
    "appel": ["appel", "appel a projets", "aap", "ami", "laureat", "appel laureat", "vague"],
    "membres": ["membres", "nombre de membres", "nb membres", "nb de membres", "adherents", "nombre d adherents"],
    "site_web": ["site web", "site", "url", "site internet", "web", "internet"],
    "perimetre": ["perimetre", "territoire", "communes", "epci", "communes desservies", "perimetre d action"],
    "source": ["source", "sources", "reference", "references"],
    "localise": ["localise", "localisable"],
}
_ALIAS = {poles.fold(a): f for f, aliases in HEADERS.items() for a in [f, *aliases]}


@dataclass
class Issue:
    ligne: int
    champ: str
    valeur: str
    message: str
    gravite: str = "erreur"  # or "avertissement"


@dataclass
class ImportReport:
    """What an import read, found and (for ``run``) wrote."""

    fichier: str
    format: str
    detail: str = ""
    headers: list[str] = field(default_factory=list)
    mapping: dict = field(default_factory=dict)  # header → field
    ignored: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (line, raw row with original headers)
    records: dict = field(default_factory=dict)  # line → clean record (valid rows only)
    issues: list[Issue] = field(default_factory=list)
    imported_ids: list[str] = field(default_factory=list)
    rejects_path: str | None = None

    @property
    def unit(self) -> str:
        """What a row is called in messages: « objet » (GeoJSON feature) or « ligne » (file line)."""
        return "objet" if self.format == "GeoJSON" else "ligne"

    @property
    def error_lines(self) -> list[int]:
        return sorted({i.ligne for i in self.issues if i.gravite == "erreur"})

    @property
    def ok(self) -> bool:
        return not self.error_lines

    @property
    def valid_records(self) -> list[dict]:
        return [self.records[n] for n, _ in self.rows if n in self.records and n not in self.error_lines]

    def issues_frame(self) -> pd.DataFrame:
        return pd.DataFrame([i.__dict__ for i in self.issues], columns=["ligne", "champ", "valeur", "message", "gravite"])

    def rejects_frame(self) -> pd.DataFrame:
        bad = set(self.error_lines)
        reasons = {}
        for i in self.issues:
            if i.gravite == "erreur":
                reasons.setdefault(i.ligne, []).append(f"{i.champ} : {i.message}")
        out = [{self.unit: n, **raw, "motifs": " | ".join(reasons.get(n, []))} for n, raw in self.rows if n in bad]
        cols = [self.unit, *self.headers, "motifs"]
        return pd.DataFrame(out, columns=list(dict.fromkeys(cols)))

    def preview(self) -> pd.DataFrame:
        """Valid records as they would be written (for the app's preview)."""
        frame = pd.DataFrame(self.valid_records)
        keep = [c for c in ["nom", "code_insee", "commune", "departement", "latitude", "longitude", "geocodage",
                            "secteurs", "appel", "annee_creation", "source"] if c in frame]
        return frame[keep] if len(frame) else pd.DataFrame(columns=keep)

    def summary(self) -> str:
        n, bad = len(self.rows), len(self.error_lines)
        if self.unit == "objet":
            return f"{n} objet(s) lu(s) : {n - bad} valide(s), {bad} invalide(s)."
        return f"{n} ligne(s) lue(s) : {n - bad} valide(s), {bad} invalide(s)."

    def text(self) -> str:
        lines = [f"Fichier : {self.fichier} ({self.format}{', ' + self.detail if self.detail else ''})."]
        if self.mapping:
            lines.append("Colonnes reconnues : " + ", ".join(f"{h!r} → {f}" for h, f in self.mapping.items()) + ".")
        if self.ignored:
            lines.append("Colonnes ignorées : " + ", ".join(repr(h) for h in self.ignored) + ".")
        lines.append(self.summary())
        for kind, title in (("erreur", "Erreurs"), ("avertissement", "Avertissements")):
            items = [i for i in self.issues if i.gravite == kind]
            if items:
                lines.append(f"{title} :")
                for i in items:
                    val = f" (valeur {i.valeur!r})" if i.valeur else ""
                    lines.append(f"  {self.unit} {i.ligne}, champ « {i.champ} »{val} : {i.message}")
        if self.imported_ids:
            lines.append(f"{len(self.imported_ids)} pôle(s) ajouté(s) au registre.")
        if self.rejects_path:
            what = "Objets rejetés écrits" if self.unit == "objet" else "Lignes rejetées écrites"
            lines.append(f"{what} dans {self.rejects_path!r} (avec leurs motifs).")
        return "\n".join(lines)


# ---------------------------------------------------------------- reading files


_IMPORT_EXTENSIONS = {"csv": "csv", "txt": "csv", "tsv": "csv", "xlsx": "xlsx", "xlsm": "xlsx", "geojson": "geojson",
                      "json": "geojson"}


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise UnknownChoiceError("Format d'import", fmt, FORMATS)
        return fmt
    ext = path.suffix.lower().lstrip(".")
    fmt = _IMPORT_EXTENSIONS.get(ext)
    if fmt is None:
        valid = [".csv", ".xlsx", ".geojson"]
        if not ext:
            text = (f"Le fichier {path.name!r} n'a pas d'extension : le format ne peut pas être deviné. "
                    "Renommez-le en .csv, .xlsx ou .geojson selon son contenu.")
        elif ext in ("xls", "ods", "odt", "docx", "doc"):
            text = (f"Le fichier {path.name!r} est au format .{ext}, qui n'est pas lu : enregistrez-le au format "
                    ".xlsx (Excel) ou .csv depuis votre tableur.")
        else:
            text = (f"Extension {path.suffix!r} non prise en charge pour le fichier {path.name!r}. "
                    "Extensions possibles : .csv, .xlsx, .geojson (ou .txt, .tsv, .xlsm, .json).")
        raise UnknownChoiceError("Extension", path.suffix or "(aucune)", valid, message=text)
    return fmt


def _decode_problem(exc: UnicodeDecodeError) -> str:
    """« octet 0x81 en position 57 » (where the text stops being readable), in French."""
    bad = exc.object[exc.start:exc.start + 1]
    return f"octet 0x{bad.hex() if bad else '??'} illisible en position {exc.start}"


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 (BOM)"
        except UnicodeDecodeError as exc:
            raise DataFormatError(f"{name!r} : encodage illisible ({_decode_problem(exc)} ; le fichier annonce de "
                                  "l'UTF-8 mais n'en est pas). Enregistrez le fichier en « CSV UTF-8 ».") from exc
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{name!r} : encodage inconnu, ni UTF-8 ni Windows-1252 ({_decode_problem(exc)}). "
            "Enregistrez le fichier en « CSV UTF-8 » depuis Excel ou LibreOffice."
        ) from exc


def _read_csv(data: bytes, name: str) -> tuple[list[str], list[tuple[int, list[str]]], str]:
    text, enc = _decode(data, name)
    if "\x00" in text:
        raise DataFormatError(f"{name!r} n'est pas un fichier texte (CSV) : il contient des octets nuls.")
    first = text.lstrip("\r\n").split("\n", 1)[0]
    sep = max([";", ",", "\t"], key=first.count)
    if first.count(sep) == 0:
        sep = ";" if ";" in text else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        table = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        why = ("une cellule dépasse la taille permise (guillemet ouvrant sans guillemet fermant ?)"
               if "field limit" in str(exc) else "guillemets ou retours à la ligne mal placés")
        raise DataFormatError(f"{name!r} : CSV illisible vers la ligne {reader.line_num} ({why}). "
                              "Vérifiez les guillemets de cette ligne.") from exc
    table = [(n, row) for n, row in table if any(c.strip() for c in row)]
    if not table:
        raise DataFormatError(f"{name!r} est vide : il faut une ligne d'en-têtes (ex. « nom;code_insee ») puis les pôles.")
    (_, headers), body = table[0], table[1:]
    label = {";": "« ; »", ",": "« , »", "\t": "tabulation"}[sep]
    return [h.strip() for h in headers], body, f"encodage {enc}, séparateur {label}"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes, name: str) -> tuple[list[str], list[tuple[int, list[str]]], str]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            table = [(n, [_cell(v) for v in row]) for n, row in enumerate(ws.iter_rows(values_only=True), start=1)]
            sheet = ws.title
        finally:
            wb.close()
    except zipfile.BadZipFile as exc:
        raise DataFormatError(f"{name!r} n'est pas un classeur Excel .xlsx valide (fichier endommagé, ou d'un autre "
                              "format renommé en .xlsx, comme .xls ou .ods). Ouvrez-le dans votre tableur et "
                              "enregistrez-le au format .xlsx (ou .csv).") from exc
    except Exception as exc:  # noqa: BLE001 - any damaged workbook is the user's file problem
        raise DataFormatError(f"{name!r} : classeur Excel illisible (fichier endommagé ou incomplet). Ouvrez-le dans "
                              "votre tableur et enregistrez-le à nouveau au format .xlsx (ou .csv).") from exc
    table = [(n, row) for n, row in table if any(c.strip() for c in row)]
    if not table:
        raise DataFormatError(f"{name!r} : la première feuille est vide (il faut une ligne d'en-têtes puis les pôles).")
    (_, headers), body = table[0], table[1:]
    while headers and not headers[-1].strip():
        headers = headers[:-1]
    return [h.strip() for h in headers], body, f"feuille {sheet!r}"


def _read_geojson(data: bytes, name: str) -> tuple[list[str], list[tuple[int, dict]], str, list[Issue]]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{name!r} : GeoJSON illisible, le fichier n'est pas en UTF-8 ({_decode_problem(exc)}). "
                              "Enregistrez-le en UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{name!r} : GeoJSON illisible, JSON mal formé ligne {exc.lineno}, colonne {exc.colno} "
                              "(virgule, guillemet ou accolade manquant ?).") from exc
    except RecursionError as exc:
        raise DataFormatError(f"{name!r} : GeoJSON illisible (imbrication trop profonde).") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise DataFormatError(f"{name!r} : une FeatureCollection GeoJSON est attendue (clé « features »).")
    headers: list[str] = []
    rows, issues = [], []
    for n, feat in enumerate(doc["features"], start=1):
        props = feat.get("properties") if isinstance(feat, dict) else None
        props = props if isinstance(props, dict) else {}
        raw = {str(k): _cell(v) if not isinstance(v, (list, dict)) else ";".join(map(str, v)) if isinstance(v, list)
               else json.dumps(v, ensure_ascii=False) for k, v in props.items()}
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        if isinstance(geom, dict):
            coords = geom.get("coordinates")
            if geom.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2:
                raw.setdefault("longitude", _cell(coords[0]))
                raw.setdefault("latitude", _cell(coords[1]))
            else:
                issues.append(Issue(n, "geometry", str(geom.get("type")),
                                    "seule une géométrie Point est acceptée (le point du siège du pôle)."))
        for k in raw:
            if k not in headers:
                headers.append(k)
        rows.append((n, raw))
    return headers, rows, "objets (features) numérotés à partir de 1", issues


def read(path: str | Path, fmt: str | None = None) -> ImportReport:
    """Read a file into an ``ImportReport`` (raw rows, header mapping), without validating values."""
    path = Path(path)
    if path.is_dir():
        raise FileAccessError(f"{str(path)!r} est un dossier, pas un fichier : donnez le chemin d'un fichier .csv, "
                              ".xlsx ou .geojson à importer.")
    if not path.exists():
        raise FileAccessError(f"Fichier à importer introuvable : {str(path)!r}. Vérifiez le chemin et le nom du fichier.")
    fmt = _format_of(path, fmt)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise file_error("de lire le fichier", path, exc) from exc
    report = ImportReport(fichier=path.name, format=fmt.upper() if fmt != "geojson" else "GeoJSON")
    if fmt == "geojson":
        headers, rows, detail, issues = _read_geojson(data, path.name)
        report.issues.extend(issues)
    else:
        headers, body, detail = (_read_csv if fmt == "csv" else _read_xlsx)(data, path.name)
        rows = []
        for n, cells in body:
            if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers):]):
                report.issues.append(Issue(n, "(ligne)", "", f"{len(cells)} valeurs pour {len(headers)} colonnes : "
                                           "vérifiez les séparateurs et les guillemets de cette ligne."))
            cells = list(cells[: len(headers)]) + [""] * (len(headers) - len(cells))
            rows.append((n, dict(zip(headers, cells))))
    report.detail = detail
    report.headers = headers
    report.rows = rows
    for h in headers:
        f = _ALIAS.get(poles.fold(h))
        if f is None or f in report.mapping.values():
            report.ignored.append(h)
        else:
            report.mapping[h] = f
    if "nom" not in report.mapping.values():
        raise ValidationError(
            f"{path.name!r} : colonne du nom du pôle introuvable. En-têtes lus : {headers!r}. "
            f"Nommez-la par exemple « nom » ou « nom du pôle ».", report)
    return report


# ---------------------------------------------------------------- validation


def _raw_fields(report: ImportReport, raw: dict) -> dict:
    return {f: raw.get(h, "") for h, f in report.mapping.items()}


def _marked_unlocated(value) -> bool:
    """The file says « localisé : non » (the pole must stay off the map)."""
    try:
        return not poles._blank(value) and poles.parse_bool(value) is False
    except ValueError:
        return False


def check(path: str | Path, fmt: str | None = None) -> ImportReport:
    """Read and validate a file (geocoding rows with an address); writes nothing."""
    report = read(path, fmt)
    existing = {(poles.fold(r["nom"]), r.get("code_insee") or ""): r for r in registry.records()}
    seen: dict[tuple, int] = {}
    to_geocode: list[tuple[int, str, str | None]] = []
    bad_lines = {i.ligne for i in report.issues if i.gravite == "erreur"}
    stamp = _dt.date.today().isoformat()
    for n, raw in report.rows:
        fields = _raw_fields(report, raw)
        rec, problems = poles.validate(fields)
        had_point = not poles._blank(fields.get("latitude")) and not poles._blank(fields.get("longitude"))
        marked_unlocated = _marked_unlocated(fields.get("localise"))
        for champ, message in problems:
            report.issues.append(Issue(n, champ, str(fields.get(champ, "") or ""), message))
        if problems or n in bad_lines:
            continue
        if rec.get("source") is None:
            rec["source"] = f"import du fichier {report.fichier!r} le {stamp}"
        key = (poles.fold(rec["nom"]), rec.get("code_insee") or "")
        where = f"dans la commune {rec.get('commune')!r}" if rec.get("code_insee") else "sans commune"
        if key in existing:
            report.issues.append(Issue(n, "nom", rec["nom"], f"doublon : le pôle {existing[key]['nom']!r} existe déjà "
                                       f"{where} (id {existing[key]['id']!r})."))
            continue
        if key in seen:
            earlier = "l'objet" if report.unit == "objet" else "la ligne"
            report.issues.append(Issue(n, "nom", rec["nom"], f"doublon de {earlier} {seen[key]} (même nom {where})."))
            continue
        seen[key] = n
        report.records[n] = rec
        if rec.get("adresse") and not had_point and not marked_unlocated:
            q = rec["adresse"]
            extra = " ".join(x for x in (fields.get("code_postal") or "", rec.get("commune") or "") if x
                             and poles.fold(x) not in poles.fold(q))
            to_geocode.append((n, f"{q} {extra}".strip(), rec.get("code_insee")))
        elif not rec.get("localise") and not marked_unlocated:
            report.issues.append(Issue(n, "code_insee", "", "pôle non localisé (ni code INSEE, ni commune, ni point) : "
                                       "il sera listé mais pas cartographié.", "avertissement"))
    outcomes = geocoder.geocode([(q, code) for _, q, code in to_geocode])
    for (n, q, code), out in zip(to_geocode, outcomes):
        rec = report.records[n]
        if out.geocodage == "adresse":
            if code is None and out.code_insee:
                tmp = {**rec, "code_insee": out.code_insee, "commune": None, "latitude": None, "longitude": None}
                problems = poles.check_territory(tmp)
                if problems:
                    report.issues.append(Issue(n, "adresse", q, f"commune du résultat inconnue : {problems[0][1]}",
                                               "avertissement"))
                    continue
                for k in ("code_insee", "commune", "departement", "region"):
                    rec[k] = tmp[k]
            rec["latitude"], rec["longitude"], rec["geocodage"], rec["localise"] = out.latitude, out.longitude, "adresse", True
            report.issues.append(Issue(n, "adresse", q, out.note or "adresse géocodée.", "avertissement"))
        else:
            if out.latitude is not None:
                rec["latitude"], rec["longitude"], rec["geocodage"], rec["localise"] = out.latitude, out.longitude, "commune", True
            report.issues.append(Issue(n, "adresse", q, out.note or "géocodage impossible.", "avertissement"))
    report.issues.sort(key=lambda i: (i.ligne, i.gravite != "erreur"))
    return report


def write_rejects(report: ImportReport, target: str | Path) -> Path:
    """Rejected rows with their reasons, as French Excel opens them (``;``, UTF-8 BOM)."""
    target = Path(target)
    data = export.to_csv_bytes(report.rejects_frame(), excel=True)
    if target.is_dir():
        raise FileAccessError(f"Impossible d'écrire les rejets dans {str(target)!r} : c'est un dossier. "
                              "Donnez un nom de fichier à --rejects (ex. rejets.csv).")
    try:
        atomic_write(target, lambda tmp: tmp.write_bytes(data))
    except OSError as exc:
        raise file_error("d'écrire les rejets dans", target, exc,
                         "Choisissez un autre fichier avec --rejects (dans un dossier où vous pouvez écrire).") from exc
    return target


def default_rejects_path(path: str | Path) -> Path:
    """``<name>_rejets.csv`` beside the file, or ``<name>_rejets-2.csv``… if that exists (never overwritten)."""
    path = Path(path)
    target, n = path.with_name(f"{path.stem}_rejets.csv"), 2
    while target.exists():
        target, n = path.with_name(f"{path.stem}_rejets-{n}.csv"), n + 1
    return target


def run(path: str | Path, skip_invalid: bool = False, rejects: str | Path | None = None, who: str = "import",
        fmt: str | None = None) -> ImportReport:
    """Import a file: all rows or nothing, unless ``skip_invalid`` (then rejects are written out).

    The rejects file is written before the registry, so a rejects file that cannot be
    written stops the import with nothing changed."""
    report = check(path, fmt)
    if not report.ok and not skip_invalid:
        raise ValidationError(
            f"Import refusé : {len(report.error_lines)} {report.unit}(s) invalide(s) ; le registre n'a pas été modifié. "
            "Corrigez le fichier ou relancez avec --skip-invalid.\n" + report.text(), report)
    written = None
    if not report.ok:
        written = write_rejects(report, rejects or default_rejects_path(path))
    valid = report.valid_records
    if valid:
        try:
            report.imported_ids = registry.add_many(valid, who, action="import", note=f"fichier {report.fichier}")
        except BaseException:
            if written is not None:
                written.unlink(missing_ok=True)
            raise
    if written is not None:
        report.rejects_path = str(written)
    return report
