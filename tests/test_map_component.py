"""ptce_geo._map_component: the map's payload built once is exactly what ``st_folium`` would send."""

from __future__ import annotations

import re

from ptce_geo import _map_component, webmap

_ID = re.compile(r"_[0-9a-f]{32}")  # folium's random element ids


def _norm(args: dict) -> dict:
    return {k: _ID.sub("_ID", v) if isinstance(v, str) else v for k, v in args.items() if k != "on_change"}


def test_prepared_payload_is_what_st_folium_sends(monkeypatch):
    import streamlit_folium as sf

    state = webmap.MapState(fond="aucun", couches=("poles", "regions"))
    layers = webmap.MapLayers(urls={"regions": "/app/static/layers/regions.geojson"})
    layers.poles = [{"lat": 44.5, "lon": 3.5, "c": "#1f77b4", "t": "P &lt;1&gt;", "p": "<b>P</b>"}]
    layers.pole_colours = {"insertion": "#1f77b4"}
    bounds = ((44.1, 3.0), (44.9, 4.0))
    sent: dict = {}
    monkeypatch.setattr(sf, "_component_func", lambda **kw: sent.update(kw))
    sf.st_folium(webmap.explorer_base("aucun"), key="carte_map", height=640, use_container_width=True,
                 returned_objects=[], feature_group_to_add=webmap.explorer_layers(state, layers, bounds=bounds))

    base = _map_component.base_payload(webmap.explorer_base("aucun"), "carte_map")
    fg = _map_component.layers_payload(webmap.explorer_base("aucun"),
                                       webmap.explorer_layers(state, layers, bounds=bounds))
    mine = _map_component.component_args(base, fg, 640)
    assert _norm(mine) == _norm(sent)
    assert "44.5" in mine["feature_group"] and "regions.geojson" in mine["feature_group"]

    shown: dict = {}
    monkeypatch.setattr(sf, "_component_func", lambda **kw: shown.update(kw))
    _map_component.show(base, fg, key="carte_map", height=640)
    assert _norm(shown) == _norm(mine) and callable(shown["on_change"])
