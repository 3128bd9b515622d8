"""Coverage widgets shared by the pages « Lacunes » and « Territoire »: controls, cached results,
headline figures, downloads, the gap map with its text version, French tables."""

from __future__ import annotations


import geopandas as gpd
import pandas as pd
import streamlit as st

from .. import boundaries, coverage, headline, mapsummary, priority, registry, webmap
from . import accessibilite
from .._errors import PtceGeoError
from .._fmt import fmt_int
from .carte_view import map_optional, poles_stamp, ensure_static_assets
from .common import escape

__all__ = ["zoning_select", "radius_slider", "perimeter_toggle", "coverage_controls", "coverage_result",
    "coverage_metrics", "headline_view", "pd_NA", "coverage_downloads", "gap_map_with_text", "show_table",
    "GAP_LEVEL_LABELS", "gap_columns"]

def zoning_select(key: str = "zonage") -> str:
    """Select box of the zonings (French labels); returns a key of ``coverage.ZONINGS``."""
    labels = {"all": "Toutes zones prioritaires (QPV, Territoires d'industrie, FRR)", **priority.LABELS}
    return st.selectbox("Zonage prioritaire", coverage.ZONINGS, index=coverage.ZONINGS.index("all"),
                        format_func=lambda z: labels.get(z, z), key=key)


def radius_slider(key: str = "rayon_km") -> float:
    """Radius of a pole's catchment in km (0 to 100, default 15)."""
    return float(st.slider("Rayon autour de chaque pôle (km)", 0, 100, int(coverage.DEFAULT_RADIUS_KM), 1, key=key))


def perimeter_toggle(key: str = "perimetre") -> bool:
    return st.checkbox("Compter les périmètres déclarés des pôles (communes, EPCI)", value=True, key=key)


def coverage_controls(prefix: str) -> tuple[float, bool, str]:
    """The three coverage settings side by side: (radius_km, use_perimeter, zoning)."""
    cols = st.columns([2, 2, 2])
    with cols[0]:
        zoning = zoning_select(f"{prefix}_zonage")
    with cols[1]:
        radius = radius_slider(f"{prefix}_rayon")
    with cols[2]:
        use_perimeter = perimeter_toggle(f"{prefix}_perimetre")
    return radius, use_perimeter, zoning


@st.cache_resource(show_spinner="Calcul de la couverture…", max_entries=24)
def _coverage_cached(radius_km: float, use_perimeter: bool, zoning: str, registry_stamp: str):
    return coverage.compute(radius_km, use_perimeter=use_perimeter, zoning=zoning)


def coverage_result(radius_km: float, use_perimeter: bool, zoning: str):
    """``coverage.compute`` shared by sessions, recomputed when the pole registry or the set of
    available priority layers changes."""
    stamp = f"{registry.stamp()}|{','.join(priority.missing_layers())}"
    return _coverage_cached(float(radius_km), bool(use_perimeter), zoning, stamp)


def coverage_metrics(figures: dict, zoning: str = "all") -> list:
    """Figures of one territory (or France) in the unit of the zoning (``mapsummary.coverage_headline``:
    QPV counted in districts, and residents when INSEE's file is there; the others in inhabitants of
    their communes), side by side; returns them for the text version of the map beneath."""
    heads = mapsummary.coverage_headline(figures, zoning)
    for col, h in zip(st.columns(len(heads)), heads):
        col.metric(h.label, h.value, help=h.help)
    return heads


def headline_view(result) -> None:
    """The registry's size and the headline figure of every zoning, each in its unit, defined."""
    st.info(f"**Registre** : {headline.registry_sentence(result.registry)}")
    table = headline.figures(result)
    show = table[["libelle", "chiffre", "detail"]].rename(
        columns={"libelle": "Zonage", "chiffre": "Chiffre clé", "detail": "Détail"})
    st.dataframe(show, hide_index=True, width="stretch")
    with st.expander("Ce que mesure chaque chiffre"):
        st.markdown("\n".join(f"- **{r.libelle}** : {r.definition}" for r in table.itertuples()))


pd_NA = pd.NA


def coverage_downloads(table, name: str, level: str | None, key: str) -> None:
    """CSV (Excel), XLSX and GeoJSON buttons for a coverage table (same columns in each)."""
    cols = st.columns(3)
    cols[0].download_button("CSV (Excel)", coverage.to_bytes(table, "csv"), file_name=f"{name}.csv",
                            mime="text/csv", key=f"{key}_csv")
    cols[1].download_button("Excel (XLSX)", coverage.to_bytes(table, "xlsx"), file_name=f"{name}.xlsx",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            key=f"{key}_xlsx")
    try:
        geo = coverage.to_bytes(table, "geojson", level=level)
    except PtceGeoError:
        geo = None
    if geo is not None:
        cols[2].download_button("GeoJSON", geo, file_name=f"{name}.geojson", mime="application/geo+json",
                                key=f"{key}_geojson")


def _coverage_map(gmap, height: int = 520):
    """Folium map of a ``mapsummary.GapMap``: optional outline, gap shapes (red), poles (blue) with
    their radius."""
    import folium
    from streamlit_folium import st_folium

    ensure_static_assets()  # Leaflet served locally (works offline), as on the « Carte » page
    m = webmap.base_map()
    bounds = None
    outline, radius_km = gmap.outline, gmap.radius_km
    if outline is not None:
        folium.GeoJson(outline[["geometry"]].to_json(), name="Territoire",
                       style_function=lambda f: {"color": "#333333", "weight": 2, "fillOpacity": 0}).add_to(m)
        bounds = outline.total_bounds
    if len(gmap.gaps):
        show = gpd.GeoDataFrame(gmap.gaps, geometry="geometry", crs=getattr(gmap.gaps, "crs", None))
        show["priority_population"] = [("population inconnue" if v is None or v is pd_NA or v != v else
                                        f"{fmt_int(v)} hab. prioritaires") for v in show["priority_population"]]
        show["nom"] = show["nom"].map(escape)
        show["code"] = show["code"].map(escape)
        folium.GeoJson(
            show.to_json(), name="Territoires prioritaires sans pôle",
            style_function=lambda f: {"color": "#b2182b", "weight": 1, "fillColor": "#ef8a62", "fillOpacity": 0.55},
            marker=folium.CircleMarker(radius=6, color="#b2182b", fill=True, fill_opacity=0.8),
            tooltip=folium.GeoJsonTooltip(fields=["code", "nom", "priority_population"],
                                          aliases=["Code", "Nom", "Population prioritaire"]),
        ).add_to(m)
        # a dot on each gap keeps small communes visible at national zoom
        dots = show.geometry.representative_point()
        for (nom_, code_, pop_), pt in zip(show[["nom", "code", "priority_population"]].itertuples(index=False), dots):
            folium.CircleMarker([pt.y, pt.x], radius=3, color="#b2182b", weight=1, fill=True, fill_opacity=0.9,
                                tooltip=f"{nom_} ({code_}) — {pop_}").add_to(m)
        if bounds is None and len(show):
            # metropolitan gaps decide the view (overseas ones stay on the map, reached by zooming out)
            rep = show.geometry.representative_point()
            metro = show[(rep.x > -6) & (rep.x < 10) & (rep.y > 41) & (rep.y < 52)]
            bounds = (metro if len(metro) else show).total_bounds
    if gmap.poles is not None:
        for row in gmap.poles.itertuples():
            if radius_km:
                folium.Circle([row.lat, row.lon], radius=radius_km * 1000, color="#1f5fa8", weight=1,
                              fill=True, fill_opacity=0.06).add_to(m)
            # a bigger disc with a white ring: told from the gaps' small dots without their colour
            folium.CircleMarker([row.lat, row.lon], radius=6, color="#ffffff", weight=2, fill=True,
                                fill_color="#1f5fa8", fill_opacity=1, tooltip=escape(row.nom)).add_to(m)
    if bounds is not None and all(b == b for b in bounds):
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    st_folium(m, height=height, use_container_width=True, returned_objects=[])
    st.caption("En rouge, aplats et petits points pleins : territoires prioritaires sans pôle (un point sur "
               "chacun, visible à toute échelle). En bleu, disques cerclés de blanc : pôles localisés"
               + (f", entourés de leur rayon de {radius_km:g} km." if radius_km else ".")
               + " Le contenu de la carte est repris dans sa version texte, ci-dessous.")


def gap_map_with_text(shapes, poles_frame, radius_km, headline, territory: str, key: str, outline=None,
                      level: str = "commune", height: int = 520) -> None:
    """The gap map and, beneath it, its « Version texte » — both from one ``mapsummary.GapMap``."""
    gmap = mapsummary.gap_map_layers(shapes, poles_frame, radius_km, outline, level)
    _coverage_map(gmap, height=height)
    registry = None
    try:
        registry, _err = map_optional("poles", poles_stamp())
    except ImportError:
        pass
    tv = mapsummary.gap_map_text(gmap, headline, territory, registry=registry, communes=boundaries.commune_table())
    accessibilite.text_version_view(tv, key)


def show_table(frame) -> None:
    """A French table: figures with the reader's thousands separator, rates in per cent, km with
    one decimal, empty cells blank."""
    config = {}
    for col in frame.columns:
        name = str(col)
        if name.startswith("Taux"):
            config[col] = st.column_config.NumberColumn(name, format="percent")
        elif name.endswith("(km)"):
            config[col] = st.column_config.NumberColumn(name, format="%.1f")
        elif name.startswith(("Population", "Communes", "Gain", "Pôles")) and name != "Pôle le plus proche":
            config[col] = st.column_config.NumberColumn(name, format="localized")
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


GAP_LEVEL_LABELS = {"commune": "Communes", "epci": "EPCI", "qpv": "Quartiers prioritaires (QPV)",
                     "territoires-industrie": "Territoires d'industrie"}

_GAP_COLUMNS = {"rang": "Rang", "code": "Code", "nom": "Nom", "departement": "Département", "zonages": "Zonages",
                "communes": "Communes", "priority_communes": "Communes prioritaires", "qpv_total": "QPV",
                "qpv_count": "QPV", "population": "Population", "priority_population": "Population prioritaire",
                "nearest_distance_km": "Pôle le plus proche (km)", "nearest_pole_nom": "Pôle le plus proche"}


def gap_columns(level: str, zoning: str) -> dict:
    """French headers of a gap table, saying what its population column is for this zoning."""
    cols = dict(_GAP_COLUMNS)
    if level == "qpv":
        cols.update(communes="Communes (INSEE)", priority_population="Habitants du QPV (INSEE)",
                    nearest_distance_km="Pôle le plus proche du contour (km)")
        cols.pop("population")
    elif zoning == "qpv":
        cols["priority_population"] = "Habitants des QPV (INSEE)"
        cols["population"] = "Population de la commune" if level == "commune" else "Population"
    elif zoning == "all":
        cols["priority_population"] = "Population prioritaire (toutes zones)"
    return cols
