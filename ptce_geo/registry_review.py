"""Roles, proposals and sign-in identities, stored in the registry database beside the poles (every server sees the same,
SQLite or PostgreSQL: the same SQL on both).

Storage only (the SQL of the ``roles``, ``role_history``, ``proposals`` and ``identities`` tables, see
``_registry_schema``); who may call what is decided by ``access`` and ``editing``, the
checks of a proposal's content by ``proposals``. Plain values in and out: e-mails are stored
lower-case; a proposal is a dict (``PROPOSAL_KEYS``) whose ``payload`` is the clean record
(``kind = "ajout"``) or the clean changed fields (``kind = "modification"``).

``accept_proposal`` is one transaction: the pole is added or changed, its history row names
the proposal's author and the validator, and the proposal is marked ``validee`` — all or
nothing. A proposal already decided, or a pole that moved since the validator looked at it,
is a French error and changes nothing.
"""

from __future__ import annotations

import json

from ._errors import ConflictError, RegistryError
from .registry import (Author, added_changes, apply_changes, as_author, connect, insert_pole, log_change,
                       transaction)

__all__ = ["STATUSES", "KINDS", "PROPOSAL_KEYS", "normalize_email", "role_of", "roles", "set_role", "role_history",
    "remembered_email", "remember_identity", "add_proposal", "proposal", "proposals", "accept_proposal",
    "reject_proposal"]

STATUSES = {"en_attente": "en attente", "validee": "validée", "rejetee": "rejetée"}
KINDS = {"ajout": "nouveau pôle", "modification": "modification d'un pôle"}
PROPOSAL_KEYS = ["id", "date", "kind", "pole_id", "base_version", "nom", "payload", "author", "author_sub", "channel",
                 "status", "decided_at", "decided_by", "decided_by_sub", "reason", "result_pole_id"]


def normalize_email(email: str) -> str:
    return str(email or "").strip().lower()


# ---------------------------------------------------------------- roles


def role_of(email: str) -> str | None:
    """Role stored for an e-mail (None when it has none: a signed-in user is then a contributor)."""
    with connect() as con:
        row = con.execute("SELECT role FROM roles WHERE email = ?", (normalize_email(email),)).fetchone()
    return row[0] if row else None


def roles() -> list[dict]:
    """Every stored role: email, role, granted_by, granted_at (sorted by e-mail)."""
    with connect() as con:
        return [dict(r) for r in con.execute("SELECT email, role, granted_by, granted_at FROM roles ORDER BY email")]


def set_role(email: str, role: str | None, who) -> str | None:
    """Give ``email`` the ``role`` (``None`` removes it) and log the change; return the previous role."""
    email = normalize_email(email)
    author = as_author(who)
    with transaction(touch=False) as (con, at):
        row = con.execute("SELECT role FROM roles WHERE email = ?", (email,)).fetchone()
        before = row[0] if row else None
        if before == role:
            return before
        if role is None:
            con.execute("DELETE FROM roles WHERE email = ?", (email,))
        else:
            con.execute("INSERT INTO roles (email, role, granted_by, granted_at) VALUES (?,?,?,?) ON CONFLICT (email) "
                        "DO UPDATE SET role = excluded.role, granted_by = excluded.granted_by, "
                        "granted_at = excluded.granted_at", (email, role, author.label, at))
        con.execute("INSERT INTO role_history (at, who, who_sub, channel, email, before, after) VALUES (?,?,?,?,?,?,?)",
                    (at, author.label, author.sub, author.channel, email, before, role))
    return before


def role_history() -> list[dict]:
    """Every role change, newest first: at, who, who_sub, channel, email, before, after."""
    with connect() as con:
        return [dict(r) for r in con.execute(
            "SELECT at, who, who_sub, channel, email, before, after FROM role_history ORDER BY seq DESC")]


def remembered_email(issuer: str, sub: str) -> str | None:
    """The e-mail the sign-in provider ``issuer`` gave for its subject ``sub`` (``oidc``), if known."""
    with connect() as con:
        row = con.execute("SELECT email FROM identities WHERE issuer = ? AND sub = ?", (issuer, sub)).fetchone()
    return row[0] if row else None


def remember_identity(issuer: str, sub: str, email: str) -> None:
    """Keep (issuer, subject) → e-mail, as checked from the provider's signed answer."""
    with transaction(touch=False) as (con, at):
        con.execute("INSERT INTO identities (issuer, sub, email, seen_at) VALUES (?,?,?,?) ON CONFLICT (issuer, sub) "
                    "DO UPDATE SET email = excluded.email, seen_at = excluded.seen_at",
                    (issuer, sub, normalize_email(email), at))


# ---------------------------------------------------------------- proposals


def _proposal(row) -> dict:
    rec = dict(row)
    rec["date"] = rec.pop("at")
    rec["payload"] = json.loads(rec["payload"])
    return {k: rec.get(k) for k in PROPOSAL_KEYS}


def add_proposal(kind: str, payload: dict, who, pole_id: str | None = None, base_version: int | None = None,
                 nom: str | None = None) -> int:
    """Store a pending proposal (``kind`` in ``KINDS``); return its number."""
    author = as_author(who)
    with transaction(touch=False) as (con, at):
        row = con.execute(
            "INSERT INTO proposals (at, kind, pole_id, base_version, nom, payload, author, author_sub, channel) "
            "VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
            (at, kind, pole_id, base_version, nom, json.dumps(payload, ensure_ascii=False), author.label, author.sub,
             author.channel)).fetchone()
        return int(row[0])


def proposal(proposal_id: int) -> dict:
    with connect() as con:
        row = con.execute("SELECT * FROM proposals WHERE id = ?", (int(proposal_id),)).fetchone()
    if row is None:
        raise RegistryError(f"Proposition inconnue : n° {proposal_id!r}. Elle a peut-être été retirée ; rechargez la page.")
    return _proposal(row)


def proposals(status: str | None = None, author: str | None = None) -> list[dict]:
    """Proposals (oldest first), optionally only one status and/or one author's."""
    sql, args = "SELECT * FROM proposals WHERE 1 = 1", []
    if status is not None:
        sql, args = sql + " AND status = ?", [*args, status]
    if author is not None:
        sql, args = sql + " AND author = ?", [*args, author]
    with connect() as con:
        return [_proposal(r) for r in con.execute(sql + " ORDER BY id", args)]


def _pending(con, proposal_id: int) -> dict:
    row = con.execute("SELECT * FROM proposals WHERE id = ?", (int(proposal_id),)).fetchone()
    if row is None:
        raise RegistryError(f"Proposition inconnue : n° {proposal_id!r}. Rechargez la page.")
    rec = _proposal(row)
    if rec["status"] != "en_attente":
        raise ConflictError(
            f"La proposition n° {rec['id']} a déjà été {STATUSES[rec['status']]} par {rec['decided_by']!r} le "
            f"{(rec['decided_at'] or '')[:16].replace('T', ' ')} : rien n'a été changé. Rechargez la page.")
    return rec


def _decide(con, at: str, rec: dict, status: str, who: Author, reason: str | None = None,
            result_pole_id: str | None = None) -> None:
    con.execute("UPDATE proposals SET status = ?, decided_at = ?, decided_by = ?, decided_by_sub = ?, reason = ?, "
                "result_pole_id = ? WHERE id = ? AND status = 'en_attente'",
                (status, at, who.label, who.sub, reason, result_pole_id, rec["id"]))


def accept_proposal(proposal_id: int, validator, version: int | None = None) -> dict:
    """Apply a pending proposal in one transaction (pole + history row with author and validator
    + status ``validee``). ``version``: the version of the pole the validator saw (a
    modification only; ``ConflictError`` if it moved). Returns the proposal as decided."""
    checker = as_author(validator)
    with transaction() as (con, at):
        rec = _pending(con, proposal_id)
        author = Author(rec["author"], rec["author_sub"], rec["channel"])
        note = f"proposition n° {rec['id']}"
        if rec["kind"] == "ajout":
            taken = {r[0] for r in con.execute("SELECT id FROM poles")}
            pole_id = insert_pole(con, rec["payload"], taken)
            log_change(con, at, author, "ajout", pole_id, rec["payload"]["nom"], added_changes(rec["payload"]), None, note, checker)
        else:
            pole_id = rec["pole_id"]
            exists = con.execute("SELECT version FROM poles WHERE id = ?", (pole_id,)).fetchone()
            if exists is None:
                raise RegistryError(f"Le pôle {pole_id!r} de la proposition n° {rec['id']} n'est plus dans le registre "
                                    "(supprimé ou fusionné) : rejetez cette proposition.")
            apply_changes(con, at, pole_id, rec["payload"], exists[0] if version is None else version, author, note,
                           checker)
        _decide(con, at, rec, "validee", checker, result_pole_id=pole_id)
    return proposal(proposal_id)


def reject_proposal(proposal_id: int, reason: str, who) -> dict:
    """Mark a pending proposal ``rejetee`` with its reason (kept and shown to its author)."""
    with transaction(touch=False) as (con, at):
        rec = _pending(con, proposal_id)
        _decide(con, at, rec, "rejetee", as_author(who), reason=reason)
    return proposal(proposal_id)
