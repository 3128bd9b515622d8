"""Page « Pôles » in each editing mode (AppTest).

How a visitor is simulated: ``st.context.ip_address`` is replaced by a property returning what a
real server would give (None for a loopback browser, an address for any other), since AppTest's
mock runtime has no WebSocket peer; a signed-in user is ``AppTest.user`` (Streamlit 1.67: the dict
the run reads as ``st.user``, with ``is_logged_in``, ``email``, ``sub``) — AppTest cannot run
st.login's OpenID Connect redirect, which the Chromium test (test_browser_auth.py) does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.context import ContextProxy
from streamlit.testing.v1 import AppTest

from ptce_geo import registry, registry_review

ROOT = Path(__file__).resolve().parents[1]
AUTH_SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                         "client_id": "ptce-geo", "client_secret": "s",
                         "server_metadata_url": "http://localhost:1/.well-known/openid-configuration"}}
CONTRIB = {"is_logged_in": True, "email": "camille@exemple.fr", "sub": "sub-camille", "name": "Camille"}
EDITOR = {"is_logged_in": True, "email": "dominique@exemple.fr", "sub": "sub-dominique", "name": "Dominique"}
ADMIN = {"is_logged_in": True, "email": "alex@exemple.fr", "sub": "sub-alex"}
READ_ONLY_INPUTS = ["Rechercher (nom, commune, secteur, appel…)"]


def client(monkeypatch, ip: str | None) -> None:
    monkeypatch.setattr(ContextProxy, "ip_address", property(lambda self: ip))


def open_page(app_page, monkeypatch, mode: str, ip: str | None = "203.0.113.7", user: dict | None = None,
              secrets: dict | None = None, pole: str | None = "figeacteurs") -> AppTest:
    monkeypatch.setenv("PTCE_GEO_EDITING", mode)
    client(monkeypatch, ip)
    at = app_page("poles", user=user if user is not None else {"is_logged_in": False}, secrets=secrets, check=False)
    if pole:
        at.selectbox(key="poles-selected").set_value(pole).run()
    assert not at.exception, at.exception
    return at


def assert_read_only(at: AppTest, allowed_buttons=()) -> None:
    """No write control: no form field but the search, no button but sign-in, no upload, no write tab."""
    assert [w.label for w in at.text_input] == READ_ONLY_INPUTS
    assert [b.label for b in at.button] == list(allowed_buttons)
    assert len(at.get("file_uploader")) == 0 and len(at.multiselect) == 0 and len(at.checkbox) == 0
    assert [t.label for t in at.tabs] == ["Registre", "Exporter", "Historique"]


def info_text(at: AppTest) -> str:
    return "\n".join(x.value for x in [*at.info, *at.error, *at.warning])


@pytest.fixture
def reg(fresh_data):
    registry.ensure()
    registry_review.set_role(EDITOR["email"], "editeur", "test")
    registry_review.set_role(ADMIN["email"], "admin", "test")


def test_local_mode_remote_visitor_reads_only_and_is_told_why(app_page, reg, monkeypatch):
    at = open_page(app_page, monkeypatch, "local", ip="203.0.113.7")
    assert_read_only(at)
    assert "Consultation seule" in info_text(at) and "mode local" in info_text(at)


def test_off_mode_nobody_writes_not_even_the_local_browser(app_page, reg, monkeypatch):
    at = open_page(app_page, monkeypatch, "off", ip=None, user=EDITOR, secrets=AUTH_SECRETS)
    assert_read_only(at)
    assert "lecture seule" in info_text(at)


def test_auth_mode_anonymous_sees_sign_in_and_no_write_control(app_page, reg, monkeypatch):
    at = open_page(app_page, monkeypatch, "auth", ip=None, secrets=AUTH_SECRETS)
    assert_read_only(at, allowed_buttons=["Se connecter"])
    assert "sans être connecté" in info_text(at)
    # without an [auth] section the page says sign-in is not configured (and still writes nothing)
    at = open_page(app_page, monkeypatch, "auth", ip=None)
    assert_read_only(at)
    assert "connexion n'est pas configurée" in info_text(at)


def test_contributor_proposes_a_change_and_sees_its_status(app_page, reg, monkeypatch):
    before = registry.get("figeacteurs")
    at = open_page(app_page, monkeypatch, "auth", user=CONTRIB, secrets=AUTH_SECRETS)
    assert [t.label for t in at.tabs] == ["Registre", "Ajouter", "Propositions", "Exporter", "Historique"]
    assert "camille@exemple.fr" in "\n".join(m.value for m in at.markdown)
    assert len(at.get("file_uploader")) == 0
    assert "Enregistrer" not in [b.label for b in at.button]
    at.text_input(key="edit-figeacteurs-membres").input("77")
    [send] = [b for b in at.button if b.label == "Proposer cette modification"]
    send.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert registry.get("figeacteurs") == before  # nothing reached the registry
    [prop] = registry_review.proposals()
    assert (prop["author"], prop["author_sub"], prop["payload"]) == ("camille@exemple.fr", "sub-camille", {"membres": 77})
    assert any("Proposition n° 1 enregistrée" in s.value for s in at.success)
    table = [d.value for d in at.dataframe if "État" in d.value.columns]
    assert table and list(table[0]["État"]) == ["en attente"]
    # an editor rejects it: the contributor sees the status and the reason
    registry_review.reject_proposal(prop["id"], "Source manquante", "dominique@exemple.fr")
    at.run()
    [table] = [d.value for d in at.dataframe if "État" in d.value.columns]
    assert (list(table["État"]), list(table["Raison du rejet"])) == (["rejetée"], ["Source manquante"])


def test_editor_validates_rejects_deletes_and_merges(app_page, reg, monkeypatch):
    n1 = registry_review.add_proposal("ajout", {"nom": "Pôle proposé", "code_insee": "48095", "commune": "Mende",
                                                "departement": "48", "region": "76", "secteurs": [], "perimetre": [],
                                                "localise": False}, registry.Author("camille@exemple.fr", "sub-camille",
                                                                                     "app-auth"), nom="Pôle proposé")
    n2 = registry_review.add_proposal("modification", {"membres": 5}, registry.Author("camille@exemple.fr", "sub-camille",
                                                                                      "app-auth"),
                                      pole_id="figeacteurs", base_version=1, nom="FigeACteurs")
    at = open_page(app_page, monkeypatch, "auth", user=EDITOR, secrets=AUTH_SECRETS)
    assert [t.label for t in at.tabs] == ["Registre", "Ajouter", "Propositions", "Importer", "Exporter", "Historique"]
    assert len(at.get("file_uploader")) == 1
    # the queue shows each proposal's diff against the current pole, its author and date
    shown = "\n".join(m.value for m in at.markdown)
    assert f"N° {n1}" in shown and f"N° {n2}" in shown and "camille@exemple.fr" in shown
    diffs = [d.value for d in at.dataframe if list(d.value.columns) == ["Champ", "Actuel", "Proposé"]]
    assert any(list(d["Champ"]) == ["Membres"] and list(d["Proposé"]) == ["5"] for d in diffs)
    at.button(key=f"prop-ok-{n1}").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    pid = registry_review.proposal(n1)["result_pole_id"]
    row = registry.history(pid).iloc[0]
    assert (row["auteur"], row["validateur"], row["validateur_sub"]) == ("camille@exemple.fr", "dominique@exemple.fr",
                                                                         "sub-dominique")
    # rejecting needs a reason, which is kept
    at.button(key=f"prop-no-{n2}").click().run()
    assert any("raison du rejet" in e.value for e in at.error)
    at.text_input(key=f"prop-why-{n2}").input("Nombre non sourcé")
    at.button(key=f"prop-no-{n2}").click().run()
    assert registry_review.proposal(n2)["reason"] == "Nombre non sourcé"
    # delete: the button stays disabled until the confirmation is ticked
    at.selectbox(key="poles-selected").set_value(pid).run()
    assert at.button(key=f"poles-delete-{pid}").disabled
    at.checkbox(key=f"poles-delete-ok-{pid}").check().run()
    at.button(key=f"poles-delete-{pid}").click().run()
    assert pid not in {r["id"] for r in registry.records()}
    assert registry.history(pid).iloc[0]["action"] == "suppression"
    # merge two duplicates: choose the other, see what the kept record gains, confirm
    a = registry.add({"nom": "Pôle Lozère", "code_insee": "48095", "secteurs": ["insertion"], "perimetre": [],
                      "localise": False}, who="t")
    b = registry.add({"nom": "Pôle Lozère bis", "code_insee": "48095", "secteurs": ["culture"], "perimetre": [],
                      "membres": 9, "localise": False}, who="t")
    at.run()
    at.selectbox(key="poles-selected").set_value(a).run()
    at.selectbox(key=f"poles-merge-{a}").set_value(b).run()
    merged = [d.value for d in at.dataframe if "Après fusion" in d.value.columns]
    assert merged and "Membres" in list(merged[0]["Champ"])
    at.checkbox(key=f"poles-merge-ok-{a}").check().run()
    at.button(key=f"poles-merge-go-{a}").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert registry.get(a)["membres"] == 9 and b not in {r["id"] for r in registry.records()}


def test_editor_adds_a_pole_by_typed_coordinates(app_page, reg, monkeypatch):
    at = open_page(app_page, monkeypatch, "auth", user=EDITOR, secrets=AUTH_SECRETS, pole=None)
    at.text_input(key="new-nom").input("Pôle des Boulevards")
    at.text_input(key="new-latitude").input("44,5176")
    at.text_input(key="new-longitude").input("3,5003")
    [add] = [b for b in at.button if b.label == "Ajouter au registre"]
    add.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    rec = next(r for r in registry.records() if r["nom"] == "Pôle des Boulevards")
    assert (rec["commune"], rec["geocodage"], rec["latitude"]) == ("Mende", "saisie", pytest.approx(44.5176))
    assert registry.history(rec["id"]).iloc[0]["auteur"] == "dominique@exemple.fr"


def test_admin_manages_roles_an_editor_cannot(app_page, reg, monkeypatch):
    at = open_page(app_page, monkeypatch, "auth", user=EDITOR, secrets=AUTH_SECRETS, pole=None)
    assert "Rôles" not in [t.label for t in at.tabs]
    at = open_page(app_page, monkeypatch, "auth", user=ADMIN, secrets=AUTH_SECRETS, pole=None)
    assert "Rôles" in [t.label for t in at.tabs]
    [email] = [w for w in at.text_input if w.label == "Adresse électronique"]
    email.input("Sam@Exemple.fr")
    [grant] = [b for b in at.button if b.label == "Attribuer le rôle"]
    grant.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert registry_review.role_of("sam@exemple.fr") == "contributeur"
