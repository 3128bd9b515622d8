"""Page « Accessibilité »: the accessibility statement (text in ptce_geo.a11y)."""

from ptce_geo import _ui_a11y

_ui_a11y.accessibility_page()
