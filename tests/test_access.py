"""The write gate: every write goes through ``editing.write``, which checks the editing mode and
the role on the server. Each identity tries every write in each mode; refusals change nothing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from ptce_geo import access, editing, registry, registry_review, settings
from ptce_geo._errors import AccessDeniedError, ConfigurationError, UnknownChoiceError
from ptce_geo.access import Identity

ROOT = Path(__file__).resolve().parents[1]

CONTRIB = Identity.signed_in("Camille.Contrib@exemple.fr", "sub-camille", "Camille")
EDITOR = Identity.signed_in("dominique.edit@exemple.fr", "sub-dominique", "Dominique")
ADMIN = Identity.signed_in("alex.admin@exemple.fr", "sub-alex", "Alex")
IDENTITIES = {
    "anonyme distant": Identity.browser("203.0.113.7", "Quelqu'un"),
    "anonyme local": Identity.browser(None, "Marie (poste du serveur)"),
    "contributeur": CONTRIB,
    "editeur": EDITOR,
    "admin": ADMIN,
    "cli": Identity.cli("ops"),
}
ALL = set(access.ACTIONS)
EDITOR_ACTIONS = ALL - {"roles"}
EXPECTED = {
    "off": {name: (ALL if name == "cli" else set()) for name in IDENTITIES},
    "local": {name: (ALL if name in ("cli", "anonyme local") else set()) for name in IDENTITIES},
    "auth": {"anonyme distant": set(), "anonyme local": set(), "contributeur": {"proposition"},
             "editeur": EDITOR_ACTIONS, "admin": ALL, "cli": ALL},
}


def digest():
    """State of the registry: the SQLite file byte for byte, or every row of the PostgreSQL tables."""
    from ptce_geo import database

    if database.current().dialect == "sqlite":
        return hashlib.sha256(registry.path().read_bytes()).hexdigest()
    with registry.connect() as con:
        return database.dump(con)


def _throwaway(name: str) -> tuple[str, int]:
    pid = registry.add({"nom": name, "code_insee": "48095", "secteurs": [], "perimetre": [], "localise": False},
                       who="préparation du test")
    return pid, registry.get(pid)["version"]


def _attempt(action: str, identity: Identity, mode: str, n: int, tmp_path: Path):
    """Try ``action`` with valid parameters (targets made beforehand, outside the gate)."""
    if action == "ajout":
        return editing.write(action, identity, mode, raw={"nom": f"Pôle ajouté {n}", "code_insee": "48095"})
    if action == "modification":
        pid, version = _throwaway(f"À modifier {n}")
        return editing.write(action, identity, mode, pole_id=pid, raw={"membres": "12"}, version=version)
    if action == "import":
        path = tmp_path / f"import_{n}.csv"
        path.write_text(f"nom;code_insee\nPôle importé {n};48095\n", encoding="utf-8")
        return editing.write(action, identity, mode, path=path)
    if action == "suppression":
        pid, version = _throwaway(f"À supprimer {n}")
        return editing.write(action, identity, mode, pole_id=pid, version=version)
    if action == "fusion":
        (a, va), (b, vb) = _throwaway(f"Doublon A {n}"), _throwaway(f"Doublon B {n}")
        return editing.write(action, identity, mode, keep_id=a, keep_version=va, drop_id=b, drop_version=vb)
    if action == "proposition":
        return editing.write(action, identity, mode, raw={"nom": f"Pôle proposé {n}", "code_insee": "48095"})
    if action in ("validation", "rejet"):
        number = registry_review.add_proposal("ajout", {"nom": f"Proposé {n}", "code_insee": "48095", "secteurs": [],
                                                        "perimetre": [], "localise": False}, "tiers@exemple.fr",
                                              nom=f"Proposé {n}")
        if action == "validation":
            return editing.write(action, identity, mode, proposal_id=number)
        return editing.write(action, identity, mode, proposal_id=number, reason="doublon")
    if action == "roles":
        return editing.write(action, identity, mode, email=f"nouveau{n}@exemple.fr", role="editeur")
    raise AssertionError(action)


def test_each_identity_in_each_mode_may_do_exactly_its_writes(registry_backend, tmp_path):
    registry.ensure()
    registry_review.set_role(EDITOR.email, "editeur", "test")
    registry_review.set_role(ADMIN.email, "admin", "test")
    n = 0
    for mode, expected in EXPECTED.items():
        for name, identity in IDENTITIES.items():
            for action in sorted(ALL):
                n += 1
                may = action in expected[name]
                assert access.allowed(action, identity, mode) is may, (mode, name, action)
                if may:
                    _attempt(action, identity, mode, n, tmp_path)
                    continue
                # a refusal: the targets are prepared first, then the file must not move
                with pytest.MonkeyPatch.context() as mp:
                    before = None

                    def gate(*args, _orig=access.check, **kwargs):
                        nonlocal before
                        before = digest()
                        return _orig(*args, **kwargs)

                    mp.setattr(access, "check", gate)
                    with pytest.raises(AccessDeniedError) as err:
                        _attempt(action, identity, mode, n, tmp_path)
                assert before is not None and digest() == before, (mode, name, action)
                message = str(err.value)
                assert message.startswith("Impossible de " + access.ACTIONS[action]), message
                if mode == "off":
                    assert "lecture seule pour tous" in message
                elif mode == "local":
                    assert "mode local" in message and "machine" in message
                elif identity.is_signed_in:
                    assert "rôle" in message and ("editeur" in message or "admin" in message)
                else:
                    assert "connectez-vous" in message


def test_history_names_the_signed_in_identity_never_a_typed_name(registry_backend):
    registry.ensure()
    registry_review.set_role(EDITOR.email, "editeur", "test")
    typed = Identity.signed_in(EDITOR.email, EDITOR.sub, name="ptce-geo")  # the provider's display name
    pid = editing.write("ajout", typed, "auth", raw={"nom": "Pôle de Dominique", "code_insee": "48095"})
    row = registry.history(pid).iloc[0]
    assert (row["auteur"], row["auteur_sub"], row["canal"]) == ("dominique.edit@exemple.fr", "sub-dominique", "app-auth")
    local = editing.write("ajout", Identity.browser(None, "ptce-geo"), "local",
                          raw={"nom": "Pôle de Marie", "code_insee": "48095"})
    row = registry.history(local).iloc[0]
    assert (row["auteur"], row["canal"]) == ("ptce-geo", "app-local")  # a typed name, marked as such
    unnamed = editing.write("ajout", Identity.browser(None, "  "), "local", raw={"nom": "Sans nom", "code_insee": "48095"})
    assert registry.history(unnamed).iloc[0]["auteur"] == access.UNNAMED


def test_unverified_email_gets_no_stored_role(registry_backend):
    registry.ensure()
    registry_review.set_role(EDITOR.email, "editeur", "test")
    spoof = Identity.signed_in(EDITOR.email, "another-sub", email_verified=False)
    assert access.role_of(spoof, "auth") == "contributeur"
    assert access.role_of(Identity.signed_in(EDITOR.email, "x", email_verified=True), "auth") == "editeur"


def test_wrong_mode_role_or_action_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("PTCE_GEO_EDITING", "public")
    with pytest.raises(ConfigurationError) as err:
        settings.get()
    assert "PTCE_GEO_EDITING='public'" in str(err.value)
    assert all(m in str(err.value) for m in ("local", "auth", "off"))
    monkeypatch.setenv("PTCE_GEO_EDITING", " AUTH ")
    assert settings.get().editing == "auth"
    monkeypatch.delenv("PTCE_GEO_EDITING")
    assert settings.get().editing == "local"
    with pytest.raises(UnknownChoiceError, match="Valeurs possibles : local, auth, off"):
        access.check_mode("public")
    with pytest.raises(UnknownChoiceError, match="contributeur, editeur, admin"):
        access.check_role("éditeur")
    with pytest.raises(UnknownChoiceError, match="Action inconnue"):
        editing.write("effacer-tout", Identity.cli(), "local")


def test_pages_write_only_through_the_gate():
    """No page or widget module calls a registry write directly (hiding a button is not a check)."""
    writes = re.compile(r"registry(_review)?\.(add|add_many|update|delete|merge|set_role|add_proposal|accept_proposal|"
                        r"reject_proposal)\(|poles\.edit\(|importer\.run\(|proposals\.(propose|accept|reject)\(")
    files = [*ROOT.glob("app_pages/*.py"), ROOT / "app.py", *ROOT.glob("ptce_geo/_ui*.py"), *ROOT.glob("ptce_geo/ui/*.py")]
    offenders = [f"{f.name}: {m.group(0)}" for f in files for m in writes.finditer(f.read_text(encoding="utf-8"))]
    assert offenders == []
    ui = "\n".join(f.read_text(encoding="utf-8") for f in files)
    assert "editing.write(" in ui


def test_cli_roles_list_grant_revoke(registry_backend, capsys):
    from ptce_geo import cli

    assert cli.main(["roles", "list"]) == 0
    assert "ptce-geo roles grant EMAIL admin" in capsys.readouterr().out
    assert cli.main(["roles", "grant", "Alex.Admin@Exemple.fr", "admin"]) == 0
    out = capsys.readouterr().out
    assert "alex.admin@exemple.fr a maintenant le rôle « admin »" in out
    assert cli.main(["roles", "grant", "sam@exemple.fr", "chef"]) == 1
    err = capsys.readouterr().err
    assert "Rôle inconnu : 'chef'" in err and "contributeur, editeur, admin" in err
    assert cli.main(["roles", "grant", "pas-une-adresse", "editeur"]) == 1
    assert "Adresse électronique invalide" in capsys.readouterr().err
    assert cli.main(["roles", "list"]) == 0
    assert "alex.admin@exemple.fr" in capsys.readouterr().out
    assert cli.main(["roles", "revoke", "alex.admin@exemple.fr"]) == 0
    assert "redevient contributeur" in capsys.readouterr().out
    assert registry_review.roles() == []
    assert registry_review.role_history()[0]["channel"] == "cli"


def test_secrets_example_is_valid_and_real_secrets_are_never_committed():
    import tomllib

    from ptce_geo.ui.poles_access import providers

    example = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8"))
    auth = example["auth"]
    assert auth["redirect_uri"].endswith("/oauth2callback") and auth["cookie_secret"]
    assert "access" in auth["expose_tokens"]
    assert providers(auth) == ["proconnect"]
    assert auth["proconnect"]["server_metadata_url"].endswith("/api/v2/.well-known/openid-configuration")
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert not (ROOT / ".streamlit" / "secrets.toml").exists() or subprocess_ignored(ROOT / ".streamlit" / "secrets.toml")


def subprocess_ignored(path) -> bool:
    import subprocess

    return subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT).returncode == 0
