"""Page « Pôles »: the pole registry — search, detail, edit or propose, add, proposals, import, export,
history, roles. What a visitor may do follows PTCE_GEO_EDITING and their role (ptce_geo/access.py);
every write is checked again on the server by editing.write."""

import streamlit as st

from ptce_geo.ui import common, poles, poles_access, poles_editor, poles_review
from ptce_geo._errors import PtceGeoError

st.title("Pôles")
try:
    session = poles_access.session()
    poles_editor.show_flash()
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
        selected = poles.poles_browse()
        if selected:
            rec = poles.pole_detail(selected)
            if session.can_write:
                poles_editor.edit_or_propose(session, rec)
            if session.is_editor:
                poles_editor.delete_pole(session, rec)
                poles_editor.merge_poles(session, rec)
    if session.can_write:
        with tabs["Ajouter"]:
            poles_editor.add_or_propose(session)
        with tabs["Propositions"]:
            (poles_review.queue if session.is_editor else poles_review.mine)(session)
    if session.is_editor:
        with tabs["Importer"]:
            poles.poles_import(session)
    with tabs["Exporter"]:
        poles.poles_export_buttons()
    with tabs["Historique"]:
        poles.poles_history()
    if "Rôles" in tabs:
        with tabs["Rôles"]:
            poles_editor.roles_admin(session)
except PtceGeoError as exc:
    common.show_error(exc)
