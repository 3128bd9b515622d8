"""Two app servers on one PostgreSQL registry, in headless Chromium: a pole renamed through the first
server appears on the map of the second at its next rerun (no restart, no shared memory).

Both servers (``streamlit run serve.py``, as ``make run``) start together on an empty database —
the seed is loaded once — and share the session's cache and static folder. Lean on purpose: one
test, one browser, two pages.
"""

from __future__ import annotations

import os
import time

import pytest

import _browser

pytestmark = pytest.mark.browser

TIMEOUT = 180_000  # ms: two servers and a browser on a shared 2-core machine
NEW_NAME = "FigeACteurs (renommé sur le serveur A)"


def _pole_names(frame) -> list[str]:
    return frame.evaluate("""() => {
        var g = (window.ptceMap.ptceLayers || {}).poles;
        return g ? g.getLayers().map(function(m) { return m.getTooltip().getContent(); }) : [];
    }""")


def _wait_names(page, predicate, timeout: float = 180.0) -> list[str]:
    deadline = time.monotonic() + timeout
    names: list[str] = []
    while time.monotonic() < deadline:
        try:
            frame = _browser.map_frame(page, timeout=30)
            names = _pole_names(frame)
            if predicate(names):
                return names
        except Exception:  # noqa: BLE001 - the map is being re-rendered
            pass
        page.wait_for_timeout(500)
    raise AssertionError(f"carte du serveur B : noms des pôles attendus absents ({names[:5]}…)")


def test_a_pole_edited_on_one_server_appears_on_the_other(pg_url, pg_cluster, tmp_path):
    if not _browser.chromium_available():
        pytest.skip(f"Chromium absent ({_browser.CHROMIUM}) : tests navigateur ignorés")
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    env = dict(os.environ, PTCE_GEO_DATA=str(data), PTCE_GEO_OFFLINE="1", PTCE_GEO_EDITING="local",
               PTCE_GEO_DATABASE_URL=pg_url)
    with _browser.running_app(env, log_path=tmp_path / "a.log", timeout=300) as (url_a, _a), \
            _browser.running_app(env, log_path=tmp_path / "b.log", timeout=300) as (url_b, _b), \
            sync_playwright() as p:
        browser = _browser.launch(p)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        # B shows the national map first: its caches hold the registry as it was
        page_b = context.new_page()
        page_b.set_default_timeout(TIMEOUT)
        page_b.goto(url_b)
        before = _wait_names(page_b, lambda names: "FigeACteurs" in names)
        assert NEW_NAME not in before

        # A renames the pole (mode local: a browser on the server's machine edits)
        page_a = context.new_page()
        page_a.set_default_timeout(TIMEOUT)
        page_a.goto(f"{url_a}/poles")
        page_a.get_by_role("tab", name="Historique").wait_for()
        page_a.get_by_label("Rechercher (nom, commune, secteur, appel…)").fill("figeacteurs")
        page_a.get_by_label("Rechercher (nom, commune, secteur, appel…)").press("Enter")
        page_a.get_by_text("Modifier la fiche").wait_for()
        visible = page_a.locator('[role="tabpanel"]:visible')  # the « Registre » tab (« Ajouter » has a form too)
        name = visible.get_by_label("Nom", exact=True)
        name.wait_for()
        page_a.wait_for_function("() => [...document.querySelectorAll('input')].some(i => i.value === 'FigeACteurs')")
        name.fill(NEW_NAME)
        visible.get_by_role("button", name="Enregistrer").click()
        page_a.get_by_text("Fiche enregistrée (version 2).").wait_for()

        # B's next rerun (a layer switched off) shows the new name: the stamp came from the database
        page_b.get_by_test_id("stSidebarUserContent").get_by_text("Régions", exact=True).click()
        after = _wait_names(page_b, lambda names: NEW_NAME in names)
        assert "FigeACteurs" not in after and len(after) == len(before)
        page_b.screenshot(path=str(tmp_path / "serveur-b.png"))
        browser.close()
    # the seed was loaded once by the two servers starting together; nothing was written to SQLite
    name = pg_url.rsplit("/", 1)[1]
    [(poles, history)] = pg_cluster.admin("SELECT (SELECT COUNT(*) FROM poles), (SELECT COUNT(*) FROM history)",
                                          database=name)
    assert history == poles + 1
    [(author,)] = pg_cluster.admin("SELECT channel FROM history ORDER BY seq DESC LIMIT 1", database=name)
    assert author == "app-local"
    assert not (data / "poles.sqlite").exists()
