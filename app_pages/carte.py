"""Page « Carte »: the map explorer (logic in ptce_geo.webmap, widgets in ptce_geo.ui.carte)."""

from ptce_geo.ui import carte

carte.carte_page()
