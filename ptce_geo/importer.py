"""Import poles from CSV, XLSX or GeoJSON files, validated row by row, all or nothing.

Files as French Excel writes them are read as they are: UTF-8 (with or without BOM) or
cp1252, ``;`` or ``,`` separator, decimal comma. Columns are matched on common French
headers (``HEADERS``); a file with only a name and an INSEE code is enough.

Files are read by ``_readers`` within the limits of ``_limits`` (size, rows, columns,
ZIP expansion, declared sheet dimension), checked before parsing; only regular files are
read (``_safefile``). Duplicated headers and a truncated last row are refused, naming them.

``check(path)`` reads and validates without writing: per row, missing name, text with a
lone surrogate or a control character, unknown INSEE code (COG 2025), unknown or ambiguous
commune name, point outside France or far from its commune (measured in a metric CRS),
bad year, count or call, duplicate of an existing pole (same name in the same commune) or
of an earlier row. Sectors are a guide: an unknown word is mapped to a close sector or
kept as a free sector, with a warning (``poles.parse_secteurs``). Rows with an address and
no point are geocoded (``geocoder.py``), falling back to the commune's point. The
``ImportReport`` names each bad row and field in French. Places are checked ``CHUNK`` rows
at a time in one vectorised pass (``_territory``): 100,000 rows in a few seconds.

Every problem of a row is reported at once (the place is checked even when another field
is wrong); a commune name given with a code must name that code's commune. GeoJSON rows
are called « objet N » (feature number), CSV/XLSX rows « ligne N » (file line).

``run(path, skip_invalid=False, rejects=None)`` writes nothing and raises
``ValidationError`` if any row is invalid; with ``skip_invalid`` it imports the valid rows
in one transaction and writes the rejected rows, with their reasons, to ``rejects``
(default ``<name>_rejets.csv`` beside the file, ``<name>_rejets-2.csv``… when it exists:
an earlier rejects file is never overwritten; a link, a device or a folder given as
``rejects`` is refused). ``run(..., report=checked)`` imports from an earlier ``check``
(the app checks once, when asked), re-checking only duplicates against the registry.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import _limits, _readers, _safefile, export, geocoder, poles, registry
from ._cache import atomic_write
from ._errors import FileAccessError, UnknownChoiceError, ValidationError, file_error
from ._text import bad_character, printable

__all__ = ["FORMATS", "HEADERS", "Issue", "CHUNK", "PREVIEW_ROWS", "ImportReport", "read", "check",
    "write_rejects", "default_rejects_path", "run"]

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


# Keys of a clean record (``poles.normalize`` then ``check_territory``), stored as tuples.
_REC_KEYS = ("nom", "adresse", "forme_juridique", "site_web", "source", "commune", "departement", "region",
             "code_insee", "latitude", "longitude", "geocodage", "annee_creation", "membres", "secteurs", "appel",
             "perimetre", "localise")
# Rows validated together (their places checked in one vectorised pass).
CHUNK = 4096
PREVIEW_ROWS = 1000


_LISTS = {_REC_KEYS.index("secteurs"), _REC_KEYS.index("perimetre")}


def _pack(rec: dict, shared: dict | None = None) -> tuple:
    """A record as a tuple; list fields as tuples, equal ones shared (``shared``), so 100,000
    records with the same sectors hold one copy of them."""
    out = [rec.get(k) for k in _REC_KEYS]
    for j in _LISTS:
        v = tuple(out[j] or ())
        out[j] = shared.setdefault(v, v) if shared is not None else v
    return tuple(out)


def _unpack(values: tuple) -> dict:
    rec = dict(zip(_REC_KEYS, values))
    for j in _LISTS:
        rec[_REC_KEYS[j]] = list(values[j])
    return rec


@dataclass
class ImportReport:
    """What an import read, found and (for ``run``) wrote."""

    fichier: str
    format: str
    detail: str = ""
    headers: list[str] = field(default_factory=list)
    mapping: dict = field(default_factory=dict)  # header → field
    ignored: list[str] = field(default_factory=list)
    records: dict = field(default_factory=dict)  # line → clean record, packed (valid rows only)
    issues: list[Issue] = field(default_factory=list)
    imported_ids: list[str] = field(default_factory=list)
    rejects_path: str | None = None
    table: object = None  # _readers.Table
    checked: bool = False  # ``check`` ran (``run`` may reuse the report)

    @property
    def unit(self) -> str:
        """What a row is called in messages: « objet » (GeoJSON feature) or « ligne » (file line)."""
        return "objet" if self.format == "GeoJSON" else "ligne"

    @property
    def numbers(self) -> list[int]:
        return self.table.numbers if self.table is not None else []

    @property
    def rows(self) -> list[tuple[int, dict]]:
        """``(line, raw row with the original headers)`` of every row (built on demand)."""
        return [(n, self.raw(i)) for i, n in enumerate(self.numbers)]

    def raw(self, i: int) -> dict:
        cells = self.table.cells(i)
        return {h: (cells[j] if j < len(cells) else "") for j, h in enumerate(self.headers)}

    @property
    def error_lines(self) -> list[int]:
        return sorted({i.ligne for i in self.issues if i.gravite == "erreur"})

    @property
    def ok(self) -> bool:
        return not any(i.gravite == "erreur" for i in self.issues)

    def iter_valid_records(self):
        bad = set(self.error_lines)
        for n in self.numbers:
            if n in self.records and n not in bad:
                yield _unpack(self.records[n])

    @property
    def valid_records(self) -> list[dict]:
        return list(self.iter_valid_records())

    @property
    def n_valid(self) -> int:
        bad = set(self.error_lines)
        return sum(1 for n in self.records if n not in bad)

    def issues_frame(self) -> pd.DataFrame:
        return pd.DataFrame([i.__dict__ for i in self.issues], columns=["ligne", "champ", "valeur", "message", "gravite"])

    def rejects_frame(self) -> pd.DataFrame:
        bad = set(self.error_lines)
        reasons: dict = {}
        for i in self.issues:
            if i.gravite == "erreur":
                reasons.setdefault(i.ligne, []).append(f"{i.champ} : {i.message}")
        out = [{self.unit: n, **{h: printable(v) for h, v in self.raw(i).items()},
                "motifs": printable(" | ".join(reasons.get(n, [])))}
               for i, n in enumerate(self.numbers) if n in bad]
        out += [{self.unit: n, "motifs": " | ".join(reasons[n])} for n in sorted(bad - set(self.numbers))]
        cols = [self.unit, *self.headers, "motifs"]
        return pd.DataFrame(out, columns=list(dict.fromkeys(cols)))

    def preview(self, limit: int = PREVIEW_ROWS) -> pd.DataFrame:
        """Valid records as they would be written (the first ``limit``, for the app's preview)."""
        frame = pd.DataFrame(list(itertools.islice(self.iter_valid_records(), limit)))
        keep = [c for c in ["nom", "code_insee", "commune", "departement", "latitude", "longitude", "geocodage",
                            "secteurs", "appel", "annee_creation", "source"] if c in frame]
        return frame[keep] if len(frame) else pd.DataFrame(columns=keep)

    def summary(self) -> str:
        n, bad = len(self.numbers), len(self.error_lines)
        warn = sum(1 for i in self.issues if i.gravite == "avertissement")
        tail = f", {warn} avertissement(s)" if warn else ""
        if self.unit == "objet":
            return f"{n} objet(s) lu(s) : {n - bad} valide(s), {bad} invalide(s){tail}."
        return f"{n} ligne(s) lue(s) : {n - bad} valide(s), {bad} invalide(s){tail}."

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
        return printable("\n".join(lines))


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


def read(path: str | Path, fmt: str | None = None) -> ImportReport:
    """Read a file into an ``ImportReport`` (header mapping, rows on demand), without validating values.

    Only a regular file of at most ``_limits.MAX_FILE_BYTES`` is read (``_safefile``), and
    the limits of ``_limits`` are checked before it is parsed."""
    path = Path(path)
    shown = printable(str(path))
    if path.is_dir():
        raise FileAccessError(f"{shown!r} est un dossier, pas un fichier : donnez le chemin d'un fichier .csv, "
                              ".xlsx ou .geojson à importer.")
    if not os.path.lexists(path):
        raise FileAccessError(f"Fichier à importer introuvable : {shown!r}. Vérifiez le chemin et le nom du fichier.")
    fmt = _format_of(path, fmt)
    name = printable(path.name)
    reader = {"csv": _readers.read_csv, "xlsx": _readers.read_xlsx, "geojson": _readers.read_geojson}[fmt]
    # the bytes are the reader's alone: it drops them once decoded
    table = reader(_safefile.read_bytes(path, _limits.MAX_FILE_BYTES, "Le fichier à importer"), name)
    report = ImportReport(fichier=name, format=table.format, detail=table.detail, headers=table.headers, table=table)
    report.issues.extend(Issue(*p) for p in table.problems)
    for h in table.headers:
        f = _ALIAS.get(poles.fold(h))
        if not h:
            continue
        if f is None or f in report.mapping.values():
            report.ignored.append(h)
        else:
            report.mapping[h] = f
    if "nom" not in report.mapping.values():
        raise ValidationError(
            f"{name!r} : colonne du nom du pôle introuvable. En-têtes lus : {table.headers!r}. "
            f"Nommez-la par exemple « nom » ou « nom du pôle ».", report)
    return report


# ---------------------------------------------------------------- validation


def _key(rec: dict) -> str:
    """What makes two poles the same: the name (case, accents, punctuation aside) in the same commune."""
    return f"{poles.fold(rec['nom'])}|{rec.get('code_insee') or ''}"


def _marked_unlocated(value) -> bool:
    """The file says « localisé : non » (the pole must stay off the map)."""
    try:
        return not poles.blank(value) and poles.parse_bool(value) is False
    except ValueError:
        return False


def check(path: str | Path, fmt: str | None = None) -> ImportReport:
    """Read and validate a file (geocoding rows with an address); writes nothing.

    Rows are validated ``CHUNK`` at a time, their places checked in one vectorised pass; a
    valid row is kept as a compact record, an invalid one only by its line (its cells are
    read again for the rejects file)."""
    report = read(path, fmt)
    table = report.table
    existing = {_key(r): r for r in registry.records()}
    seen: dict[str, int] = {}
    to_geocode: list[tuple[int, str, str | None]] = []
    bad_lines = {i.ligne for i in report.issues if i.gravite == "erreur"}
    default_source = f"import du fichier {report.fichier!r} le {_dt.date.today().isoformat()}"
    shared: dict = {}
    index = {h: j for j, h in enumerate(table.headers)}
    columns = [(index[h], f) for h, f in report.mapping.items()]
    width = len(table.headers)
    for start in range(0, len(table), CHUNK):
        rows = []
        for i in range(start, min(start + CHUNK, len(table))):
            cells = table.cells(i)
            n = table.numbers[i]
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                report.issues.append(Issue(n, "(ligne)", "", f"{len(cells)} valeurs pour {width} colonnes : "
                                           "vérifiez les séparateurs et les guillemets de cette ligne."))
                bad_lines.add(n)
            rows.append((n, {f: (cells[j] if j < len(cells) else "") for j, f in columns}))
        warnings = [[] for _ in rows]
        results = poles.validate_many([fields for _, fields in rows], warnings)
        for (n, fields), (rec, problems), warned in zip(rows, results, warnings):
            for champ, message in problems:
                report.issues.append(Issue(n, champ, printable(str(fields.get(champ, "") or ""))[:200], message))
            for champ, message in warned:
                report.issues.append(Issue(n, champ, printable(str(fields.get(champ, "") or ""))[:200], message,
                                           "avertissement"))
            if problems or n in bad_lines:
                continue
            had_point = not poles.blank(fields.get("latitude")) and not poles.blank(fields.get("longitude"))
            marked_unlocated = _marked_unlocated(fields.get("localise"))
            if rec.get("source") is None:
                rec["source"] = default_source
            key = _key(rec)
            where = f"dans la commune {rec.get('commune')!r}" if rec.get("code_insee") else "sans commune"
            if key in existing:
                report.issues.append(Issue(n, "nom", rec["nom"], f"doublon : le pôle {existing[key]['nom']!r} existe "
                                           f"déjà {where} (id {existing[key]['id']!r})."))
                continue
            if key in seen:
                earlier = "l'objet" if report.unit == "objet" else "la ligne"
                report.issues.append(Issue(n, "nom", rec["nom"], f"doublon de {earlier} {seen[key]} (même nom {where})."))
                continue
            seen[key] = n
            report.records[n] = _pack(rec, shared)
            if rec.get("adresse") and not had_point and not marked_unlocated:
                q = rec["adresse"]
                extra = " ".join(x for x in (fields.get("code_postal") or "", rec.get("commune") or "") if x
                                 and poles.fold(x) not in poles.fold(q))
                to_geocode.append((n, f"{q} {extra}".strip(), rec.get("code_insee")))
            elif not rec.get("localise") and not marked_unlocated:
                report.issues.append(Issue(n, "code_insee", "", "pôle non localisé (ni code INSEE, ni commune, ni "
                                           "point) : il sera listé mais pas cartographié.", "avertissement"))
    _geocode(report, to_geocode)
    report.issues.sort(key=lambda i: (i.ligne, i.gravite != "erreur"))
    report.checked = True
    return report


def _geocode(report: ImportReport, to_geocode: list) -> None:
    outcomes = geocoder.geocode([(q, code) for _, q, code in to_geocode])
    for (n, q, code), out in zip(to_geocode, outcomes):
        rec = _unpack(report.records[n])
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
        report.records[n] = _pack(rec)


def _recheck_duplicates(report: ImportReport) -> None:
    """Rows of a report checked earlier that the registry now holds (someone imported them
    meanwhile) become errors, so a reused check never writes a duplicate."""
    existing = {_key(r): r for r in registry.records()}
    bad = set(report.error_lines)
    for n, values in report.records.items():
        if n in bad:
            continue
        rec = _unpack(values)
        key = _key(rec)
        if key in existing:
            where = f"dans la commune {rec.get('commune')!r}" if rec.get("code_insee") else "sans commune"
            report.issues.append(Issue(n, "nom", rec["nom"], f"doublon : le pôle {existing[key]['nom']!r} existe déjà "
                                       f"{where} (id {existing[key]['id']!r}), ajouté depuis la vérification."))
    report.issues.sort(key=lambda i: (i.ligne, i.gravite != "erreur"))


def write_rejects(report: ImportReport, target: str | Path) -> Path:
    """Rejected rows with their reasons, as French Excel opens them (``;``, UTF-8 BOM, formula-looking
    text neutralised)."""
    target = Path(target)
    if str(target) == "-":
        raise FileAccessError("--rejects - n'est pas possible : la sortie standard reçoit déjà le rapport d'import. "
                              "Donnez un nom de fichier à --rejects (ex. rejets.csv).")
    if target.is_dir() and not target.is_symlink():
        raise FileAccessError(f"Impossible d'écrire les rejets dans {printable(str(target))!r} : c'est un dossier. "
                              "Donnez un nom de fichier à --rejects (ex. rejets.csv).")
    _safefile.check_output(target, "--rejects")
    data = export.to_csv_bytes(report.rejects_frame(), excel=True)
    try:
        atomic_write(target, lambda tmp: tmp.write_bytes(data))
    except OSError as exc:
        raise file_error("d'écrire les rejets dans", printable(str(target)), exc,
                         "Choisissez un autre fichier avec --rejects (dans un dossier où vous pouvez écrire).") from exc
    return target


def default_rejects_path(path: str | Path) -> Path:
    """``<name>_rejets.csv`` beside the file, or ``<name>_rejets-2.csv``… if that exists (never overwritten;
    a link or anything else already bearing the name counts as existing)."""
    path = Path(path)
    target, n = path.with_name(f"{path.stem}_rejets.csv"), 2
    while os.path.lexists(target):
        target, n = path.with_name(f"{path.stem}_rejets-{n}.csv"), n + 1
    return target


def run(path: str | Path, skip_invalid: bool = False, rejects: str | Path | None = None, who="import",
        fmt: str | None = None, report: ImportReport | None = None) -> ImportReport:
    """Import a file: all rows or nothing, unless ``skip_invalid`` (then rejects are written out).

    ``report``: the result of an earlier ``check`` of the same file (the app checks once, when
    asked, and imports from that check); only the duplicates against the registry are checked
    again. The rejects file is written before the registry, so a rejects file that cannot be
    written stops the import with nothing changed."""
    label = getattr(who, "label", who) or ""  # a registry.Author or a plain name
    problem = bad_character(label)
    if problem:
        raise ValidationError(f"Nom d'auteur refusé pour l'historique ({problem}) : {printable(label)!r}.")
    if report is None or not report.checked:
        report = check(path, fmt)
    else:
        _recheck_duplicates(report)
    if not report.ok and not skip_invalid:
        raise ValidationError(
            f"Import refusé : {len(report.error_lines)} {report.unit}(s) invalide(s) ; le registre n'a pas été modifié. "
            "Corrigez le fichier ou relancez avec --skip-invalid.\n" + report.text(), report)
    written = None
    if not report.ok:
        written = write_rejects(report, rejects or default_rejects_path(path))
    if report.n_valid:
        try:
            report.imported_ids = registry.add_many(report.iter_valid_records(), who, action="import",
                                                    note=f"fichier {report.fichier}")
        except BaseException:
            if written is not None:
                written.unlink(missing_ok=True)
            raise
    if written is not None:
        report.rejects_path = printable(str(written))
    return report
