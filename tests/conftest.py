"""Test settings: a session cache shared by all tests, a fresh data dir per test,
the shared mirror of official files, and no network.

The processed-boundaries cache is built once per session (the cold build is itself
tested in test_boundaries.py with its own cache dir).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = ROOT.parent / "shared" / "geodata"


def pytest_configure(config):
    base = Path(os.environ.get("PTCE_GEO_TEST_BASE", ROOT / "test-output"))
    base.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PTCE_GEO_TEST_OUTPUT", str(base))
    # One cache for the whole session (and across sessions: it is keyed by data versions).
    os.environ["PTCE_GEO_CACHE"] = str(base / "cache")
    os.environ["PTCE_GEO_DATA"] = str(base / "data-session")
    os.environ["PTCE_GEO_OFFLINE"] = "1"
    os.environ.pop("PTCE_GEO_DATABASE_URL", None)  # SQLite unless a test asks for PostgreSQL
    if not os.environ.get("PTCE_GEO_MIRROR") and DEFAULT_MIRROR.exists():
        os.environ["PTCE_GEO_MIRROR"] = str(DEFAULT_MIRROR)


def pytest_collection_modifyitems(config, items):
    """``slow`` (skipped by ``make test-fast``): every browser test and every atlas test (a PDF of
    the 18 regions), besides the tests marked ``slow`` by hand (cold builds of a cache)."""
    for item in items:
        if item.get_closest_marker("browser") or "atlas" in item.name:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def app_page():
    """``app_page(name, timeout=120, params=None, user=None, secrets=None)``: the app as a person
    opens it, in ``AppTest``: ``app.py`` runs (navigation, then the default page « carte » with
    ``params`` in its URL), then ``app_pages/<name>.py`` when ``name`` is another page. Each run must
    end without an exception (``check=False`` to look at one instead). ``user``: ``st.user`` of a
    signed-in person (default: nobody signed in); ``secrets``: the app's secrets (sign-in)."""
    from streamlit.testing.v1 import AppTest

    def open_page(name: str = "carte", timeout: float = 120, params: dict | None = None, user: dict | None = None,
                  secrets: dict | None = None, check: bool = True) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
        for key, value in (params or {}).items():
            at.query_params[key] = value
        if user is not None:
            at.user = dict(user)
        if secrets:
            at.secrets = secrets
        at.run()
        if name != "carte":
            if check:
                assert not at.exception, at.exception
            at.switch_page(f"app_pages/{name}.py").run()
        if check:
            assert not at.exception, at.exception
        return at

    return open_page


@pytest.fixture
def mirror_dir() -> Path:
    path = Path(os.environ.get("PTCE_GEO_MIRROR", DEFAULT_MIRROR))
    if not (path / "SOURCES.md").exists():
        pytest.skip(f"miroir des données officielles absent : {path}")
    return path


@pytest.fixture
def output_dir() -> Path:
    """Where tests save what they render (PNG, PDF, screenshots) for a person to look at."""
    path = Path(os.environ["PTCE_GEO_TEST_OUTPUT"]) / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def fresh_data(tmp_path, monkeypatch) -> Path:
    """An empty user data dir (pole registry…) for one test."""
    path = tmp_path / "data"
    monkeypatch.setenv("PTCE_GEO_DATA", str(path))
    return path


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> Path:
    """An empty cache dir for one test (cold builds, corrupt-cache tests)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("PTCE_GEO_CACHE", str(path))
    return path


# ------------------------------------------------------------------ registry stores (SQLite, PostgreSQL)


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL + PostGIS cluster for the whole session (skipped, with the Debian
    packages to install, when the binaries are absent)."""
    import _pg_cluster

    from ptce_geo import database

    reason = _pg_cluster.missing()
    if reason:
        pytest.skip(reason)
    cluster = _pg_cluster.Cluster().start()
    yield cluster
    database.close_all()
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """URL of a fresh database (PostGIS created, no table) for one test, dropped after it."""
    import uuid

    from ptce_geo import database

    name = f"t_{uuid.uuid4().hex[:16]}"
    url = pg_cluster.new_database(name)
    yield url
    database.close_all()
    pg_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_backend(request, fresh_data, monkeypatch) -> str:
    """The registry in a fresh SQLite data dir, then in a fresh PostgreSQL database: a test using
    this fixture runs once per store (``PTCE_GEO_DATABASE_URL`` set for the second)."""
    monkeypatch.delenv("PTCE_GEO_DATABASE_URL", raising=False)
    if request.param == "postgresql":
        monkeypatch.setenv("PTCE_GEO_DATABASE_URL", request.getfixturevalue("pg_url"))
    return request.param


@pytest.fixture
def snapshot():
    """``snapshot()``: every row of every table of the current registry (either store) — equal
    before and after exactly when nothing was written."""
    from ptce_geo import database, registry

    def take() -> dict:
        with registry.connect() as con:
            return database.dump(con)

    return take


@pytest.fixture
def local_browser(monkeypatch):
    """The visitor is a browser on the server's machine in ``local`` mode (may edit):
    ``st.context.ip_address`` is None, as a real loopback client gets it; AppTest's own mock
    runtime would otherwise give a non-loopback address (read-only visitor)."""
    from streamlit.runtime.context import ContextProxy

    monkeypatch.delenv("PTCE_GEO_EDITING", raising=False)
    monkeypatch.setattr(ContextProxy, "ip_address", property(lambda self: None))


# --------------------------------------------------------------------------- browser tests

_HOSTILE_POLE = """
from ptce_geo import poles, registry
rec, problems = poles.normalize({"nom": "<img src=x onerror=alert(1)>", "code_insee": "48095",
                                 "latitude": "44.5176", "longitude": "3.5003", "secteurs": "insertion",
                                 "appel": "AMI 2023", "site_web": "javascript:alert(2)"})
assert not problems, problems
rec.update(commune="Mende", departement="48", region="76", geocodage="saisie", localise=True)
registry.add(rec, who="test navigateur")
"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app as ``make run`` serves it (serve.py), one server per browser test module: mirror,
    offline, its own data dir holding one extra pole named ``<img src=x onerror=alert(1)>`` in Mende.
    (Module scope, not session: Playwright's sync API runs an event loop until it stops, which
    would break later tests that call ``asyncio.run``.)"""
    import _browser

    if not _browser.chromium_available():
        pytest.skip(f"Chromium absent ({_browser.CHROMIUM}) : tests navigateur ignorés")
    data = tmp_path_factory.mktemp("browser-data")
    env = dict(os.environ, PTCE_GEO_DATA=str(data), PTCE_GEO_OFFLINE="1")
    subprocess.run([sys.executable, "-c", _HOSTILE_POLE], env=env, check=True, timeout=120)
    log = tmp_path_factory.mktemp("browser-log") / "streamlit.log"
    with _browser.running_app(env, log_path=log) as (url, _proc):
        yield url


@pytest.fixture(scope="module")
def browser(app_url):
    from playwright.sync_api import sync_playwright

    import _browser

    with sync_playwright() as p:
        b = _browser.launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh French-speaking browser tab (1400 × 1000); ``page.dialogs`` records any alert."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    page = context.new_page()
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    context.close()
