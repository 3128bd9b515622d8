"""Metric projections: Lambert-93 for metropolitan France, local UTM overseas.

Areas and distances are computed only in these CRS, never in degrees.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd

from . import settings


def crs_for_departement(departement: str) -> str:
    """Metric CRS of a department code (``"974"`` → ``"EPSG:2975"``, others Lambert-93)."""
    return settings.get().crs_for_departement(departement)


def metric_groups(gdf: gpd.GeoDataFrame, departement_col: str = "departement") -> Iterator[tuple[str, gpd.GeoDataFrame]]:
    """Yield ``(crs, part)`` with each part of ``gdf`` projected to its metric CRS.

    Rows are grouped by the CRS of their department; index labels are preserved so
    results can be joined back.
    """
    if gdf.crs is None:
        raise ValueError("La couche n'a pas de CRS : utilisez set_crs('EPSG:4326') avant la projection.")
    crs_of_row = gdf[departement_col].astype(str).map(crs_for_departement)
    for crs, idx in crs_of_row.groupby(crs_of_row).groups.items():
        yield crs, gdf.loc[idx].to_crs(crs)
