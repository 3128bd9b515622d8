"""Settings of ptce-geo, read from the environment each time they are asked for.

Every setting has a default and an environment variable that overrides it, so tests
redirect them with ``monkeypatch.setenv`` and nothing is decided at import time.

cache_dir : Path
    ``PTCE_GEO_CACHE``; default the platformdirs user cache dir (``~/.cache/ptce-geo``).
    Downloads of official layers (``raw/``) and processed layers (GeoParquet) live here.
    Everything in it can be deleted: it is rebuilt on demand.
data_dir : Path
    ``PTCE_GEO_DATA``; default the platformdirs user data dir (``~/.local/share/ptce-geo``).
    What users create and must not lose: the pole registry and its history.
mirror_dir : Path | None
    ``PTCE_GEO_MIRROR``; default unset. A folder holding copies of the official files
    (``../shared/geodata`` for tests, CI and offline work). When it holds a source's file,
    that file is used instead of a download.
offline : bool
    ``PTCE_GEO_OFFLINE=1`` forbids every network access (downloads and geocoding).
http_timeout : float
    ``PTCE_GEO_HTTP_TIMEOUT``; seconds, default 30.
http_retries : int
    ``PTCE_GEO_HTTP_RETRIES``; attempts per download, default 3 (exponential backoff).
user_agent : str
    ``PTCE_GEO_USER_AGENT``; sent with every request.
geocoder_url : str
    ``PTCE_GEO_GEOCODER_URL``; base URL of the national address API (BAN), default
    ``https://api-adresse.data.gouv.fr``; the Géoplateforme equivalent is
    ``https://data.geopf.fr/geocodage``.
datagouv_api : str
    ``PTCE_GEO_DATAGOUV_API``; base of the data.gouv.fr API used to resolve dataset ids
    to their current resources, default ``https://www.data.gouv.fr/api/1``.
metric_crs : str
    Metric CRS for analysis in metropolitan France: ``EPSG:2154`` (Lambert-93).
overseas_crs : dict[str, str]
    Metric CRS of each overseas department: 971/972 ``EPSG:5490``, 973 ``EPSG:2972``,
    974 ``EPSG:2975``, 976 ``EPSG:4471``.
web_crs : str
    CRS handed to the browser and stored in caches: ``EPSG:4326``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

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


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    cache_dir: Path
    data_dir: Path
    mirror_dir: Path | None
    offline: bool = False
    http_timeout: float = 30.0
    http_retries: int = 3
    user_agent: str = "ptce-geo/0.1 (+https://github.com/ptce-geo)"
    geocoder_url: str = "https://api-adresse.data.gouv.fr"
    datagouv_api: str = "https://www.data.gouv.fr/api/1"
    metric_crs: str = METRIC_CRS
    web_crs: str = WEB_CRS
    overseas_crs: dict[str, str] = field(default_factory=lambda: dict(OVERSEAS_CRS))

    def crs_for_departement(self, departement: str) -> str:
        """Metric CRS in which a department is analysed."""
        return self.overseas_crs.get(str(departement), self.metric_crs)


def get() -> Settings:
    """Current settings, from the environment."""
    mirror = os.environ.get("PTCE_GEO_MIRROR")
    return Settings(
        cache_dir=_env_path("PTCE_GEO_CACHE", Path(platformdirs.user_cache_dir(APP_NAME))),
        data_dir=_env_path("PTCE_GEO_DATA", Path(platformdirs.user_data_dir(APP_NAME))),
        mirror_dir=Path(mirror).expanduser().resolve() if mirror else None,
        offline=os.environ.get("PTCE_GEO_OFFLINE", "") not in ("", "0", "false", "False"),
        http_timeout=float(os.environ.get("PTCE_GEO_HTTP_TIMEOUT", "30")),
        http_retries=int(os.environ.get("PTCE_GEO_HTTP_RETRIES", "3")),
        user_agent=os.environ.get("PTCE_GEO_USER_AGENT", Settings.user_agent),
        geocoder_url=os.environ.get("PTCE_GEO_GEOCODER_URL", Settings.geocoder_url).rstrip("/"),
        datagouv_api=os.environ.get("PTCE_GEO_DATAGOUV_API", Settings.datagouv_api).rstrip("/"),
    )
