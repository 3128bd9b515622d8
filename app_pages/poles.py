"""Page « Pôles »: the pole registry — search, detail, edit or propose, add, proposals, import, export,
history, roles. What a visitor may do follows PTCE_GEO_EDITING and their role (ptce_geo/access.py);
every write is checked again on the server by editing.write."""

import streamlit as st

from ptce_geo import _ui, _ui_access, _ui_editor, _ui_poles, _ui_review
from ptce_geo._errors import PtceGeoError

st.title("Pôles")
try:
    session = _ui_access.session()
    _ui_editor.show_flash()
    names = ["Registre"]
    if session.can_write:
        names += ["Ajouter", "Propositions"]
    if session.is_editor:
        names += ["Importer"]
    names += ["Exporter", "Historique"]
    if session.role == "admin":
        names += ["Rôles"]
    tabs = dict(zip(names, st.tabs(names)))
    with tabs["Registre"]:
        selected = _ui_poles.poles_browse()
        if selected:
            rec = _ui_poles.pole_detail(selected)
            if session.can_write:
                _ui_editor.edit_or_propose(session, rec)
            if session.is_editor:
                _ui_editor.delete_pole(session, rec)
                _ui_editor.merge_poles(session, rec)
    if session.can_write:
        with tabs["Ajouter"]:
            _ui_editor.add_or_propose(session)
        with tabs["Propositions"]:
            (_ui_review.queue if session.is_editor else _ui_review.mine)(session)
    if session.is_editor:
        with tabs["Importer"]:
            _ui_poles.poles_import(session)
    with tabs["Exporter"]:
        _ui_poles.poles_export_buttons()
    with tabs["Historique"]:
        _ui_poles.poles_history()
    if "Rôles" in tabs:
        with tabs["Rôles"]:
            _ui_editor.roles_admin(session)
except PtceGeoError as exc:
    _ui.show_error(exc)
