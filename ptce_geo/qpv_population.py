"""INSEE's population of each urban priority district (QPV 2024): reading the file, its status.

INSEE's population of the 2024 QPV (``pop_QPV24``, insee.fr/fr/statistiques/8210600) is an
optional source read from the mirror or the raw cache only (INSEE publishes no stable file
URL). Parsed by its columns: a QPV code column (one of ``CODE_COLUMNS``) and a municipal
population column (one of ``POPULATION_COLUMNS``); a CSV (any usual separator and encoding),
an XLSX workbook or a ZIP holding one. A file without them is refused with a French message
listing them. Without the file, QPV figures are counts: no commune's population ever stands
in for it. ``population_status()`` is the one-line state the CLI and the page Données show.

The districts themselves (contours, coverage) are in ``qpv``, which re-exports these names.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd

from . import _http, sources
from ._errors import DataFormatError, PtceGeoError
from ._fmt import fmt_int

__all__ = ["SOURCE_ID", "CODE_COLUMNS", "POPULATION_COLUMNS", "read_population", "population_file", "population",
           "population_or_note", "population_status", "population_vintage"]

SOURCE_ID = "qpv-2024-population"

#: Accepted names (case, accents, spaces and underscores ignored) of the QPV code column of
#: INSEE's file, and of its municipal population column.
CODE_COLUMNS = ("CODE_QP", "CODGEO", "QP", "CODE_QPV", "QP2024", "CODE_QP2024")
POPULATION_COLUMNS = ("POP_MUN", "PMUN", "POPMUN", "POP_MUN_QP", "POPMUNIQPV", "POPULATION_MUNICIPALE",
                      "POP_MUNICIPALE", "POPULATION")
_QP_CODE = re.compile(r"^QN[0-9]{2}[0-9AB][0-9]{2}[A-Z]$")


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
    pop, err = population_or_note()
    src = sources.get(SOURCE_ID)
    if err:
        return f"Population des QPV (INSEE) : fichier refusé — {err}"
    if pop is None:
        return (f"Population des QPV (INSEE) : absente — les chiffres des QPV sont des nombres de quartiers. "
                f"Pour l'ajouter : téléchargez {src.filename} sur {src.page} et placez-le dans le dossier "
                "PTCE_GEO_MIRROR (ou le cache brut).")
    known = int(pop.notna().sum())
    return f"Population des QPV (INSEE) : {known} quartiers renseignés, {fmt_int(int(pop.sum()))} habitants."


def population_vintage() -> str | None:
    """« <vintage> — INSEE (<file>, <origin> du <date>) » of the population file at hand, or None."""
    got = population_file()
    if got is None:
        return None
    src = sources.get(SOURCE_ID)
    return f"{src.vintage} — INSEE ({got.path.name}, {got.origin} du {got.date})"
