"""Write tables and layers to CSV, GeoJSON, GeoPackage or XLSX, to a file or stdout.

``FORMATS`` maps each format name to its writer; a wrong name lists the valid ones.
CSV has no geometry column and list cells are ``;``-joined. ``excel=True`` writes the
CSV as French Excel opens it directly: ``;`` separator and a UTF-8 BOM.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._cache import atomic_write
from ._errors import UnknownChoiceError


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """Table without geometry, list/tuple/set cells joined with ``;``."""
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name) if isinstance(frame, gpd.GeoDataFrame) else frame)
    for col in table.columns:
        if table[col].dtype == object and table[col].map(lambda v: isinstance(v, (list, tuple, set))).any():
            table[col] = table[col].map(
                lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple, set)) else v
            )
    return table


def to_csv_bytes(frame: pd.DataFrame, excel: bool = False) -> bytes:
    """CSV bytes; ``excel=True``: ``;`` separator, decimal comma and a BOM, as French Excel reads them."""
    text = _flatten(frame).to_csv(index=False, sep=";" if excel else ",", decimal="," if excel else ".",
                                  lineterminator="\n")
    return text.encode("utf-8-sig" if excel else "utf-8")


def _geo_for_file(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise UnknownChoiceError("Format (table sans géométrie)", "geojson/gpkg", ["csv", "xlsx"])
    out = frame.copy()
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object and out[col].map(
            lambda v: isinstance(v, (list, tuple, set))
        ).any():
            out[col] = out[col].map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple, set)) else v)
    return out.to_crs("EPSG:4326") if out.crs is not None else out


def to_geojson_bytes(frame: pd.DataFrame) -> bytes:
    return _geo_for_file(frame).to_json(drop_id=True, ensure_ascii=False).encode("utf-8")


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "donnees", meta: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        _flatten(frame).to_excel(xl, index=False, sheet_name=sheet[:31])
        if meta:
            pd.DataFrame({"parametre": list(meta), "valeur": [str(v) for v in meta.values()]}).to_excel(
                xl, index=False, sheet_name="parametres"
            )
    return buf.getvalue()


def _gpkg_to(frame: pd.DataFrame, path: Path, layer: str = "donnees") -> None:
    _geo_for_file(frame).to_file(path, driver="GPKG", layer=layer, engine="pyogrio")


FORMATS = ("csv", "geojson", "gpkg", "xlsx")

_EXTENSIONS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".xlsx": "xlsx",
               ".pdf": "pdf", ".png": "png", ".svg": "svg"}


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
        raise UnknownChoiceError(
            f"Extension du fichier {str(output)!r} (précisez --format ou changez l'extension)",
            suffix, [e for e, f in _EXTENSIONS.items() if f in valid],
        )
    return fmt


def write(frame: pd.DataFrame, fmt: str, output: str | Path | None = None, excel: bool = False,
          meta: dict | None = None) -> None:
    """Write ``frame`` as ``fmt`` to ``output`` (a path; ``None`` or ``"-"`` = stdout)."""
    if fmt not in FORMATS:
        raise UnknownChoiceError("Format", fmt, FORMATS)
    to_stdout = output in (None, "-")
    if to_stdout and fmt == "xlsx" and sys.stdout.isatty():
        raise UnknownChoiceError("Sortie pour xlsx (un fichier binaire ne s'affiche pas dans le terminal)",
                                 "-", ["-o FICHIER.xlsx", "> FICHIER.xlsx"])
    if fmt == "gpkg":
        if to_stdout:
            raise UnknownChoiceError("Sortie pour gpkg (un fichier est requis, -o FICHIER)", output, ["-o FICHIER"])
        path = Path(output)
        atomic_write(path, lambda tmp: (tmp.unlink(), _gpkg_to(frame, tmp)))
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
        atomic_write(Path(output), lambda tmp: tmp.write_bytes(data))
