"""Page « Lacunes » (AppTest): ranked gaps, figures that follow the settings, downloads."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ptce_geo import coverage

ROOT = Path(__file__).resolve().parents[1]


def run_lacunes() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception
    at.switch_page("app_pages/lacunes.py").run()
    assert not at.exception, at.exception
    return at


def metric(at, label):
    return {m.label: m.value for m in at.metric}[label]


def test_lacunes_ranked_table_map_and_downloads(mirror_dir):
    at = run_lacunes()
    assert at.title[0].value.startswith("Lacunes")
    table = at.dataframe[0].value
    assert len(table) == 100 and table["Rang"].tolist() == list(range(1, 101))
    pop = table["Population prioritaire"].to_numpy()
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
    epci = at.dataframe[0].value
    assert epci["Code"].str.fullmatch(r"\d{9}").all()


def test_lacunes_offline_without_layers_still_renders(tmp_path, monkeypatch):
    from ptce_geo import _http

    monkeypatch.delenv("PTCE_GEO_MIRROR", raising=False)
    monkeypatch.setattr(_http, "raw_dir", lambda: tmp_path / "raw")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("app_pages/lacunes.py").run()
    assert not at.exception
    assert len(at.warning) >= 1  # names the missing layers


def test_lacunes_suggestions_match_coverage_suggest(mirror_dir):
    at = run_lacunes()
    assert len(at.dataframe) == 2  # gaps, suggestions
    shown = at.dataframe[1].value
    expected = coverage.suggest(coverage.compute(15.0), 5)
    assert shown["Code"].tolist() == expected["code"].tolist()
    assert shown["Gain cumulé"].iloc[-1] == expected["gain_population"].sum()
    at.selectbox(key="suggestion_region").set_value("84").run()
    assert not at.exception
    in_84 = at.dataframe[1].value
    assert in_84["Département"].isin(["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"]).all()
