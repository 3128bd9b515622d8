"""Sign-in end to end in headless Chromium: a local OpenID Connect provider (``oidc-provider-mock``,
started here on a free port, no network), the app in ``auth`` mode reading a secrets file written
to a temporary folder (``--secrets.files``: the checkout's .streamlit is never touched).

A contributor signs in and proposes a pole placed by a click on the small map; an editor signs in
and validates it; the history names both. An anonymous visitor in ``auth`` mode, and any visitor
in ``off`` mode, see no write control and no file upload. Lean on purpose: one app server per mode
(the bare ``app.py``, no warm-up), one browser.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import _browser

pytestmark = pytest.mark.browser

CONTRIB = ("sub-camille", "camille@exemple.fr")
EDITOR = ("sub-dominique", "dominique@exemple.fr")
POLE = "Pôle des Causses (test navigateur)"
TIMEOUT = 120_000  # ms: the machine is shared


@pytest.fixture(scope="module")
def oidc():
    if not _browser.chromium_available():
        pytest.skip(f"Chromium absent ({_browser.CHROMIUM}) : tests navigateur ignorés")
    import oidc_provider_mock

    users = [oidc_provider_mock.User(sub=sub, claims={"email": email, "email_verified": True, "name": email.split("@")[0]})
             for sub, email in (CONTRIB, EDITOR)]
    with oidc_provider_mock.run_server_in_thread(port=_browser.free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def browser(oidc):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = _browser.launch(p)
        yield b
        b.close()


def _serve(tmp_path_factory, mode: str, data, secrets_text: str | None = None, port: int | None = None):
    env = dict(os.environ, PTCE_GEO_DATA=str(data), PTCE_GEO_OFFLINE="1", PTCE_GEO_EDITING=mode)
    extra: tuple[str, ...] = ()
    if secrets_text is not None:
        secrets = tmp_path_factory.mktemp(f"secrets-{mode}") / "secrets.toml"
        secrets.write_text(secrets_text, encoding="utf-8")
        extra = ("--secrets.files", str(secrets))
    log = tmp_path_factory.mktemp(f"log-{mode}") / "streamlit.log"
    return _browser.running_app(env, log_path=log, port=port, entry="app.py", extra_args=extra)


@pytest.fixture(scope="module")
def auth_app(oidc, tmp_path_factory):
    data = tmp_path_factory.mktemp("auth-data")
    env = dict(os.environ, PTCE_GEO_DATA=str(data), PTCE_GEO_OFFLINE="1")
    # the first editor, as the README says: the CLI on the server
    subprocess.run([sys.executable, "-m", "ptce_geo", "roles", "grant", EDITOR[1], "editeur"], env=env, check=True,
                   timeout=300, capture_output=True)
    port = _browser.free_port()
    secrets = f"""[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "{os.urandom(16).hex()}"
expose_tokens = ["access"]
client_id = "ptce-geo-test"
client_secret = "secret-de-test"
server_metadata_url = "{oidc}/.well-known/openid-configuration"
"""
    with _serve(tmp_path_factory, "auth", data, secrets, port) as (url, _proc):
        yield url, data


def _open_poles(context, url: str):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{url}/poles")
    page.get_by_role("heading", name="Pôles").first.wait_for()
    page.get_by_role("tab", name="Historique").wait_for()
    return page


def _assert_no_write_control(page) -> None:
    # the run has reached the end of the page: the search box and the history (last tab) are there
    page.locator('[data-testid="stTextInput"] input').first.wait_for()
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for(state="attached")
    page.wait_for_timeout(1000)
    assert page.locator('input[type="file"]').count() == 0
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    for label in ("Enregistrer", "Proposer ce pôle", "Proposer cette modification", "Ajouter au registre", "Valider",
                  "Supprimer définitivement", "Fusionner", "Importer dans le registre"):
        assert page.get_by_role("button", name=label).count() == 0, label
    tabs = [t.strip() for t in page.get_by_role("tab").all_inner_texts()]
    assert tabs == ["Registre", "Exporter", "Historique"], tabs
    # the only text field is the search box
    assert page.locator('[data-testid="stTextInput"] input').count() == 1


def _sign_in(context, url: str, who: tuple[str, str]):
    page = _open_poles(context, url)
    page.get_by_role("button", name="Se connecter").click()
    page.locator('input[name="sub"]').wait_for()  # the provider's authorisation form
    page.get_by_role("button", name=who[0]).click()  # its predefined user
    page.wait_for_url(f"{url}/**")
    page.goto(f"{url}/poles")
    page.get_by_text(f"Connecté : {who[1]}").wait_for()
    return page


def _visible(page, selector: str):
    return page.locator(f'[role="tabpanel"]:visible {selector}')


def test_contributor_proposes_editor_validates_anonymous_reads(browser, auth_app, output_dir, monkeypatch):
    url, data = auth_app
    anon = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = _open_poles(anon, url)
    page.get_by_role("button", name="Se connecter").wait_for()
    _assert_no_write_control(page)
    page.screenshot(path=str(output_dir / "poles_auth_anonyme.png"))
    anon.close()

    # a contributor proposes a new pole, placed by a click on the small map
    contrib = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = _sign_in(contrib, url, CONTRIB)
    page.get_by_text("rôle contributeur").first.wait_for()
    page.get_by_role("tab", name="Ajouter").click()
    _visible(page, 'input[aria-label="Nom"]').fill(POLE)
    _visible(page, 'input[aria-label="Nom"]').press("Tab")
    frame = _visible(page, 'iframe[title="streamlit_folium.st_folium"]').first
    frame.wait_for()
    page.wait_for_timeout(2000)  # Leaflet sizes itself once the tab is shown
    box = frame.bounding_box()
    page.screenshot(path=str(output_dir / "poles_auth_carte_avant_clic.png"))
    frame.click(position={"x": box["width"] / 2, "y": box["height"] / 2})  # the map's centre: middle of France
    latitude = _visible(page, 'input[aria-label="Latitude (ex. 44,5176)"]')
    page.wait_for_function("el => el.value !== ''", arg=latitude.element_handle(), timeout=TIMEOUT)
    code = _visible(page, 'input[aria-label="Code INSEE de la commune"]').input_value()
    page.screenshot(path=str(output_dir / "poles_auth_clic.png"))
    assert len(code) == 5, (code, latitude.input_value(), _visible(page, 'input[aria-label="Longitude (ex. 3,5003)"]').input_value())
    page.get_by_role("button", name="Proposer ce pôle").click()
    page.get_by_text("Proposition n° 1 enregistrée").wait_for()
    page.get_by_role("tab", name="Ajouter").click()
    page.wait_for_timeout(1500)
    assert latitude.input_value() == "" and _visible(page, 'input[aria-label="Nom"]').input_value() == ""  # emptied
    page.get_by_role("tab", name="Propositions").click()
    page.screenshot(path=str(output_dir / "poles_auth_contributeur.png"))
    contrib.close()

    # an editor validates it
    editor = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = _sign_in(editor, url, EDITOR)
    page.get_by_text("rôle editeur").first.wait_for()
    page.get_by_role("tab", name="Propositions").click()
    page.get_by_text("proposé par camille@exemple.fr").wait_for()
    page.screenshot(path=str(output_dir / "poles_auth_file_propositions.png"))
    page.get_by_role("button", name="Valider").click()
    done = page.get_by_text("Proposition n° 1 validée")
    done.wait_for()
    # the page reads the history row back: both signed-in identities
    assert f"auteur {CONTRIB[1]}, validateur {EDITOR[1]}" in done.inner_text()
    editor.close()

    monkeypatch.setenv("PTCE_GEO_DATA", str(data))
    from ptce_geo import registry

    rec = next(r for r in registry.records() if r["nom"] == POLE)
    assert rec["geocodage"] == "saisie" and rec["code_insee"] == code
    row = registry.history(rec["id"]).iloc[0]
    assert (row["auteur"], row["auteur_sub"], row["validateur"], row["validateur_sub"]) == (
        CONTRIB[1], CONTRIB[0], EDITOR[1], EDITOR[0])


def test_off_mode_any_visitor_reads_only(browser, tmp_path_factory, output_dir):
    data = tmp_path_factory.mktemp("off-data")
    with _serve(tmp_path_factory, "off", data) as (url, _proc):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = _open_poles(context, url)
        page.get_by_text("Atlas en lecture seule").wait_for()
        _assert_no_write_control(page)
        page.screenshot(path=str(output_dir / "poles_off.png"))
        context.close()
