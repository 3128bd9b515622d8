"""Page « Accessibilité » (AppTest): the accessibility statement in the structure RGAA asks for."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ptce_geo import a11y

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["État de conformité", "Résultats des tests", "Contenus non accessibles",
            "Établissement de cette déclaration", "Retour d'information et contact", "Voies de recours"]


def _page(app_page, monkeypatch, contact: str | None = None) -> AppTest:
    if contact is None:
        monkeypatch.delenv("PTCE_GEO_CONTACT", raising=False)
    else:
        monkeypatch.setenv("PTCE_GEO_CONTACT", contact)
    return app_page("accessibilite")


def test_statement_states_level_tests_and_gaps(app_page, monkeypatch):
    at = _page(app_page, monkeypatch)
    assert at.title[0].value == "Accessibilité"
    assert [h.value for h in at.header] == SECTIONS
    text = "\n".join(m.value for m in at.markdown)
    # the level is claimed honestly: no formal audit was done
    assert "**partiellement conforme**" in text and "RGAA 4.1.2" in text and "106 critères" in text
    # the tests behind it, by file
    for name, _what in a11y.TESTS:
        assert name in text
        assert (ROOT / name.split("::")[0]).exists(), name
    # what is not accessible yet, and the ways of redress
    assert "PDF/UA" in text and "canevas" in text and "lecteurs d'écran réels" in text
    assert "Défenseur des droits" in text and "Libre réponse 71120" in text
    assert "PTCE_GEO_CONTACT" in text  # no contact set: the page says who to ask and how to set one


def test_contact_setting_is_shown_as_typed(app_page, monkeypatch):
    at = _page(app_page, monkeypatch, "accessibilite@example.org [clic](javascript:alert(1)) <b>")
    text = "\n".join(m.value for m in at.markdown)
    assert "Contact : accessibilite\\@example\\.org \\[clic\\]\\(javascript\\:alert\\(1\\)\\) \\<b\\>." in text
    assert "](javascript" not in text


def test_statement_is_in_the_navigation(app_page, monkeypatch):
    at = _page(app_page, monkeypatch)
    src = (ROOT / "app.py").read_text(encoding="utf-8")
    assert '"app_pages/accessibilite.py", title="Accessibilité"' in src
    assert (ROOT / "app_pages" / "accessibilite.py").read_text(encoding="utf-8").count("\n") < 10  # thin page
