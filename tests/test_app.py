"""Every page of the app runs without exception (streamlit.testing.v1.AppTest)."""

from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def test_carte_page_shows_departments(app_page):
    at = app_page("carte")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Départements"] == "101"
    assert metrics["Régions"] == "18"
