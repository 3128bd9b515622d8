"""Page « Carte » (AppTest): national view, permalink state, département view, offline without data."""

from __future__ import annotations

from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [e.value for e in at.error]
    return "\n".join(map(str, parts))


def test_national_view(app_page, mirror_dir):
    at = app_page(timeout=240)
    assert not at.exception
    assert at.title[0].value.startswith("Carte des pôles")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Communes"] == "34\u202f875" and metrics["Départements"] == "101"
    assert int(metrics["Pôles affichés"]) > 0
    assert [cb.label for cb in at.checkbox if cb.value][:3] == ["Pôles (PTCE)", "Régions", "Départements"]
    text = _texts(at)
    assert "Sources et millésimes" in text and "COG 2025" in text
    assert not at.warning  # every default layer is available with the mirror
    assert dict(at.query_params) == {}  # the default state has a bare URL


def test_permalink_opens_departement_view_with_layers(app_page, mirror_dir):
    at = app_page(params={"territoire": "dep-48", "couches": "poles,communes,frr,qpv,couverture", "rayon": "25",
               "fond": "aucun"})
    assert not at.exception, at.exception
    assert at.radio(key="carte_niveau").value == "Département"
    assert at.selectbox(key="carte_dep").value == "48"
    assert at.checkbox(key="carte_couche_communes").value and at.checkbox(key="carte_couche_frr").value
    assert not at.checkbox(key="carte_couche_regions").value
    assert at.slider(key="carte_rayon").value == 25.0
    assert at.header[-1].value == "Département Lozère (48)" or "Lozère" in " ".join(s.value for s in at.header)
    assert not at.warning, [w.value for w in at.warning]
    qp = {k: v for k, v in at.query_params.items()}
    assert qp["territoire"] in ("dep-48", ["dep-48"])


def test_toggle_and_search_update_the_url(app_page, mirror_dir):
    at = app_page(timeout=240)
    at.checkbox(key="carte_couche_territoires-industrie").check().run()
    assert not at.exception
    assert "territoires-industrie" in str(at.query_params["couches"])
    at.text_input(key="carte_recherche").input("Mende").run()
    assert not at.exception
    assert str(at.query_params["commune"]).strip("[]'") == "48095"
    assert str(at.query_params["territoire"]).strip("[]'") == "dep-48"
    assert "Mende" in _texts(at)


def test_homonyms_offer_a_choice(app_page, mirror_dir):
    """« Saint-Denis » names four communes: the most populous is shown, the others offered."""
    at = app_page(timeout=240)
    at.text_input(key="carte_recherche").input("saint denis").run()
    assert not at.exception
    choice = at.selectbox(key="carte_homonyme")
    assert choice.label == "4 communes portent ce nom"
    assert choice.value == "97411" and str(at.query_params["commune"]).strip("[]'") == "97411"
    assert len(choice.options) == 4 and "Saint-Denis (Aude, 11339) — 512 hab." in choice.options
    choice.select("93066").run()
    assert not at.exception
    assert str(at.query_params["commune"]).strip("[]'") == "93066"
    assert str(at.query_params["territoire"]).strip("[]'") == "dep-93"
    assert "Commune : Saint\\-Denis (93066)" in _texts(at)  # name markdown-escaped


def test_bad_url_values_are_reported_not_fatal(app_page, mirror_dir):
    at = app_page(params={"territoire": "dep-999", "couches": "poles,licornes"})
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "'dep-999'" in warnings and "'licornes'" in warnings


def test_address_search_offline_says_so(app_page, mirror_dir):
    at = app_page(timeout=240)
    at.text_input(key="carte_recherche").input("12 rue imaginaire des Licornes").run()
    assert not at.exception
    assert any("hors ligne" in e.value for e in at.error)


def test_offline_without_mirror_or_cache(app_page, monkeypatch, fresh_cache, fresh_data):
    """Nothing cached, no mirror, offline: the page renders and names the missing layers."""
    monkeypatch.delenv("PTCE_GEO_MIRROR", raising=False)
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    at = app_page(params={"territoire": "dep-48", "couches": "poles,departements,qpv,frr,territoires-industrie"}, timeout=600)
    assert not at.exception, at.exception
    text = _texts(at)
    for label in ("Quartiers prioritaires (QPV 2024)", "Communes FRR", "Territoires d'industrie"):
        assert label in text, label
    assert "PTCE_GEO_MIRROR" in text or "ptce-geo" in text
    assert at.metric  # the panel still shows the territory's figures


def test_panel_counts_qpv_in_districts_and_states_the_registry(app_page, mirror_dir):
    """Réunion (974): QPV counted in districts, never a commune population under a QPV label; the
    poles known only by the département are counted there; the registry's size is said."""
    from ptce_geo import coverage

    at = app_page(params={"territoire": "dep-974", "couches": "poles,qpv", "zonage": "qpv", "fond": "aucun"}, timeout=300)
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    row = coverage.by_territory(coverage.compute(15.0, zoning="qpv"), "departement").set_index("code").loc["974"]
    assert metrics["QPV couverts"] == f"{row['qpv_covered']} sur {row['qpv_count']}"
    text = _texts(at)
    assert "Habitants des QPV : inconnus sans le fichier de population de l'INSEE" in text
    assert f"Pôles connus, non localisés : {row['poles_non_localises']}" in text and row["poles_non_localises"] >= 1
    assert "pôles connus, dont" in text and "ne connaît pas encore" in text
    assert "toute sa population" not in text  # the old proxy's wording is gone


def test_newcomers_share_one_build_and_an_edit_rebuilds_it(app_page, fresh_data, mirror_dir):
    """What every session shows is built once per state and data version (``ui.carte.BUILDS``): a
    second newcomer on the national view builds nothing; a registry write (a new ``registry.stamp()``)
    makes the next session build again and show the edit."""
    from ptce_geo import poles, registry
    from ptce_geo.ui import carte

    first = app_page(timeout=240)
    assert not first.exception, first.exception
    built = dict(carte.BUILDS)
    assert built["map"] and built["summary"] and built["base"]
    second = app_page(timeout=240)
    assert not second.exception, second.exception
    assert dict(carte.BUILDS) == built  # the second session reused the map, panel and text version
    assert _texts(second) == _texts(first)

    pole = poles.load(located_only=True).iloc[0]  # the first pole of the panel's list
    rec = registry.get(pole["id"])
    registry.update(rec["id"], {"nom": "Pôle renommé par le test"}, rec["version"], who="test")
    third = app_page(timeout=240)
    assert not third.exception, third.exception
    assert carte.BUILDS["map"] == built["map"] + 1 and carte.BUILDS["summary"] == built["summary"] + 1
    assert carte.BUILDS["base"] == built["base"]  # the base map does not depend on the data
    assert "Pôle renommé par le test" in _texts(third) and "Pôle renommé par le test" not in _texts(second)
