"""Bounded readers of import files: CSV (French Excel or not), XLSX, GeoJSON → a ``Table``.

Each reader takes the bytes of a regular file (``_safefile.read_bytes``, at most
``_limits.MAX_FILE_BYTES``), checks the limits of ``_limits`` before parsing, and returns a
``Table``: the headers, a French description of the file (encoding, separator, sheet), the
number of each row (file line, or feature number for GeoJSON), file-level problems of
single rows, and the cells of any row on demand. A CSV keeps only its lines and re-reads a
row when asked (the rejects file), so 100,000 rows cost a few tens of MB.

Refused with a ``DataFormatError`` naming the file and the row or limit: undecodable text,
NUL bytes, a quote left open at the end of the file (truncated), duplicated headers, more
rows or columns than the limits, a workbook that is not one. A CSV whose last row lacks
cells and the final line break (a file cut while written or copied) gets an error on that
row; a last row with all its cells but no final line break gets a warning naming it.

CSV cells are read through ``_text.from_cell``: the apostrophe the exports add before a
formula-looking text is removed, so an exported file imports back to the same text.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import re
import warnings
import zipfile
from array import array
from dataclasses import dataclass, field

from . import _limits
from ._errors import DataFormatError
from ._limits import int_fr
from ._text import from_cell, printable
from .schema import fold

__all__ = ["Table", "decode", "read_csv", "cell_text", "read_xlsx", "read_geojson"]


_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass
class Table:
    format: str  # "CSV" | "XLSX" | "GeoJSON"
    headers: list[str]
    detail: str
    numbers: list[int]  # row number (file line, or feature number) of each row
    problems: list[tuple] = field(default_factory=list)  # (number, champ, valeur, message, gravite)
    _cells: object = None  # callable: row index → list of cells aligned with ``headers``
    _store: object = None  # kept rows (XLSX, GeoJSON)
    width: int = 0

    def __len__(self) -> int:
        return len(self.numbers)

    def cells(self, i: int) -> list[str]:
        return self._cells(i)


# ---------------------------------------------------------------- text


def _decode_problem(exc: UnicodeDecodeError) -> str:
    """« octet 0x81 en position 57 » (where the text stops being readable), in French."""
    bad = exc.object[exc.start:exc.start + 1]
    return f"octet 0x{bad.hex() if bad else '??'} illisible en position {exc.start}"


def decode(data: bytes, name: str) -> tuple[str, str]:
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


def _headers(raw: list[str], name: str, first: int = 1) -> list[str]:
    """Stripped headers; duplicated ones (same text, case and accents aside) are refused, naming them."""
    headers = [printable(h).strip() for h in raw]
    if len(headers) > _limits.MAX_COLUMNS:
        raise DataFormatError(f"{name!r} : {int_fr(len(headers))} colonnes, la limite est "
                              f"{int_fr(_limits.MAX_COLUMNS)}. Supprimez les colonnes inutiles.")
    seen: dict[str, int] = {}
    dups = []
    for i, h in enumerate(headers):
        key = fold(h) or h
        if not h:
            continue
        if key in seen:
            dups.append(f"{h!r} (colonnes {seen[key] + first} et {i + first})")
        else:
            seen[key] = i
    if dups:
        raise DataFormatError(f"{name!r} : en-têtes en double : {', '.join(dups)}. Chaque colonne doit avoir un "
                              "en-tête différent (sinon on ne sait pas laquelle lire) : renommez ou supprimez le "
                              "doublon.")
    return headers


# ---------------------------------------------------------------- CSV


def read_csv(data: bytes, name: str) -> Table:
    text, enc = decode(data, name)
    del data
    if "\x00" in text:
        raise DataFormatError(f"{name!r} n'est pas un fichier texte (CSV) : il contient des octets nuls.")
    first = text.lstrip("\r\n").split("\n", 1)[0]
    sep = max([";", ",", "\t"], key=first.count)
    if first.count(sep) == 0:
        sep = ";" if ";" in text else ","
    _limits.check_csv_text(text, sep, name)
    ends_with_break = text.endswith(("\n", "\r"))
    ends = array("q")  # character offset of the end of each physical line read so far

    def physical_lines():  # the lines the csv module sees (\r\n, \r or \n)
        for m in _LINES.finditer(text):
            ends.append(m.end())
            yield m.group()

    reader = csv.reader(physical_lines(), delimiter=sep)
    starts, stops, numbers = array("q"), array("q"), array("l")
    headers = None
    last_cells = None
    previous = 0  # physical lines read before the current row
    try:
        for row in reader:
            start, previous = previous, reader.line_num
            if not any(c.strip() for c in row):
                continue
            if headers is None:
                headers = _headers([from_cell(c) for c in row], name)
                continue
            if len(numbers) >= _limits.MAX_ROWS:
                raise DataFormatError(f"{name!r} : plus de {int_fr(_limits.MAX_ROWS)} lignes de pôles, la limite "
                                      f"(ligne {start + 1} et suivantes). Découpez le fichier.")
            numbers.append(start + 1)
            starts.append(ends[start - 1] if start else 0)
            stops.append(ends[reader.line_num - 1])
            last_cells = len(row)
    except csv.Error as exc:
        text_exc = str(exc)
        if "field limit" in text_exc:
            why = "une cellule dépasse la taille permise (guillemet ouvrant sans guillemet fermant ?)"
        elif "unexpected end of data" in text_exc or "EOF" in text_exc:
            why = ("le fichier se termine au milieu d'une valeur entre guillemets : fichier tronqué, ou guillemet "
                   "jamais fermé")
        else:
            why = "guillemets ou retours à la ligne mal placés"
        raise DataFormatError(f"{name!r} : CSV illisible vers la ligne {previous + 1} ({why}). "
                              "Vérifiez les guillemets de cette ligne.") from exc
    if headers is None:
        raise DataFormatError(f"{name!r} est vide : il faut une ligne d'en-têtes (ex. « nom;code_insee ») puis les pôles.")
    if numbers:  # a quote opened on the last row and never closed swallowed the end of the file
        try:
            list(csv.reader([text[starts[-1]:stops[-1]]], delimiter=sep, strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise DataFormatError(
                    f"{name!r} : CSV illisible à partir de la ligne {numbers[-1]} : un guillemet y est ouvert et "
                    "jamais fermé, la fin du fichier est avalée dans une seule valeur (fichier tronqué, ou "
                    "guillemet en trop). Vérifiez les guillemets de cette ligne.") from exc
    problems = []
    if numbers and not ends_with_break:
        n = numbers[-1]
        if last_cells < len(headers):
            problems.append((n, "(ligne)", "", f"dernière ligne incomplète ({last_cells} valeur(s) pour "
                             f"{len(headers)} colonnes) et sans retour à la ligne final : le fichier semble tronqué "
                             "(coupé pendant l'écriture ou la copie). Vérifiez cette ligne.", "erreur"))
        else:
            problems.append((n, "(ligne)", "", "le fichier ne se termine pas par un retour à la ligne : vérifiez que "
                             "cette dernière ligne est complète (fichier tronqué ?).", "avertissement"))
    width = len(headers)

    def cells(i: int) -> list[str]:  # one row read again from its text (a few µs)
        row = next(csv.reader([text[starts[i]:stops[i]]], delimiter=sep))
        return [from_cell(c) if c[:1] == "'" else c for c in row]

    detail = f"encodage {enc}, séparateur {({';': '« ; »', ',': '« , »', chr(9): 'tabulation'})[sep]}"
    return Table("CSV", headers, detail, numbers, problems, cells, text, width)


# ---------------------------------------------------------------- XLSX


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return str(value)


def read_xlsx(data: bytes, name: str) -> Table:
    import openpyxl

    _limits.check_workbook(data, name)
    rows: list[tuple] = []
    numbers: list[int] = []
    headers = None
    too_wide = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's « no default style », « unknown extension »…
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                ws = wb.worksheets[0]
                sheet = ws.title
                # the declared dimension may be wrong (rows past it would be dropped): read every row
                # there is; their number and width were bounded by check_workbook
                ws.reset_dimensions()
                for n, values in enumerate(ws.iter_rows(max_col=_limits.MAX_COLUMNS + 1, values_only=True), start=1):
                    if n > _limits.MAX_SHEET_ROWS:
                        raise DataFormatError(f"{name!r} : la feuille {sheet!r} compte plus de "
                                              f"{int_fr(_limits.MAX_SHEET_ROWS)} lignes, la limite.")
                    cells = [cell_text(v) for v in values]
                    if not any(c.strip() for c in cells):
                        continue
                    if len(cells) > _limits.MAX_COLUMNS and cells[_limits.MAX_COLUMNS].strip():
                        too_wide = n
                        break
                    while cells and not cells[-1]:
                        cells.pop()
                    if headers is None:
                        headers = _headers(cells, name)
                        continue
                    if len(numbers) >= _limits.MAX_ROWS:
                        raise DataFormatError(f"{name!r} : plus de {int_fr(_limits.MAX_ROWS)} lignes de pôles, la "
                                              f"limite (ligne {n} et suivantes). Découpez le fichier.")
                    numbers.append(n)
                    rows.append(tuple(cells))
            finally:
                wb.close()
    except DataFormatError:
        raise
    except MemoryError as exc:
        raise DataFormatError(f"{name!r} : mémoire insuffisante pour lire ce classeur. Enregistrez-le en CSV, ou "
                              "découpez-le.") from exc
    except zipfile.BadZipFile as exc:
        raise DataFormatError(f"{name!r} n'est pas un classeur Excel .xlsx valide (fichier endommagé, ou d'un autre "
                              "format renommé en .xlsx, comme .xls ou .ods). Ouvrez-le dans votre tableur et "
                              "enregistrez-le au format .xlsx (ou .csv).") from exc
    except Exception as exc:  # noqa: BLE001 - any damaged workbook is the user's file problem
        raise DataFormatError(f"{name!r} : classeur Excel illisible (fichier endommagé ou incomplet). Ouvrez-le dans "
                              "votre tableur et enregistrez-le à nouveau au format .xlsx (ou .csv).") from exc
    if too_wide is not None:
        raise DataFormatError(f"{name!r} : la ligne {too_wide} a des valeurs au-delà de la colonne "
                              f"{_limits.MAX_COLUMNS}, la limite. Supprimez les colonnes en trop.")
    if headers is None:
        raise DataFormatError(f"{name!r} : la première feuille est vide (il faut une ligne d'en-têtes puis les pôles).")
    while headers and not headers[-1]:
        headers.pop()

    return Table("XLSX", headers, f"feuille {sheet!r}", numbers, [], lambda i: list(rows[i]), rows, len(headers))


# ---------------------------------------------------------------- GeoJSON


def read_geojson(data: bytes, name: str) -> Table:
    _limits.check_json_bytes(data, name)
    duplicated: dict[str, None] = {}

    def pairs(items):
        out = dict(items)
        if len(out) != len(items):
            seen = set()
            for k, _ in items:
                if k in seen:
                    duplicated[printable(k)] = None
                seen.add(k)
        return out

    try:
        doc = json.loads(data.decode("utf-8-sig"), object_pairs_hook=pairs)
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{name!r} : GeoJSON illisible, le fichier n'est pas en UTF-8 ({_decode_problem(exc)}). "
                              "Enregistrez-le en UTF-8.") from exc
    except json.JSONDecodeError as exc:
        cut = " (fichier tronqué ?)" if exc.pos >= len(data.rstrip()) - 1 else ""
        raise DataFormatError(f"{name!r} : GeoJSON illisible, JSON mal formé ligne {exc.lineno}, colonne {exc.colno}"
                              f"{cut} (virgule, guillemet ou accolade manquant ?).") from exc
    except RecursionError as exc:
        raise DataFormatError(f"{name!r} : GeoJSON illisible (imbrication trop profonde).") from exc
    del data
    if duplicated:
        raise DataFormatError(f"{name!r} : clé(s) en double dans un même objet JSON : "
                              f"{', '.join(repr(k) for k in list(duplicated)[:10])}. Chaque propriété ne doit "
                              "apparaître qu'une fois par objet (sinon on ne sait pas laquelle lire).")
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise DataFormatError(f"{name!r} : une FeatureCollection GeoJSON est attendue (clé « features »).")
    if len(doc["features"]) > _limits.MAX_ROWS:
        raise DataFormatError(f"{name!r} : {int_fr(len(doc['features']))} objets, la limite est "
                              f"{int_fr(_limits.MAX_ROWS)} pôles par fichier. Découpez le fichier.")
    headers: dict[str, None] = {}
    rows, problems = [], []
    for n, feat in enumerate(doc["features"], start=1):
        props = feat.get("properties") if isinstance(feat, dict) else None
        props = props if isinstance(props, dict) else {}
        raw = {}
        for k, v in props.items():
            if isinstance(v, list):
                v = ";".join(map(str, v))
            elif isinstance(v, dict):
                v = json.dumps(v, ensure_ascii=False)
            else:
                v = cell_text(v)
            raw[str(k)] = v
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        if isinstance(geom, dict):
            coords = geom.get("coordinates")
            if geom.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2:
                raw.setdefault("longitude", cell_text(coords[0]))
                raw.setdefault("latitude", cell_text(coords[1]))
            else:
                problems.append((n, "geometry", printable(str(geom.get("type")))[:40],
                                 "seule une géométrie Point est acceptée (le point du siège du pôle).", "erreur"))
        for k in raw:
            if k not in headers:
                headers[k] = None
                if len(headers) > _limits.MAX_COLUMNS:
                    raise DataFormatError(f"{name!r} : plus de {int_fr(_limits.MAX_COLUMNS)} propriétés différentes "
                                          f"(objet {n}), la limite. Supprimez les propriétés inutiles.")
        rows.append(raw)
    del doc
    keys = list(headers)
    names = _headers(keys, name)  # shown stripped; looked up by the keys as written

    def cells(i: int) -> list[str]:
        return [rows[i].get(k, "") for k in keys]

    return Table("GeoJSON", names, "objets (features) numérotés à partir de 1", list(range(1, len(rows) + 1)),
                 problems, cells, rows, len(names))
