"""The registry in one SQLite file (the default): ``poles.sqlite`` in ``settings.get().data_dir``.

One of the two stores behind ``registry`` (the other: ``_store_postgres``); both offer the same
few operations, used only by ``registry``, ``registry_review`` and ``database``:

- ``exists()`` / ``has_registry()``: a registry is there (for ``db copy``: anything at the path);
- ``ensure(prepare)``: create it once if missing (``prepare()`` returns the function filling an
  empty database in the creation transaction); ``create(fill)``: the same, False if one is there;
- ``connection()``: a connection for reading (each statement on its own);
- ``write()``: one write transaction, all or nothing, writers one at a time (here ``BEGIN
  IMMEDIATE``: SQLite's write lock is taken at the start, so two writers never interleave);
- ``replace(fill)``: build a whole new registry and put it in place of the current one (``db copy``).

A connection offers ``execute(sql, params)`` (``?`` placeholders, rows read by position or by
column name), ``executemany`` and ``changes`` (rows written so far). A new file is built in a
temporary file and moved in place, so a half-built registry is never seen and two processes
starting together keep one of theirs. SQLite failures become French ``RegistryError`` naming
the file: busy, disk full, permission refused, disk input/output error and damaged file are five
different messages, and only the last advises setting the file aside; a failed write is rolled
back without hiding its cause (``_rollback``).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing, contextmanager
from pathlib import Path

from . import settings
from ._errors import RegistryError, file_error

__all__ = ["FILENAME", "SqliteConnection", "db_error", "SqliteStore"]

FILENAME = "poles.sqlite"


class SqliteConnection:
    """An autocommit ``sqlite3`` connection with the store's small interface."""

    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection):
        self.raw = raw

    def execute(self, sql: str, params=()):
        return self.raw.execute(sql, tuple(params))

    def executemany(self, sql: str, rows) -> None:
        self.raw.executemany(sql, rows)

    @property
    def changes(self) -> int:
        return self.raw.total_changes


def _connect(p: Path) -> sqlite3.Connection:
    con = sqlite3.connect(p, timeout=15, isolation_level=None)
    con.row_factory = sqlite3.Row
    return con


# SQLite primary result codes (``sqlite3.Error.sqlite_errorcode & 0xff``).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 3, 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26


def _disk_full(p: Path) -> bool:
    """Whether the disk holding ``p`` has (almost) no room left."""
    import shutil

    for folder in (p.parent, *p.parents):
        try:
            return shutil.disk_usage(folder).free < 1 << 20
        except OSError:
            continue
    return False


def db_error(p: Path, exc: sqlite3.Error) -> RegistryError:
    """French message for an SQLite failure on the registry file ``p``: busy, disk full,
    permission, disk input/output error and damaged file are told apart (result code first,
    then the text), and only a file that really is damaged gets the advice to set it aside."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc).lower()
    where = repr(str(p))
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text or "busy" in text:
        return RegistryError(f"Registre des pôles occupé : {where} est en cours d'écriture par un autre programme "
                             "(l'app ou une autre commande). Réessayez dans un instant.")
    if code == _SQLITE_FULL or "full" in text or (
            (code == _SQLITE_IOERR or "disk i/o" in text) and _disk_full(p)):
        return RegistryError(f"Disque plein : le registre des pôles {where} ne peut pas être écrit. Rien n'a été "
                             "modifié : le registre est intact. Libérez de la place sur ce disque puis recommencez.")
    if code in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN) or any(
            k in text for k in ("readonly", "read-only", "unable to open", "permission", "authori")):
        return RegistryError(f"Permission refusée : impossible d'ouvrir ou d'écrire le registre des pôles {where}. "
                             "Rien n'a été modifié. Vérifiez que ce fichier et son dossier (PTCE_GEO_DATA) existent et "
                             "que vous avez le droit d'y écrire (propriétaire, droits, disque en lecture seule).")
    if code == _SQLITE_IOERR or "disk i/o" in text:
        return RegistryError(f"Erreur d'entrée-sortie du disque en écrivant le registre des pôles {where} : la "
                             "transaction a été annulée, le registre n'a pas été modifié. Vérifiez le disque (place "
                             "libre, limite de taille de fichier, support amovible retiré) puis recommencez.")
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or any(k in text for k in ("malformed", "not a database", "no such",
                                                                             "file is not", "corrupt")):
        return RegistryError(
            f"Registre des pôles illisible : {where} est endommagé ou n'est pas un registre ptce-geo (base SQLite). "
            "Restaurez une sauvegarde de ce fichier, ou renommez-le (ex. poles.sqlite.abime) : un registre neuf sera "
            "recréé depuis la graine à la prochaine commande (les pôles ajoutés depuis seront à réimporter).")
    detail = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    return RegistryError(f"Le registre des pôles {where} n'a pas pu être utilisé (erreur SQLite {detail}) ; il n'a "
                         "pas été modifié. Réessayez ; si l'erreur persiste, signalez-la avec ce message.")


def _rollback(con: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already done it (after a disk I/O error or a full
    disk it has): a failed ROLLBACK must never hide the error that caused it."""
    if con.in_transaction:
        try:
            con.execute("ROLLBACK")
        except sqlite3.Error:
            pass


class SqliteStore:
    dialect = "sqlite"

    def __init__(self, path: Path, *, default: bool = True):
        self.path = Path(path)
        self.label = str(self.path)
        self.key = f"sqlite:{self.path}"
        self._default = default  # the data dir's registry (PTCE_GEO_DATA named in messages)

    # ------------------------------------------------------------ creation

    def exists(self) -> bool:
        if self.path.is_dir():
            raise RegistryError(f"Registre des pôles introuvable : {self.label!r} est un dossier. Renommez ou déplacez "
                                "ce dossier, ou choisissez un autre dossier de données (PTCE_GEO_DATA).")
        return self.path.exists()

    def has_registry(self) -> bool:
        """Something is at the registry's path (``db copy`` writes over nothing unless asked)."""
        return self.exists()

    def _temp(self) -> str:
        parent = self.path.parent
        if self._default:
            settings.ensure_dir(parent, "PTCE_GEO_DATA")
        else:
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise file_error("de créer le dossier", parent, exc) from exc
        try:
            fd, tmp = tempfile.mkstemp(prefix=".poles.", suffix=".tmp", dir=parent)
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            hint = ("Vérifiez la variable PTCE_GEO_DATA : elle doit désigner un dossier où vous pouvez écrire."
                    if self._default else "Choisissez un dossier où vous pouvez écrire.")
            raise file_error("de créer le registre des pôles dans", parent, exc, hint) from exc
        return tmp

    def _build(self, fill, overwrite: bool) -> bool:
        """Fill a new file in one transaction and move it in place (over the old one if
        ``overwrite``); False when a registry appeared meanwhile and ``overwrite`` is False."""
        tmp = self._temp()
        try:
            try:
                con = _connect(Path(tmp))
                with closing(con):
                    con.execute("BEGIN")
                    try:
                        fill(SqliteConnection(con))
                        con.execute("COMMIT")
                    except BaseException:
                        _rollback(con)
                        raise
            except sqlite3.Error as exc:
                raise db_error(Path(tmp), exc) from exc
            if overwrite or not self.path.exists():  # another process may have created it meanwhile: keep theirs
                try:
                    os.replace(tmp, self.path)
                except OSError as exc:
                    raise file_error("de créer le registre des pôles", self.path, exc) from exc
                return True
            return False
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def create(self, fill) -> bool:
        """Build the registry with ``fill``; False (nothing written) if one is already there."""
        if self.exists():
            return False
        return self._build(fill, overwrite=False)

    def ensure(self, prepare) -> None:
        """Create the registry from ``prepare()`` (the filling function) if there is none."""
        if not self.exists():
            self._build(prepare(), overwrite=False)

    def replace(self, fill) -> None:
        """Build a whole new registry with ``fill`` and put it in place of the current one."""
        self._build(fill, overwrite=True)

    # ------------------------------------------------------------ use

    @contextmanager
    def connection(self):
        try:
            con = _connect(self.path)
        except sqlite3.Error as exc:
            raise db_error(self.path, exc) from exc
        try:
            yield SqliteConnection(con)
        except sqlite3.Error as exc:
            raise db_error(self.path, exc) from exc
        finally:
            con.close()

    @contextmanager
    def write(self):
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any error)."""
        with self.connection() as wrapped:
            con = wrapped.raw
            con.execute("BEGIN IMMEDIATE")
            try:
                yield wrapped
                con.execute("COMMIT")
            except BaseException:
                _rollback(con)
                raise

    def close(self) -> None:
        """Nothing is kept open between calls."""
