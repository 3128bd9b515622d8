"""Who may change the registry: editing modes, roles, identities and the one check every write passes.

Modes (``PTCE_GEO_EDITING``, see ``settings``):

- ``local`` — a browser on the server's own machine (loopback WebSocket peer) may do
  everything the CLI does; any other visitor reads only;
- ``auth`` — a visitor who is not signed in reads only; a signed-in user has a role;
- ``off`` — nobody writes from the app.

The CLI (``Identity.cli``) writes in every mode: it runs with the rights of the account that
owns the registry file anyway.

Roles (``ROLES``), stored with the registry (``registry_review``) so every server sees the same:
``contributeur`` (any signed-in user, no stored row needed) proposes new poles and changes;
``editeur`` also adds, edits, imports, deletes, merges, validates and rejects proposals;
``admin`` also grants and revokes roles. A role is found by the signed-in e-mail; an e-mail the
provider marks as not verified (``email_verified = false``) gets no stored role.

``check(action, identity, mode)`` is the gate: it returns the role acting, or raises
``AccessDeniedError`` with a French message saying why and what to do. ``editing.write`` calls
it before every write; pages never write any other way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import registry_review, settings
from ._errors import AccessDeniedError, UnknownChoiceError
from .registry import Author

__all__ = ["MODES", "ROLES", "ACTIONS", "RIGHTS", "UNNAMED", "Identity", "check_mode", "check_role", "check_email",
    "role_of", "allowed", "refusal", "check"]

MODES = settings.EDITING_MODES

ROLES = {
    "contributeur": "propose de nouveaux pôles et des modifications (validées par un éditeur)",
    "editeur": "ajoute, modifie, importe, supprime et fusionne des pôles ; valide ou rejette les propositions",
    "admin": "tout ce que fait un éditeur, et attribue ou retire les rôles",
}

# Every write, with how a refusal names it.
ACTIONS = {
    "ajout": "ajouter un pôle",
    "modification": "modifier un pôle",
    "import": "importer un fichier de pôles",
    "suppression": "supprimer un pôle",
    "fusion": "fusionner deux pôles",
    "proposition": "proposer un pôle ou une modification",
    "validation": "valider une proposition",
    "rejet": "rejeter une proposition",
    "roles": "attribuer ou retirer un rôle",
}

_EDITOR = {"ajout", "modification", "import", "suppression", "fusion", "proposition", "validation", "rejet"}
RIGHTS = {
    "contributeur": frozenset({"proposition"}),
    "editeur": frozenset(_EDITOR),
    "admin": frozenset(_EDITOR | {"roles"}),
}

UNNAMED = "application (nom non saisi)"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Identity:
    """Who acts. Build it with ``cli``, ``browser`` or ``signed_in``, never from what a form says.

    ``channel``: ``"cli"`` or ``"app"``; ``local``: an app visitor whose browser runs on the
    server's machine; ``email``/``sub``: the signed-in user's e-mail and provider subject;
    ``name``: a typed name (``local`` mode), the OS user (CLI) or the provider's display name.
    """

    channel: str = "app"
    local: bool = False
    email: str | None = None
    sub: str | None = None
    name: str | None = None
    email_verified: bool | None = None

    @classmethod
    def cli(cls, name: str | None = None) -> "Identity":
        return cls(channel="cli", local=True, name=(name or "").strip() or "cli")

    @classmethod
    def browser(cls, ip_address: str | None, name: str | None = None) -> "Identity":
        """An app visitor who is not signed in; ``ip_address`` as ``st.context.ip_address`` gives
        it (None for a loopback client)."""
        return cls(channel="app", local=ip_address is None, name=(name or "").strip() or None)

    @classmethod
    def signed_in(cls, email: str | None, sub: str | None, name: str | None = None,
                  email_verified: bool | None = None, ip_address: str | None = "") -> "Identity":
        email = (email or "").strip().lower() or None
        return cls(channel="app", local=ip_address is None, email=email, sub=(sub or None), name=name,
                   email_verified=email_verified)

    @property
    def is_signed_in(self) -> bool:
        return bool(self.email or self.sub)

    def author(self, mode: str | None = None) -> Author:
        """How this identity is written in the history in ``mode``: the e-mail and provider subject
        when signed in (``auth``), never a typed name; the typed name in ``local``; the OS user
        for the CLI."""
        mode = check_mode(mode)
        if self.channel == "cli":
            return Author(self.name or "cli", None, "cli")
        if mode == "auth":
            return Author(self.email or f"sujet {self.sub}", self.sub, "app-auth")
        return Author(self.name or UNNAMED, None, "app-local")


def check_mode(mode: str | None) -> str:
    """``mode`` itself, or the configured one when None; an unknown mode lists the valid ones."""
    if mode is None:
        return settings.get().editing
    if mode not in MODES:
        raise UnknownChoiceError("Mode d'édition", mode, MODES)
    return mode


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UnknownChoiceError("Rôle", role, ROLES)
    return role


def check_email(email: str) -> str:
    email = str(email or "").strip().lower()
    if not _EMAIL.fullmatch(email):
        raise AccessDeniedError(f"Adresse électronique invalide : {email!r} (ex. prenom.nom@exemple.gouv.fr).")
    return email


def role_of(identity: Identity, mode: str | None = None) -> str | None:
    """The role ``identity`` acts with in ``mode`` (None: reads only). The CLI and a local browser
    in ``local`` mode act as ``admin``."""
    mode = check_mode(mode)
    if identity.channel == "cli":
        return "admin"
    if mode == "off":
        return None
    if mode == "local":
        return "admin" if identity.local else None
    if not identity.is_signed_in:
        return None
    stored = None
    if identity.email and identity.email_verified is not False:
        stored = registry_review.role_of(identity.email)
    return stored if stored in ROLES else "contributeur"


def allowed(action: str, identity: Identity, mode: str | None = None) -> bool:
    if action not in ACTIONS:
        raise UnknownChoiceError("Action", action, ACTIONS)
    role = role_of(identity, mode)
    return role is not None and action in RIGHTS[role]


def refusal(action: str, identity: Identity, mode: str | None = None) -> str | None:
    """Why ``identity`` may not do ``action`` in ``mode`` (French), or None if it may."""
    mode = check_mode(mode)
    if allowed(action, identity, mode):
        return None
    what = ACTIONS[action]
    if mode == "off":
        return (f"Impossible de {what} : cette application est en lecture seule pour tous (PTCE_GEO_EDITING=off). "
                "Les changements se font en ligne de commande (ptce-geo poles import …) par l'équipe qui gère le registre.")
    if mode == "local":
        return (f"Impossible de {what} depuis ce navigateur : en mode local (PTCE_GEO_EDITING=local), seul un navigateur "
                "ouvert sur la machine qui fait tourner l'application peut modifier le registre ; les autres visiteurs "
                "le consultent. Pour éditer à plusieurs, l'administrateur passe en mode auth (connexion).")
    if not identity.is_signed_in:
        return f"Impossible de {what} sans être connecté : connectez-vous (bouton « Se connecter ») pour proposer des pôles."
    role = role_of(identity, mode)
    needed = next(r for r in ("contributeur", "editeur", "admin") if action in RIGHTS[r])
    return (f"Impossible de {what} avec le rôle « {role} » ({identity.email or identity.sub}) : il faut le rôle "
            f"« {needed} ». Demandez-le à un administrateur du registre (ptce-geo roles grant EMAIL {needed}).")


def check(action: str, identity: Identity, mode: str | None = None) -> str:
    """The gate: the role acting, or ``AccessDeniedError`` (French) when ``identity`` may not do
    ``action`` in ``mode`` (None: the configured ``PTCE_GEO_EDITING``)."""
    why = refusal(action, identity, mode)
    if why is not None:
        raise AccessDeniedError(why)
    return role_of(identity, mode)
