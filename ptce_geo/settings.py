"""Settings of ptce-geo, read from the environment each time they are asked for.

Every setting has a default and an environment variable that overrides it, so tests
redirect them with ``monkeypatch.setenv`` and nothing is decided at import time.

cache_dir : Path
    ``PTCE_GEO_CACHE``; default the platformdirs user cache dir (``~/.cache/ptce-geo``).
    Downloads of official layers (``raw/``) and processed layers (GeoParquet) live here.
    Everything in it can be deleted: it is rebuilt on demand.
raw_dir : Path
    ``PTCE_GEO_RAW``; default ``<cache_dir>/raw``. Where downloaded official files are kept (with
    their ``.meta.json``); tests point it at an empty folder to play a machine that never
    downloaded anything.
data_dir : Path
    ``PTCE_GEO_DATA``; default the platformdirs user data dir (``~/.local/share/ptce-geo``).
    What users create and must not lose: the pole registry and its history.
mirror_dir : Path | None
    ``PTCE_GEO_MIRROR``; default unset. A folder holding copies of the official files
    (``../shared/geodata`` for tests, CI and offline work). When it holds a source's file,
    that file is used instead of a download. Kept as the user wrote it (``~`` expanded,
    symlinks not resolved) so messages show the path the user set; ``mirror_warning()``
    says when it names no folder.
offline : bool
    ``PTCE_GEO_OFFLINE=1`` forbids every network access (downloads and geocoding).
http_timeout : float
    ``PTCE_GEO_HTTP_TIMEOUT``; seconds, default 30 (decimal comma accepted; > 0).
http_retries : int
    ``PTCE_GEO_HTTP_RETRIES``; attempts per download, default 3 (exponential backoff; ≥ 1).
http_deadline : float
    ``PTCE_GEO_HTTP_DEADLINE``; seconds, default 900: the most one file's download may take,
    all attempts together (a server trickling one byte a second is given up; > 0).

A value that cannot be read (``PTCE_GEO_HTTP_TIMEOUT=abc``) raises ``ConfigurationError``
naming the variable and the value. ``ensure_dir(path, variable)`` creates a settings folder
or raises ``FileAccessError`` naming the variable (e.g. ``PTCE_GEO_DATA`` pointing at a file).
user_agent : str
    ``PTCE_GEO_USER_AGENT``; sent with every request.
geocoder_url : str
    ``PTCE_GEO_GEOCODER_URL``; base URL of the national address API (BAN), default
    ``https://api-adresse.data.gouv.fr``; the Géoplateforme equivalent is
    ``https://data.geopf.fr/geocodage``.
datagouv_api : str
    ``PTCE_GEO_DATAGOUV_API``; base of the data.gouv.fr API used to resolve dataset ids
    to their current resources, default ``https://www.data.gouv.fr/api/1``.
contact : str
    ``PTCE_GEO_CONTACT``; default empty. How to reach whoever runs this copy of the app (an
    e-mail address or a web page), given by the page « Accessibilité » to report an
    accessibility problem (RGAA asks for one).
editing : str
    ``PTCE_GEO_EDITING``: who may change the pole registry from the app (the CLI always may).
    ``local`` (default, what ``make run`` gives on one's own machine): a browser on the same
    machine edits (its WebSocket peer is loopback: ``st.context.ip_address`` is None), anyone
    else reads only and is told why — behind a reverse proxy on the same host every client may
    look local, so a shared deployment uses ``auth`` or ``off``; ``auth``: sign-in with
    ``st.login`` (OpenID Connect, ``[auth]`` in ``.streamlit/secrets.toml``), roles
    contributeur / editeur / admin stored in the registry; ``off``: read-only for everyone.
    Another value raises ``ConfigurationError`` listing the valid ones.
database_url : str | None
    ``PTCE_GEO_DATABASE_URL``; default unset: the registry is the SQLite file ``poles.sqlite``
    in ``data_dir``. Set (``postgresql://user@host:port/db``, password after ``user:`` or in
    ``~/.pgpass``), the registry, its history, roles, identities and proposals live in that
    PostgreSQL database with PostGIS, shared by every app server pointed at it, and nothing
    is written to SQLite. Any other form raises ``ConfigurationError`` (the password masked).
metric_crs : str
    Metric CRS for analysis in metropolitan France: ``EPSG:2154`` (Lambert-93).
overseas_crs : dict[str, str]
    Metric CRS of each overseas department: 971/972 ``EPSG:5490``, 973 ``EPSG:2972``,
    974 ``EPSG:2975``, 976 ``EPSG:4471``.
web_crs : str
    CRS handed to the browser and stored in caches: ``EPSG:4326``.

Every CRS of the project is defined here, once: ``METRIC_CRS``, ``WEB_CRS``, ``OVERSEAS_CRS``,
``EXTRA_CRS`` (the QPV outside the COG communes: Saint-Martin 978 in ``EPSG:5490``, Tahiti 987 in
``EPSG:3297``, named in ``OUTSIDE_COG``) and ``CRS_NAMES`` (the names printed in a map's footer).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from ._errors import ConfigurationError, FileAccessError, file_error
from ._text import mask_url

__all__ = ["APP_NAME", "METRIC_CRS", "WEB_CRS", "OVERSEAS_CRS", "EXTRA_CRS", "OUTSIDE_COG", "CRS_NAMES", "EDITING_MODES",
           "Settings", "get", "mirror_warning", "offline_hint", "ensure_dir"]

APP_NAME = "ptce-geo"

METRIC_CRS = "EPSG:2154"
WEB_CRS = "EPSG:4326"
OVERSEAS_CRS: dict[str, str] = {
    "971": "EPSG:5490",
    "972": "EPSG:5490",
    "973": "EPSG:2972",
    "974": "EPSG:2975",
    "976": "EPSG:4471",
}
#: Metric CRS of the QPV outside the COG communes (no commune, hence no group of their own in
#: ``OVERSEAS_CRS``): Saint-Martin (RGAF09 / UTM 20N), Tahiti (RGPF / UTM 6S).
EXTRA_CRS: dict[str, str] = {"978": "EPSG:5490", "987": "EPSG:3297"}
OUTSIDE_COG: dict[str, str] = {"978": "Saint-Martin", "987": "Polynésie française"}
#: Names of the metric CRS, as a printed map's footer gives them.
CRS_NAMES: dict[str, str] = {
    "EPSG:2154": "RGF93 v1 / Lambert-93",
    "EPSG:5490": "RGAF09 / UTM 20N",
    "EPSG:2972": "RGFG95 / UTM 22N",
    "EPSG:2975": "RGR92 / UTM 40S",
    "EPSG:4471": "RGM04 / UTM 38S",
}


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


EDITING_MODES = {
    "local": "édition depuis un navigateur sur la machine du serveur seulement",
    "auth": "édition après connexion (OpenID Connect), selon le rôle",
    "off": "lecture seule pour tous (seule la ligne de commande écrit)",
}


def _env_choice(name: str, default: str, choices: dict[str, str]) -> str:
    """A value of ``choices`` (case and spaces ignored); a French ``ConfigurationError`` listing them."""
    raw = os.environ.get(name, "")
    value = raw.strip().lower() or default
    if value not in choices:
        valid = " ; ".join(f"{k} ({v})" for k, v in choices.items())
        raise ConfigurationError(
            f"Variable d'environnement {name}={raw!r} invalide. Valeurs possibles : {valid}. Corrigez-la ou "
            f"supprimez-la (unset {name}) pour garder la valeur par défaut ({default}).")
    return value


def _env_number(name: str, default: str, kind, what: str, example: str):
    """``kind`` value of an environment variable (decimal comma accepted); must be > 0."""
    raw = os.environ.get(name, "")
    text = raw.strip().replace(",", ".") or default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise ConfigurationError(
            f"Variable d'environnement {name}={raw!r} invalide : il faut {what} (ex. {name}={example}). "
            f"Corrigez-la ou supprimez-la (unset {name}) pour garder la valeur par défaut ({default})."
        )
    return value


def _env_database_url() -> str | None:
    """``PTCE_GEO_DATABASE_URL`` when set: a ``postgresql://`` URL (a French error otherwise, password masked)."""
    raw = os.environ.get("PTCE_GEO_DATABASE_URL", "").strip()
    if not raw:
        return None
    if raw.split("://", 1)[0].lower() not in ("postgresql", "postgres") or "://" not in raw:
        raise ConfigurationError(
            f"Variable d'environnement PTCE_GEO_DATABASE_URL={mask_url(raw)!r} invalide : il faut une adresse "
            "PostgreSQL, ex. postgresql://ptce@db.exemple.fr:5432/ptce (mot de passe éventuel après « ptce: » ou "
            "dans ~/.pgpass). Supprimez-la (unset PTCE_GEO_DATABASE_URL) pour garder le registre SQLite local.")
    return raw


@dataclass(frozen=True)
class Settings:
    cache_dir: Path
    data_dir: Path
    mirror_dir: Path | None
    offline: bool = False
    http_timeout: float = 30.0
    http_retries: int = 3
    editing: str = "local"
    database_url: str | None = None
    http_deadline: float = 900.0
    user_agent: str = "ptce-geo/0.1 (+https://github.com/ptce-geo)"
    geocoder_url: str = "https://api-adresse.data.gouv.fr"
    datagouv_api: str = "https://www.data.gouv.fr/api/1"
    contact: str = ""
    metric_crs: str = METRIC_CRS
    web_crs: str = WEB_CRS
    overseas_crs: dict[str, str] = field(default_factory=lambda: dict(OVERSEAS_CRS))
    raw_dir: Path | None = None  # None: ``cache_dir / "raw"``

    def crs_for_departement(self, departement: str) -> str:
        """Metric CRS in which a department is analysed."""
        return self.overseas_crs.get(str(departement), self.metric_crs)


def get() -> Settings:
    """Current settings, from the environment."""
    mirror = os.environ.get("PTCE_GEO_MIRROR")
    cache_dir = _env_path("PTCE_GEO_CACHE", Path(platformdirs.user_cache_dir(APP_NAME)))
    return Settings(
        cache_dir=cache_dir,
        raw_dir=_env_path("PTCE_GEO_RAW", cache_dir / "raw"),
        data_dir=_env_path("PTCE_GEO_DATA", Path(platformdirs.user_data_dir(APP_NAME))),
        mirror_dir=Path(mirror).expanduser() if mirror else None,
        offline=os.environ.get("PTCE_GEO_OFFLINE", "").strip() not in ("", "0", "false", "False", "non"),
        http_timeout=_env_number("PTCE_GEO_HTTP_TIMEOUT", "30", float, "un nombre de secondes positif", "30"),
        http_retries=_env_number("PTCE_GEO_HTTP_RETRIES", "3", int, "un nombre entier de tentatives, au moins 1", "3"),
        editing=_env_choice("PTCE_GEO_EDITING", "local", EDITING_MODES),
        database_url=_env_database_url(),
        http_deadline=_env_number("PTCE_GEO_HTTP_DEADLINE", "900", float, "un nombre de secondes positif", "900"),
        user_agent=os.environ.get("PTCE_GEO_USER_AGENT", Settings.user_agent),
        geocoder_url=os.environ.get("PTCE_GEO_GEOCODER_URL", Settings.geocoder_url).rstrip("/"),
        datagouv_api=os.environ.get("PTCE_GEO_DATAGOUV_API", Settings.datagouv_api).rstrip("/"),
        contact=os.environ.get("PTCE_GEO_CONTACT", "").strip(),
    )


def mirror_warning(current: Settings | None = None) -> str | None:
    """French warning when ``PTCE_GEO_MIRROR`` is set but names no folder (None otherwise)."""
    mirror = (current or get()).mirror_dir
    if mirror is None:
        return None
    if mirror.is_dir():
        return None
    what = "est un fichier, pas un dossier" if mirror.exists() else "n'existe pas"
    return (f"PTCE_GEO_MIRROR={str(mirror)!r} {what} : le miroir est ignoré. Corrigez le chemin "
            "(dossier des copies des fichiers officiels, ex. ../shared/geodata) ou supprimez la variable.")


def offline_hint(current: Settings | None = None) -> str | None:
    """French sentence when ``PTCE_GEO_OFFLINE`` forbids the network (None otherwise)."""
    if not (current or get()).offline:
        return None
    value = os.environ.get("PTCE_GEO_OFFLINE", "")
    return (f"Le mode hors ligne est activé (PTCE_GEO_OFFLINE={value!r}) : aucun téléchargement n'est tenté. "
            "Pour télécharger, retirez cette variable (unset PTCE_GEO_OFFLINE) puis relancez avec une connexion Internet.")


def ensure_dir(path: Path, variable: str) -> Path:
    """Create a settings folder (``cache_dir``, ``data_dir``…); a French ``FileAccessError``
    naming ``variable`` when it cannot be (a file is in the way, no permission…)."""
    hint = f"Vérifiez la variable {variable} : elle doit désigner un dossier (existant ou à créer) où vous pouvez écrire."
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise FileAccessError(f"Impossible d'utiliser le dossier {str(path)!r} : {str(blocker)!r} est un fichier, "
                                  f"pas un dossier. {hint}") from exc
        raise file_error("de créer le dossier", path, exc, hint) from exc
    return path
