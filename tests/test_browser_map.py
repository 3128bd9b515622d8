"""End-to-end tests of the page « Carte » in headless Chromium (Debian's, driven by Playwright).

One Streamlit server for the module (``app_url`` in conftest.py: mirror, offline, its own
data dir holding one extra pole named ``<img src=x onerror=alert(1)>``); screenshots go to the
``output_dir`` fixture.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest

import _browser

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"  # the extra pole of the shared app server (conftest.py)


def _params(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _wait_url(page, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate(_params(page)):
            return _params(page)
        page.wait_for_timeout(200)
    raise AssertionError(f"URL inattendue : {page.url}")


def test_national_map_shows_clustered_poles(page, app_url, output_dir):
    page.goto(f"{app_url}/?fond=aucun")
    frame = _browser.map_frame(page, timeout=180)
    state = frame.evaluate("window.ptceState()")
    assert state["poles"] >= 17  # the seed's located poles + the test pole
    assert state["clusters"] >= 1 and state["single"] + state["clusters"] < state["poles"]
    assert frame.locator(".marker-cluster").count() == state["clusters"] == state["dom_clusters"]
    assert frame.locator(".ptce-pole").count() == state["single"] == state["dom_markers"]
    assert set(state["layers"]) == {"poles", "regions", "departements"}
    # the legend starts folded on a map this size (it would hide the north-east), one click opens it
    legend = frame.locator(".ptce-legend")
    assert legend.evaluate("d => d.open") is False
    legend.locator("summary").click()
    assert legend.evaluate("d => d.open") is True
    text = legend.inner_text()
    assert "Pôles" in text and "Régions" in text and "Départements" in text
    page.get_by_text("Sources et millésimes").wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(output_dir / "carte_nationale.png"))
    assert page.dialogs == []


def test_toggle_search_and_permalink(page, app_url, output_dir):
    page.goto(f"{app_url}/?fond=aucun&territoire=dep-48")
    first = _browser.map_frame(page, timeout=180, where=lambda s: "communes" not in s["layers"])
    assert "communes" not in first.evaluate("window.ptceState()")["layers"]
    # toggle a layer: communes of the chosen département
    page.get_by_text("Communes — territoire choisi seulement").click()
    frame = _browser.map_frame(page, where=lambda s: "communes" in s["layers"])
    _wait_url(page, lambda q: "communes" in q.get("couches", ""))
    n_communes = frame.evaluate("window.ptceMap.ptceLayers.communes.getLayers().length")
    assert n_communes == 152  # Lozère, COG 2025: only this département's communes are shipped
    # search a commune by name: zooms there, highlights it, puts it in the URL
    box = page.get_by_label("Rechercher une commune (nom ou code INSEE) ou une adresse")
    box.fill("Florac Trois Rivières")
    box.press("Enter")
    params = _wait_url(page, lambda q: q.get("commune") == "48061")
    frame = _browser.map_frame(page, where=lambda s: "recherche" in s["layers"])
    assert frame.evaluate("window.ptceMap.getZoom()") >= 10
    page.get_by_text("Commune : Florac Trois Rivières (48061)").wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(output_dir / "carte_lozere_recherche.png"))
    # reload the permalink in a fresh page: same territory, layers, searched commune
    permalink = page.url
    assert params["territoire"] == "dep-48" and "communes" in params["couches"]
    other = page.context.new_page()
    other.goto(permalink)
    frame2 = _browser.map_frame(other, timeout=120, where=lambda s: "recherche" in s["layers"])
    s2 = frame2.evaluate("window.ptceState()")
    assert {"poles", "communes", "regions", "departements", "recherche"} <= set(s2["layers"])
    assert frame2.evaluate("window.ptceMap.ptceLayers.communes.getLayers().length") == n_communes
    assert other.get_by_label("Communes — territoire choisi seulement").is_checked()
    assert _params(other) == params
    other.screenshot(path=str(output_dir / "carte_permalien.png"))
    other.close()


def test_address_search_offline_message(page, app_url):
    page.goto(f"{app_url}/?fond=aucun")
    _browser.map_frame(page, timeout=180)
    box = page.get_by_label("Rechercher une commune (nom ou code INSEE) ou une adresse")
    box.fill("12 rue imaginaire des Licornes")
    box.press("Enter")
    page.get_by_text("hors ligne", exact=False).first.wait_for(timeout=30_000)


def test_xss_pole_name_is_text_in_popup_and_panel(page, app_url, output_dir):
    page.goto(f"{app_url}/?fond=aucun&territoire=dep-48")
    frame = _browser.map_frame(page, timeout=180)
    # open the test pole's popup (zooming into its cluster if needed)
    opened = frame.evaluate("""() => new Promise(done => {
        setTimeout(() => done('délai dépassé'), 10000);
        const g = window.ptceMap.ptceLayers.poles;
        const m = g.getLayers().find(l => l.getTooltip().getContent().indexOf('onerror') >= 0);
        if (!m) { done('pôle absent'); return; }
        g.zoomToShowLayer(m, () => { m.openPopup(); setTimeout(() => done('ok'), 300); });
    })""")
    assert opened == "ok"
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for()
    assert XSS in popup.inner_text()
    assert popup.locator("img").count() == 0
    assert "javascript:" not in popup.inner_html()
    # the side panel lists it as text
    panel_item = page.get_by_text(XSS, exact=False).filter(visible=True).first  # (the text version's is folded)
    panel_item.wait_for()
    assert page.locator("img[src='x']").count() == 0
    page.wait_for_timeout(1000)
    page.screenshot(path=str(output_dir / "carte_xss.png"))
    assert page.dialogs == [], page.dialogs


def test_layers_are_shared_static_files(page, app_url, output_dir):
    """FRR and the coverage choropleth colour the communes file of the département: the browser
    fetches it once (HTTP cache), FRR is drawn as outlines over the choropleth, counts are right."""
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/app/static/layers/" in r.url else None)
    page.goto(f"{app_url}/?fond=aucun&territoire=dep-48&couches=poles,departements,communes,frr,couverture")
    frame = _browser.map_frame(page, timeout=180, where=lambda s: {"communes", "frr", "couverture"} <= set(s["layers"]))
    communes = [u for u in requests if "/communes--dep-48--" in u]
    assert len(communes) == 1, requests
    assert not any("/frr--" in u for u in requests)  # FRR ships no geometry of its own
    from ptce_geo import boundaries, priority

    in_48 = set(boundaries.commune_table().query("departement == '48'").index)
    n_frr = int(priority.load("frr")["code"].isin(in_48).sum())
    assert frame.evaluate("window.ptceMap.ptceLayers.frr.getLayers().length") == n_frr > 0
    assert frame.evaluate("window.ptceMap.ptceLayers.couverture.getLayers().length") == len(in_48)
    style = frame.evaluate("(() => { const l = window.ptceMap.ptceLayers.frr.getLayers()[0];"
                           " return [l.options.fillOpacity, l.options.weight]; })()")
    assert style == [0, 2.5]
    assert frame.evaluate("window.ptceFailed") == []
    page.screenshot(path=str(output_dir / "carte_lozere_frr_couverture.png"))


def test_server_compresses_frontend_and_caches_layers(app_url):
    """As `make run` serves it (serve.py): Streamlit's bundles gzip-compressed, layer files immutable."""
    import gzip
    import re
    import urllib.request

    html = urllib.request.urlopen(f"{app_url}/", timeout=30).read().decode()
    script = re.search(r'src="\.?/?(static/js/[^"]+\.js)"', html).group(1)
    req = urllib.request.Request(f"{app_url}/{script}", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = resp.read()
        assert resp.headers["Content-Encoding"] == "gzip"
    plain = urllib.request.urlopen(f"{app_url}/{script}", timeout=30).read()  # no Accept-Encoding
    assert gzip.decompress(body) == plain and len(body) < len(plain) / 2
    from ptce_geo import webmap

    url = webmap.publish_layer("regions", "")
    with urllib.request.urlopen(f"{app_url}{url}", timeout=30) as resp:
        assert "immutable" in resp.headers["Cache-Control"]
        assert resp.read().startswith(b'{"type":"FeatureCollection"')


def test_deep_link_opens_the_page_inside_the_app(page, app_url):
    """A link straight to a page (/lacunes) runs app.py's navigation: French page names, wide layout."""
    page.goto(f"{app_url}/lacunes")
    page.get_by_text("Lacunes : territoires prioritaires sans pôle").first.wait_for(timeout=120_000)
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Pôles" in nav and "Impression" in nav and "Données" in nav
    assert "poles" not in nav.split() and "app" not in nav.split()
    width = page.locator("[data-testid='stMainBlockContainer']").bounding_box()["width"]
    assert width > 900  # layout="wide" from app.py


def test_toggling_a_layer_keeps_the_view_and_the_map(page, app_url):
    """The layers change in place (streamlit-folium feature group): same iframe, the reader's own
    pan and zoom kept; choosing a territory moves the view."""
    page.goto(f"{app_url}/?fond=aucun")
    frame = _browser.map_frame(page, timeout=180)
    frame.evaluate("window.ptceMap.setView([45.76, 4.83], 9, {animate: false}) && null")
    frame.evaluate("window.ptceMarker = 1")  # survives only if the iframe is not reloaded
    page.get_by_text("Territoires d'industrie (2023-2027)").click()
    again = _browser.map_frame(page, where=lambda s: "territoires-industrie" in s["layers"])
    assert again.evaluate("window.ptceMarker") == 1
    zoom, lat, lon = again.evaluate("[ptceMap.getZoom(), ptceMap.getCenter().lat, ptceMap.getCenter().lng]")
    assert zoom == 9 and abs(lat - 45.76) < 0.01 and abs(lon - 4.83) < 0.01
    assert again.locator(".ptce-legend").count() == 1  # the previous legend was replaced, not stacked
    page.get_by_test_id("stSidebarUserContent").get_by_text("Département", exact=True).click()  # Ain (01), first
    moved = _browser.map_frame(page, where=lambda s: abs(s["center"][0] - 45.76) > 0.1)
    assert moved.evaluate("window.ptceMarker") == 1
    assert moved.locator(".ptce-legend").count() == 1
