"""The one way to change the registry from the app or the CLI: ``write(action, identity, mode, **params)``.

It checks the rights first (``access.check``: the editing mode and the identity's role, on the
server — hiding a button is only cosmetic), then does the write with the identity as the
history's author (``Identity.author``: e-mail and provider subject when signed in). Actions
(``access.ACTIONS``) and their parameters:

- ``ajout(raw)`` → new pole id (a duplicate name in the same commune is refused);
- ``modification(pole_id, raw, version)`` → new record (``version``: as the user read it);
- ``import(path, skip_invalid=False, rejects=None, fmt=None, report=None)`` → ``importer.ImportReport``;
- ``suppression(pole_id, version)`` → None;
- ``fusion(keep_id, keep_version, drop_id, drop_version)`` → kept record (``registry.merge``);
- ``proposition(raw, pole_id=None, version=None)`` → proposal number (None: a new pole);
- ``validation(proposal_id, version=None)`` → decided proposal (``version``: the pole as the
  editor saw it);
- ``rejet(proposal_id, reason)`` → decided proposal;
- ``roles(email, role)`` → previous role (``role=None`` revokes).

An unknown action lists the valid ones; a refusal is an ``AccessDeniedError`` in French and
nothing is written.
"""

from __future__ import annotations

from . import access, importer, poles, proposals, registry, registry_review
from .access import Identity

__all__ = ["write"]


def _ajout(author, raw: dict):
    return registry.add(proposals.clean_new(raw), author)


def _modification(author, pole_id: str, raw: dict, version: int):
    return poles.edit(pole_id, raw, version, author)


def _import(author, path, skip_invalid: bool = False, rejects=None, fmt: str | None = None, report=None):
    return importer.run(path, skip_invalid=skip_invalid, rejects=rejects, who=author, fmt=fmt, report=report)


def _suppression(author, pole_id: str, version: int):
    registry.delete(pole_id, version, author)


def _fusion(author, keep_id: str, keep_version: int, drop_id: str, drop_version: int):
    return registry.merge(keep_id, keep_version, drop_id, drop_version, author)


def _proposition(author, raw: dict, pole_id: str | None = None, version: int | None = None):
    return proposals.propose(author, raw, pole_id, version)


def _validation(author, proposal_id: int, version: int | None = None):
    return proposals.accept(proposal_id, author, version)


def _rejet(author, proposal_id: int, reason: str):
    return proposals.reject(proposal_id, reason, author)


def _roles(author, email: str, role: str | None):
    email = access.check_email(email)
    if role is not None:
        access.check_role(role)
    return registry_review.set_role(email, role, author)


_HANDLERS = {
    "ajout": _ajout, "modification": _modification, "import": _import, "suppression": _suppression,
    "fusion": _fusion, "proposition": _proposition, "validation": _validation, "rejet": _rejet, "roles": _roles,
}
assert set(_HANDLERS) == set(access.ACTIONS)


def write(action: str, identity: Identity, mode: str | None = None, **params):
    """Check that ``identity`` may do ``action`` in ``mode`` (None: ``PTCE_GEO_EDITING``), then do it."""
    mode = access.check_mode(mode)
    access.check(action, identity, mode)
    return _HANDLERS[action](identity.author(mode), **params)
