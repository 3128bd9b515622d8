"""Streamlit widgets of the app, one module per page (the page scripts in ``app_pages/`` call them).

``common`` (page setup, shared loaders and widgets), ``poles`` (page « Pôles »: search, detail,
import, export; ``poles_access``: who is signed in and may write, ``poles_editor``: the write forms,
``poles_review``: proposals), ``coverage`` (controls, tables and gap map shared by « Lacunes » and
« Territoire »), ``lacunes``, ``territoire``, ``donnees``, ``accessibilite`` (the statement, and the
text versions of the maps), ``carte`` (the map explorer's widgets; ``carte_view``: its map, panel
and text version built once per map state and registry state, shared by every session), ``impression``. Nothing is imported here: ``from ptce_geo.ui import poles``.
"""
