"""Page « Carte »: the map explorer (logic in ptce_geo.webmap, widgets in ptce_geo._ui)."""

from ptce_geo import _ui_carte

_ui_carte.carte_page()
