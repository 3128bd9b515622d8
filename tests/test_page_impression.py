"""Page « Impression » (AppTest): territory, paper, layers, title, preview and download."""

from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def test_impression_previews_the_default_region(app_page, output_dir):
    at = app_page("impression", timeout=180)
    assert not at.exception
    assert at.title[0].value == "Impression"
    assert not at.error
    assert at.selectbox[0].value.startswith("Région — Hauts-de-France")
    assert at.text_input[0].value.endswith("— Hauts-de-France")
    images = at.get("image")
    assert images, "l'aperçu PNG doit s'afficher"
    buttons = at.get("download_button")
    assert buttons and "PDF" in buttons[0].proto.label


def test_impression_changes_territory_title_and_layers(app_page):
    at = app_page("impression", timeout=180)
    select = at.selectbox[0]
    label = next(o for o in select.options if o.startswith("Département — La Réunion"))
    select.set_value(label).run()
    assert not at.exception and not at.error
    at.text_input[0].set_value("Ma carte de La Réunion").run()
    at.multiselect[0].set_value(["departements", "poles"]).run()
    assert not at.exception and not at.error
    assert at.get("image")


def test_impression_rejects_two_commune_colourings(app_page):
    at = app_page("impression", timeout=180)
    at.multiselect[0].set_value(["zonage", "couverture"]).run()
    assert not at.exception
    assert at.error and "zonage" in at.error[0].value and "couverture" in at.error[0].value


def test_impression_national_map_does_not_preselect_epci(app_page):
    """EPCI limits are not drawn at national scale: not preselected there, so no « omitted » note."""
    at = app_page("impression", timeout=180)
    assert "epci" in at.multiselect[0].value
    at.selectbox[0].set_value("France entière").run()
    assert not at.exception and not at.error
    assert "epci" not in at.multiselect[0].value
