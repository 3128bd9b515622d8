"""Page « Pôles »: the pole registry — search, detail, edit, import, export, history."""

import streamlit as st

from ptce_geo import _ui
from ptce_geo._errors import PtceGeoError

st.title("Pôles")
try:
    who = _ui.poles_who()
    browse, imp, exp, hist = st.tabs(["Registre", "Importer", "Exporter", "Historique"])
    with browse:
        selected = _ui.poles_browse()
        if selected:
            _ui.pole_edit_form(_ui.pole_detail(selected), who)
    with imp:
        _ui.poles_import(who)
    with exp:
        _ui.poles_export_buttons()
    with hist:
        _ui.poles_history()
except PtceGeoError as exc:
    _ui.show_error(exc)
