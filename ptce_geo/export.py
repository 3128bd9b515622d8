"""Write tables and layers to CSV, GeoJSON, GeoPackage or XLSX, to a file or stdout.

``FORMATS`` maps each format name to its writer; a wrong name lists the valid ones.
CSV has no geometry column and list cells are ``;``-joined. ``excel=True`` writes the
CSV as French Excel opens it directly: ``;`` separator and a UTF-8 BOM.

``output_format(fmt, output, valid)`` is the rule every ``-o`` of the CLI follows: the
format given, else the one of the file's extension, else CSV; an unknown extension, or one
that contradicts ``--format``, is refused in French. Counts stored as floats because of
missing values (populations, numbers of communes…) are written as integers (``776``, not
``776.0``). A file that cannot be written raises ``FileAccessError`` naming it; a symbolic
link, a device, a FIFO or a folder given as output is refused (``_safefile.check_output``):
only a regular file is ever replaced.

Spreadsheet safety (OWASP « CSV injection »), in every CSV and XLSX this module writes
(poles, history, coverage, gaps, suggestions, rejects, boundaries, layers): a CSV text cell
(header included) that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
a leading apostrophe (``_text.to_cell``; numbers stay numbers, a negative population is not
quoted); XLSX cells holding text are written as text (``data_type`` « s »), never as
formulas, and keep the text exactly. The importer removes exactly the apostrophe a CSV
export added (``_text.from_cell``): an exported file imports back to the same names. The
registry keeps the text as typed.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

from . import _safefile, settings
from ._cache import atomic_write
from ._errors import UnknownChoiceError, file_error
from ._text import printable, to_cell, xml_safe

__all__ = ["to_csv_bytes", "to_geojson_bytes", "to_xlsx_bytes", "FORMATS", "format_for", "output_format", "write"]


# Float columns holding counts (floats only because a value is missing): written as integers.
_COUNT_COLUMN = re.compile(r"(^|_)(population|communes|poles|membres|annee_creation|rang|count|gain)(_|$)")


def _integers(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with float count columns whose values are all whole turned into nullable Int64."""
    out = frame
    for col in frame.columns:
        if not isinstance(col, str) or not _COUNT_COLUMN.search(col) or not pd.api.types.is_float_dtype(frame[col]):
            continue
        values = frame[col].dropna()
        if len(values) and not (values == values.round()).all():
            continue
        if len(values) and values.abs().max() >= 2**53:
            continue
        if out is frame:
            out = frame.copy()
        out[col] = frame[col].round().astype("Int64")
    return out


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """Table without geometry, list/tuple/set cells joined with ``;``."""
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name) if isinstance(frame, gpd.GeoDataFrame) else frame)
    table = _integers(table)
    for col in table.columns:
        if table[col].dtype == object and table[col].map(lambda v: isinstance(v, (list, tuple, set))).any():
            table[col] = table[col].map(
                lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple, set)) else v
            )
    return table


def _text_cells(table: pd.DataFrame, cell) -> pd.DataFrame:
    """``table`` with ``cell`` applied to every text cell and header (numbers untouched)."""
    out = table.copy()
    for col in out.columns:
        values = out[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            out[col] = values.astype(object).map(lambda v: cell(v) if isinstance(v, str) else v)
    out.columns = [cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame, excel: bool = False) -> bytes:
    """CSV bytes; ``excel=True``: ``;`` separator, decimal comma and a BOM, as French Excel reads them.
    Formula-looking text is neutralised (``_text.to_cell``)."""
    table = _text_cells(_flatten(frame), lambda v: to_cell(printable(v)))
    # CRLF line ends (RFC 4180, what Excel writes): a text holding a carriage return is then quoted
    text = table.to_csv(index=False, sep=";" if excel else ",", decimal="," if excel else ".", lineterminator="\r\n")
    return text.encode("utf-8-sig" if excel else "utf-8")


def _cells_as_text(ws) -> None:
    """Every cell openpyxl took for a formula (text starting with « = ») written as text instead."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def _geo_for_file(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise UnknownChoiceError("Format", "geojson/gpkg", ["csv", "xlsx"],
                                 message="Ce tableau n'a pas de géométrie : il s'exporte en csv ou xlsx, "
                                         "pas en geojson ni en gpkg.")
    out = _integers(frame.copy())
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object and out[col].map(
            lambda v: isinstance(v, (list, tuple, set))
        ).any():
            out[col] = out[col].map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple, set)) else v)
    return out.to_crs(settings.WEB_CRS) if out.crs is not None else out


def to_geojson_bytes(frame: pd.DataFrame) -> bytes:
    return _geo_for_file(frame).to_json(drop_id=True, ensure_ascii=False).encode("utf-8")


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "donnees", meta: dict | None = None) -> bytes:
    """XLSX bytes: text cells are text (never formulas), as typed (control characters an XLSX file
    cannot hold shown as « � »)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        _text_cells(_flatten(frame), xml_safe).to_excel(xl, index=False, sheet_name=sheet[:31])
        if meta:
            values = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v) for v in meta.values()]
            params = pd.DataFrame({"paramètre": list(meta), "valeur": pd.Series(values, dtype=object)})
            _text_cells(params, xml_safe).to_excel(xl, index=False, sheet_name="parametres")
        for ws in xl.sheets.values():
            _cells_as_text(ws)
    return buf.getvalue()


def _gpkg_to(frame: pd.DataFrame, path: Path, layer: str = "donnees") -> None:
    _geo_for_file(frame).to_file(path, driver="GPKG", layer=layer, engine="pyogrio")


FORMATS = ("csv", "geojson", "gpkg", "xlsx")

_EXTENSIONS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".xlsx": "xlsx",
               ".pdf": "pdf", ".png": "png", ".svg": "svg"}


def _extensions_of(valid) -> list[str]:
    return [e for e, f in _EXTENSIONS.items() if f in valid]


def format_for(output, valid, default: str) -> str:
    """Format named by a file's extension: ``default`` for stdout or no extension, and an
    error listing the valid extensions when the extension names no format in ``valid``."""
    if output in (None, "-"):
        return default
    suffix = Path(str(output)).suffix.lower()
    if not suffix:
        return default
    fmt = _EXTENSIONS.get(suffix)
    if fmt not in valid:
        exts = _extensions_of(valid)
        raise UnknownChoiceError(
            "Extension", suffix, exts,
            message=f"Extension {suffix!r} non prise en charge pour le fichier {str(output)!r}. Extensions "
                    f"possibles : {', '.join(exts)} ; ou précisez le format avec --format "
                    f"({', '.join(dict.fromkeys(f for f in valid))}).")
    return fmt


def output_format(fmt: str | None, output, valid, default: str = "csv") -> str:
    """The format to write ``output`` in: ``fmt`` (``--format``) when given, else the file's
    extension, else ``default``. An unknown extension without ``--format``, or an extension
    naming another format than ``--format``, is refused with a French message."""
    if fmt is None:
        return format_for(output, valid, default)
    if fmt not in valid:
        raise UnknownChoiceError("Format", fmt, valid)
    if output not in (None, "-"):
        suffix = Path(str(output)).suffix.lower()
        implied = _EXTENSIONS.get(suffix)
        if implied is not None and implied != fmt:
            raise UnknownChoiceError(
                "Format", fmt, valid,
                message=f"Format et extension en désaccord : --format {fmt} mais le fichier {str(output)!r} a "
                        f"l'extension {suffix!r} ({implied}). Changez l'extension (ex. "
                        f"{Path(str(output)).with_suffix('.' + ('geojson' if fmt == 'geojson' else fmt)).name!r}) "
                        "ou retirez --format pour suivre l'extension.")
    return fmt


def _stdout_refused(fmt: str) -> UnknownChoiceError:
    if fmt == "gpkg":
        text = ("Le format gpkg (GeoPackage) ne peut pas s'écrire sur la sortie standard : donnez un fichier "
                "avec -o FICHIER.gpkg.")
    else:
        text = ("Un classeur xlsx est un fichier binaire qui ne s'affiche pas dans le terminal : donnez un fichier "
                "avec -o FICHIER.xlsx (ou redirigez : > FICHIER.xlsx).")
    return UnknownChoiceError("Sortie", "-", [f"-o FICHIER.{fmt}"], message=text)


def _write_file(path: Path, write) -> None:
    """``atomic_write`` of a regular file (anything else refused, ``_safefile.check_output``) with
    every OS failure turned into a French ``FileAccessError``."""
    _safefile.check_output(path)
    try:
        atomic_write(path, write)
    except OSError as exc:
        raise file_error("d'écrire", printable(str(path)), exc) from exc


def write(frame: pd.DataFrame, fmt: str, output: str | Path | None = None, excel: bool = False,
          meta: dict | None = None) -> None:
    """Write ``frame`` as ``fmt`` to ``output`` (a path; ``None`` or ``"-"`` = stdout)."""
    if fmt not in FORMATS:
        raise UnknownChoiceError("Format", fmt, FORMATS)
    to_stdout = output in (None, "-")
    if to_stdout and fmt == "xlsx" and sys.stdout.isatty():
        raise _stdout_refused("xlsx")
    if fmt == "gpkg":
        if to_stdout:
            raise _stdout_refused("gpkg")
        _write_file(Path(output), lambda tmp: (tmp.unlink(), _gpkg_to(frame, tmp)))
        return
    data = {
        "csv": lambda: to_csv_bytes(frame, excel=excel),
        "geojson": lambda: to_geojson_bytes(frame),
        "xlsx": lambda: to_xlsx_bytes(frame, meta=meta),
    }[fmt]()
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write_file(Path(output), lambda tmp: tmp.write_bytes(data))
