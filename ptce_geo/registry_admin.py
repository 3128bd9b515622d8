"""The commands that move the pole registry: ``ptce-geo db status|upgrade|copy``.

``upgrade()`` migrates the registry to this release's schema (``_registry_schema``), in one write
transaction; a registry written by a newer ptce-geo is refused, on both stores.

``copy(target, replace=False)`` copies the whole registry — poles, history, roles and their
history, identities, proposals, meta — to ``postgresql://…`` or ``sqlite:CHEMIN``: the source is
read under its write lock (one consistent state), the destination is built in one transaction,
read back and compared table by table before it is committed (a difference: nothing is kept),
then read again and compared once more after. A destination that already holds a registry is
refused unless ``replace``. Numbers (history, proposals) are kept: the copy is the same registry.

Each command first makes sure the registry exists (created from the seed by ``registry``); where
it lives and how it is read is ``database``.
"""

from __future__ import annotations

from . import _registry_schema as schema
from . import registry
from ._errors import ParameterError, RegistryError
from .database import current, describe, dump, open_target

__all__ = ["TABLE_LABELS", "counts_text", "upgrade", "status", "copy"]

# French names of the tables, for the command's report (singular, plural).
TABLE_LABELS = {
    "poles": ("pôle", "pôles"), "history": ("ligne d'historique", "lignes d'historique"),
    "roles": ("rôle", "rôles"), "role_history": ("changement de rôle", "changements de rôle"),
    "proposals": ("proposition", "propositions"), "identities": ("identité", "identités"),
    "meta": ("valeur de méta", "valeurs de méta"),
}


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


def _ready(store) -> None:
    """The registry of ``store`` exists (made from the seed if needed)."""
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
