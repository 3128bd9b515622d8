"""Test settings: a session cache shared by all tests, a fresh data dir per test,
the shared mirror of official files, and no network.

The processed-boundaries cache is built once per session (the cold build is itself
tested in test_boundaries.py with its own cache dir).
"""

from __future__ import annotations

import os
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
    if not os.environ.get("PTCE_GEO_MIRROR") and DEFAULT_MIRROR.exists():
        os.environ["PTCE_GEO_MIRROR"] = str(DEFAULT_MIRROR)


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


@pytest.fixture
def local_browser(monkeypatch):
    """The visitor is a browser on the server's machine in ``local`` mode (may edit):
    ``st.context.ip_address`` is None, as a real loopback client gets it; AppTest's own mock
    runtime would otherwise give a non-loopback address (read-only visitor)."""
    from streamlit.runtime.context import ContextProxy

    monkeypatch.delenv("PTCE_GEO_EDITING", raising=False)
    monkeypatch.setattr(ContextProxy, "ip_address", property(lambda self: None))
