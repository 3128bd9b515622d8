"""Files read and written on a person's behalf: regular files only, bounded reads.

``read_bytes(path, limit)`` reads a file a person gave (an import file) only when it is a
regular file (a symbolic link to one is followed; a link to ``/dev/zero``, a device, a FIFO,
a socket or a folder is refused) and no larger than ``limit`` bytes, checked before and
while reading, so nothing unbounded is ever read into memory.

``check_output(path)`` is called by every writer before it replaces ``path`` (``-o``,
``--rejects``, maps, atlases): only a regular file, or a name that does not exist yet, may be
written. A symbolic link, a device (``/dev/full``), a FIFO, a socket or a folder is refused
with a French message, so a writer never replaces something that is not a plain file
(``os.replace`` would turn a link or a device node into a regular file). ``-o -`` means
standard output and is handled by the callers.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ._errors import FileAccessError, file_error
from ._text import printable

__all__ = ["kind_of", "shown", "size_fr", "read_bytes", "check_output"]

_KINDS = (
    (stat.S_ISDIR, "un dossier"),
    (stat.S_ISCHR, "un périphérique (fichier spécial en mode caractère)"),
    (stat.S_ISBLK, "un périphérique (fichier spécial en mode bloc)"),
    (stat.S_ISFIFO, "un tube nommé (FIFO)"),
    (stat.S_ISSOCK, "une prise réseau locale (socket)"),
    (stat.S_ISLNK, "un lien symbolique"),
)


def kind_of(mode: int) -> str:
    """« un dossier », « un périphérique… »: what a non-regular file is, in French."""
    for test, label in _KINDS:
        if test(mode):
            return label
    return "un fichier spécial"


def shown(path) -> str:
    """A path as messages quote it (undecodable bytes shown as « � »)."""
    return repr(printable(str(path)))


def size_fr(n: int) -> str:
    """``33554432`` → « 32 Mio » ; ``1536`` → « 1,5 Kio » (binary units, French decimal comma)."""
    for unit, factor in (("Gio", 2**30), ("Mio", 2**20), ("Kio", 2**10)):
        if n >= factor:
            value = n / factor
            text = f"{value:.1f}".rstrip("0").rstrip(".") if value < 100 else f"{value:.0f}"
            return f"{text.replace('.', ',')} {unit}"
    return f"{n} octets"


def read_bytes(path: str | Path, limit: int, what: str = "Le fichier") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (FileAccessError otherwise)."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)  # a FIFO must not block
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise file_error("de lire le fichier", printable(str(path)), exc) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileAccessError(f"{what} {shown(path)} est {kind_of(info.st_mode)}, pas un fichier ordinaire : il "
                                  "n'est pas lu. Donnez le chemin d'un fichier .csv, .xlsx ou .geojson.")
        if info.st_size > limit:
            raise FileAccessError(f"{what} {shown(path)} est trop gros : {size_fr(info.st_size)}, la limite est "
                                  f"{size_fr(limit)}. Découpez-le en plusieurs fichiers.")
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise FileAccessError(f"{what} {shown(path)} dépasse la limite de {size_fr(limit)} (il grossit "
                                      "pendant la lecture). Réessayez quand il ne change plus.")
        return b"".join(chunks)
    except OSError as exc:
        raise file_error("de lire le fichier", printable(str(path)), exc) from exc
    finally:
        os.close(fd)


def check_output(path: str | Path, option: str = "-o") -> Path:
    """``path`` if a writer may replace it (absent, or a regular file); FileAccessError otherwise."""
    path = Path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise file_error("d'écrire", printable(str(path)), exc) from exc
    if stat.S_ISREG(info.st_mode):
        return path
    if stat.S_ISDIR(info.st_mode):
        hint = f"Donnez un nom de fichier, ex. {option} {shown(path / 'resultat.csv')}."
    elif stat.S_ISLNK(info.st_mode):
        hint = ("Donnez le chemin du fichier lui-même (ptce-geo ne remplace jamais un lien), "
                + ("ou « -o - » pour la sortie standard." if option == "-o" else "ou un autre nom de fichier."))
    else:
        hint = ("Donnez le nom d'un fichier ordinaire"
                + (", ou « -o - » pour écrire sur la sortie standard." if option == "-o" else "."))
    raise FileAccessError(f"Refus d'écrire dans {shown(path)} ({option}) : c'est {kind_of(info.st_mode)}, pas un "
                          f"fichier ordinaire, et il ne sera pas remplacé. {hint}")
