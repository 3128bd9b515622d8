"""The ``ptce-geo`` command as a new user meets it: output formats from ``-o``, French
errors instead of tracebacks, French argparse texts, checked numeric options."""

import argparse
import gettext
import json
import os
import sqlite3

import geopandas as gpd
import pandas as pd
import pytest

from ptce_geo import boundaries, cli, registry, settings


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def no_english(text):
    for word in ("Traceback", "No such file", "Errno", "codec", "Max retries", "is a directory", "Permission denied"):
        assert word not in text, text


# ------------------------------------------------------------------ 1. -o gives the format


def test_boundaries_output_format_follows_the_extension(tmp_path, capsys):
    gpkg, xlsx = tmp_path / "reg.gpkg", tmp_path / "r.xlsx"
    assert cli.main(["boundaries", "region", "-o", str(gpkg)]) == 0
    assert len(gpd.read_file(gpkg)) == 18
    assert cli.main(["boundaries", "region", "-o", str(xlsx)]) == 0
    assert xlsx.read_bytes()[:2] == b"PK" and len(pd.read_excel(xlsx)) == 18


def test_layer_and_poles_list_output_format_follows_the_extension(fresh_data, mirror_dir, tmp_path, capsys):
    q = tmp_path / "q.gpkg"
    assert cli.main(["layer", "qpv", "-o", str(q)]) == 0
    assert len(gpd.read_file(q)) > 1000
    p = tmp_path / "p.geojson"
    assert cli.main(["poles", "list", "-o", str(p)]) == 0
    assert json.loads(p.read_text(encoding="utf-8"))["type"] == "FeatureCollection"
    h = tmp_path / "h.xlsx"
    assert cli.main(["poles", "history", "-o", str(h)]) == 0
    assert h.read_bytes()[:2] == b"PK"


def test_unknown_extension_or_disagreeing_format_is_refused(fresh_data, tmp_path, capsys):
    code, _, err = run(capsys, "boundaries", "region", "-o", str(tmp_path / "x.shp"))
    assert code == 1 and "'.shp'" in err and ".gpkg" in err and "--format" in err
    assert "inconnu" not in err  # a dedicated sentence, not the template
    code, _, err = run(capsys, "poles", "list", "--format", "csv", "-o", str(tmp_path / "p.gpkg"))
    assert code == 1 and "désaccord" in err and "'.gpkg'" in err
    code, _, err = run(capsys, "poles", "export", "--format", "xlsx", "-o", str(tmp_path / "p.csv"))
    assert code == 1 and "désaccord" in err
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ 2. no traceback


def test_output_errors_are_french(tmp_path, capsys):
    code, _, err = run(capsys, "boundaries", "region", "-o", str(tmp_path))
    assert code == 1 and "est un dossier" in err and repr(str(tmp_path)) in err
    code, _, err = run(capsys, "boundaries", "region", "-o", "/proc/x.csv")
    assert code == 1 and "'/proc/x.csv'" in err
    no_english(err)


def test_corrupt_registry_is_a_french_error(fresh_data, capsys):
    fresh_data.mkdir(parents=True)
    (fresh_data / registry.FILENAME).write_bytes(b"ceci n'est pas une base SQLite" * 100)
    code, _, err = run(capsys, "poles", "list")
    assert code == 1 and "Registre des pôles illisible" in err and "poles.sqlite" in err and "renommez" in err
    (fresh_data / registry.FILENAME).write_bytes(b"")  # an empty file has no tables
    code, _, err = run(capsys, "poles", "history")
    assert code == 1 and "illisible" in err
    with pytest.raises(sqlite3.Error):  # the error really comes from SQLite, translated
        sqlite3.connect(fresh_data / registry.FILENAME).execute("SELECT * FROM poles")


def test_data_dir_that_is_a_file_is_a_french_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("PTCE_GEO_DATA", str(tmp_path / "f"))
    code, _, err = run(capsys, "poles", "list")
    assert code == 1 and "PTCE_GEO_DATA" in err and "est un fichier" in err
    no_english(err)


def test_bad_number_in_settings_is_a_french_error(monkeypatch, capsys):
    monkeypatch.setenv("PTCE_GEO_HTTP_TIMEOUT", "abc")
    code, _, err = run(capsys, "data", "status")
    assert code == 1 and "PTCE_GEO_HTTP_TIMEOUT='abc'" in err and "unset PTCE_GEO_HTTP_TIMEOUT" in err
    monkeypatch.setenv("PTCE_GEO_HTTP_TIMEOUT", "2,5")
    monkeypatch.setenv("PTCE_GEO_HTTP_RETRIES", "0")
    with pytest.raises(Exception, match="PTCE_GEO_HTTP_RETRIES='0'"):
        settings.get()
    monkeypatch.setenv("PTCE_GEO_HTTP_RETRIES", "2")
    assert settings.get().http_timeout == 2.5


def test_an_os_error_no_handler_expected_is_still_french(monkeypatch, capsys):
    def boom(level, simplified=False):
        raise PermissionError(13, "Permission denied", "/root/secret")

    monkeypatch.setattr(boundaries, "load", boom)
    code, _, err = run(capsys, "boundaries", "region")
    assert code == 1 and "permission refusée" in err and "'/root/secret'" in err
    no_english(err)


# ------------------------------------------------------------------ 5. checked options


def test_top_must_be_at_least_one_and_region_codes_get_their_zero(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["gaps", "--top", "-3"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--top" in err and "'-3'" in err and "supérieur ou égal à 1" in err
    args = cli.build_parser().parse_args(["suggest", "--count", "2", "--region", "4"])
    assert args.region == "04"
    assert cli.build_parser().parse_args(["suggest", "--count", "2", "--region", "84"]).region == "84"


# ------------------------------------------------------------------ 6. integers stay integers


def test_commune_population_is_written_as_an_integer(tmp_path, capsys):
    path = tmp_path / "c.csv"
    assert cli.main(["boundaries", "commune", "-o", str(path)]) == 0
    table = pd.read_csv(path, dtype=str).set_index("code")
    assert table.at["01001", "population"] == "776"
    assert not table["population"].dropna().str.contains(r"\.").any()
    assert table["population"].isna().sum() >= 17  # Mayotte: empty, not 0


# ------------------------------------------------------------------ 10. offline and mirror


def test_offline_and_missing_mirror_are_said(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    monkeypatch.setenv("PTCE_GEO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PTCE_GEO_MIRROR", str(tmp_path / "pas-de-miroir"))
    code, _, err = run(capsys, "layer", "frr")
    assert code == 1 and "unset PTCE_GEO_OFFLINE" in err
    assert f"PTCE_GEO_MIRROR={str(tmp_path / 'pas-de-miroir')!r} n'existe pas" in err
    code, _, err = run(capsys, "data", "status")
    assert code == 1 and "n'existe pas" in err and "PTCE_GEO_OFFLINE" in err


def test_mirror_path_is_shown_as_set(tmp_path, monkeypatch, mirror_dir):
    link = tmp_path / "lien-miroir"
    os.symlink(mirror_dir, link)
    monkeypatch.setenv("PTCE_GEO_MIRROR", str(link))
    assert settings.get().mirror_dir == link and settings.mirror_warning() is None


# ------------------------------------------------------------------ 11. argparse in French


def test_argparse_speaks_french_only_for_ptce_geo(capsys):
    with pytest.raises(SystemExit):
        cli.main(["print", "--region", "32", "--france", "-o", "x.pdf"])
    err = capsys.readouterr().err
    assert "utilisation :" in err and "erreur :" in err and "incompatible avec l'argument --region" in err
    assert "usage:" not in err and "not allowed" not in err
    with pytest.raises(SystemExit):
        cli.main(["boundaries"])
    assert "obligatoire" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["inconnue"])
    assert "choix invalide : 'inconnue'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["poles", "-h"])
    out = capsys.readouterr().out
    assert "affiche cette aide et quitte" in out and "show this help" not in out
    # argparse itself is left as it was, for everyone else in the process
    assert argparse._ is gettext.gettext and argparse.ngettext is gettext.ngettext
    other = argparse.ArgumentParser(prog="autre")
    assert "usage: autre" in other.format_help() and "show this help message and exit" in other.format_help()


# ------------------------------------------------------------------ 12. history of an unknown pole


def test_history_of_an_unknown_pole_is_an_error(fresh_data, capsys):
    code, out, err = run(capsys, "poles", "history", "--pole", "cite-phare")
    assert code == 1 and out == "" and "'cite-phare'" in err and "cite-phares" in err
    code, out, _ = run(capsys, "poles", "history", "--pole", "cite-phares-le-phares")
    assert code == 0 and "cite-phares-le-phares" in out


def test_coverage_xlsx_parameters_sheet_is_in_french(tmp_path):
    from ptce_geo import coverage

    table = pd.DataFrame({"code": ["13"], "nom": ["Bouches-du-Rhône"], "poles": [2.0]})
    table.attrs["params"] = {"radius_km": 15.0, "use_perimeter": True, "zoning": "frr", "poles": 24,
                             "region": None, "candidates_in_zoning": False}
    table.attrs["vintages"] = {"communes": "COG 2025"}
    path = tmp_path / "c.xlsx"
    coverage.write(table, "xlsx", path)
    sheet = pd.read_excel(path, sheet_name="parametres")
    rows = dict(zip(sheet.iloc[:, 0], sheet.iloc[:, 1]))
    assert rows["Rayon (km)"] == 15 and rows["Périmètres déclarés"] == "oui" and rows["Région des sites"] == "toutes"
    assert rows["Sites choisis dans le zonage"] == "non" and rows["Zonage"].startswith("FRR")
    assert rows["Millésime : communes"] == "COG 2025"
    assert not any("radius_km" in str(k) or "use_perimeter" in str(k) for k in rows)
    assert pd.read_excel(path).at[0, "poles"] == 2 and str(pd.read_excel(path)["poles"].dtype).startswith("int")
