"""Page « Carte »: the map explorer (logic in ptce_geo.webmap, widgets in ptce_geo._ui_carte)."""

from ptce_geo import _ui_carte

_ui_carte.carte_page()
