"""Leaflet in French and usable by keyboard: the part of every ptce-geo map that is not data.

Leaflet 1.9 writes its controls in English (« Zoom in », « Zoom out », the attribution prefix
« A JavaScript library for interactive maps », a popup's « Close popup ») and folium's page
forbids zooming on phones (``user-scalable=no``). :class:`FrenchControls`, added to every map by
``webmap.base_map``:

* replaces the zoom buttons by French ones (« Zoom avant », « Zoom arrière ») and the attribution
  prefix by a French one;
* names each popup's close button « Fermer la fiche » and puts the keyboard focus in the popup
  when it opens (Échap or the button closes it, the focus goes back to the marker);
* makes the map a named landmark (« Carte interactive… », keyboard: arrows move, + and − zoom)
  with a visible focus on the map, its buttons, markers, clusters and legend;
* lets the page be zoomed (WCAG 1.4.4).

Markers and clusters get their accessible names where they are made (``webmap.PoleCluster``).
"""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template

__all__ = ["ATTRIBUTION_PREFIX", "CLOSE_POPUP", "CSS", "FrenchControls", "MAP_LABEL", "ZOOM_IN", "ZOOM_OUT"]

ZOOM_IN = "Zoom avant"
ZOOM_OUT = "Zoom arrière"
CLOSE_POPUP = "Fermer la fiche"
MAP_LABEL = ("Carte interactive. Au clavier : flèches pour se déplacer, touches plus et moins pour zoomer ; "
             "Tab pour atteindre les boutons, les pôles et la légende. La version texte de la carte suit, "
             "sous la carte.")
ATTRIBUTION_PREFIX = ('<a href="https://leafletjs.com" hreflang="en" '
                      'title="Bibliothèque JavaScript de cartes interactives">Leaflet</a>')

#: Visible keyboard focus inside the map (WCAG 2.4.7) and a screen-reader-only text class.
CSS = """
.leaflet-container:focus-visible { outline: 3px solid #1f5fa8 !important; outline-offset: -3px; }
.leaflet-container a:focus-visible, .leaflet-marker-icon:focus-visible, .ptce-legend summary:focus-visible,
.leaflet-container button:focus-visible { outline: 3px solid #1f5fa8 !important; outline-offset: 1px;
  box-shadow: 0 0 0 5px #ffffff !important; }
.ptce-sr { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
.leaflet-control-attribution, .leaflet-control-attribution a { color: #1a1a1a; }
.leaflet-control-attribution a { color: #0b4f8a; }
"""


class FrenchControls(MacroElement):
    """See the module docstring; one per map (``webmap.base_map``)."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style id="ptce-leaflet-fr">{{ this.css }}</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this._parent.get_name() }};
  var T = {{ this.texts|tojson }};
  document.documentElement.lang = 'fr';
  document.querySelectorAll('meta[name="viewport"]').forEach(function(m) {
    m.setAttribute('content', 'width=device-width, initial-scale=1');
  });
  if (map.zoomControl) { map.removeControl(map.zoomControl); }
  map.zoomControl = L.control.zoom({zoomInTitle: T.zoom_in, zoomOutTitle: T.zoom_out}).addTo(map);
  if (map.attributionControl) { map.attributionControl.setPrefix(T.prefix); }
  var box = map.getContainer();
  box.setAttribute('role', 'region');
  box.setAttribute('aria-label', T.label);
  box.setAttribute('aria-roledescription', 'carte');
  map.on('popupopen', function(e) {
    var el = e.popup.getElement();
    var close = el && el.querySelector('.leaflet-popup-close-button');
    if (close) { close.setAttribute('aria-label', T.close); close.setAttribute('title', T.close); }
    var src = e.popup._source && e.popup._source.getElement && e.popup._source.getElement();
    e.popup.ptceReturn = (document.activeElement === src) ? src : null;
    if (e.popup.ptceReturn && close) { close.focus({preventScroll: true}); }
  });
  map.on('popupclose', function(e) {
    if (e.popup.ptceReturn && document.body.contains(e.popup.ptceReturn)) { e.popup.ptceReturn.focus({preventScroll: true}); }
  });
  box.addEventListener('keydown', function(ev) {
    if (ev.key === 'Escape') { map.closePopup(); }
  });
})();
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self._name = "FrenchControls"
        self.css = CSS
        self.texts = {"zoom_in": ZOOM_IN, "zoom_out": ZOOM_OUT, "close": CLOSE_POPUP, "label": MAP_LABEL,
                      "prefix": ATTRIBUTION_PREFIX}
