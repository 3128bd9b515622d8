"""Tables of the registry database and the migrations between their versions.

Version 1 (the first releases): ``poles``, ``history`` (who, when, what), ``meta``.

Version 2 (sign-in, roles, proposals) adds to ``history`` the provider subject of the author
(``author_sub``), the person who validated a proposal (``validator``, ``validator_sub``) and the
``channel`` a change came through (``graine``, ``cli``, ``app-local``, ``app-auth``,
``personne``) — written by the code, never typed, so the seed refresh recognises its own rows
by ``channel = 'graine'`` and not by a name anyone could type; and three tables: ``roles``
(e-mail → role), ``role_history`` and ``proposals``.

A version-1 file is migrated in place, in one transaction, the first time this release opens
it: its seed rows are those written by ptce-geo with the seed's note (``graine
geodata/poles_seed.csv…``); a row a person signed « ptce-geo » counts as a person's. A file
of a newer version than this code knows is refused (``RegistryError``): it was written by a
newer ptce-geo.
"""

from __future__ import annotations

import sqlite3

from ._errors import RegistryError

SCHEMA_VERSION = 2

CHANNELS = ("graine", "cli", "app-local", "app-auth", "personne")
SEED_CHANNEL = "graine"

# History columns added by version 2 (also part of a fresh version-2 file).
_HISTORY_V2 = ("author_sub TEXT", "validator TEXT", "validator_sub TEXT",
               "channel TEXT NOT NULL DEFAULT 'personne'")

_V2_TABLES = """
CREATE TABLE roles (
    email TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL
);
CREATE TABLE role_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    who_sub TEXT,
    channel TEXT NOT NULL,
    email TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE TABLE proposals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    pole_id TEXT,
    base_version INTEGER,
    nom TEXT,
    payload TEXT NOT NULL,
    author TEXT NOT NULL,
    author_sub TEXT,
    channel TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'en_attente',
    decided_at TEXT,
    decided_by TEXT,
    decided_by_sub TEXT,
    reason TEXT,
    result_pole_id TEXT
);
CREATE TABLE identities (
    issuer TEXT NOT NULL,
    sub TEXT NOT NULL,
    email TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (issuer, sub)
);
CREATE INDEX proposals_status ON proposals (status, id);
CREATE INDEX proposals_author ON proposals (author, id);
"""


def ddl(pole_columns_sql: str) -> str:
    """Every table of a fresh registry at ``SCHEMA_VERSION``."""
    return f"""
CREATE TABLE poles (
    id TEXT PRIMARY KEY,
    {pole_columns_sql},
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    pole_id TEXT NOT NULL,
    nom TEXT,
    changes TEXT NOT NULL,
    previous TEXT,
    note TEXT,
    {", ".join(_HISTORY_V2)}
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
{_V2_TABLES}"""


def version_of(con: sqlite3.Connection) -> int:
    row = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    try:
        return int(row[0]) if row is not None else 1
    except (TypeError, ValueError):
        return 1


def _newer(where: str, found: int) -> RegistryError:
    return RegistryError(
        f"Registre des pôles {where!r} écrit par une version plus récente de ptce-geo (schéma {found}, cette "
        f"version connaît le schéma {SCHEMA_VERSION}). Mettez ptce-geo à jour (git pull puis make install).")


def upgrade(con: sqlite3.Connection, where: str) -> bool:
    """Bring the registry open on ``con`` (autocommit connection) to ``SCHEMA_VERSION``; True if
    it was migrated. One transaction: a failure leaves the file as it was."""
    found = version_of(con)
    if found == SCHEMA_VERSION:
        return False
    if found > SCHEMA_VERSION:
        raise _newer(where, found)
    con.execute("BEGIN IMMEDIATE")
    try:
        current = version_of(con)  # another process may have migrated it meanwhile
        if current > SCHEMA_VERSION:
            raise _newer(where, current)
        if current == 1:
            for column in _HISTORY_V2:
                con.execute(f"ALTER TABLE history ADD COLUMN {column}")
            con.execute("UPDATE history SET channel = ? WHERE who = 'ptce-geo' AND note LIKE 'graine geodata/poles_seed.csv%'",
                        (SEED_CHANNEL,))
            for statement in _V2_TABLES.split(";"):
                if statement.strip():
                    con.execute(statement)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return True
