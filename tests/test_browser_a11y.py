"""Accessibility of the running app in headless Chromium (issue 16).

One Streamlit server and one browser for the module (``app_url``, ``browser`` in
conftest.py; as ``make run`` serves it: serve.py, with the French frontend). axe-core (bundled by ``axe-playwright-python``) audits every page in its
default state, with each tab and each folded section open, the map's own frame included; any
critical or serious violation fails. Every violation found (any impact) is written to
test-output/artifacts/axe-<page>.json and a screenshot of each page is saved beside it.
"""

from __future__ import annotations

import json

import pytest

import _browser

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"  # the extra pole of the shared app server (conftest.py)

PAGES = {
    "carte": "/?fond=aucun",
    "carte-lozere": "/?fond=aucun&territoire=dep-48&couches=poles,departements,communes,frr,territoires-industrie,"
                    "couverture",
    "poles": "/poles",
    "lacunes": "/lacunes",
    "territoire": "/territoire",
    "impression": "/impression",
    "donnees": "/donnees",
    "accessibilite": "/accessibilite",
}
MAPS = {"carte", "carte-lozere", "lacunes", "territoire"}
#: English texts of Streamlit and Leaflet that must not reach a reader (substrings)…
ENGLISH = ("Skip to main content", "Drag and drop", "Browse files", "per file", "Running...", "Zoom in", "Zoom out",
           "Close popup", "A JavaScript library", "Help for", "Collapse sidebar", "Expand sidebar", "Download as CSV",
           "Choose an option", "Clear all", "Increment", "Decrement", "Fullscreen", "Link to heading", "App pages",
           "Main menu", "Show/hide columns", "Remove ", "You need to enable JavaScript", "streamlit_folium")
#: … and whole texts (too short to look for inside other words)
ENGLISH_EXACT = {"Stop", "Upload", "Search", "Open", "Close", "Sidebar", "Rerun", "Settings", "Print", "Delete"}

_STRINGS = r"""() => {
  const out = [];
  const w = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  while (w.nextNode()) {
    const p = w.currentNode.parentElement;
    const t = w.currentNode.data.trim();
    if (t && p && !['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(p.tagName)) { out.push(t); }
  }
  document.querySelectorAll('[aria-label],[title],[placeholder],[alt]').forEach(e => {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) { const v = e.getAttribute(a); if (v) { out.push(v); } }
  });
  return out;
}"""


def _open(page, app_url, name):
    page.goto(app_url + PAGES[name])
    _browser.settle(page)
    if name.startswith("carte"):
        _browser.map_frame(page, timeout=180)
    elif name in MAPS:
        page.locator("iframe[title]").first.wait_for(timeout=180_000)
        frame = page.frame_locator("iframe[title]").first
        frame.locator(".leaflet-container").wait_for(timeout=180_000)
    page.wait_for_timeout(500)


def _states(page):
    """Yield the name of each state of the page to audit: as loaded, each further tab, every
    folded section opened."""
    yield "initial"
    tabs = page.get_by_role("tab").all()
    for tab in tabs[1:]:
        label = " ".join(tab.inner_text().split())
        tab.click()
        _browser.settle(page)
        yield f"onglet « {label} »"
    if tabs:
        tabs[0].click()
        _browser.settle(page)
    closed = page.locator("[data-testid='stExpander'] details:not([open]) > summary")
    if closed.count():
        for i in range(closed.count()):
            closed.nth(0).click()
            page.wait_for_timeout(300)
        _browser.settle(page)
        yield "sections dépliées"


def _strings(page) -> list[str]:
    out = []
    for frame in page.frames:
        try:
            out += frame.evaluate(_STRINGS)
        except Exception:  # noqa: BLE001 - a frame replaced meanwhile
            continue
    return out


def _english(strings) -> list[str]:
    return sorted({s for s in strings if s in ENGLISH_EXACT or any(e in s for e in ENGLISH)})


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_audit(page, app_url, output_dir, name):
    """No critical or serious axe-core violation on the page, in any of its states, map frame included;
    the page and its frames declare French and show none of Streamlit's or Leaflet's English texts."""
    _open(page, app_url, name)
    for frame in page.frames:
        assert frame.evaluate("document.documentElement.lang") == "fr", (name, frame.url)
    found, blocking = {}, []
    for state in _states(page):
        english = _english(_strings(page))
        assert not english, (name, state, english)
        violations = _browser.axe_violations(page)
        found[state] = violations
        blocking += [dict(v, state=state) for v in violations if v["impact"] in ("critical", "serious")]
        if state == "initial":
            page.screenshot(path=str(output_dir / f"a11y_{name}.png"))
    if name == "impression":  # the preview's text alternative names the territory and the layers
        alt = page.locator("[data-testid='stImage'] img").first.get_attribute("alt")
        assert alt.startswith("Aperçu de la carte ") and "région Hauts-de-France" in alt, alt
        assert "couches : Limites départementales, Limites des EPCI" in alt and "Pôles (PTCE)" in alt, alt
    if name in MAPS:  # the map's frame was audited too
        assert len(page.frames) > 1 and any("streamlit_folium" in f.url for f in page.frames[1:])
    (output_dir / f"axe-{name}.json").write_text(json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    assert not blocking, "\n".join(f"— état {v['state']} :\n" + _browser.format_violations([v]) for v in blocking)
    assert page.dialogs == []


def test_french_everywhere(page, app_url):
    """The French labels the issue names (skip link, Leaflet's buttons, uploader, help buttons), and
    nothing English while the app runs. (``lang="fr"`` and the absence of the English strings on every
    page and state are checked by ``test_axe_audit``, which visits them all.)"""
    # everything that appears while the app runs (status of a run, spinners, toasts) is recorded, as it
    # is once the page's scripts have handled the change (read in the next task, as a reader would)
    page.add_init_script("""
      window.ptceSeen = [];
      const note = (t) => { t = (t || '').trim(); if (t && window.ptceSeen.length < 5000) { window.ptceSeen.push(t); } };
      const read = (m) => {
        if (m.type === 'characterData') { note(m.target.data); }
        else if (m.type === 'attributes') { note(m.target.getAttribute(m.attributeName)); }
        else { m.addedNodes.forEach(n => { if (n.nodeType === 3) { note(n.data); } else if (n.nodeType === 1) {
          note(n.innerText); n.querySelectorAll('[aria-label],[title]').forEach(e => {
            note(e.getAttribute('aria-label')); note(e.getAttribute('title')); }); } }); }
      };
      new MutationObserver((muts) => { setTimeout(() => muts.forEach(read), 0); })
        .observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                            attributeFilter: ['aria-label', 'title', 'placeholder']});
    """)
    _open(page, app_url, "carte")
    carte = set(_strings(page))
    assert "Aller au contenu principal" in carte
    assert {"Zoom avant", "Zoom arrière", "Bibliothèque JavaScript de cartes interactives"} <= carte
    assert any(s.startswith("Aide : ") for s in carte)
    _open(page, app_url, "poles")
    page.evaluate("window.ptceSeen = []")
    page.get_by_role("tab", name="Importer").click()
    _browser.settle(page)
    poles = set(_strings(page))
    assert "Choisir un fichier" in poles and any("200 Mo par fichier" in s for s in poles)
    assert not _english(page.evaluate("window.ptceSeen"))
    # a long run (new radius: the coverage is computed again): what shows meanwhile is French too
    # (Streamlit's « Running... / Stop » status is not shown with toolbarMode = "minimal"; if it were,
    # the frontend script would translate it)
    _open(page, app_url, "lacunes")
    page.evaluate("window.ptceSeen = []")
    slider = page.get_by_role("slider", name="Rayon autour de chaque pôle (km)")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    _browser.settle(page)
    during = page.evaluate("window.ptceSeen")
    assert any("rayon de 16 km" in t for t in during), during[:20]  # the run happened and was recorded
    assert not _english(during), _english(during)


def _active(page) -> dict:
    """The focused element, through frames: tag, accessible name, outline, frame depth."""
    return page.evaluate("""() => {
      let d = document, e = d.activeElement, depth = 0;
      while (e && e.tagName === 'IFRAME' && e.contentDocument) { d = e.contentDocument; e = d.activeElement; depth++; }
      if (!e) { return {}; }
      const cs = d.defaultView.getComputedStyle(e);
      const label = e.getAttribute('aria-label') || e.getAttribute('title') || (e.labels && e.labels[0]
                    ? e.labels[0].innerText : '') || e.innerText || '';
      return {tag: e.tagName, label: label.trim().replace(/\\s+/g, ' '), depth: depth, role: e.getAttribute('role'),
              outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth), type: e.getAttribute('type')};
    }""")


def _tab_to(page, match, limit=120, shift=False) -> dict:
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if shift else "Tab")
        page.wait_for_timeout(60)
        now = _active(page)
        if match(now):
            return now
    raise AssertionError(f"élément jamais atteint au clavier (dernier : {now})")


def _visible_focus(now):
    assert now["outline"] not in ("none", "") and now["width"] >= 2, now


def test_keyboard_only_path(page, app_url, output_dir):
    """Without a mouse: skip link, search a commune, its territory opens, toggle a layer, then the map's
    own controls (zoom, legend, a pole's card) — each with a visible focus."""
    page.goto(app_url + "/?fond=aucun")
    _browser.settle(page)
    _browser.map_frame(page, timeout=180)
    first = _tab_to(page, lambda a: a.get("tag") == "A", limit=3)
    assert first["label"] == "Aller au contenu principal"
    _visible_focus(first)
    search = _tab_to(page, lambda a: a.get("label", "").startswith("Rechercher une commune"))
    _visible_focus(search)
    page.keyboard.type("Mende")
    page.keyboard.press("Enter")
    # the commune's territory opens: its département on the map, its figures in the panel
    page.get_by_text("Commune : Mende (48095)").wait_for(timeout=120_000)
    page.get_by_role("heading", name="Département Lozère (48)").wait_for(timeout=60_000)
    _browser.map_frame(page, where=lambda s: "recherche" in s["layers"])
    assert "territoire=dep-48" in page.url
    # toggle a layer with the space bar
    box = _tab_to(page, lambda a: a.get("label", "").startswith("Communes — territoire"))
    _visible_focus(box)
    page.keyboard.press("Space")
    frame = _browser.map_frame(page, where=lambda s: "communes" in s["layers"])
    assert page.get_by_label("Communes — territoire choisi seulement").is_checked()
    # into the map: the map itself, then a pole (its name is its accessible name), zoom, legend
    _tab_to(page, lambda a: a.get("depth") and a.get("role") == "region")
    # the test pole in Mende: its hostile name is its accessible name, as text
    pole = _tab_to(page, lambda a: a.get("depth") and a.get("label", "").startswith("Pôle ") and XSS in a["label"],
                   limit=60)
    _visible_focus(pole)
    page.keyboard.press("Enter")
    frame.locator(".leaflet-popup-content").wait_for(timeout=10_000)
    close = _active(page)
    assert close["label"] == "Fermer la fiche"  # the focus went into the card
    page.keyboard.press("Escape")  # closes it; the focus goes back to the pole
    frame.locator(".leaflet-popup-content").wait_for(state="detached", timeout=10_000)
    assert XSS in _active(page)["label"]
    zoom = frame.evaluate("window.ptceMap.getZoom()")
    zoom_in = _tab_to(page, lambda a: a.get("label") == "Zoom avant", limit=40)
    _visible_focus(zoom_in)
    page.keyboard.press("Enter")
    page.wait_for_timeout(800)
    assert frame.evaluate("window.ptceMap.getZoom()") > zoom  # one step (zoomDelta) closer
    legend = _tab_to(page, lambda a: a.get("tag") == "SUMMARY" and a.get("label") == "Légende", limit=10)
    _visible_focus(legend)
    before = frame.evaluate("document.querySelector('.ptce-legend').open")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert frame.evaluate("document.querySelector('.ptce-legend').open") is (not before)
    page.screenshot(path=str(output_dir / "a11y_clavier_legende.png"))
    # past the map: its text version, whose folded list opens with the keyboard
    summary = _tab_to(page, lambda a: a.get("tag") == "SUMMARY" and "Pôles affichés (" in a.get("label", ""),
                      limit=40)
    _visible_focus(summary)
    page.keyboard.press("Enter")
    table = page.locator("[data-testid='stTable'] table").filter(has_text=XSS)
    table.wait_for(timeout=10_000)
    assert table.locator("th").first.inner_text().strip() == "Pôle"
    assert page.locator("img[src='x']").count() == 0 and page.dialogs == []
