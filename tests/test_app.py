"""Every page of the app runs without exception (streamlit.testing.v1.AppTest)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def run_page(page: str, timeout: float = 120) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    if page != "carte":
        at.switch_page(f"app_pages/{page}.py").run()
    return at


def test_carte_page_shows_departments():
    at = run_page("carte")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Départements"] == "101"
    assert metrics["Régions"] == "18"
