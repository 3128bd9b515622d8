"""Page « Pôles » (AppTest): it runs, lists the registry, escapes HTML, and refuses a stale edit.

The editing mode's tests are in test_page_poles_access.py; here the visitor is a browser on the
server's machine in ``local`` mode (``st.context.ip_address`` is None, as a real loopback client
gets it; AppTest's own mock runtime would otherwise give a non-loopback value)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ptce_geo import poles, registry

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>alert('x')</script><b>gras</b>"


@pytest.fixture(autouse=True)
def _local(local_browser):
    """Every test of this file runs as a loopback browser (conftest.local_browser)."""


def field(at: AppTest, label: str, pid: str = "figeacteurs"):
    """A text field of the pole's edit form (the « Ajouter » tab has the same labels)."""
    [widget] = [w for w in at.text_input if w.label == label and str(w.key).startswith(f"edit-{pid}-")]
    return widget


def submit(at: AppTest) -> None:
    [button] = [b for b in at.button if b.label == "Enregistrer"]
    button.click().run()


def test_page_lists_the_seed(app_page, fresh_data):
    at = app_page("poles")
    assert at.title[0].value == "Pôles"
    table = at.dataframe[0].value
    assert len(table) == len(registry.read_seed())  # every pole of the seed is listed
    # Unlocated poles have no commune: the cell is blank, never « None » or NaN.
    assert table["Commune"].notna().all() and not (table["Commune"].astype(str) == "None").any()
    assert (table["Commune"] == "").any()
    assert {"Nom", "Commune", "Appel", "Localisé"} <= set(table.columns)
    at.text_input(key="poles-query").input("Figeac").run()
    assert list(at.dataframe[0].value["Nom"]) == ["FigeACteurs"]


def test_html_in_a_name_is_shown_as_text(app_page, fresh_data):
    pid = registry.add({"nom": EVIL, "code_insee": "93039", "source": EVIL, "secteurs": [], "perimetre": [],
                        "localise": False}, who="test")
    at = app_page("poles")
    at.selectbox(key="poles-selected").set_value(pid).run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert "\\<script\\>alert\\(\\'x\\'\\)\\<\\/script\\>\\<b\\>gras\\<\\/b\\>" in shown  # Markdown-escaped
    assert "<script>" not in shown and "<b>" not in shown
    # the table shows the raw text (a dataframe cell is never interpreted as HTML)
    assert EVIL in list(at.dataframe[0].value["Nom"])


def test_edit_saves_then_stale_edit_is_refused(app_page, fresh_data):
    pid = "figeacteurs"
    at = app_page("poles")
    at.selectbox(key="poles-selected").set_value(pid).run()
    field(at, "Nombre de membres").input("51")
    submit(at)
    assert not at.exception
    assert registry.get(pid)["membres"] == 51
    assert registry.get(pid)["version"] == 2
    # another session changes the pole meanwhile
    rec = registry.get(pid)
    poles.edit(pid, {"membres": "60"}, rec["version"], who="autre session")
    field(at, "Nombre de membres").input("70")
    submit(at)
    assert not at.exception
    assert any("Conflit de modification" in e.value for e in at.error)
    assert registry.get(pid)["membres"] == 60


def test_history_names_who_edited(app_page, fresh_data):
    """The name typed in the sidebar goes into the history; without one, the history says so."""
    at = app_page("poles")
    at.selectbox(key="poles-selected").set_value("figeacteurs").run()
    field(at, "Nombre de membres").input("52")
    submit(at)
    at.text_input(key="poles-who").input("Marie Dupont (RTES)").run()
    field(at, "Nombre de membres").input("53")
    submit(at)
    assert not at.exception
    authors = list(registry.history("figeacteurs")["auteur"])
    assert "application (nom non saisi)" in authors and "Marie Dupont (RTES)" in authors


def test_upload_is_checked_once_when_asked_and_that_check_is_imported(app_page, fresh_data, monkeypatch):
    """Nothing is read on arrival; « Vérifier le fichier » checks once; « Importer » writes that check."""
    from ptce_geo import importer

    calls = []
    real_check = importer.check
    monkeypatch.setattr(importer, "check", lambda *a, **k: calls.append(a) or real_check(*a, **k))
    data = "Nom du pôle;Code INSEE;Secteurs\r\nPôle téléversé;46102;emploi\r\n".encode("cp1252")
    at = app_page("poles")
    at.file_uploader(key="poles-upload").set_value(("poles.csv", data, "text/csv")).run()
    assert not at.exception and calls == []  # not on arrival
    assert not [b for b in at.button if b.label == "Importer dans le registre"]
    [check] = [b for b in at.button if b.label == "Vérifier le fichier"]
    check.click().run()
    assert not at.exception and len(calls) == 1
    assert any("1 valide(s)" in s.value for s in [*at.warning, *at.success])
    [go] = [b for b in at.button if b.label == "Importer dans le registre"]
    go.click().run()
    assert not at.exception and len(calls) == 1  # imported from the same check
    assert any("1 pôle(s) ajouté(s)" in s.value for s in at.success)
    rec = next(r for r in registry.records() if r["nom"] == "Pôle téléversé")
    assert rec["secteurs"] == ["insertion"]
