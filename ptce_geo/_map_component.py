"""streamlit-folium's ``st_folium`` in two steps: build the component's payload once, send it per session.

``st_folium(m, feature_group_to_add=fg, …)`` renders the whole folium map to HTML and JavaScript on
every call (jinja templates, ``Figure.render``, regexes over the script): a few tens of milliseconds of
server CPU for each visitor of the national map, for a text that is the same for all of them. Here
:func:`base_payload` renders the base map and :func:`layers_payload` the layers' feature group once
(the page caches both per data version, ``ui.carte``), and :func:`show` hands the ready strings to
streamlit-folium's component with exactly the arguments ``st_folium`` would (streamlit-folium 0.27.4,
pinned in requirements.txt; ``tests/test_map_component.py`` compares both, so an upgrade that changes
them fails there).

Display maps only: ``returned_objects=[]`` (nothing comes back from the browser), no layer control,
no zoom/centre override.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BasePayload", "LayersPayload", "base_payload", "component_args", "layers_payload", "show"]


@dataclass(frozen=True, slots=True)
class BasePayload:
    """The base map as ``st_folium`` sends it (script, header, html, map id) and its component key."""

    script: str
    header: str
    html: str
    id: str
    hash_key: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]


@dataclass(frozen=True)
class LayersPayload:
    """The feature group swapped in place on each rerun, with the CSS/JS files the whole map needs."""

    feature_group: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]


def _links(folium_map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """CSS and JS files of the map and its children, in ``st_folium``'s order, deduplicated."""
    import branca
    import folium.elements

    def walk(fig):
        if isinstance(fig, branca.colormap.ColorMap):
            yield fig
        if isinstance(fig, folium.elements.JSCSSMixin):
            yield fig
        for child in getattr(fig, "_children", {}).values():
            yield from walk(child)

    css: list[str] = []
    js: list[str] = []
    for elem in walk(folium_map):
        if isinstance(elem, branca.colormap.ColorMap):
            js.insert(0, "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js")
            js.insert(0, "https://d3js.org/d3.v4.min.js")
        css.extend(href for _, href in getattr(elem, "default_css", []))
        js.extend(src for _, src in getattr(elem, "default_js", []))
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


def base_payload(folium_map, key: str) -> BasePayload:
    """What ``st_folium(folium_map, key=key)`` computes from the map itself (renders it)."""
    import streamlit_folium as sf

    folium_map.get_root().render()
    folium_map.render()
    html = sf._get_html(folium_map)
    header = sf._get_header(folium_map)
    script = sf._get_map_string(folium_map)
    css, js = _links(folium_map)
    return BasePayload(script=script, header=header, html=html, id=sf.get_full_id(folium_map),
                       hash_key=sf.generate_js_hash(script, key, False), css_links=css, js_links=js)


def layers_payload(folium_map, feature_group) -> LayersPayload:
    """The feature group's script as ``st_folium(…, feature_group_to_add=feature_group)`` makes it.
    ``folium_map``: a fresh base map of the same kind (the group is added to it, as st_folium does;
    its variable names are replaced by ``map_div``, so the script does not depend on that map)."""
    import streamlit_folium as sf

    folium_map.get_root().render()
    folium_map.render()
    script = sf._get_feature_group_string(feature_group, map=folium_map, idx=0)
    css, js = _links(folium_map)
    return LayersPayload(feature_group=script, css_links=css, js_links=js)


def component_args(base: BasePayload, layers: LayersPayload | None, height: int,
                   width: int | None = None) -> dict:
    """The keyword arguments ``st_folium`` gives streamlit-folium's component (``on_change`` aside)."""
    css = tuple(dict.fromkeys(base.css_links + (layers.css_links if layers else ())))
    js = tuple(dict.fromkeys(base.js_links + (layers.js_links if layers else ())))
    return dict(script=base.script, header=base.header, html=base.html, id=base.id, key=base.hash_key,
                height=height, width=width, returned_objects=[], default={}, zoom=None, center=None,
                feature_group=layers.feature_group if layers else None, return_on_hover=False,
                layer_control=None, pixelated=False, css_links=list(css), js_links=list(js),
                wrap_longitude=False)


def show(base: BasePayload, layers: LayersPayload | None, key: str, height: int = 700,
         use_container_width: bool = True):
    """Send a prepared map to the browser: ``st_folium(…, returned_objects=[])`` without re-rendering."""
    import streamlit as st
    import streamlit_folium as sf

    hash_key = base.hash_key

    def _on_change():
        st.session_state[key] = st.session_state.get(hash_key, {})

    args = component_args(base, layers, height, None if use_container_width else 500)
    return sf._component_func(**args, on_change=_on_change)
