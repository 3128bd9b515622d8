"""A coverage, gaps or suggestion table as a file: csv (``;``, UTF-8 BOM), xlsx with a sheet
« parametres », geojson or gpkg with the contour of each territory (``as_layer``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import boundaries, priority, settings
from .. import export as table_export
from .._errors import ParameterError, UnknownChoiceError
from ..registry_size import registry_text
from .model import ALL_DEFINITION, LEVELS, TERRITORY_LEVELS, ZONING_LABELS

__all__ = ["as_layer", "write", "to_bytes"]


def as_layer(table: pd.DataFrame, level: str, simplified: bool = True) -> gpd.GeoDataFrame:
    """``table`` (a coverage, gaps or suggestion table) with the contour of each territory."""
    if isinstance(table, gpd.GeoDataFrame):
        return table
    if level in LEVELS:
        shapes = boundaries.load(level, simplified=simplified)[["code", "geometry"]]
    elif level in ("qpv", "territoires-industrie"):
        shapes = priority.load(level)[["code", "geometry"]]
    else:
        raise UnknownChoiceError("Niveau", level, TERRITORY_LEVELS)
    geo = dict(zip(shapes["code"].astype(str), shapes.geometry.values))
    out = gpd.GeoDataFrame(table.copy(), geometry=[geo.get(str(c)) for c in table["code"]], crs=settings.WEB_CRS)
    out.attrs.update(table.attrs)
    return out


def _parameter_sheet(params: dict, vintages: dict) -> dict:
    """French labels and values of the sheet « parametres » of an XLSX export
    (« Rayon (km) » : 15, « Périmètres déclarés » : oui…), then one « Millésime » row per source."""
    labels = {
        "radius_km": "Rayon (km)",
        "use_perimeter": "Périmètres déclarés",
        "zoning": "Zonage",
        "poles": "Pôles localisés utilisés",
        "perimetre_codes_inconnus": "Codes de périmètre inconnus",
        "level": "Niveau",
        "count": "Nombre de sites demandés",
        "region": "Région des sites",
        "candidates_in_zoning": "Sites choisis dans le zonage",
        "objective": "Gain mesuré en",
        "qpv_population": "Population des QPV (INSEE)",
    }

    def value(key, v):
        if isinstance(v, bool):
            return "oui" if v else "non"
        if v is None:
            return {"radius_km": "aucun (périmètres seuls)", "region": "toutes"}.get(key, "")
        if key == "zoning":
            return f"{ZONING_LABELS.get(v, v)} ({v})"
        if key == "objective":
            return {"population": "habitants prioritaires", "qpv": "nombre de QPV"}.get(v, v)
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v

    out = {labels.get(k, k): value(k, v) for k, v in params.items()}
    if params.get("zoning") == "all":
        out["Population « toutes zones »"] = ALL_DEFINITION
    out.update({f"Millésime : {k}": v for k, v in vintages.items()})
    return out


def write(table: pd.DataFrame, fmt: str, output=None, level: str | None = None) -> None:
    """Export a result table: csv (``;``, UTF-8 BOM), xlsx (+ sheet « parametres »), geojson, gpkg."""
    if fmt not in table_export.FORMATS:
        raise UnknownChoiceError("Format", fmt, table_export.FORMATS)
    frame = table
    if fmt in ("geojson", "gpkg") and not isinstance(table, gpd.GeoDataFrame):
        if level is None:
            raise ParameterError("Niveau requis pour un export géographique : précisez le niveau du tableau.")
        frame = as_layer(table, level)
    meta = _parameter_sheet(table.attrs.get("params") or {}, table.attrs.get("vintages") or {})
    meta["Registre des pôles"] = registry_text(table.attrs.get("registry"))
    table_export.write(frame, fmt, output, excel=True, meta=meta)


def to_bytes(table: pd.DataFrame, fmt: str, level: str | None = None) -> bytes:
    """Same as ``write`` but returns the bytes (download buttons)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{fmt}"
        write(table, fmt, path, level=level)
        return path.read_bytes()
