"""Getting a source's file: mirror first, then the raw cache, then a checked download.

``fetch(source)`` returns a :class:`Fetched` (local path, where it came from, its date and,
when something went wrong but an older copy was usable, a French message saying so). A source
is anything shaped like ``sources.Source`` (the :class:`SourceLike` protocol): this plumbing
does not know the catalogue, the catalogue does not know how files are fetched.

Downloads: progress bar (tqdm, shown on a terminal only), retries with exponential
backoff on transient faults (HTTP 5xx/429, timeout, connection reset, truncated body,
bad compression), an overall deadline per file (``PTCE_GEO_HTTP_DEADLINE``, all attempts
together: a server sending one byte a second is given up), a redirect loop reported as
such, a temporary file renamed over the cached one only once every check passed
(non-empty, not an HTML page served with status 200, a body that parses as the expected
format — a JSON or XML error body served with status 200 is refused —, expected ZIP
member present, sha256 when the catalogue pins it). A failed refresh therefore never
touches the last good file, and no download fault is reported as a disk problem.

data.gouv.fr datasets are resolved through the API (``/api/1/datasets/<id>/``), picking
the resource whose title matches the source's selector; the API base can be redirected
with the ``datagouv_api`` setting (``PTCE_GEO_DATAGOUV_API``; tests).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import requests

from . import settings
from ._errors import DataUnavailableError, DownloadError, network_error_fr

__all__ = ["BACKOFF_S", "SourceLike", "Fetched", "raw_dir", "sha256_of", "local_copy", "how_to_get",
           "resolve_datagouv", "candidate_urls", "check_file", "download", "keep_copy", "fetch"]

log = logging.getLogger(__name__)


class SourceLike(Protocol):
    """What a source must tell to be fetched (``sources.Source`` is one)."""

    id: str
    filename: str  # local name, in the mirror and in the raw cache
    format: str  # "csv", "geojson", "geojson|zip"…
    url: str | None
    page: str | None
    datagouv_dataset: str | None
    resource_title: str | None
    resource_formats: tuple[str, ...]
    zip_member: str | None
    sha256: str | None

    def local_names(self) -> tuple[str, ...]: ...

BACKOFF_S = 1.0  # first pause between attempts; doubled each time (tests set 0)
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Fetched:
    path: Path
    origin: str  # "miroir" | "cache" | "téléchargement"
    date: str  # ISO date (YYYY-MM-DD) of the local copy
    message: str | None = None  # French warning when an older copy stands in


class _Transient(Exception):
    """A fault worth another attempt."""


def raw_dir() -> Path:
    """Where downloads are kept: ``settings.raw_dir`` (``PTCE_GEO_RAW``, default ``<cache>/raw``)."""
    cfg = settings.get()
    return cfg.raw_dir or cfg.cache_dir / "raw"


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_date(path: Path) -> str:
    meta = _meta_path(path)
    if meta.exists():
        try:
            return json.loads(meta.read_text(encoding="utf-8"))["downloaded"][:10]
        except (ValueError, KeyError, OSError):
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).date().isoformat()


def _mirror_file(source: SourceLike) -> Path | None:
    mirror = settings.get().mirror_dir
    if mirror is None:
        return None
    for name in source.local_names():
        path = mirror / name
        if path.is_file():
            return path
    return None


def local_copy(source: SourceLike) -> Fetched | None:
    """The mirror file or the cached download of ``source``, without any network access."""
    path = _mirror_file(source)
    if path is not None:
        return Fetched(path, "miroir", _file_date(path))
    cached = raw_dir() / source.filename
    if cached.is_file():
        return Fetched(cached, "cache", _file_date(cached))
    return None


def how_to_get(source: SourceLike) -> str:
    """French sentence telling a user how to obtain a missing source (and what in the settings
    stands in the way: offline mode, a mirror path that names no folder)."""
    cfg = settings.get()
    mirror = cfg.mirror_dir
    where = f"actuellement {str(mirror)!r}" if mirror else "actuellement non défini"
    text = (
        f"lancez « ptce-geo data sync » avec une connexion Internet, ou placez le fichier "
        f"{source.filename!r} dans le dossier désigné par la variable PTCE_GEO_MIRROR ({where})"
    )
    notes = [n.rstrip(".") for n in (settings.offline_hint(cfg), settings.mirror_warning(cfg)) if n]
    return text + "".join(f". {n}" for n in notes)


def _unavailable(source: SourceLike, layer: str | None, reason: str, cls=DataUnavailableError):
    what = f"La couche {layer!r}" if layer else f"La source {source.id!r}"
    url = source.url or source.page or ""
    return cls(
        f"{what} est indisponible : {reason} Source officielle : {url!r}. "
        f"Pour l'obtenir : {how_to_get(source)}."
    )


# --- data.gouv.fr -----------------------------------------------------------------------

def _api_base() -> str:
    return settings.get().datagouv_api


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = settings.get().user_agent
    return session


def resolve_datagouv(source: SourceLike, session: requests.Session | None = None) -> str:
    """URL of the dataset resource matching the source's title/format selector."""
    session = session or _session()
    api = f"{_api_base()}/datasets/{source.datagouv_dataset}/"
    try:
        resp = session.get(api, timeout=settings.get().http_timeout)
        resp.raise_for_status()
        resources = resp.json().get("resources") or []
    except (requests.RequestException, ValueError) as exc:
        raise DownloadError(f"API data.gouv.fr inutilisable ({api!r}) : {network_error_fr(exc)}.") from exc
    pattern = re.compile(source.resource_title or ".", re.IGNORECASE)
    formats = {f.lower() for f in source.resource_formats}
    for res in resources:
        fmt = str(res.get("format") or "").lower()
        if pattern.search(str(res.get("title") or "")) and (not formats or fmt in formats):
            url = res.get("latest") or res.get("url")
            if url:
                return url
    titles = [str(r.get("title")) for r in resources]
    raise DownloadError(
        f"Aucune ressource du jeu data.gouv.fr {source.datagouv_dataset!r} ne correspond à "
        f"{source.resource_title!r} (formats {sorted(formats)}) ; ressources : {titles}."
    )


def candidate_urls(source: SourceLike, session: requests.Session | None = None) -> list[str]:
    """URLs to try in order: the resolved data.gouv.fr resource, then the stable URL."""
    urls: list[str] = []
    errors: list[str] = []
    if source.datagouv_dataset:
        try:
            urls.append(resolve_datagouv(source, session))
        except DownloadError as exc:
            errors.append(str(exc))
    if source.url and source.url not in urls:
        urls.append(source.url)
    if not urls:
        raise DownloadError(" ".join(errors) or f"Aucune adresse pour la source {source.id!r}.")
    return urls


# --- checks -----------------------------------------------------------------------------

_PARSE_LIMIT = 32 * 2**20  # a GeoJSON up to this size is parsed whole; beyond, its head and end are checked


def _check_geojson(fh, size: int) -> None:
    """A GeoJSON FeatureCollection (or Feature), not an error document served with status 200."""
    if size <= _PARSE_LIMIT:
        try:
            doc = json.load(fh)
        except (ValueError, RecursionError) as exc:
            raise DownloadError("le fichier reçu n'est pas du JSON valide (tronqué ou d'un autre format).") from exc
        kind = doc.get("type") if isinstance(doc, dict) else None
        if kind == "FeatureCollection" and isinstance(doc.get("features"), list) or kind == "Feature":
            return
        keys = ", ".join(list(doc)[:5]) if isinstance(doc, dict) else type(doc).__name__
        raise DownloadError(f"le fichier reçu est du JSON mais pas du GeoJSON (clés : {keys}) : réponse d'erreur "
                            "du serveur ?")
    head = fh.read(65536)
    fh.seek(max(size - 64, 0))
    tail = fh.read().rstrip()
    if b'"Feature' not in head or not tail.endswith(b"}"):
        raise DownloadError("le fichier reçu n'a pas la structure d'un GeoJSON (tronqué ou d'un autre format).")


def _check_csv(head: bytes) -> None:
    """A table with a header line and separators, not JSON or XML."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        raise DownloadError("le serveur a renvoyé du JSON (réponse d'erreur ?) au lieu du fichier CSV attendu.")
    if text[:1] == b"<":
        raise DownloadError("le serveur a renvoyé du XML ou du HTML (réponse d'erreur ?) au lieu du fichier CSV "
                            "attendu.")
    first = text.split(b"\n", 1)[0]
    if not any(sep in first for sep in (b";", b",", b"\t")) or b"\n" not in text:
        raise DownloadError(f"le fichier reçu n'est pas un tableau CSV (début : {head[:40]!r}).")

def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
        text.startswith(b"<") and b"<html" in text[:1024]
    )


def check_file(path: Path, source: SourceLike, content_type: str = "") -> None:
    """Raise DownloadError (French, says what is wrong) unless ``path`` is the expected file."""
    size = path.stat().st_size
    if size == 0:
        raise DownloadError("le serveur a renvoyé un fichier vide.")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if _looks_like_html(head) or ("text/html" in content_type.lower() and not head.startswith(b"PK")):
        raise DownloadError(
            "le serveur a renvoyé une page HTML (page d'erreur ou de connexion) au lieu du fichier attendu."
        )
    if head.startswith(b"PK"):
        if "zip" not in source.format:
            raise DownloadError(f"archive ZIP reçue alors qu'un fichier {source.format} était attendu.")
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
                member = source.zip_member or ""
                found = [n for n in names if n.lower().endswith(member.lower().split("/")[-1])]
                if member and not found:
                    raise DownloadError(
                        f"l'archive ZIP ne contient pas le fichier attendu {member!r} "
                        f"(elle contient : {', '.join(names[:10]) or 'rien'})."
                    )
                if found and zf.testzip() is not None:
                    raise DownloadError("l'archive ZIP est corrompue (erreur de contrôle CRC).")
        except (zipfile.BadZipFile, NotImplementedError, EOFError, zlib.error) as exc:  # unknown zip version/method too
            raise DownloadError("l'archive ZIP est illisible ou tronquée.") from exc
    elif "geojson" in source.format:
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            raise DownloadError(f"le fichier reçu n'est pas du GeoJSON (début : {head[:40]!r}).")
        with open(path, "rb") as fh:
            _check_geojson(fh, size)
    elif source.format == "csv":
        _check_csv(head)
    if source.sha256:
        got = sha256_of(path)
        if got != source.sha256:
            raise DownloadError(
                f"somme de contrôle SHA-256 inattendue : {got!r} au lieu de {source.sha256!r} "
                "(fichier modifié ou corrompu)."
            )


# --- download ---------------------------------------------------------------------------

def _deadline_error(deadline_s: float, received: int) -> DownloadError:
    return DownloadError(f"délai total de téléchargement dépassé ({deadline_s:g} s, PTCE_GEO_HTTP_DEADLINE) après "
                         f"{received} octets reçus : le serveur est trop lent ou ne répond plus.")


def _get_once(session: requests.Session, url: str, tmp: Path, label: str, deadline: float | None = None) -> str:
    """One attempt; returns the content type. Raises _Transient or DownloadError.

    The body is read with ``read1`` (whatever has arrived, at most ``_CHUNK`` bytes), so the
    overall ``deadline`` (``time.monotonic()`` value) is checked even when a server sends one
    byte a second and no single read ever times out."""
    import urllib3.exceptions as u3
    from tqdm import tqdm

    cfg = settings.get()
    timeout = cfg.http_timeout
    if deadline is None:
        deadline = time.monotonic() + cfg.http_deadline
    left = deadline - time.monotonic()
    if left <= 0:
        raise _deadline_error(cfg.http_deadline, 0)
    received = 0
    try:
        with session.get(url, stream=True, timeout=min(timeout, left), allow_redirects=True) as resp:
            if resp.status_code >= 500 or resp.status_code == 429:
                raise _Transient(f"le serveur a répondu HTTP {resp.status_code}")
            if resp.status_code >= 400:
                raise DownloadError(f"le serveur a répondu HTTP {resp.status_code} pour {url!r}.")
            expected = resp.headers.get("Content-Length")
            expected = int(expected) if expected and expected.isdigit() else None
            with open(tmp, "wb") as out, tqdm(
                total=expected, unit="B", unit_scale=True, desc=label, disable=None, leave=False
            ) as bar:
                while True:
                    if time.monotonic() > deadline:
                        raise _deadline_error(cfg.http_deadline, received)
                    chunk = resp.raw.read1(_CHUNK, decode_content=True)
                    if not chunk:  # end of the body
                        break
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            encoded = resp.headers.get("Content-Encoding", "identity") not in ("", "identity")
            if expected is not None and not encoded and received < expected:
                raise _Transient(f"téléchargement tronqué : {received} octets reçus sur {expected} annoncés")
            return resp.headers.get("Content-Type", "")
    except requests.TooManyRedirects as exc:
        raise DownloadError(f"boucle de redirections : le serveur renvoie de page en page sans fin ({url!r}).") from exc
    except (requests.exceptions.ContentDecodingError, u3.DecodeError) as exc:
        raise _Transient("contenu compressé illisible (gzip ou deflate endommagé)") from exc
    except (requests.Timeout, u3.ReadTimeoutError, u3.ConnectTimeoutError) as exc:
        raise _Transient(f"délai d'attente dépassé ({timeout:g} s)") from exc
    except (requests.exceptions.ChunkedEncodingError, u3.ProtocolError, u3.IncompleteRead) as exc:
        raise _Transient("téléchargement tronqué (connexion interrompue)") from exc
    except requests.ConnectionError as exc:
        raise _Transient(f"connexion impossible : {network_error_fr(exc)}") from exc
    except (requests.RequestException, u3.HTTPError) as exc:
        raise DownloadError(f"requête impossible vers {url!r} : {network_error_fr(exc)}.") from exc


def download(url: str, dest: Path, source: SourceLike, session: requests.Session | None = None) -> Path:
    """Download ``url`` to ``dest`` atomically after checking it; ``dest`` is untouched on failure."""
    cfg = settings.get()
    session = session or _session()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    attempts = max(1, cfg.http_retries)
    deadline = time.monotonic() + cfg.http_deadline  # all attempts together
    try:
        content_type = ""
        for attempt in range(1, attempts + 1):
            try:
                content_type = _get_once(session, url, tmp, source.filename, deadline)
                break
            except _Transient as exc:
                log.info("Tentative %d/%d pour %s : %s", attempt, attempts, url, exc)  # the final error says it all
                if attempt == attempts:
                    raise DownloadError(
                        f"échec du téléchargement de {url!r} après {attempts} tentative(s) : {exc}."
                    ) from exc
                time.sleep(min(BACKOFF_S * 2 ** (attempt - 1), max(deadline - time.monotonic(), 0)))
        try:
            check_file(tmp, source, content_type)
        except DownloadError as exc:
            raise DownloadError(f"fichier refusé ({url!r}) : {exc}") from exc
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _write_meta(dest, source, url, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    return dest


def _write_meta(dest: Path, source: SourceLike, url: str, date: str) -> None:
    meta = {"source": source.id, "url": url, "downloaded": date, "sha256": sha256_of(dest),
            "size": dest.stat().st_size}
    meta_path = _meta_path(dest)
    fd, tmp_meta = tempfile.mkstemp(prefix=f".{meta_path.name}.", dir=dest.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, indent=1)
    os.replace(tmp_meta, meta_path)


def keep_copy(source: SourceLike, fetched: Fetched) -> Fetched:
    """Copy a file taken from the mirror into the raw cache (``data sync``), so the layer stays
    available once ``PTCE_GEO_MIRROR`` is unset; the copy keeps the mirror file's date."""
    if fetched.origin != "miroir":
        return fetched
    dest = raw_dir() / source.filename
    if dest.is_file() and dest.stat().st_size == fetched.path.stat().st_size \
            and sha256_of(dest) == sha256_of(fetched.path):
        return fetched
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(fetched.path, tmp)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
    _write_meta(dest, source, f"miroir : {fetched.path}", fetched.date)
    return fetched


def fetch(source: SourceLike, refresh: bool = False, layer: str | None = None) -> Fetched:
    """Local copy of ``source``: mirror, else cache, else download (``refresh`` re-downloads).

    Offline with a cache: the cache, with a message giving its date. A failed download with
    a cache: the cache, with a message saying what failed. Nothing at all: DataUnavailableError
    (DownloadError when a download was tried) naming the layer, the URL and PTCE_GEO_MIRROR.
    """
    mirror = _mirror_file(source)
    if mirror is not None:
        if source.sha256 and mirror.name == source.filename and sha256_of(mirror) != source.sha256:
            log.warning("Miroir %s : somme SHA-256 différente du fichier catalogué.", mirror)
        return Fetched(mirror, "miroir", _file_date(mirror))
    cached = raw_dir() / source.filename
    if cached.is_file() and not refresh:
        return Fetched(cached, "cache", _file_date(cached))
    if settings.get().offline:
        if cached.is_file():
            date = _file_date(cached)
            return Fetched(cached, "cache", date, f"Hors ligne : copie en cache du {date} utilisée.")
        raise _unavailable(source, layer, "aucune connexion autorisée (PTCE_GEO_OFFLINE=1) et aucune copie locale.")
    session = _session()
    errors: list[str] = []
    try:
        urls = candidate_urls(source, session)
    except DownloadError as exc:
        urls, errors = [], [str(exc)]
    for url in urls:
        try:
            download(url, cached, source, session)
            return Fetched(cached, "téléchargement", _file_date(cached))
        except DownloadError as exc:
            errors.append(str(exc))
    reason = " ; ".join(errors)
    if cached.is_file():
        date = _file_date(cached)
        return Fetched(
            cached, "cache", date,
            f"Mise à jour de {source.id!r} impossible : {reason} La dernière copie valide (du {date}) est conservée.",
        )
    raise _unavailable(source, layer, f"{reason}", cls=DownloadError)
