"""Leaflet elements of the explorer: small scripts whose every text is escaped in Python.

``GeoLayer`` draws a GeoJSON layer (inline or a published file, fetched in parallel and added in
order), ``PoleCluster`` the poles in a MarkerCluster group, ``Legend`` a foldable legend control;
``Reset``, ``View`` and ``Settle`` frame each update of the layers, ``ReadySignal`` exposes the
map's state to the browser tests; ``base_map`` is an empty map with local Leaflet only.
"""

from __future__ import annotations

import json

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from .. import settings
from .files import asset_urls
from .state import ZOOM_SNAP

__all__ = ["base_map", "GeoLayer", "Legend", "MetricScale", "PoleCluster", "ReadySignal", "Reset", "Settle", "View"]


class _OnMap:
    """Elements drawn inside the explorer's feature group still need the map itself (controls,
    registry of layers): ``map_name()`` is the folium Map's variable whatever the parent."""

    def map_name(self) -> str:
        node = self._parent
        while node is not None and not isinstance(node, folium.Map):
            node = getattr(node, "_parent", None)
        return (node or self._parent).get_name()


class GeoLayer(_OnMap, MacroElement):
    """A GeoJSON layer, styled by one property, with an escaped tooltip.

    The data is either inline (``data``: GeoJSON text) or a published file (``url``, see
    ``publish_layer``), fetched by the browser in parallel with the other layers and kept in
    its HTTP cache. Layers are added to the map in the order they were created, once every
    one has arrived, so the drawing order never depends on which download finished first.
    ``colour_prop``/``colours``: fill colour looked up from a property (``default_fill`` else);
    ``fill_prop``: the fill colour is the property itself. ``tooltip``: template with
    ``{prop}`` placeholders (property values are escaped already by ``to_geojson``).
    ``join``: properties to add to each feature by its ``code`` (escaped strings); features
    without an entry are left out — how a choropleth reuses a published outline file.
    ``outline``: draw the class colour as a thick outline, no fill (FRR/ZRR over the choropleth).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  var target = {{ this._parent.get_name() }};
  var spec = {{ this.spec|tojson }};
  function fill_in(t, p) { return t.replace(/\\{(\\w+)\\}/g, function(_, k) { return p[k] == null ? '' : String(p[k]); }); }
  function tip(p) { return fill_in(spec.tooltip, p); }
  function fill(p) {
    if (spec.fill_prop) { return p[spec.fill_prop] || spec.style.fillColor; }
    if (spec.colour_prop) { var c = spec.colours[p[spec.colour_prop]]; return c || spec.style.fillColor; }
    return spec.style.fillColor;
  }
  var layer = L.geoJSON(null, {
    filter: function(f) { return !spec.join || Object.prototype.hasOwnProperty.call(spec.join, f.properties.code); },
    style: function(f) {
      var s = Object.assign({}, spec.style);
      s.fillColor = fill(f.properties);
      if (spec.outline) { s.color = s.fillColor; s.fillOpacity = 0; s.weight = 2.5; s.opacity = 0.95; }
      return s;
    },
    pointToLayer: function(f, latlng) { return L.circleMarker(latlng, {radius: spec.point_radius}); },
    onEachFeature: function(f, l) {
      if (spec.tooltip) { l.bindTooltip(tip(f.properties), {sticky: true}); }
      if (spec.popup) { l.bindPopup(fill_in(spec.popup, f.properties), {maxWidth: 320}); }
    }
  });
  layer.options.ptceLayer = spec.key;
  if (!window.ptceFetch) {
    var fetched = {};  // one request per file, however many layers draw it
    window.ptceFetch = function(url) {
      return fetched[url] || (fetched[url] = fetch(url).then(function(r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); }));
    };
  }
  var data = spec.url ? window.ptceFetch(spec.url) : Promise.resolve({{ this.data or 'null' }});
  if (spec.join) {
    data = data.then(function(d) {
      var out = {type: 'FeatureCollection', features: []};
      d.features.forEach(function(f) {
        var extra = spec.join[f.properties.code];
        if (extra) { out.features.push({type: 'Feature', geometry: f.geometry, properties: Object.assign({}, f.properties, extra)}); }
      });
      return out;
    });
  }
  map.ptceQueue = map.ptceQueue || [];
  map.ptceQueue.push({label: spec.label, data: data, add: function(d) {
    layer.addData(d);
    layer.addTo(target);
    map.ptceLayers = map.ptceLayers || {};
    map.ptceLayers[spec.key] = layer;
  }});
})();
{% endmacro %}
""")

    def __init__(self, key: str, data: str | None, style: dict, tooltip: str = "", colour_prop: str | None = None,
                 colours: dict | None = None, fill_prop: str | None = None, point_radius: int = 5,
                 url: str | None = None, label: str | None = None, join: dict[str, dict] | None = None,
                 outline: bool = False, popup: str = ""):
        super().__init__()
        if (data is None) == (url is None):
            raise ValueError(f"GeoLayer {key!r}: give either data or url")
        self._name = "GeoLayer"
        self.data = data
        base = {"color": "#333333", "weight": 1, "opacity": 0.8, "fillColor": "#999999", "fillOpacity": 0.0}
        base.update(style)
        self.spec = {"key": key, "style": base, "tooltip": tooltip, "colour_prop": colour_prop,
                     "colours": colours or {}, "fill_prop": fill_prop, "point_radius": point_radius,
                     "url": url, "label": label or key, "join": join, "outline": outline, "popup": popup}


class PoleCluster(_OnMap, JSCSSMixin, MacroElement):
    """Poles as round div-icon markers in a MarkerCluster group; popup and tooltip HTML escaped in Python
    (colours come from the module's palette, never from user data)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var pts = {{ this.points|tojson }};
  if (!document.getElementById('ptce-pole-css')) {
    var css = document.createElement('style');
    css.id = 'ptce-pole-css';
    css.textContent = '.ptce-pole span[style]{display:block;width:14px;height:14px;border-radius:50%;'
      + 'border:1.5px solid #222;box-shadow:0 0 2px #fff}';
    document.head.appendChild(css);
  }
  var map = {{ this.map_name() }};
  if (!map.options.maxZoom) { map.options.maxZoom = 18; }  // MarkerCluster needs it when there are no tiles
  // accessible names (keyboard and screen readers): a pole's name, a cluster's size and what Enter does
  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? 'small' : n < 100 ? 'medium' : 'large';
    return L.divIcon({className: 'marker-cluster marker-cluster-' + size, iconSize: L.point(40, 40),
        html: '<div><span aria-hidden="true">' + n + '</span><span class="ptce-sr">Groupe de ' + n
              + ' pôles : Entrée pour zoomer</span></div>'});
  }
  var group = (typeof L.markerClusterGroup === 'function')
      ? L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 40, iconCreateFunction: clusterIcon})
      : L.featureGroup();
  for (var i = 0; i < pts.length; i++) {
    var p = pts[i];
    // p.t is HTML-escaped in Python (a user's text)
    var icon = L.divIcon({className: 'ptce-pole', iconSize: [16, 16], iconAnchor: [8, 8], popupAnchor: [0, -6],
        tooltipAnchor: [8, 0], html: '<span style="background:' + p.c + '"></span><span class="ptce-sr">Pôle '
              + p.t + ' : Entrée pour la fiche</span>'});
    var m = L.marker([p.lat, p.lon], {icon: icon, riseOnHover: true});
    m.bindPopup(p.p, {maxWidth: 320});
    m.bindTooltip(p.t);
    group.addLayer(m);
  }
  group.addTo({{ this._parent.get_name() }});
  map.ptceLayers = map.ptceLayers || {};
  map.ptceLayers['poles'] = group;
  window.ptcePoleCount = pts.length;
})();
{% endmacro %}
""")

    def __init__(self, points: list[dict], urls: dict[str, str]):
        super().__init__()
        self._name = "PoleCluster"
        self.points = points
        self.default_js = [("leaflet_markercluster", urls["mc_js"])]
        self.default_css = [("mc_css", urls["mc_css"]), ("mc_default_css", urls["mc_default_css"])]


class Legend(_OnMap, MacroElement):
    """A Leaflet control holding the legend HTML built by ``legend_html``, in a ``<details>``
    the user folds with one click. Bottom left, where metropolitan France leaves sea and Spain;
    folded at first on a map under 900 × 500 px (one click opens it) so it never hides the territory."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  var ctl = L.control({position: 'bottomleft'});
  ctl.onAdd = function() {
    var d = L.DomUtil.create('details', 'ptce-legend');
    var size = map.getSize();
    if (size.x >= 900 && size.y >= 500) { d.open = true; }
    d.style.cssText = 'background:rgba(255,255,255,0.92);padding:4px 8px;font:12px/1.35 sans-serif;max-height:'
      + Math.round(Math.max(120, size.y * 0.55)) + 'px;max-width:270px;overflow:auto;border-radius:4px;box-shadow:0 0 4px rgba(0,0,0,.3)';
    var s = document.createElement('summary');
    s.textContent = 'Légende';
    s.style.cssText = 'cursor:pointer;font-weight:bold;margin-bottom:2px';
    d.appendChild(s);
    var body = document.createElement('div');
    body.innerHTML = {{ this.html|tojson }};
    d.appendChild(body);
    L.DomEvent.disableScrollPropagation(d);
    L.DomEvent.disableClickPropagation(d);
    return d;
  };
  ctl.addTo(map);
  map.ptceControls = map.ptceControls || [];
  map.ptceControls.push(ctl);
})();
{% endmacro %}
""")

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "Legend"
        self.html = html_text


class MetricScale(MacroElement):
    """Leaflet scale bar in metres/kilometres only (folium's ``control_scale`` adds miles)."""

    _template = Template("""
{% macro script(this, kwargs) %}
L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


def base_map(fond: str | None = None, urls: dict[str, str] | None = None, **kwargs) -> folium.Map:
    """An empty folium map: local Leaflet only, metric scale bar, OpenStreetMap tiles unless
    ``fond="aucun"`` (default: none when offline, since no tile could load)."""
    if fond is None:
        fond = "aucun" if settings.get().offline else "osm"
    urls = urls or asset_urls()
    kwargs.setdefault("location", [46.6, 2.4])
    kwargs.setdefault("zoom_start", 6)
    kwargs.setdefault("zoom_snap", ZOOM_SNAP)
    kwargs.setdefault("zoom_delta", 0.5)
    m = folium.Map(tiles="OpenStreetMap" if fond == "osm" else None, prefer_canvas=True, **kwargs)
    # Only Leaflet itself (no jQuery/Bootstrap/awesome-markers): served locally when available.
    m.default_js = [("leaflet", urls["leaflet_js"])]
    m.default_css = [("leaflet_css", urls["leaflet_css"])]
    MetricScale().add_to(m)
    from .._leaflet_fr import FrenchControls

    FrenchControls().add_to(m)  # French zoom buttons, attribution and popups; keyboard focus; landmark
    return m


class ReadySignal(MacroElement):
    """Part of the explorer's base map: exposes ``window.ptceMap`` and ``window.ptceState()`` (layers,
    poles, clusters) — what the browser tests and the benchmark read once ``window.ptceReady``
    (set by ``Settle``) is true."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this._parent.get_name() }};
  window.ptceMap = map;
  window.ptceState = function() {
    var c = map.getCenter();
    var res = {layers: Object.keys(map.ptceLayers || {}), poles: 0, clusters: 0, single: 0, zoom: map.getZoom(),
               center: [c.lat, c.lng]};
    var g = (map.ptceLayers || {}).poles;
    if (g && g.getLayers) {
      var ls = g.getLayers(); res.poles = ls.length;
      var parents = new Set();
      ls.forEach(function(m) {
        var p = g.getVisibleParent ? g.getVisibleParent(m) : m;
        if (p === m) { res.single++; } else if (p) { parents.add(p); }
      });
      res.clusters = parents.size;
      res.dom_markers = document.querySelectorAll('.ptce-pole').length;
      res.dom_clusters = document.querySelectorAll('.marker-cluster').length;
    }
    return res;
  };
})();
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self._name = "ReadySignal"


class Reset(_OnMap, MacroElement):
    """First script of the explorer's layers: forgets the previous layers' registry and removes the
    controls they added (legend, notices) — the feature group itself is replaced by streamlit-folium."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  window.ptceReady = false;
  (map.ptceControls || []).forEach(function(c) { map.removeControl(c); });
  map.ptceControls = [];
  map.ptceLayers = {};
  map.ptceQueue = [];
})();
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self._name = "Reset"


class View(_OnMap, MacroElement):
    """Fits the map to the territory (or searched place) when it changed since the last update,
    so toggling a layer or a filter keeps the reader's own pan and zoom."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  var key = {{ this.key|tojson }};
  if (map.ptceView !== key) {
    map.ptceView = key;
    map.fitBounds({{ this.bounds|tojson }}, {animate: false});
  }
})();
{% endmacro %}
""")

    def __init__(self, bounds):
        super().__init__()
        self._name = "View"
        self.bounds = [[float(bounds[0][0]), float(bounds[0][1])], [float(bounds[1][0]), float(bounds[1][1])]]
        self.key = json.dumps(self.bounds)


class Settle(_OnMap, MacroElement):
    """Last script of the explorer's layers: adds the queued GeoJSON layers in order once they have
    all arrived (a layer that could not be fetched is named in a French notice on the map) and
    sets ``window.ptceReady``."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this.map_name() }};
  var queue = map.ptceQueue || [];
  function settle(p) { return p.then(function(v) { return {ok: true, v: v}; }, function(e) { return {ok: false, e: e}; }); }
  Promise.all(queue.map(function(q) { return settle(q.data); })).then(function(results) {
    if (map.ptceQueue !== queue) { return; }  // a newer update replaced these layers meanwhile
    var failed = [];
    results.forEach(function(r, i) { if (r.ok) { queue[i].add(r.v); } else { failed.push(queue[i].label); } });
    window.ptceFailed = failed;
    if (failed.length) {
      var ctl = L.control({position: 'bottomleft'});
      ctl.onAdd = function() {
        var d = L.DomUtil.create('div', 'ptce-error');
        d.style.cssText = 'background:#fff3cd;color:#664d03;padding:4px 8px;font:12px sans-serif;border-radius:4px';
        d.textContent = 'Couche non chargée (rechargez la page) : ' + failed.join(', ');
        return d;
      };
      ctl.addTo(map);
      map.ptceControls.push(ctl);
    }
    window.ptceReady = true;
  });
})();
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self._name = "Settle"
