"""Former home of the widgets shared by the pages, now ``ptce_geo.ui.common``: kept only for the two
page modules of other lanes not yet in ``ui/`` (``_ui_carte``, ``_ui_print``). Delete once they import
``ui.common``."""

from .ui.common import boundaries_layer, show_error

__all__ = ["boundaries_layer", "show_error"]
