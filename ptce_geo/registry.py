"""The pole registry, with the history of every change: an SQLite file, or a PostgreSQL database.

Where it lives is decided by ``database.current()``: the file ``poles.sqlite`` in
``settings.get().data_dir`` by default, the PostgreSQL database of ``PTCE_GEO_DATABASE_URL``
when it is set (shared by several app servers). This module and ``registry_review`` hold all the
SQL, the same statements on both stores. The registry is created from the committed seed
``geodata/poles_seed.csv`` on first use, once, even when several processes start together. Every
write runs in one transaction, writers one at a time: a record is added, changed or deleted
together with its history row (who, when, what, previous values), or nothing is.

Concurrent edits never overwrite each other silently: each pole has a ``version``;
``update``/``delete`` take the version the user read and raise ``ConflictError`` (with a
French message saying who changed the pole and when) if it has moved since.

A registry that cannot be used (damaged file, unreachable server, no permission, PostGIS
missing) and a data dir that cannot be created (``PTCE_GEO_DATA`` naming a file…) raise French
domain errors (``RegistryError``, ``FileAccessError``) saying which file or database and what to
do (a database's password is never shown); for the SQLite file, busy, disk full, permission
refused, disk input/output error and damaged file are five different messages, and only the last
advises setting the file aside; a failed write is rolled back without hiding its cause
(``_store_sqlite``).

``stamp()`` changes with every write to the poles, on any server: it is the cache key of what
pages build from the poles, and costs one query.

Every write names its author as an ``Author`` (label, provider subject, channel): the label is
the signed-in e-mail in ``auth`` mode, the typed name in ``local`` mode, the OS user in the CLI;
the channel is set by the code (``_registry_schema.CHANNELS``), so the seed refresh knows its
own rows by ``channel = 'graine'``, never by a name. Tables and migrations: ``_registry_schema``;
roles and proposals: ``registry_review``; stores: ``database``; upgrade and copy: ``registry_admin``.

Ids are slugs of the name (``œ`` → ``oe``, ``æ`` → ``ae``, accents dropped), made unique
with ``-2``, ``-3``…; an id is never changed once written (ids made before the
transliteration, such as ``cooperative-cur-de-lozere``, stay as they are).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from . import _registry_schema as db_schema
from . import _territory, database, settings
from ._errors import ConflictError, DataFormatError, RegistryError, UnknownChoiceError
from ._store_sqlite import FILENAME
from .schema import COLUMNS, fold, normalize

__all__ = [
    "SCHEMA_VERSION", "Author", "ACTIONS", "SEED_AUTHOR", "SEED", "HISTORY_COLUMNS", "MERGED_LISTS", "path",
    "seed_path", "read_seed", "seed_filler", "ensure", "refresh_from_seed", "records", "get", "updated_at", "stamp",
    "stamp_date", "history", "add_many", "add", "update", "delete", "merged_record", "merge",
    # the plumbing registry_review shares: one connection, one write transaction, one history row
    "connect", "transaction", "as_author", "insert_pole", "log_change", "added_changes", "apply_changes",
]

SCHEMA_VERSION = db_schema.SCHEMA_VERSION

_FIELDS = [c for c in COLUMNS if c not in ("id", "version")]
_JSON = ("secteurs", "perimetre")
_INTS = ("annee_creation", "membres")
_REALS = ("latitude", "longitude")
_POLE_SELECT = f"SELECT {', '.join(COLUMNS)} FROM poles"  # never ``*``: PostgreSQL adds the geometry column
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Author(NamedTuple):
    """Who writes: ``label`` (e-mail, typed name or OS user), ``sub`` (the sign-in provider's
    subject, ``auth`` mode only) and ``channel`` (one of ``_registry_schema.CHANNELS``)."""

    label: str
    sub: str | None = None
    channel: str = "personne"


def as_author(who) -> Author:
    """An ``Author`` from an ``Author`` or a plain name (library callers, tests: channel « personne »)."""
    if isinstance(who, Author):
        return who
    return Author(str(who))


ACTIONS = {"creation": "création (graine)", "ajout": "ajout", "import": "import", "modification": "modification",
           "suppression": "suppression", "fusion": "fusion"}


def path() -> Path:
    """The SQLite file of the registry (used when ``PTCE_GEO_DATABASE_URL`` is not set)."""
    return settings.get().data_dir / FILENAME


def _store():
    return database.current()


def seed_path() -> Path:
    """The committed seed (the project's own compiled facts)."""
    return Path(__file__).resolve().parents[1] / "geodata" / "poles_seed.csv"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _slug(text: str) -> str:
    """Id of a new pole: ``"Coopérative Cœur de Lozère"`` → ``"cooperative-coeur-de-lozere"``."""
    return re.sub(r"\s+", "-", fold(text))[:48].strip("-") or "pole"


def _legacy_slug(text: str) -> str:
    """Id as versions before the œ/æ transliteration made it (``œ`` dropped): matched, never written."""
    return re.sub(r"\s+", "-", fold(text, ligatures=False))[:48].strip("-") or "pole"


def _row_values(rec: dict) -> list:
    out = []
    for c in _FIELDS:
        v = rec.get(c)
        if c in _JSON:
            v = json.dumps(list(v or []), ensure_ascii=False)
        elif c == "localise":
            v = int(bool(v))
        elif v is not None and c in _INTS:
            v = int(v)
        elif v is not None and c in _REALS:
            v = float(v)
        out.append(v)
    return out


def _decode(row) -> dict:
    rec = dict(row)
    for c in _JSON:
        rec[c] = json.loads(rec[c] or "[]")
    rec["localise"] = bool(rec["localise"])
    return rec


def insert_pole(con, rec: dict, taken: set) -> str:
    """Insert a clean record under a new unique id (added to ``taken``); return the id."""
    pid = _unique_id(rec["nom"], taken)
    taken.add(pid)
    con.execute(f"INSERT INTO poles (id, {', '.join(_FIELDS)}, version) VALUES (?, {', '.join('?' * len(_FIELDS))}, 1)",
                [pid, *_row_values(rec)])
    return pid


def _write_pole(con, pole_id: str, new: dict, version: int) -> bool:
    """Overwrite a pole if its version is still ``version`` (then version + 1); False if it moved."""
    cur = con.execute(
        f"UPDATE poles SET {', '.join(f'{c} = ?' for c in _FIELDS)}, version = version + 1 WHERE id = ? AND version = ?",
        [*_row_values(new), pole_id, int(version)])
    return cur.rowcount == 1


def log_change(con, at: str, who, action: str, pole_id: str, nom, changes: dict, previous: dict | None = None,
         note: str | None = None, validator=None) -> None:
    """One history row: the author (and the validator of a proposal) with their subject and channel."""
    author = as_author(who)
    checker = as_author(validator) if validator is not None else None
    con.execute(
        "INSERT INTO history (at, who, action, pole_id, nom, changes, previous, note, author_sub, validator, "
        "validator_sub, channel) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (at, author.label, action, pole_id, nom, json.dumps(changes, ensure_ascii=False),
         None if previous is None else json.dumps(previous, ensure_ascii=False), note, author.sub,
         checker.label if checker else None, checker.sub if checker else None, author.channel))


def _fetch_pole(con, pole_id: str) -> dict:
    row = con.execute(f"{_POLE_SELECT} WHERE id = ?", (pole_id,)).fetchone()
    if row is None:
        raise UnknownChoiceError("Pôle", pole_id, [r[0] for r in con.execute("SELECT id FROM poles ORDER BY id")])
    return _decode(row)
@contextmanager
def connect():
    """Connection to the registry (created from the seed if needed; migrated if it is older than
    this release, refused if newer), closed or given back on exit; failures of the store become a
    French ``RegistryError`` naming the file or the database."""
    store = _store()
    store.ensure(seed_filler)
    with store.connection() as con:
        found = db_schema.version_of(con)
        if found > SCHEMA_VERSION:
            raise db_schema.newer_error(store.label, found)
        if found < SCHEMA_VERSION:
            with store.write() as writer:
                db_schema.migrate(writer, store.dialect, store.label)
        yield con


# ---------------------------------------------------------------- creation


def read_seed() -> list[dict]:
    """Seed rows as clean records (``schema.normalize``, then the checks of their place,
    ``_territory.check_many``): located poles get their commune's representative point."""
    p = seed_path()
    try:
        with open(p, encoding="utf-8", newline="") as fh:
            raw_rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise DataFormatError(f"Graine du registre illisible : {str(p)!r} ({exc}).") from exc
    out = []
    for n, raw in enumerate(raw_rows, start=2):
        rec, problems = normalize(raw)
        problems += _territory.check_many([rec])[0]
        if problems:
            raise DataFormatError(
                f"Graine du registre {str(p)!r}, ligne {n} : " + " ; ".join(f"{f} : {m}" for f, m in problems)
            )
        out.append(rec)
    return out


def seed_filler():
    """The function that fills an empty database with the tables and the seed (read now, before
    the store takes its creation lock)."""
    records = read_seed()
    at = _now()
    digest = _seed_digest()

    def fill(con) -> None:
        for statement in db_schema.ddl(con.dialect):
            con.execute(statement)
        ids: set[str] = set()
        for rec in records:
            pid = insert_pole(con, rec, ids)
            log_change(con, at, SEED, "creation", pid, rec["nom"], {}, note="graine geodata/poles_seed.csv")
        con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
            ("schema", str(SCHEMA_VERSION)), ("created_at", at), ("updated_at", at), ("data_version", "0"),
            ("seed_rows", str(len(records))), ("seed_sha256", digest)])

    return fill


def ensure():
    """Create the registry from the seed if it does not exist yet; return where it is: the SQLite
    file's ``Path``, or the PostgreSQL URL with its password masked."""
    store = _store()
    store.ensure(seed_filler)
    return getattr(store, "path", store.label)


SEED_AUTHOR = "ptce-geo"
SEED = Author(SEED_AUTHOR, None, db_schema.SEED_CHANNEL)  # the channel, not the name, marks the seed's rows


def _seed_digest() -> str:
    return hashlib.sha256(seed_path().read_bytes()).hexdigest()


def refresh_from_seed() -> dict[str, list[str]]:
    """Bring a registry made from an older seed up to date, never over a person's work.

    A seed pole the registry never held is added; a seed pole whose every history row came
    through the seed channel takes the seed's new facts; a pole a person edited, or deleted, is
    left as it is (a person who signs « ptce-geo » is still a person). The
    seed's sha256 is kept in ``meta``, so an unchanged seed costs one query. Returns the ids
    ``{"ajoutes": [...], "mis_a_jour": [...]}``.
    """
    digest = _seed_digest()
    with connect() as con:
        row = con.execute("SELECT value FROM meta WHERE key = 'seed_sha256'").fetchone()
        if row is not None and row[0] == digest:
            return {"ajoutes": [], "mis_a_jour": []}
        current = {r["id"]: _decode(r) for r in con.execute(_POLE_SELECT)}
        authors: dict[str, set] = {}
        for pid, channel in con.execute("SELECT pole_id, channel FROM history"):
            authors.setdefault(pid, set()).add(channel)
    note = "graine geodata/poles_seed.csv mise à jour"
    new, updated = [], []
    for rec in read_seed():
        pid = _slug(rec["nom"])
        legacy = _legacy_slug(rec["nom"])
        if pid not in current and pid not in authors and (legacy in current or legacy in authors):
            pid = legacy  # a pole whose id was made before œ/æ were transliterated keeps its id
        if pid not in current and pid not in authors:
            new.append(rec)
        elif pid in current and authors.get(pid, set()) <= {db_schema.SEED_CHANNEL}:
            changes = {c: rec.get(c) for c in _FIELDS if current[pid][c] != rec.get(c)}
            if changes:
                update(pid, changes, current[pid]["version"], SEED, note=note)
                updated.append(pid)
    added = add_many(new, SEED, action="ajout", note=note) if new else []
    with transaction(touch=False) as (con, _at):
        db_schema.set_meta(con, "seed_sha256", digest)
    return {"ajoutes": added, "mis_a_jour": updated}


def _unique_id(nom: str, taken) -> str:
    base = _slug(nom)
    pid, n = base, 2
    while pid in taken:
        pid, n = f"{base}-{n}", n + 1
    return pid


# ---------------------------------------------------------------- reading


def records() -> list[dict]:
    """Every pole, by name (ASCII letters case-insensitive, as SQLite's NOCASE) then id."""
    with connect() as con:
        rows = [_decode(r) for r in con.execute(_POLE_SELECT)]
    return sorted(rows, key=lambda r: ((r["nom"] or "").translate(_ASCII_LOWER), r["id"]))


def get(pole_id: str) -> dict:
    with connect() as con:
        return _fetch_pole(con, pole_id)


def _meta(con, *keys: str) -> dict:
    marks = ", ".join("?" * len(keys))
    return {k: v for k, v in con.execute(f"SELECT key, value FROM meta WHERE key IN ({marks})", keys).fetchall()}


def updated_at() -> str:
    with connect() as con:
        return _meta(con, "updated_at")["updated_at"]


def stamp() -> str:
    """A text that changes whenever a pole is written, by this process or another server: the
    cache key of the maps, tables and coverage built from the poles. One query (the schema
    version is read in it: a registry upgraded by a newer release is refused here too)."""
    store = _store()
    store.ensure(seed_filler)
    with store.connection() as con:
        meta = _meta(con, "schema", "updated_at", "data_version")
    try:
        found = int(meta.get("schema") or 1)
    except ValueError:
        found = 1  # unreadable: the next read migrates or reports it
    if found > SCHEMA_VERSION:
        raise db_schema.newer_error(store.label, found)
    return f"{store.key}|{meta.get('updated_at')}|{meta.get('data_version', '0')}"


def stamp_date(stamp: str) -> str:
    """The date of the poles' last change held in a ``stamp()`` (``<store>|<date>|<counter>``)."""
    return stamp.rsplit("|", 2)[-2]


HISTORY_COLUMNS = ["numero", "date", "auteur", "auteur_sub", "validateur", "validateur_sub", "canal", "action", "id",
                   "nom", "champs", "avant", "apres", "note"]


def history(pole_id: str | None = None) -> pd.DataFrame:
    """Every recorded change, newest first (``HISTORY_COLUMNS``): numero, date, auteur and its
    provider subject, validateur (of a proposal) and subject, canal, action, id, nom, champs,
    avant, apres, note."""
    sql = "SELECT * FROM history" + (" WHERE pole_id = ?" if pole_id else "") + " ORDER BY seq DESC"
    with connect() as con:
        rows = con.execute(sql, (pole_id,) if pole_id else ()).fetchall()
        known = [r[0] for r in con.execute("SELECT DISTINCT pole_id FROM history ORDER BY pole_id")] if (
            pole_id and not rows) else []
    if pole_id and not rows:
        close = difflib.get_close_matches(str(pole_id), known, n=5, cutoff=0.5)
        raise UnknownChoiceError(
            "Pôle", pole_id, known,
            message=f"Pôle inconnu du registre et de son historique : {pole_id!r}. "
                    + (f"Identifiants proches : {', '.join(close)}. " if close else "")
                    + "La liste des identifiants (colonne « id ») : ptce-geo poles list.")
    out = []
    for r in rows:
        changes = json.loads(r["changes"])
        out.append({
            "numero": r["seq"], "date": r["at"], "auteur": r["who"], "auteur_sub": r["author_sub"] or "",
            "validateur": r["validator"] or "", "validateur_sub": r["validator_sub"] or "", "canal": r["channel"],
            "action": ACTIONS.get(r["action"], r["action"]),
            "id": r["pole_id"], "nom": r["nom"], "champs": ", ".join(changes),
            "avant": json.dumps({k: v[0] for k, v in changes.items()}, ensure_ascii=False) if changes else "",
            "apres": json.dumps({k: v[1] for k, v in changes.items()}, ensure_ascii=False) if changes else "",
            "note": r["note"] or "",
        })
    return pd.DataFrame(out, columns=HISTORY_COLUMNS)


# ---------------------------------------------------------------- writing


def _touch(con, at: str) -> None:
    """The poles changed: move their date and ``data_version`` (what ``stamp`` reads)."""
    con.execute("UPDATE meta SET value = ? WHERE key = 'updated_at'", (at,))
    con.execute("INSERT INTO meta (key, value) VALUES ('data_version', '1') ON CONFLICT (key) "
                "DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)")


@contextmanager
def transaction(touch: bool = True):
    """One write transaction (writers one at a time; rolled back on any error); yields
    (connection, UTC time). ``updated_at`` and ``data_version`` (the poles' data) move only when
    something was written and ``touch`` (False for roles, pending proposals and identities, which
    change no pole)."""
    at = _now()
    store = _store()
    store.ensure(seed_filler)
    with store.write() as con:
        db_schema.migrate(con, store.dialect, store.label)
        before = con.changes
        yield con, at
        if touch and con.changes != before:
            _touch(con, at)


def added_changes(rec: dict) -> dict:
    """History changes of a new record: ``{field: [None, value]}`` for its filled fields."""
    return {c: [None, rec.get(c)] for c in _FIELDS if rec.get(c) not in (None, [], "")}


def add_many(recs: list[dict], who, action: str = "ajout", note: str | None = None) -> list[str]:
    """Add clean records in one transaction (all or none); return their new ids. ``who``: an
    ``Author`` or a name."""
    with transaction() as (con, at):
        taken = {r[0] for r in con.execute("SELECT id FROM poles")}
        ids = []
        for rec in recs:
            pid = insert_pole(con, rec, taken)
            log_change(con, at, who, action, pid, rec["nom"], added_changes(rec), note=note)
            ids.append(pid)
    return ids


def add(rec: dict, who) -> str:
    return add_many([rec], who)[0]


def _conflict(con, current: dict, version: int) -> ConflictError:
    last = con.execute("SELECT at, who FROM history WHERE pole_id = ? ORDER BY seq DESC LIMIT 1", (current["id"],)).fetchone()
    by = f" par {last['who']!r} le {last['at'][:16].replace('T', ' ')}" if last else ""
    return ConflictError(
        f"Conflit de modification : le pôle {current['nom']!r} a été modifié{by} depuis que vous l'avez ouvert "
        f"(version {current['version']}, vous éditiez la version {version}). Vos changements n'ont pas été "
        "enregistrés : rechargez la fiche, reportez vos changements puis enregistrez à nouveau."
    )


def apply_changes(con, at: str, pole_id: str, changes: dict, version: int, who, note=None, validator=None,
                   action: str = "modification") -> tuple[dict, bool]:
    """Inside a transaction: apply clean ``changes`` with the version check and log them; return
    (record, changed)."""
    current = _fetch_pole(con, pole_id)
    if int(current["version"]) != int(version):
        raise _conflict(con, current, version)
    diff = {k: [current[k], v] for k, v in changes.items() if k in _FIELDS and current[k] != v}
    if not diff:
        return current, False
    new = {**current, **{k: v[1] for k, v in diff.items()}}
    if not _write_pole(con, pole_id, new, version):
        raise _conflict(con, current, version)
    log_change(con, at, who, action, pole_id, new["nom"], diff, current, note, validator)
    new["version"] = int(version) + 1
    return new, True


def update(pole_id: str, changes: dict, version: int, who, note: str | None = None) -> dict:
    """Apply clean ``changes`` to a pole if its version is still ``version``; return the new
    record (unchanged, and nothing written, when no field differs)."""
    with transaction() as (con, at):
        new, _changed = apply_changes(con, at, pole_id, changes, version, who, note)
    return new


def _remove(con, at: str, pole_id: str, version: int, who, note: str | None, action: str = "suppression") -> dict:
    current = _fetch_pole(con, pole_id)
    if int(current["version"]) != int(version):
        raise _conflict(con, current, version)
    con.execute("DELETE FROM poles WHERE id = ? AND version = ?", (pole_id, int(version)))
    log_change(con, at, who, action, pole_id, current["nom"], {}, current, note)
    return current


def delete(pole_id: str, version: int, who, note: str | None = None) -> None:
    """Delete a pole if its version is still ``version`` (the history keeps its last values)."""
    with transaction() as (con, at):
        _remove(con, at, pole_id, version, who, note)


MERGED_LISTS = ("secteurs", "perimetre")


def merged_record(keep: dict, drop: dict) -> dict:
    """What a merge makes of two poles: ``keep``'s values, its empty fields filled from ``drop``,
    sectors and perimeter joined (``keep``'s first, no repeats). Place fields (code, commune,
    point) come as a block from ``drop`` only when ``keep`` has no commune at all."""
    place = ("code_insee", "commune", "departement", "region", "latitude", "longitude", "geocodage", "localise")
    out = dict(keep)
    for c in _FIELDS:
        if c in place:
            continue
        if c in MERGED_LISTS:
            out[c] = list(dict.fromkeys([*(keep.get(c) or []), *(drop.get(c) or [])]))
        elif keep.get(c) in (None, "") and drop.get(c) not in (None, ""):
            out[c] = drop[c]
    if not keep.get("code_insee") and drop.get("code_insee"):
        out.update({c: drop.get(c) for c in place})
    return out


def merge(keep_id: str, keep_version: int, drop_id: str, drop_version: int, who) -> dict:
    """Merge two duplicates in one transaction: ``keep_id`` becomes ``merged_record(keep, drop)``
    and ``drop_id`` is deleted; both get a « fusion » history row naming the other. Both
    versions are checked (``ConflictError`` if either moved). Returns the kept record."""
    if keep_id == drop_id:
        raise RegistryError(f"Fusion impossible : les deux fiches sont le même pôle ({keep_id!r}). Choisissez deux pôles différents.")
    with transaction() as (con, at):
        keep, drop = _fetch_pole(con, keep_id), _fetch_pole(con, drop_id)
        for rec, version in ((keep, keep_version), (drop, drop_version)):
            if int(rec["version"]) != int(version):
                raise _conflict(con, rec, version)
        _remove(con, at, drop_id, drop_version, who, f"fusionné dans {keep_id} ({keep['nom']})", action="fusion")
        changes = {c: v for c, v in merged_record(keep, drop).items() if c in _FIELDS}
        new, changed = apply_changes(con, at, keep_id, changes, keep_version, who,
                                      f"fusion de {drop_id} ({drop['nom']})", action="fusion")
        if not changed:  # nothing to take from the duplicate: the merge is still recorded on both
            log_change(con, at, who, "fusion", keep_id, keep["nom"], {}, None, f"fusion de {drop_id} ({drop['nom']})")
    return new
