"""Page « Pôles »: the pole registry — search, detail, edit, import, export, history."""

import streamlit as st

from ptce_geo import _ui, _ui_poles
from ptce_geo._errors import PtceGeoError

st.title("Pôles")
try:
    who = _ui_poles.poles_who()
    browse, imp, exp, hist = st.tabs(["Registre", "Importer", "Exporter", "Historique"])
    with browse:
        selected = _ui_poles.poles_browse()
        if selected:
            _ui_poles.pole_edit_form(_ui_poles.pole_detail(selected), who)
    with imp:
        _ui_poles.poles_import(who)
    with exp:
        _ui_poles.poles_export_buttons()
    with hist:
        _ui_poles.poles_history()
except PtceGeoError as exc:
    _ui.show_error(exc)
