"""Where the pole registry lives: ``current()`` store, ``open_target`` of a copy, ``dump`` of every row.

Two stores, one interface (see ``_store_sqlite``): without ``PTCE_GEO_DATABASE_URL`` the registry
is the SQLite file ``poles.sqlite`` in the data dir (the default, for one person on one machine);
with it, a PostgreSQL database with PostGIS (``_store_postgres``), shared by every app server
pointed at it. ``registry`` and ``registry_review`` hold all the SQL — the same statements on both,
``?`` placeholders and standard upserts — and ask ``current()`` for the store; the rest of the code
(pages, importer, CLI, coverage, printing) never knows which one runs.

The commands that move a registry (``ptce-geo db status|upgrade|copy``) are in ``registry_admin``.
"""

from __future__ import annotations

from pathlib import Path

from . import _registry_schema as schema
from . import settings
from ._errors import ParameterError
from ._store_postgres import PostgresStore, close_all
from ._store_sqlite import FILENAME, SqliteStore
from ._text import mask_url

__all__ = ["current", "describe", "open_target", "dump", "mask_url", "close_all"]

_STORES: dict[tuple, object] = {}



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
