"""Page « Territoire » (AppTest): a département, an EPCI, a commune; figures match coverage.by_territory."""

from pathlib import Path


import pandas as pd

from ptce_geo import coverage

ROOT = Path(__file__).resolve().parents[1]


def metrics(at):
    return {m.label: m.value.replace("\u202f", "") for m in at.metric}


def test_territoire_departement_epci_commune(app_page, mirror_dir):
    at = app_page("territoire", timeout=180)
    at.text_input(key="territoire_recherche").set_value("Seine-Saint").run()
    assert not at.exception
    assert at.selectbox(key="territoire_code").value == "93"
    assert any("Seine-Saint-Denis (93)" in s.value for s in at.header)
    expected = coverage.by_territory(coverage.compute(15.0), "departement").set_index("code").loc["93"]
    shown = metrics(at)
    assert int(shown["Population prioritaire (toutes zones)"]) == expected["priority_population"]
    assert int(shown["dont couverte"]) == expected["priority_population_covered"]
    assert int(shown["Pôles localisés"]) == expected["poles"] >= 2  # Cité Phares, POPE are in 93
    zonings = at.dataframe[0].value
    assert zonings["Zonage"].tolist()[0] == "QPV (quartiers)" and len(zonings) == 5
    assert zonings["Unités"].iloc[0] == expected["qpv_count"] > 0 and pd.isna(zonings["Population"].iloc[0])
    # the table of the département's QPV, covered or not
    [qpv] = [d.value for d in at.dataframe if "Distance au contour (km)" in d.value.columns]
    assert len(qpv) == expected["qpv_count"] and set(qpv["Couvert"]) <= {"oui", "non"}
    assert (qpv["Couvert"] == "oui").sum() == expected["qpv_covered"]
    assert qpv["Habitants (INSEE)"].isna().all()
    assert not at.error
    at.slider(key="territoire_rayon").set_value(60).run()
    assert int(metrics(at)["dont couverte"]) >= expected["priority_population_covered"]
    # an EPCI, then a commune
    at.selectbox(key="territoire_niveau").set_value("epci").run()
    at.text_input(key="territoire_recherche").set_value("200054781").run()
    assert not at.exception and at.selectbox(key="territoire_code").value == "200054781"
    at.selectbox(key="territoire_niveau").set_value("commune").run()
    at.text_input(key="territoire_recherche").set_value("Mende").run()
    assert not at.exception
    assert any("Mende (48095)" in s.value for s in at.header)
    at.text_input(key="territoire_recherche").set_value("zzzz introuvable").run()
    assert not at.exception and any("introuvable" in i.value for i in at.info)


def test_search_ignores_accents_and_points_to_the_right_level(app_page, mirror_dir):
    at = app_page("territoire", timeout=180)
    at.text_input(key="territoire_recherche").set_value("lozere").run()
    assert not at.exception
    assert at.selectbox(key="territoire_code").value == "48"
    at.text_input(key="territoire_recherche").set_value("Mende").run()  # a commune, not a département
    assert not at.exception
    [info] = [i.value for i in at.info]
    assert "Aucun territoire de niveau « Département » ne correspond à « Mende »" in info
    assert "commune(s) de ce nom : changez le « Niveau »" in info
