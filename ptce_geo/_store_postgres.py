"""The registry in a PostgreSQL database with PostGIS (``PTCE_GEO_DATABASE_URL``), for a shared atlas.

The same operations as ``_store_sqlite`` (see there), with psycopg 3:

- connections come from a small pool per URL and process (a connection costs ~6 ms, a query on an
  open one ~0.1 ms): ``registry.stamp()`` on every rerun is one cheap query;
- ``write()`` is one transaction that first takes a transaction-level advisory lock
  (``pg_advisory_xact_lock``): writers go one at a time, as ``BEGIN IMMEDIATE`` makes them on
  SQLite — so new ids stay unique, a stale version is always seen as stale, and history numbers
  follow the order of the commits; readers are never blocked;
- ``ensure(prepare)``: the tables and the seed are created in one transaction under the same
  lock, so several servers starting together load the seed once (the others wait, then find it);
- the PostGIS extension is created if missing and allowed; otherwise a French error says how
  (« CREATE EXTENSION postgis; » as an administrator, or the Debian package to install).

Every message names the database by its URL with the password masked (``mask_url``); connection,
authentication, permission and missing-extension failures are French ``RegistryError``.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import urlsplit

from . import _registry_schema
from ._errors import RegistryError
from ._text import mask_url

__all__ = ["LOCK_KEY", "Row", "PostgresConnection", "close_all", "pg_error", "PostgresStore"]

# Key of the advisory lock every registry write takes (« ptce » in ASCII).
LOCK_KEY = 0x70746365
_MAX_IDLE = 4


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - pinned in requirements.txt
        raise RegistryError("Le module psycopg (pilote PostgreSQL) est absent : lancez « make install », ou "
                            "retirez PTCE_GEO_DATABASE_URL pour garder le registre SQLite.") from exc
    return psycopg


class Row(tuple):
    """A row read by position (``row[0]``, unpacking) or by column name (``row["id"]``, ``dict(row)``),
    like ``sqlite3.Row``."""

    def __new__(cls, values, index):
        row = tuple.__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key):
        return tuple.__getitem__(self, self._index[key] if isinstance(key, str) else key)

    def keys(self):
        return list(self._index)


def _rows(cursor):
    if cursor.description is None:
        return tuple
    index = {c.name: i for i, c in enumerate(cursor.description)}
    return lambda values: Row(values, index)


@lru_cache(maxsize=256)
def _sql(sql: str) -> str:
    """``?`` placeholders (the registry's SQL, shared with SQLite) → psycopg's ``%s``."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresConnection:
    """A psycopg connection with the store's small interface (``?`` placeholders, ``changes``)."""

    dialect = "postgresql"

    def __init__(self, raw):
        self.raw = raw
        self.changes = 0

    def _count(self, cur) -> None:
        status = (cur.statusmessage or "").split(" ", 1)[0]
        if status in ("INSERT", "UPDATE", "DELETE") and cur.rowcount > 0:
            self.changes += cur.rowcount

    def execute(self, sql: str, params=()):
        params = tuple(params)
        cur = self.raw.execute(_sql(sql), params) if params else self.raw.execute(sql)
        self._count(cur)
        return cur

    def executemany(self, sql: str, rows) -> None:
        rows = list(rows)
        if not rows:
            return
        with self.raw.cursor() as cur:
            cur.executemany(_sql(sql), rows)
        self.changes += len(rows)


class _Pool:
    """Idle connections of one URL in this process (none shared across a fork)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle: list = []
        self.pid = os.getpid()

    def take(self):
        with self.lock:
            if self.pid != os.getpid():
                self.idle, self.pid = [], os.getpid()
            while self.idle:
                raw = self.idle.pop()
                if not raw.closed and not raw.broken:
                    return raw
        return None

    def give(self, raw) -> None:
        psycopg = _psycopg()
        ok = (not raw.closed and not raw.broken and self.pid == os.getpid()
              and raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)
        with self.lock:
            if ok and len(self.idle) < _MAX_IDLE:
                self.idle.append(raw)
                return
        raw.close()

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for raw in idle:
            raw.close()


_POOLS: dict[str, _Pool] = {}
_POOLS_LOCK = threading.Lock()
_READY: set[str] = set()  # URLs whose registry this process has seen created


def close_all() -> None:
    """Close every idle connection of this process (tests, before dropping a database)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _READY.clear()
    for pool in pools:
        pool.close()


def _parts(url: str) -> tuple[str, str]:
    """(user, database) of a URL, for the commands a message suggests."""
    parts = urlsplit(url)
    return (parts.username or "<utilisateur>"), (parts.path.lstrip("/") or "<base>")


def pg_error(url: str, exc: Exception) -> RegistryError:
    """French message for a PostgreSQL failure on the registry at ``url`` (password masked)."""
    where = repr(mask_url(url))
    user, db = _parts(url)
    state = getattr(exc, "sqlstate", None) or ""
    text = str(exc).lower()
    if state in ("28P01", "28000") or "password authentication failed" in text or "no password supplied" in text:
        return RegistryError(
            f"Connexion refusée par PostgreSQL ({where}) : authentification du rôle {user!r} impossible (mot de "
            "passe faux ou absent, ou règle de pg_hba.conf). Vérifiez l'utilisateur et le mot de passe de "
            "PTCE_GEO_DATABASE_URL (ou le fichier ~/.pgpass).")
    if state == "3D000" or (f'database "{db}" does not exist' in text):
        return RegistryError(
            f"La base {db!r} n'existe pas sur le serveur PostgreSQL ({where}). Créez-la, en administrateur : "
            f"createdb -O {user} {db} — puis « psql -d {db} -c 'CREATE EXTENSION postgis;' ».")
    if state == "42501" or "permission denied" in text:
        return RegistryError(
            f"Droits insuffisants dans la base PostgreSQL {where} : le rôle {user!r} ne peut pas lire ou écrire les "
            f"tables du registre. Donnez-lui la base (ALTER DATABASE {db} OWNER TO {user}) ou les droits sur ses "
            "tables, puis recommencez.")
    if state == "53100" or "no space left" in text:
        return RegistryError(f"Disque plein sur le serveur PostgreSQL ({where}) : rien n'a été enregistré. "
                             "Libérez de la place sur le serveur puis recommencez.")
    if state == "42P01":
        return RegistryError(
            f"Tables du registre absentes de la base PostgreSQL {where} (supprimées pendant que l'app tournait ?). "
            "Relancez l'app ou « ptce-geo prepare » : le registre sera recréé depuis la graine, ou recopiez une "
            "sauvegarde avec « ptce-geo db copy ».")
    if state.startswith("08") or state.startswith("57") or isinstance(exc, _psycopg().OperationalError):
        return RegistryError(
            f"Serveur PostgreSQL injoignable ({where}) : connexion impossible ou perdue. Vérifiez que le serveur "
            "tourne, que l'hôte et le port de PTCE_GEO_DATABASE_URL sont les bons et que ce serveur accepte les "
            "connexions de cette machine (listen_addresses, pg_hba.conf) ; rien n'a été enregistré.")
    return RegistryError(
        f"Le registre des pôles dans PostgreSQL ({where}) n'a pas pu être utilisé (erreur PostgreSQL "
        f"{state or type(exc).__name__}) ; rien n'a été enregistré. Réessayez ; si l'erreur persiste, signalez-la "
        "avec ce message.")


class PostgresStore:
    dialect = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self.label = mask_url(url)
        self.key = f"postgresql:{self.label}"
        with _POOLS_LOCK:
            self._pool = _POOLS.setdefault(url, _Pool())

    def _connect(self):
        psycopg = _psycopg()
        from psycopg.conninfo import conninfo_to_dict

        try:
            given = conninfo_to_dict(self.url)
        except psycopg.Error as exc:
            raise RegistryError(f"Adresse PostgreSQL illisible : {self.label!r}. Forme attendue : "
                                "postgresql://utilisateur@hôte:port/base (mot de passe éventuel après "
                                "« utilisateur: », ou dans ~/.pgpass).") from exc
        extra = {k: v for k, v in (("connect_timeout", 10), ("application_name", "ptce-geo")) if k not in given}
        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=_rows, **extra)
        except psycopg.Error as exc:
            raise pg_error(self.url, exc) from exc

    # ------------------------------------------------------------ use

    @contextmanager
    def connection(self):
        psycopg = _psycopg()
        raw = self._pool.take() or self._connect()
        try:
            yield PostgresConnection(raw)
        except psycopg.Error as exc:
            raise pg_error(self.url, exc) from exc
        finally:
            self._pool.give(raw)

    @contextmanager
    def write(self):
        """One transaction holding the registry's write lock (released at commit or rollback)."""
        with self.connection() as con:
            with con.raw.transaction():
                con.raw.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                yield con

    def close(self) -> None:
        self._pool.close()

    # ------------------------------------------------------------ creation

    @staticmethod
    def _has_meta(con) -> bool:
        # pg_tables is read with the statement's snapshot: a table another server committed while this
        # one waited for the lock is seen (to_regclass could answer from this session's stale cache).
        return bool(con.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = 'meta' "
                                "AND schemaname = current_schema())").fetchone()[0])

    def exists(self) -> bool:
        if self.url in _READY:
            return True
        with self.connection() as con:
            found = self._has_meta(con)
        if found:
            _READY.add(self.url)
        return found

    has_registry = exists

    def _require_postgis(self, con) -> None:
        """Create the PostGIS extension if it is missing and the role may; else say how."""
        if con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchall():
            return
        user, db = _parts(self.url)
        if not con.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchall():
            raise RegistryError(
                f"L'extension PostGIS n'est pas installée sur le serveur PostgreSQL ({self.label!r}) : installez-la "
                "sur ce serveur (Debian : apt-get install postgresql-15-postgis-3), puis, en administrateur : "
                f"psql -d {db} -c 'CREATE EXTENSION postgis;'")
        psycopg = _psycopg()
        try:
            with con.raw.transaction():  # a savepoint: the creation transaction goes on if this fails
                con.raw.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.errors.InsufficientPrivilege as exc:
            raise RegistryError(
                f"L'extension PostGIS n'est pas créée dans la base {db!r} ({self.label!r}) et le rôle {user!r} n'a pas "
                f"le droit de la créer. Un administrateur doit exécuter une fois : psql -d {db} -c "
                "'CREATE EXTENSION postgis;' — puis relancez.") from exc

    def create(self, fill) -> bool:
        """Fill an empty database under the write lock; False when a registry is already there."""
        with self.write() as con:
            if self._has_meta(con):
                _READY.add(self.url)
                return False
            self._require_postgis(con)
            fill(con)
        _READY.add(self.url)
        return True

    def ensure(self, prepare) -> None:
        """Create the registry from ``prepare()`` if there is none (once, even with many servers)."""
        if not self.exists():
            self.create(prepare())

    def replace(self, fill) -> None:
        """Drop the registry's tables and build a new one with ``fill``, in one transaction."""
        with self.write() as con:
            for table in reversed(list(_registry_schema.tables())):
                con.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
            self._require_postgis(con)
            fill(con)
        _READY.add(self.url)
