"""Limits on what an import file may hold, checked before parsing (French messages).

A file a person uploads may be hostile or broken: a 5 KB workbook declaring a sheet of
1,048,576 × 16,384 cells, a ZIP member that expands to 1 GB, a CSV of 30 million empty
lines. Every such file is refused before it is parsed, with a message naming the limit and
the value found; files within the limits are read as streams, so memory stays bounded.

=====================================  ==================
Limit                                  Value
=====================================  ==================
file size (CSV, XLSX, GeoJSON)         ``MAX_FILE_BYTES`` = 32 Mio
rows of poles                          ``MAX_ROWS`` = 100 000
columns                                ``MAX_COLUMNS`` = 100
physical lines of a CSV                ``MAX_CSV_LINES`` = 500 000
separators on one CSV line             ``MAX_SEPARATORS`` = 10 000
rows of a sheet (declared or found)    ``MAX_SHEET_ROWS`` = 100 100 (title rows allowed)
cells in one row of a sheet            ``MAX_ROW_CELLS`` = 1 000 (empty ones included)
ZIP members of a workbook              ``ZIP_MAX_MEMBERS`` = 1 000
a worksheet, decompressed              ``ZIP_MAX_SHEET_BYTES`` = 200 Mio
any other member, decompressed         ``ZIP_MAX_OTHER_BYTES`` = 32 Mio
the whole workbook, decompressed       ``ZIP_MAX_TOTAL_BYTES`` = 256 Mio
expansion ratio of a member > 1 Mio    ``ZIP_MAX_RATIO`` = 200
JSON objects and arrays (GeoJSON)      ``JSON_MAX_CONTAINERS`` = 1 000 000
JSON values (GeoJSON)                  ``JSON_MAX_VALUES`` = 4 000 000
=====================================  ==================
"""

from __future__ import annotations

import io
import re
import zipfile

from ._errors import DataFormatError
from ._safefile import size_fr

__all__ = ["MAX_FILE_BYTES", "MAX_ROWS", "MAX_COLUMNS", "MAX_CSV_LINES", "MAX_SEPARATORS", "MAX_SHEET_ROWS",
    "MAX_ROW_CELLS", "ZIP_MAX_MEMBERS", "ZIP_MAX_SHEET_BYTES", "ZIP_MAX_OTHER_BYTES", "ZIP_MAX_TOTAL_BYTES",
    "ZIP_MAX_RATIO", "ZIP_RATIO_FLOOR", "JSON_MAX_CONTAINERS", "JSON_MAX_VALUES", "int_fr", "column_number",
    "check_workbook", "check_csv_text", "check_json_bytes"]

MAX_FILE_BYTES = 32 * 2**20
MAX_ROWS = 100_000
MAX_COLUMNS = 100
MAX_CSV_LINES = 500_000
MAX_SEPARATORS = 10_000
MAX_SHEET_ROWS = MAX_ROWS + 100
MAX_ROW_CELLS = 1_000
ZIP_MAX_MEMBERS = 1_000
ZIP_MAX_SHEET_BYTES = 200 * 2**20
ZIP_MAX_OTHER_BYTES = 32 * 2**20
ZIP_MAX_TOTAL_BYTES = 256 * 2**20
ZIP_MAX_RATIO = 200
ZIP_RATIO_FLOOR = 2**20
JSON_MAX_CONTAINERS = 1_000_000
JSON_MAX_VALUES = 4_000_000


def int_fr(n: int) -> str:
    """``1048576`` → « 1 048 576 »."""
    return f"{n:,}".replace(",", " ")


# ---------------------------------------------------------------- XLSX (a ZIP of XML files)

_SHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Za-z]{1,4})\$?(\d{1,8})(?::\$?([A-Za-z]{1,4})\$?(\d{1,8}))?\"")
_ROW = re.compile(rb"<(?:\w+:)?row[\s/>]")
_CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")


def column_number(letters: str) -> int:
    """``"A"`` → 1, ``"XFD"`` → 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _bomb(name: str, what: str) -> DataFormatError:
    return DataFormatError(f"{name!r} : {what} Ce n'est pas un classeur ordinaire (fichier piégé ou endommagé) : il "
                           "n'est pas lu. Ouvrez-le dans votre tableur et enregistrez-le à nouveau au format .xlsx "
                           "(ou .csv).")


def check_workbook(data: bytes, name: str) -> list[str]:
    """Check an XLSX container before openpyxl reads it; return its worksheet members.

    Refused (``DataFormatError`` naming the limit and the value): too many members, a member
    or the whole too large once decompressed, an expansion ratio above ``ZIP_MAX_RATIO``, a
    sheet whose declared dimension or real content exceeds the rows, columns or cells per row
    allowed. The sizes checked are the ones the ZIP declares: Python's ``zipfile`` never
    decompresses past them (a lying size fails its CRC check)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, EOFError) as exc:  # NotImplementedError: unknown zip version or method
        raise DataFormatError(f"{name!r} n'est pas un classeur Excel .xlsx valide (fichier endommagé, ou d'un autre "
                              "format renommé en .xlsx, comme .xls ou .ods). Ouvrez-le dans votre tableur et "
                              "enregistrez-le au format .xlsx (ou .csv).") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > ZIP_MAX_MEMBERS:
            raise _bomb(name, f"le classeur contient {int_fr(len(infos))} éléments, la limite est "
                              f"{int_fr(ZIP_MAX_MEMBERS)}.")
        total = 0
        sheets = []
        for info in infos:
            sheet = bool(_SHEET.match(info.filename))
            limit = ZIP_MAX_SHEET_BYTES if sheet else ZIP_MAX_OTHER_BYTES
            if info.file_size > limit:
                raise _bomb(name, f"l'élément {info.filename!r} fait {size_fr(info.file_size)} une fois décompressé, "
                                  f"la limite est {size_fr(limit)}.")
            total += info.file_size
            if total > ZIP_MAX_TOTAL_BYTES:
                raise _bomb(name, f"le classeur fait plus de {size_fr(total)} une fois décompressé, la limite est "
                                  f"{size_fr(ZIP_MAX_TOTAL_BYTES)}.")
            if info.file_size > ZIP_RATIO_FLOOR:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > ZIP_MAX_RATIO:
                    raise _bomb(name, f"l'élément {info.filename!r} est compressé {int_fr(round(ratio))} fois "
                                      f"({size_fr(info.compress_size)} → {size_fr(info.file_size)}), la limite est "
                                      f"{int_fr(ZIP_MAX_RATIO)} fois (« bombe » de décompression ?).")
            if sheet:
                sheets.append(info.filename)
        for member in sheets:
            _check_sheet(zf, member, name)
    return sheets


def _check_sheet(zf: zipfile.ZipFile, member: str, name: str) -> None:
    """Declared dimension, then the real numbers of rows and of cells per row (one streamed pass)."""
    try:
        with zf.open(member) as fh:
            head = fh.read(65536)
            found = _DIMENSION.search(head)
            if found:
                c0, r0, c1, r1 = found.groups()
                last_col = column_number((c1 or c0).decode())
                last_row = int(r1 or r0)
                if last_row > MAX_SHEET_ROWS or last_col > MAX_COLUMNS:
                    ref = found.group(0).split(b'"')[1].decode()
                    raise DataFormatError(
                        f"{name!r} : la feuille {member.rsplit('/', 1)[-1]!r} déclare {int_fr(last_row)} lignes et "
                        f"{int_fr(last_col)} colonnes (plage {ref}) ; au plus {int_fr(MAX_SHEET_ROWS)} lignes et "
                        f"{int_fr(MAX_COLUMNS)} colonnes sont lues. Supprimez les lignes et colonnes en trop (vides ou "
                        "mises en forme) en bas et à droite de la feuille, ou enregistrez-la en CSV.")
            rows, cells_in_row, tail, chunk = 0, 0, b"", head
            while chunk:
                buf = tail + chunk
                # a tag cut by the chunk boundary is seen whole in the next buffer
                cut = max(buf.rfind(b"<"), len(buf) - 16)
                scan, tail = buf[:cut], buf[cut:]
                pos = 0
                for match in _ROW.finditer(scan):
                    cells_in_row += len(_CELL.findall(scan, pos, match.start()))
                    _row_cells(cells_in_row, rows, member, name)
                    rows += 1
                    cells_in_row = 0
                    pos = match.end()
                    if rows > MAX_SHEET_ROWS:
                        raise DataFormatError(
                            f"{name!r} : la feuille {member.rsplit('/', 1)[-1]!r} compte plus de "
                            f"{int_fr(MAX_SHEET_ROWS)} lignes (vides comprises), la limite. Supprimez les lignes vides "
                            "en bas de la feuille, ou découpez le fichier.")
                cells_in_row += len(_CELL.findall(scan, pos))
                _row_cells(cells_in_row, rows, member, name)
                chunk = fh.read(1 << 20)
            cells_in_row += len(_CELL.findall(tail))
            _row_cells(cells_in_row, rows, member, name)
    except DataFormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - zlib.error, BadZipFile, EOFError…: a damaged archive
        raise DataFormatError(f"{name!r} : classeur Excel illisible (archive endommagée ou incomplète : la feuille "
                              f"{member.rsplit('/', 1)[-1]!r} ne se décompresse pas). Ouvrez-le dans votre tableur "
                              "et enregistrez-le à nouveau au format .xlsx (ou .csv).") from exc


def _row_cells(count: int, rows: int, member: str, name: str) -> None:
    if count > MAX_ROW_CELLS:
        raise DataFormatError(f"{name!r} : la ligne {int_fr(max(rows, 1))} de la feuille {member.rsplit('/', 1)[-1]!r} "
                              f"contient {int_fr(count)} cellules ou plus, la limite est {int_fr(MAX_ROW_CELLS)} "
                              "(vides comprises). Supprimez les colonnes en trop à droite de la feuille.")


# ---------------------------------------------------------------- CSV and GeoJSON


def check_csv_text(text: str, sep: str, name: str) -> None:
    """Physical lines and separators per line of a decoded CSV, before it is parsed."""
    n_lines = max(text.count("\n"), text.count("\r"))
    if n_lines > MAX_CSV_LINES:
        raise DataFormatError(f"{name!r} compte {int_fr(n_lines)} lignes, la limite est {int_fr(MAX_CSV_LINES)} "
                              f"(au plus {int_fr(MAX_ROWS)} pôles par fichier). Supprimez les lignes vides ou découpez "
                              "le fichier.")
    if text.count(sep) > MAX_SEPARATORS:
        for number, line in enumerate(io.StringIO(text, newline=""), start=1):
            if line.count(sep) > MAX_SEPARATORS:
                raise DataFormatError(
                    f"{name!r}, ligne {number} : {int_fr(line.count(sep))} séparateurs sur une seule ligne, la limite "
                    f"est {int_fr(MAX_SEPARATORS)} (au plus {int_fr(MAX_COLUMNS)} colonnes sont lues). Ce n'est pas "
                    "un tableau de pôles : vérifiez le fichier.")


def check_json_bytes(data: bytes, name: str) -> None:
    """Numbers of JSON objects/arrays and of values, counted on the bytes before parsing
    (characters inside strings are counted too, which only makes the count larger)."""
    containers = data.count(b"{") + data.count(b"[")
    if containers > JSON_MAX_CONTAINERS:
        raise DataFormatError(f"{name!r} contient {int_fr(containers)} objets ou listes JSON, la limite est "
                              f"{int_fr(JSON_MAX_CONTAINERS)} (au plus {int_fr(MAX_ROWS)} pôles par fichier).")
    values = data.count(b",") + data.count(b":")
    if values > JSON_MAX_VALUES:
        raise DataFormatError(f"{name!r} contient plus de {int_fr(values)} valeurs JSON, la limite est "
                              f"{int_fr(JSON_MAX_VALUES)} (au plus {int_fr(MAX_ROWS)} pôles par fichier).")
