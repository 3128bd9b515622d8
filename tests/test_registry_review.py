"""Registry schema 2: migration of a version-1 file, proposals (diff, validate, reject), merge,
delete, roles — each write one transaction with its history row."""

from __future__ import annotations

import sqlite3

import pytest

from ptce_geo import access, cli, database, editing, poles, proposals, registry, registry_review
from ptce_geo._errors import ConflictError, RegistryError, ValidationError
from ptce_geo.access import Identity

CONTRIB = Identity.signed_in("camille@exemple.fr", "sub-camille")
EDITOR = Identity.signed_in("dominique@exemple.fr", "sub-dominique")


@pytest.fixture
def reg(registry_backend):
    """A fresh registry with an editor, in SQLite then in PostgreSQL."""
    registry.ensure()
    registry_review.set_role(EDITOR.email, "editeur", Identity.cli("test").author("auth"))
    return registry_backend


def raw_sql(*statements) -> list:
    """Run statements on the current store directly (no schema check, no migration); return the
    last one's rows."""
    with database.current().write() as con:
        rows = []
        for sql in statements:
            sql, params = (sql, ()) if isinstance(sql, str) else sql
            cur = con.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
    return rows


def make_v1() -> None:
    """Turn a fresh registry into what version 1 wrote (same tables, no v2 columns or tables)."""
    raw_sql(*[f"DROP TABLE {table}" for table in ("roles", "role_history", "proposals", "identities")],
            *[f"ALTER TABLE history DROP COLUMN {column}" for column in ("author_sub", "validator", "validator_sub",
                                                                          "channel")],
            "UPDATE meta SET value = '1' WHERE key = 'schema'")


def test_version_1_registry_is_migrated_and_a_person_signing_ptce_geo_stays_a_person(reg):
    make_v1()
    # what version 1 did when someone typed « ptce-geo » as their name and edited a seed pole
    raw_sql("UPDATE poles SET site_web = 'https://exemple.org/a-moi', version = 2 WHERE id = 'figeacteurs'",
            "INSERT INTO history (at, who, action, pole_id, nom, changes, previous, note) VALUES "
            "('2026-01-01T00:00:00+00:00', 'ptce-geo', 'modification', 'figeacteurs', 'FigeACteurs', '{}', NULL, NULL)",
            "UPDATE meta SET value = 'ancienne' WHERE key = 'seed_sha256'")
    assert registry.get("figeacteurs")["site_web"] == "https://exemple.org/a-moi"  # opening migrates
    assert raw_sql("SELECT value FROM meta WHERE key = 'schema'")[0][0] == "2"
    channels = dict(raw_sql("SELECT channel, COUNT(*) FROM history GROUP BY channel"))
    assert channels["personne"] == 1 and channels["graine"] == len(registry.records())
    news = registry.refresh_from_seed()
    assert "figeacteurs" not in news["mis_a_jour"]
    assert registry.get("figeacteurs")["site_web"] == "https://exemple.org/a-moi"
    assert registry_review.roles() == [] and registry_review.proposals() == []
    # numbering goes on after the migration
    assert editing.write("proposition", CONTRIB, "auth", raw={"nom": "Pôle d'après", "code_insee": "48095"}) == 1


def test_db_upgrade_migrates_once_and_says_so(reg, capsys):
    make_v1()
    assert cli.main(["db", "upgrade"]) == 0
    assert "schéma 1 → 2" in capsys.readouterr().out
    assert cli.main(["db", "upgrade"]) == 0
    assert "déjà au schéma 2" in capsys.readouterr().out
    assert registry_review.roles() == []


def test_a_newer_schema_is_refused(reg, capsys):
    before = registry.records()
    raw_sql("UPDATE meta SET value = '9' WHERE key = 'schema'")
    for attempt in (registry.records, registry.stamp, lambda: registry.add({"nom": "X", "secteurs": [], "perimetre": [],
                                                                             "localise": False}, who="t")):
        with pytest.raises(RegistryError, match="version plus récente de ptce-geo"):
            attempt()
    assert cli.main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "schéma 9" in err and "Mettez ptce-geo à jour" in err
    raw_sql("UPDATE meta SET value = '2' WHERE key = 'schema'")
    assert registry.records() == before  # refused, never touched


def test_typed_ptce_geo_name_no_longer_undoes_an_edit_at_the_next_seed_refresh(reg):
    rec = registry.get("figeacteurs")
    editing.write("modification", Identity.browser(None, "ptce-geo"), "local", pole_id="figeacteurs",
                  raw={"site_web": "https://exemple.org/mon-site"}, version=rec["version"])
    raw_sql("UPDATE meta SET value = 'ancienne' WHERE key = 'seed_sha256'")
    assert "figeacteurs" not in registry.refresh_from_seed()["mis_a_jour"]
    assert registry.get("figeacteurs")["site_web"] == "https://exemple.org/mon-site"


def test_new_pole_proposal_is_validated_with_both_identities_in_the_history(reg):
    before = len(registry.records())
    number = editing.write("proposition", CONTRIB, "auth", raw={"nom": "Pôle des Causses", "code_insee": "48095",
                                                                "secteurs": "insertion"})
    assert len(registry.records()) == before  # nothing in the registry yet
    [mine] = proposals.of_author(CONTRIB.email)
    assert (mine["id"], mine["status"], mine["kind"]) == (number, "en_attente", "ajout")
    rows, version = proposals.diff(mine)
    assert version is None and {"champ": "Nom", "actuel": "", "propose": "Pôle des Causses"} in rows
    assert {"champ": "Commune", "actuel": "", "propose": "Mende"} in rows
    done = editing.write("validation", EDITOR, "auth", proposal_id=number)
    assert done["status"] == "validee" and done["decided_by"] == EDITOR.email
    pid = done["result_pole_id"]
    assert registry.get(pid)["commune"] == "Mende"
    row = registry.history(pid).iloc[0]
    assert (row["auteur"], row["auteur_sub"], row["validateur"], row["validateur_sub"]) == (
        "camille@exemple.fr", "sub-camille", "dominique@exemple.fr", "sub-dominique")
    assert row["note"] == f"proposition n° {number}"
    with pytest.raises(ConflictError, match="déjà été validée"):
        editing.write("rejet", EDITOR, "auth", proposal_id=number, reason="trop tard")


def test_change_proposal_diff_conflict_and_rejection(reg):
    rec = registry.get("le-periscope")
    number = editing.write("proposition", CONTRIB, "auth", pole_id="le-periscope", raw={"membres": "44"},
                           version=rec["version"])
    prop = registry_review.proposal(number)
    rows, version = proposals.diff(prop)
    assert rows == [{"champ": "Membres", "actuel": "" if rec["membres"] is None else str(rec["membres"]), "propose": "44"}]
    assert version == rec["version"]
    # someone edits the pole after the editor opened the proposal: validation is refused, nothing written
    poles.edit("le-periscope", {"forme_juridique": "SCIC"}, rec["version"], who="autre")
    with pytest.raises(ConflictError):
        editing.write("validation", EDITOR, "auth", proposal_id=number, version=version)
    assert registry_review.proposal(number)["status"] == "en_attente"
    assert registry.get("le-periscope")["membres"] == rec["membres"]
    with pytest.raises(ValidationError, match="raison du rejet"):
        editing.write("rejet", EDITOR, "auth", proposal_id=number, reason="  ")
    done = editing.write("rejet", EDITOR, "auth", proposal_id=number, reason="Chiffre non sourcé")
    assert (done["status"], done["reason"]) == ("rejetee", "Chiffre non sourcé")
    assert proposals.of_author(CONTRIB.email)[0]["reason"] == "Chiffre non sourcé"
    with pytest.raises(ValidationError, match="Aucun changement"):
        editing.write("proposition", CONTRIB, "auth", pole_id="le-periscope", raw={"membres": ""
                      if rec["membres"] is None else str(rec["membres"])}, version=registry.get("le-periscope")["version"])


def test_invalid_or_duplicate_proposal_is_refused(reg):
    with pytest.raises(ValidationError, match="code INSEE inconnu"):
        editing.write("proposition", CONTRIB, "auth", raw={"nom": "X", "code_insee": "99999"})
    with pytest.raises(ValidationError, match="Doublon"):
        editing.write("proposition", CONTRIB, "auth", raw={"nom": "figeacteurs", "code_insee": "46102"})
    assert registry_review.proposals() == []


def test_validation_is_all_or_nothing(reg, monkeypatch, snapshot):
    number = editing.write("proposition", CONTRIB, "auth", raw={"nom": "Pôle atomique", "code_insee": "48095"})
    before = snapshot()

    def broken(*args, **kwargs):  # the store's own failure, after the pole and its history row were written
        if reg == "postgresql":
            import psycopg

            raise psycopg.errors.DiskFull("could not extend file")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(registry_review, "_decide", broken)
    with pytest.raises(RegistryError):
        editing.write("validation", EDITOR, "auth", proposal_id=number)
    assert snapshot() == before
    assert not any(r["nom"] == "Pôle atomique" for r in registry.records())


def test_merge_keeps_the_first_fills_its_gaps_and_logs_both(reg):
    a = registry.add({"nom": "Pôle Lozère", "code_insee": "48095", "secteurs": ["insertion"], "perimetre": [],
                      "localise": False}, who="t")
    b = registry.add({"nom": "Pole Lozere (doublon)", "code_insee": "48095", "secteurs": ["culture", "insertion"],
                      "perimetre": [], "site_web": "https://exemple.org", "membres": 12, "localise": False}, who="t")
    va, vb = registry.get(a)["version"], registry.get(b)["version"]
    kept = editing.write("fusion", EDITOR, "auth", keep_id=a, keep_version=va, drop_id=b, drop_version=vb)
    assert kept["nom"] == "Pôle Lozère" and kept["secteurs"] == ["insertion", "culture"]
    assert kept["site_web"] == "https://exemple.org" and kept["membres"] == 12
    assert b not in {r["id"] for r in registry.records()}
    ha, hb = registry.history(a).iloc[0], registry.history(b).iloc[0]
    assert (ha["action"], hb["action"]) == ("fusion", "fusion")
    assert b in ha["note"] and a in hb["note"] and ha["auteur"] == hb["auteur"] == EDITOR.email
    with pytest.raises(RegistryError, match="même pôle"):
        editing.write("fusion", EDITOR, "auth", keep_id=a, keep_version=kept["version"], drop_id=a,
                      drop_version=kept["version"])


def test_delete_needs_the_version_read_and_keeps_history(reg):
    pid = registry.add({"nom": "À effacer", "code_insee": "48095", "secteurs": [], "perimetre": [], "localise": False},
                       who="t")
    with pytest.raises(ConflictError):
        editing.write("suppression", EDITOR, "auth", pole_id=pid, version=99)
    editing.write("suppression", EDITOR, "auth", pole_id=pid, version=1)
    row = registry.history(pid).iloc[0]
    assert (row["action"], row["auteur"]) == ("suppression", EDITOR.email)


def test_roles_store_and_log(reg):
    admin = Identity.signed_in("alex@exemple.fr", "sub-alex")
    registry_review.set_role(admin.email, "admin", "test")
    assert editing.write("roles", admin, "auth", email=" Sam@Exemple.fr ", role="editeur") is None
    assert registry_review.role_of("sam@exemple.fr") == "editeur"
    assert access.role_of(Identity.signed_in("SAM@exemple.fr", "s"), "auth") == "editeur"
    assert editing.write("roles", admin, "auth", email="sam@exemple.fr", role=None) == "editeur"
    assert access.role_of(Identity.signed_in("sam@exemple.fr", "s"), "auth") == "contributeur"
    log = registry_review.role_history()
    assert (log[0]["email"], log[0]["before"], log[0]["after"], log[0]["who"]) == ("sam@exemple.fr", "editeur", None,
                                                                                   "alex@exemple.fr")
    with pytest.raises(Exception, match="Adresse électronique invalide"):
        editing.write("roles", admin, "auth", email="pas-une-adresse", role="editeur")
