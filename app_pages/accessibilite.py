"""Page « Accessibilité »: the accessibility statement (text in ptce_geo.a11y)."""

from ptce_geo.ui import accessibilite

accessibilite.accessibility_page()
