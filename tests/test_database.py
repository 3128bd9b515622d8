"""The registry in PostgreSQL + PostGIS: concurrent writers from many processes, the seed loaded
once, the geometry column, ``db copy`` both ways, and French errors that never show a password."""

from __future__ import annotations

import multiprocessing

import pytest

from ptce_geo import cli, database, importer, poles, registry, registry_review, settings
from ptce_geo._errors import ConfigurationError, ConflictError

# Forked workers inherit the loaded modules and boundaries (no import per process); each opens its
# own connections (the parent's are closed before the fork).
FORK = multiprocessing.get_context("fork")


def _run_together(target, args_list, timeout=240):
    """Start one process per args (all released at once by a barrier); return their results."""
    database.close_all()
    queue, barrier = FORK.Queue(), FORK.Barrier(len(args_list))
    procs = [FORK.Process(target=target, args=(queue, barrier, *args)) for args in args_list]
    for p in procs:
        p.start()
    results = [queue.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


def _stale_update(queue, barrier, n, pole_id, version):
    barrier.wait()
    try:
        registry.update(pole_id, {"membres": 100 + n}, version, who=f"processus {n}")
        queue.put(("gagne", n, ""))
    except ConflictError as exc:
        queue.put(("conflit", n, str(exc)))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        queue.put(("erreur", n, repr(exc)))


def _import_one(queue, barrier, n, path):
    barrier.wait()
    try:
        report = importer.run(path, who=f"import {n}")
        queue.put(("ok", n, report.imported_ids))
    except Exception as exc:  # noqa: BLE001
        queue.put(("erreur", n, repr(exc)))


def _start_server(queue, barrier, n):
    barrier.wait()
    try:
        registry.ensure()
        queue.put(("ok", n, len(registry.records())))
    except Exception as exc:  # noqa: BLE001
        queue.put(("erreur", n, repr(exc)))


@pytest.fixture
def pg(fresh_data, pg_url, monkeypatch) -> str:
    monkeypatch.setenv("PTCE_GEO_DATABASE_URL", pg_url)
    return pg_url


def test_twenty_processes_update_one_pole_from_the_same_stale_version(pg):
    seen = registry.get("figeacteurs")
    n_history = len(registry.history())
    results = _run_together(_stale_update, [(n, "figeacteurs", seen["version"]) for n in range(20)])
    assert [r for r in results if r[0] == "erreur"] == []
    winners = [n for kind, n, _ in results if kind == "gagne"]
    conflicts = [msg for kind, _, msg in results if kind == "conflit"]
    assert len(winners) == 1 and len(conflicts) == 19
    winner = winners[0]
    for msg in conflicts:  # the same French message as SQLite's, naming who won
        assert msg.startswith("Conflit de modification : le pôle 'FigeACteurs' a été modifié")
        assert f"par 'processus {winner}'" in msg and "rechargez la fiche" in msg
    now = registry.get("figeacteurs")
    assert now["version"] == seen["version"] + 1 and now["membres"] == 100 + winner
    hist = registry.history()
    assert len(hist) == n_history + 1  # nothing lost, nothing doubled
    assert (hist.iloc[0]["id"], hist.iloc[0]["auteur"]) == ("figeacteurs", f"processus {winner}")


def test_eight_processes_import_different_poles_at_once_and_all_land(pg, tmp_path):
    before = {r["id"] for r in registry.records()}
    paths = []
    for n in range(8):
        path = tmp_path / f"import_{n}.csv"
        path.write_text(f"nom;code_insee\nPôle concurrent {n};48095\nAutre pôle concurrent {n};46102\n", encoding="utf-8")
        paths.append(path)
    results = _run_together(_import_one, [(n, str(p)) for n, p in enumerate(paths)])
    assert [r for r in results if r[0] != "ok"] == []
    ids = [i for _, _, got in results for i in got]
    assert len(ids) == 16 and len(set(ids)) == 16
    after = {r["id"]: r for r in registry.records()}
    assert set(after) == before | set(ids)
    assert {after[i]["nom"] for i in ids} == {f"{k}ôle concurrent {n}" for n in range(8)
                                              for k in ("P", "Autre p")}
    hist = registry.history()
    imports = hist[hist["action"] == "import"]
    assert sorted(imports["id"]) == sorted(ids)
    assert list(hist["numero"]) == sorted(hist["numero"], reverse=True) and hist["numero"].is_unique


def test_servers_starting_together_load_the_seed_once(pg):
    with open(registry.seed_path(), encoding="utf-8") as fh:
        seed_rows = sum(1 for _ in fh) - 1
    results = _run_together(_start_server, [(n,) for n in range(6)])
    assert [r for r in results if r[0] != "ok"] == []
    assert {count for _, _, count in results} == {seed_rows}
    assert len(registry.records()) == seed_rows and len(registry.history()) == seed_rows


def test_geometry_column_follows_latitude_and_longitude(pg, pg_cluster):
    name = pg.rsplit("/", 1)[1]

    def geom(pid):
        return pg_cluster.admin("SELECT ST_X(geom), ST_Y(geom), ST_SRID(geom) FROM poles WHERE id = %s",
                                database=name, params=(pid,))[0]

    rec = registry.get("labsport")
    assert rec["localise"] and geom("labsport") == (rec["longitude"], rec["latitude"], 4326)
    moved = poles.edit("labsport", {"code_insee": "44109"}, rec["version"], who="t")  # Nantes
    assert geom("labsport") == (moved["longitude"], moved["latitude"], 4326)
    unlocated = [r["id"] for r in registry.records() if not r["localise"]]
    assert unlocated and geom(unlocated[0]) == (None, None, None)
    [count] = pg_cluster.admin("SELECT COUNT(*) FROM poles WHERE (geom IS NULL) = (localise = 0)", database=name)[0]
    assert count == len(registry.records())
    indexes = pg_cluster.admin("SELECT indexdef FROM pg_indexes WHERE tablename = 'poles'", database=name)
    assert any("USING gist (geom)" in i for (i,) in indexes)
    # PostGIS measures from it in metres: Nantes' town hall is within 10 km
    [(inside,)] = pg_cluster.admin(
        "SELECT ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(-1.5536, 47.2184), 4326)::geography, 10000) "
        "FROM poles WHERE id = 'labsport'", database=name)
    assert inside


def _activity() -> dict:
    """Some of everything: an edit, a deletion, a role and its history, proposals, an identity."""
    from ptce_geo.access import Identity

    rec = registry.get("figeacteurs")
    registry.update("figeacteurs", {"membres": 42, "secteurs": ["insertion", "culture"]}, rec["version"], who="Alice")
    gone = registry.get("le-periscope")
    registry.delete("le-periscope", gone["version"], who="Bob")
    registry_review.set_role("chef@exemple.fr", "editeur", Identity.cli("ops").author("auth"))
    n = registry_review.add_proposal("ajout", {"nom": "Pôle proposé", "code_insee": "48095", "secteurs": [],
                                              "perimetre": [], "localise": False}, "camille@exemple.fr", nom="Pôle proposé")
    registry_review.reject_proposal(n, "doublon", "chef@exemple.fr")
    registry_review.add_proposal("ajout", {"nom": "Pôle en attente", "code_insee": "46102", "secteurs": [],
                                          "perimetre": [], "localise": False}, "camille@exemple.fr", nom="Pôle en attente")
    registry_review.remember_identity("https://idp.exemple.fr", "sub-1", "Agent@Exemple.fr")
    with registry.connect() as con:
        return database.dump(con)


def test_copy_sqlite_to_postgresql_and_back_is_identical_and_checked(fresh_data, pg_url, pg_cluster, tmp_path,
                                                                     monkeypatch, capsys):
    monkeypatch.delenv("PTCE_GEO_DATABASE_URL", raising=False)
    original = _activity()
    assert cli.main(["db", "copy", "--to", pg_url]) == 0
    out, err = capsys.readouterr()
    assert "Copie vérifiée" in out and f"{len(original['poles'])} pôles" in out
    assert f"{len(original['history'])} lignes d'historique" in out and "2 propositions" in out and "1 identité" in out
    assert "mot-de-passe-de-test" not in out + err and "postgres:***@" in out
    monkeypatch.setenv("PTCE_GEO_DATABASE_URL", pg_url)
    with registry.connect() as con:
        assert database.dump(con) == original
    assert registry.get("figeacteurs")["membres"] == 42 and registry.history().iloc[0]["auteur"] == "Bob"
    # the copy goes on numbering where the source stopped
    third = registry_review.add_proposal("ajout", {"nom": "Troisième", "code_insee": "48095", "secteurs": [],
                                                   "perimetre": [], "localise": False}, "x@exemple.fr", nom="Troisième")
    assert third == 3
    # to another PostgreSQL database (a move between servers)
    other = pg_cluster.new_database(f"{pg_url.rsplit('/', 1)[1]}_bis")
    try:
        assert cli.main(["db", "copy", "--to", other]) == 0
        assert "Copie vérifiée" in capsys.readouterr().out
    finally:
        database.close_all()
        pg_cluster.drop_database(other.rsplit("/", 1)[1])
    # and back, from PostgreSQL to a new SQLite file
    back = tmp_path / "retour" / "poles.sqlite"
    assert cli.main(["db", "copy", "--to", f"sqlite:{back}"]) == 0
    assert "Copie vérifiée" in capsys.readouterr().out
    with registry.connect() as con:
        in_pg = database.dump(con)
    monkeypatch.delenv("PTCE_GEO_DATABASE_URL")
    monkeypatch.setenv("PTCE_GEO_DATA", str(back.parent))
    with registry.connect() as con:
        assert database.dump(con) == in_pg
    assert registry.stamp().split("|")[1:] == [in_pg_meta(in_pg, "updated_at"), in_pg_meta(in_pg, "data_version")]


def in_pg_meta(dump: dict, key: str) -> str:
    return dict(dump["meta"])[key]


def test_copy_refuses_a_registry_already_there_unless_asked(pg, tmp_path, monkeypatch, capsys):
    registry.ensure()
    target = tmp_path / "cible.sqlite"
    target.write_bytes(b"quelque chose")
    assert cli.main(["db", "copy", "--to", f"sqlite:{target}"]) == 1
    err = capsys.readouterr().err
    assert "contient déjà un registre" in err and "--remplacer" in err and "rien n'a été copié" in err
    assert target.read_bytes() == b"quelque chose"
    assert cli.main(["db", "copy", "--to", f"sqlite:{target}", "--remplacer"]) == 0
    assert "Copie vérifiée" in capsys.readouterr().out
    # into PostgreSQL: the same refusal, then the database is overwritten in one transaction
    monkeypatch.delenv("PTCE_GEO_DATABASE_URL")
    monkeypatch.setenv("PTCE_GEO_DATA", str(tmp_path / "autre"))
    registry.add({"nom": "Seulement en local", "secteurs": [], "perimetre": [], "localise": False}, who="t")
    assert cli.main(["db", "copy", "--to", pg]) == 1
    assert "contient déjà un registre" in capsys.readouterr().err
    assert cli.main(["db", "copy", "--to", pg, "--remplacer"]) == 0
    monkeypatch.setenv("PTCE_GEO_DATABASE_URL", pg)
    assert "Seulement en local" in {r["nom"] for r in registry.records()}
    assert cli.main(["db", "copy", "--to", "mysql://x"]) == 1
    assert "Formes possibles" in capsys.readouterr().err


def test_db_status_names_the_store_with_the_password_masked(pg, capsys):
    assert cli.main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert "Registre : PostgreSQL postgresql://postgres:***@127.0.0.1" in out and "mot-de-passe" not in out
    assert "Schéma : 2" in out and "pôles" in out


def _french_failure(capsys, *args) -> str:
    assert cli.main(list(args)) == 1
    err = capsys.readouterr().err
    assert err.startswith("Erreur : ") and "mot-de-passe-de-test" not in err and "secret" not in err
    return err


def test_connection_failures_are_french_and_mask_the_password(pg_cluster, fresh_data, monkeypatch, capsys):
    from _browser import free_port

    monkeypatch.setenv("PTCE_GEO_DATABASE_URL", f"postgresql://ptce:secret@127.0.0.1:{free_port()}/ptce")
    err = _french_failure(capsys, "poles", "list")
    assert "Serveur PostgreSQL injoignable" in err and "postgresql://ptce:***@127.0.0.1" in err
    monkeypatch.setenv("PTCE_GEO_DATABASE_URL", pg_cluster.url("postgres", password="secret-faux"))
    err = _french_failure(capsys, "poles", "list")
    assert "authentification du rôle 'postgres' impossible" in err and "***" in err
    monkeypatch.setenv("PTCE_GEO_DATABASE_URL", pg_cluster.url("base_absente"))
    err = _french_failure(capsys, "poles", "list")
    assert "La base 'base_absente' n'existe pas" in err and "createdb -O postgres base_absente" in err
    monkeypatch.setenv("PTCE_GEO_DATABASE_URL", "mysql://ptce:secret@h/db")
    with pytest.raises(ConfigurationError) as exc:
        settings.get()
    assert "PTCE_GEO_DATABASE_URL='mysql://ptce:***@h/db'" in str(exc.value)
    assert not (fresh_data / "poles.sqlite").exists()  # never a fallback to SQLite


def test_missing_postgis_is_created_when_allowed_or_explained(pg_cluster, fresh_data, monkeypatch, capsys):
    """A database without PostGIS: a superuser's app creates the extension; another role is told
    the exact command an administrator must run."""
    names = ["sans_postgis_a", "sans_postgis_b"]
    try:
        for name in names:
            pg_cluster.admin(f"CREATE DATABASE {name} TEMPLATE template0")
        monkeypatch.setenv("PTCE_GEO_DATABASE_URL", pg_cluster.url(names[0]))
        assert len(registry.records()) > 0
        assert pg_cluster.admin("SELECT extname FROM pg_extension WHERE extname = 'postgis'", database=names[0])
        pg_cluster.admin("DROP ROLE IF EXISTS atlas")
        pg_cluster.admin("CREATE ROLE atlas LOGIN PASSWORD 'secret-atlas'")
        pg_cluster.admin(f"ALTER DATABASE {names[1]} OWNER TO atlas")
        monkeypatch.setenv("PTCE_GEO_DATABASE_URL", pg_cluster.url(names[1], "atlas", "secret-atlas"))
        err = _french_failure(capsys, "poles", "list")
        assert "extension PostGIS n'est pas créée" in err and f"psql -d {names[1]} -c 'CREATE EXTENSION postgis;'" in err
        assert "secret-atlas" not in err
        assert not pg_cluster.admin("SELECT 1 FROM pg_tables WHERE tablename = 'poles'", database=names[1])
    finally:
        database.close_all()
        for name in names:
            pg_cluster.drop_database(name)
        pg_cluster.admin("DROP ROLE IF EXISTS atlas")


def test_a_role_without_rights_gets_a_french_error(pg, pg_cluster, monkeypatch, capsys):
    registry.ensure()
    pg_cluster.admin("DROP ROLE IF EXISTS lecteur")
    pg_cluster.admin("CREATE ROLE lecteur LOGIN PASSWORD 'secret-lecteur'")
    try:
        monkeypatch.setenv("PTCE_GEO_DATABASE_URL", pg_cluster.url(pg.rsplit("/", 1)[1], "lecteur", "secret-lecteur"))
        err = _french_failure(capsys, "poles", "list")
        assert "Droits insuffisants" in err and "'lecteur'" in err and "lecteur:***@" in err
    finally:
        database.close_all()
        pg_cluster.admin("DROP ROLE IF EXISTS lecteur")
