"""Former home of the text versions of the maps, now ``ptce_geo.ui.accessibilite``: kept only for
``_ui_carte`` (another lane's module, not yet in ``ui/``). Delete once it imports ``ui.accessibilite``."""

from .ui.accessibilite import text_version_view

__all__ = ["text_version_view"]
