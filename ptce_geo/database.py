"""Where the pole registry lives, and the commands that move it: ``ptce-geo db status|upgrade|copy``.

Two stores, one interface (see ``_store_sqlite``): without ``PTCE_GEO_DATABASE_URL`` the registry
is the SQLite file ``poles.sqlite`` in the data dir (the default, for one person on one machine);
with it, a PostgreSQL database with PostGIS (``_store_postgres``), shared by every app server
pointed at it. ``registry`` and ``registry_review`` hold all the SQL — the same statements on both,
``?`` placeholders and standard upserts — and ask ``current()`` for the store; the rest of the code
(pages, importer, CLI, coverage, printing) never knows which one runs.

``upgrade()`` migrates the registry to this release's schema (``_registry_schema``), in one write
transaction; a registry written by a newer ptce-geo is refused, on both stores.

``copy(target, replace=False)`` copies the whole registry — poles, history, roles and their
history, identities, proposals, meta — to ``postgresql://…`` or ``sqlite:CHEMIN``: the source is
read under its write lock (one consistent state), the destination is built in one transaction,
read back and compared table by table before it is committed (a difference: nothing is kept),
then read again and compared once more after. A destination that already holds a registry is
refused unless ``replace``. Numbers (history, proposals) are kept: the copy is the same registry.
"""

from __future__ import annotations

from pathlib import Path

from . import _registry_schema as schema
from . import settings
from ._errors import ParameterError, RegistryError
from ._store_postgres import PostgresStore, close_all, mask_url
from ._store_sqlite import FILENAME, SqliteStore

__all__ = ["current", "open_target", "upgrade", "copy", "dump", "status", "mask_url", "close_all", "TABLE_LABELS"]

_STORES: dict[tuple, object] = {}

# French names of the tables, for the command's report (singular, plural).
TABLE_LABELS = {
    "poles": ("pôle", "pôles"), "history": ("ligne d'historique", "lignes d'historique"),
    "roles": ("rôle", "rôles"), "role_history": ("changement de rôle", "changements de rôle"),
    "proposals": ("proposition", "propositions"), "identities": ("identité", "identités"),
    "meta": ("valeur de méta", "valeurs de méta"),
}


def _store(kind: str, where: str, **kw):
    key = (kind, where)
    if key not in _STORES:
        _STORES[key] = PostgresStore(where) if kind == "postgresql" else SqliteStore(Path(where), **kw)
    return _STORES[key]


def current():
    """The store of the current settings: PostgreSQL when ``PTCE_GEO_DATABASE_URL`` is set, else SQLite."""
    conf = settings.get()
    if conf.database_url:
        return _store("postgresql", conf.database_url)
    return _store("sqlite", str(conf.data_dir / FILENAME))


def describe(store=None) -> str:
    """« PostgreSQL postgresql://ptce:***@db/ptce » or « SQLite /home/…/poles.sqlite »."""
    store = store or current()
    return f"{'PostgreSQL' if store.dialect == 'postgresql' else 'SQLite'} {store.label}"


def open_target(text: str):
    """The store named by ``--to``: ``postgresql://…`` (or ``postgres://``) or ``sqlite:CHEMIN``."""
    raw = str(text or "").strip()
    scheme = raw.split(":", 1)[0].lower()
    if scheme in ("postgresql", "postgres") and "://" in raw:
        return _store("postgresql", raw)
    if scheme == "sqlite" and raw[len("sqlite:"):].strip():
        rest = raw[len("sqlite:"):]
        if rest.startswith("//"):  # sqlite:///chemin/absolu
            rest = rest[2:]
        return _store("sqlite", str(Path(rest).expanduser().resolve()), default=False)
    raise ParameterError(
        f"Destination de copie inconnue : {mask_url(raw)!r}. Formes possibles : postgresql://utilisateur@hôte:port/base "
        "(PostgreSQL avec PostGIS) ou sqlite:CHEMIN (ex. sqlite:sauvegarde/poles.sqlite).")


# ---------------------------------------------------------------- reading everything

def _norm(kind: str, value):
    if value is None:
        return None
    if kind in ("int", "serial"):
        return int(value)
    if kind == "real":
        return float(value)
    return value if isinstance(value, str) else str(value)


def dump(con) -> dict[str, list[tuple]]:
    """Every row of every table, in key order, values as Python int/float/str/None (the same on both
    stores, so two dumps compare equal exactly when the registries hold the same data)."""
    out = {}
    for table, cols in schema.tables().items():
        names = [c for c, _k, _e in cols]
        rows = con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
        rows = [tuple(_norm(k, v) for (_c, k, _e), v in zip(cols, row)) for row in rows]
        # sorted here, not by ORDER BY: a PostgreSQL collation (fr_FR, en_US) orders text unlike SQLite
        keys = [names.index(k.strip()) for k in schema.KEYS[table].split(",")]
        out[table] = sorted(rows, key=lambda row: tuple(row[i] for i in keys))
    return out


def _counts(data: dict) -> dict[str, int]:
    return {table: len(rows) for table, rows in data.items()}


def counts_text(counts: dict[str, int]) -> str:
    """« 81 pôles, 120 lignes d'historique, 0 rôle… » (French plural from 2)."""
    parts = []
    for table, (one, many) in TABLE_LABELS.items():
        if table in counts:
            n = counts[table]
            parts.append(f"{n} {many if n > 1 else one}")
    return ", ".join(parts)


# ---------------------------------------------------------------- commands

def _ready(store) -> None:
    """The registry of ``store`` exists (made from the seed if needed)."""
    from . import registry

    store.ensure(registry.seed_filler)


def upgrade() -> tuple[int, int]:
    """Migrate the current registry to this release's schema; return (version found, version now)."""
    store = current()
    _ready(store)
    with store.write() as con:
        return schema.migrate(con, store.dialect, store.label)


def status() -> dict:
    """Store, schema version and row counts of the current registry (``ptce-geo db status``)."""
    store = current()
    _ready(store)
    with store.connection() as con:
        found = schema.version_of(con)
        counts = {t: int(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in schema.tables()} \
            if found == schema.SCHEMA_VERSION else {}
    return {"store": describe(store), "dialect": store.dialect, "schema": found, "known": schema.SCHEMA_VERSION,
            "counts": counts}


def _differences(a: dict, b: dict) -> list[str]:
    return [t for t in a if a[t] != b.get(t)]


def _filler(data: dict):
    """Filling function writing ``data`` (a ``dump``) into an empty database, then checking it."""

    def fill(con) -> None:
        for statement in schema.ddl(con.dialect):
            con.execute(statement)
        for table, rows in data.items():
            cols = schema.columns(table)
            con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
        if con.dialect == "postgresql":  # the next number after the copied ones
            for table, cols in schema.tables().items():
                for column, kind, _extra in cols:
                    if kind == "serial":
                        con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                                    f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)")
        diff = _differences(data, dump(con))
        if diff:
            raise RegistryError(f"Copie annulée : après écriture, la destination diffère de la source ({', '.join(diff)}). "
                                "Rien n'a été gardé dans la destination.")

    return fill


def copy(target: str, replace: bool = False) -> dict:
    """Copy the current registry into ``target`` (``postgresql://…`` or ``sqlite:CHEMIN``), checked.

    Returns ``{"source", "target", "counts"}`` (labels with the password masked). Raises
    ``RegistryError`` when the destination already holds a registry (unless ``replace``), when it is
    the source itself, or when the copy read back differs from the source (nothing kept then).
    """
    source, dest = current(), open_target(target)
    if (source.dialect, source.label) == (dest.dialect, dest.label):
        raise ParameterError(f"La destination {dest.label!r} est le registre source lui-même : choisissez une autre "
                             "destination.")
    if not replace and dest.has_registry():
        raise RegistryError(
            f"La destination {describe(dest)} contient déjà un registre : rien n'a été copié. Choisissez une "
            "destination vide, ou ajoutez --remplacer pour l'écraser (son contenu actuel sera perdu).")
    _ready(source)
    with source.write() as con:  # the write lock: one consistent state, no write during the read
        schema.migrate(con, source.dialect, source.label)
        data = dump(con)
    fill = _filler(data)
    if replace:
        dest.replace(fill)
    elif not dest.create(fill):
        raise RegistryError(f"La destination {describe(dest)} a reçu un registre pendant la copie : rien n'a été "
                            "copié. Relancez avec --remplacer si vous voulez l'écraser.")
    with dest.connection() as con:
        diff = _differences(data, dump(con))
    if diff:
        raise RegistryError(f"Copie écrite mais différente de la source après relecture ({', '.join(diff)}) : ne vous "
                            f"servez pas de {describe(dest)} ; recommencez avec --remplacer.")
    return {"source": describe(source), "target": describe(dest), "counts": _counts(data)}
