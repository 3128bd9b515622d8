"""Page « Lacunes » (AppTest): ranked gaps, figures that follow the settings, downloads."""

from pathlib import Path


from ptce_geo import coverage

ROOT = Path(__file__).resolve().parents[1]


def metric(at, label):
    return {m.label: m.value for m in at.metric}[label]


def test_lacunes_ranked_table_map_and_downloads(app_page, mirror_dir):
    at = app_page("lacunes", timeout=180)
    assert at.title[0].value.startswith("Lacunes")
    table = at.dataframe[1].value
    assert len(table) == 100 and table["Rang"].tolist() == list(range(1, 101))
    pop = table["Population prioritaire (toutes zones)"].dropna().to_numpy()
    assert (pop[:-1] >= pop[1:]).all()
    expected = coverage.gaps(coverage.compute(15.0), "commune", top=100)
    assert table["Code"].tolist() == expected["code"].tolist()
    assert "rayon de 15 km autour de chaque pôle ; périmètres déclarés comptés ; zonage : toutes zones prioritaires" \
        in " ".join(c.value for c in at.caption)
    assert not at.error
    covered_15 = metric(at, "dont couverte")
    # a wider radius: more population covered, fewer gaps
    at.slider(key="lacunes_rayon").set_value(40).run()
    assert not at.exception
    assert int(metric(at, "dont couverte").replace("\u202f", "")) > int(covered_15.replace("\u202f", ""))
    assert "rayon de 40 km" in " ".join(c.value for c in at.caption)
    # EPCI level, QPV zoning
    at.selectbox(key="lacunes_zonage").set_value("qpv").run()
    at.radio(key="lacunes_niveau").set_value("epci").run()
    assert not at.exception
    epci = at.dataframe[1].value
    assert epci["Code"].str.fullmatch(r"\d{9}").all()


def test_lacunes_never_shows_a_qpv_population_without_insee(app_page, mirror_dir):
    """The issue's case: Lyon's 516,092 inhabitants were « priority inhabitants » because one QPV lies in
    Lyon. Without INSEE's QPV population no page figure may be a commune's population under a QPV label."""
    from ptce_geo import boundaries

    at = app_page("lacunes", timeout=180)
    lyon = int(boundaries.commune_table().loc["69123", "population"])
    headline = at.dataframe[0].value
    assert "QPV couverts sur 1\u202f584" in " ".join(headline["Chiffre clé"])
    assert "habitants" not in headline.set_index("Zonage").loc["Quartiers prioritaires (QPV 2024)", "Détail"]
    assert "Registre" in at.info[0].value and "pôles connus, dont" in at.info[0].value
    assert any("peut en avoir un que le registre ne connaît pas encore" in c.value for c in at.caption)
    at.selectbox(key="lacunes_zonage").set_value("qpv").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Habitants des QPV"] == "n.c."
    communes = at.dataframe[1].value
    assert communes["Habitants des QPV (INSEE)"].isna().all()
    assert "69123" in set(communes["Code"])  # Lyon is listed for its QPV…
    assert lyon not in set(communes["Habitants des QPV (INSEE)"].dropna())  # …never with its population as QPV
    at.radio(key="lacunes_niveau").set_value("qpv").run()
    assert not at.exception
    qpv = at.dataframe[1].value
    assert qpv["Code"].str.match(r"QN\d").all() and qpv["Habitants du QPV (INSEE)"].isna().all()
    dist = qpv["Pôle le plus proche du contour (km)"].dropna().to_numpy()
    assert (dist[:-1] >= dist[1:]).all()  # no population known: farthest first


def test_lacunes_offline_without_layers_still_renders(app_page, tmp_path, monkeypatch):
    monkeypatch.delenv("PTCE_GEO_MIRROR", raising=False)
    monkeypatch.setenv("PTCE_GEO_RAW", str(tmp_path / "raw"))
    at = app_page("lacunes", timeout=300)
    assert len(at.warning) >= 1  # names the missing layers


def test_lacunes_suggestions_match_coverage_suggest(app_page, mirror_dir):
    at = app_page("lacunes", timeout=180)
    assert len(at.dataframe) == 3  # headline figures, gaps, suggestions
    shown = at.dataframe[2].value
    expected = coverage.suggest(coverage.compute(15.0), 5)
    assert shown["Code"].tolist() == expected["code"].tolist()
    assert shown["Gain cumulé (habitants)"].iloc[-1] == expected["gain_population"].sum()
    at.selectbox(key="suggestion_region").set_value("84").run()
    assert not at.exception
    in_84 = at.dataframe[2].value
    assert in_84["Département"].isin(["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"]).all()
