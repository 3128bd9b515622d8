"""Issue 13, items 6 and 7: exports that cannot attack a spreadsheet, in every export and format,
an exported file that imports back to the exact names; sectors as a guide, not a gate."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ptce_geo import _text, cli, coverage, export, importer, poles, registry, webmap

ROOT = Path(__file__).resolve().parents[1]
FORMULAS = ['=HYPERLINK("http://exemple.invalid/?v=1";"clic")', "+33 pôle", "-pôle moins", "@pôle arobase",
            "'=déjà une apostrophe", "''deux apostrophes", "'Ti Pôle"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
        return True
    except ValueError:
        return False


def assert_csv_safe(data: bytes, sep: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=sep))
    for row in rows:
        for cell in row:
            assert not cell.startswith(TRIGGERS) or _is_number(cell), cell
    return rows


def assert_xlsx_safe(data: bytes) -> openpyxl.Workbook:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name), name
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value
    return wb


@pytest.fixture
def formula_poles(fresh_data):
    ids = [registry.add({"nom": name, "code_insee": code, "secteurs": ["insertion"], "perimetre": [],
                         "localise": False, "source": "=1+1"}, who="=cmd|' /C calc'!A0")
           for name, code in zip(FORMULAS, ["75056", "46102", "93039", "31446", "97411", "2A004", "13004"])]
    return ids


def test_cells_are_neutralised_and_numbers_stay_numbers():
    frame = pd.DataFrame({"=nom": ["=1+1", "-x", "ok", "\tt", "\rr", "@a", "'=b", "'c"],
                          "population": [-5, 3, 1, 2, 3, 4, 5, 6], "taux": [-0.5] * 8,
                          "code": ["-5", "01001", "2A004", "+1", "a", "b", "c", "d"]})
    for excel, sep in ((True, ";"), (False, ",")):
        rows = assert_csv_safe(export.to_csv_bytes(frame, excel=excel), sep)
        assert rows[0][0] == "'=nom"
        assert [r[0] for r in rows[1:]] == ["'=1+1", "'-x", "ok", "'\tt", "'\rr", "'@a", "''=b", "'c"]
        assert [r[1] for r in rows[1:3]] == ["-5", "3"] and rows[1][2] in ("-0,5", "-0.5")  # numbers unquoted
        assert rows[1][3] == "'-5"  # a text cell that looks like a negative number is text
        assert [_text.from_cell(r[0]) for r in rows[1:]] == list(frame["=nom"])
    wb = assert_xlsx_safe(export.to_xlsx_bytes(frame, meta={"source": "=SOMME(A1)", "rayon": -3}))
    # every text as written (XML reads a carriage return back as a line feed: the one exception)
    assert [c.value for c in wb["donnees"]["A"]][1:] == [v.replace("\r", "\n") for v in frame["=nom"]]
    assert wb["donnees"]["B2"].value == -5 and wb["parametres"]["B2"].value == "=SOMME(A1)"
    assert wb["parametres"]["B3"].value == -3


@pytest.mark.parametrize("text", ["", "=", "'", "''", "'='", "a", "-", "'-1", "\t", "'\t", "x'=", "'''=x"])
def test_the_apostrophe_round_trip_is_exact(text):
    assert _text.from_cell(_text.to_cell(text)) == text


def test_every_export_and_format_with_formula_names(formula_poles, tmp_path, capsys):
    assert registry.get(formula_poles[0])["nom"] == FORMULAS[0]  # the registry keeps the text as typed
    outputs = {}
    for command in (["poles", "list"], ["poles", "export"], ["poles", "history"]):
        for ext in ("csv", "xlsx"):
            path = tmp_path / f"{command[1]}.{ext}"
            assert cli.main([*command, "-o", str(path)]) == 0, capsys.readouterr().err
            outputs[path.name] = path.read_bytes()
    for name, data in outputs.items():
        if name.endswith(".csv"):
            sep = ";" if data.startswith(b"\xef\xbb\xbf") else ","
            rows = assert_csv_safe(data, sep)
            cells = {_text.from_cell(c) for r in rows for c in r}
        else:
            wb = assert_xlsx_safe(data)
            cells = {c.value for ws in wb.worksheets for r in ws.iter_rows() for c in r}
        assert set(FORMULAS) <= cells, name
        assert "=cmd|' /C calc'!A0" in cells if "history" in name else True
    # coverage, gaps and suggestions go through coverage.write
    table = pd.DataFrame({"code": ["46102"], "nom": [FORMULAS[0]], "population": [-1], "poles": [2.0]})
    for fmt in ("csv", "xlsx"):
        path = tmp_path / f"couverture.{fmt}"
        coverage.write(table, fmt, path)
        if fmt == "csv":
            assert_csv_safe(path.read_bytes(), ";")
            assert f"'{FORMULAS[0]}".replace('"', '""') in path.read_text(encoding="utf-8-sig")
            assert ";-1;" in path.read_text(encoding="utf-8-sig")
        else:
            assert assert_xlsx_safe(path.read_bytes())["donnees"]["B2"].value == FORMULAS[0]
    # the rejects file
    bad = tmp_path / "rejets-source.csv"
    bad.write_text(f"nom;code_insee\n{FORMULAS[1]};99999\nPôle correct;75056\n", encoding="utf-8")
    importer.run(bad, skip_invalid=True, rejects=tmp_path / "rejets.csv")
    rows = assert_csv_safe((tmp_path / "rejets.csv").read_bytes(), ";")
    assert rows[1][1] == "'" + FORMULAS[1]


def test_reimport_of_exported_files_gives_back_the_exact_names(formula_poles, tmp_path, monkeypatch):
    files = {"excel.csv": export.to_csv_bytes(poles.load(), excel=True), "plain.csv": export.to_csv_bytes(poles.load()),
             "poles.xlsx": export.to_xlsx_bytes(poles.load(), meta={"source": "x"})}
    monkeypatch.setenv("PTCE_GEO_DATA", str(tmp_path / "neuf"))  # a fresh registry (the seed only)
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        report = importer.check(path)
        names = [r["nom"] for r in report.valid_records]
        assert sorted(names) == sorted(FORMULAS), (name, names)
        assert all(r["source"] == "=1+1" for r in report.valid_records)


# ------------------------------------------------------------------ sectors


HOLDOUT = (
    "Nom du PTCE;Code commune;Ville;Secteurs d'activité;Année de création;Latitude;Longitude\r\n"
    "Pôle Emploi Solidaire du Ségala;46102;Figeac;emploi;2016;;\r\n"
    "Coopérative Incubatrice des Causses;46102;Figeac;Coopération, incubation;2019;44,6080;2,0310\r\n"
    "Ressourcerie du Quercy;46042;Cahors;Economie circulaire et réemploi;2012;;\r\n"
    "Tiers-lieu numérique;93066;Saint-Denis;\"numerique ; culturel\";2021;;\r\n"
    "Pôle sans secteur;75056;Paris;;2020;;\r\n"
)


def test_holdout_french_excel_file_with_unknown_sectors_imports_every_row_with_warnings(fresh_data, tmp_path):
    path = tmp_path / "holdout.csv"
    path.write_bytes(HOLDOUT.encode("cp1252"))
    report = importer.run(path, who="test")
    assert report.ok and len(report.imported_ids) == 5
    warned = [i for i in report.issues if i.gravite == "avertissement" and i.champ == "secteurs"]
    assert {i.ligne for i in warned} == {2, 3, 4, 5}
    text = report.text()
    assert "'emploi' hors vocabulaire, compris comme 'insertion'" in text
    assert "secteur libre 'Coopération'" in text and "secteur libre 'incubation'" in text
    got = {r["nom"]: r["secteurs"] for r in registry.records()}
    assert got["Pôle Emploi Solidaire du Ségala"] == ["insertion"]
    assert got["Coopérative Incubatrice des Causses"] == ["Coopération", "incubation"]
    assert got["Ressourcerie du Quercy"] == ["économie circulaire", "déchets/réemploi"]  # « et » read as two
    assert got["Tiers-lieu numérique"] == ["numérique", "culture"]
    assert got["Pôle sans secteur"] == []


def test_free_sectors_on_the_map_filters_and_edit_form(app_page, fresh_data, local_browser):
    free = registry.add({"nom": "Pôle libre", "code_insee": "46102", "secteurs": ["incubation", "insertion"],
                         "perimetre": [], "localise": True, "latitude": 44.608, "longitude": 2.031,
                         "geocodage": "saisie"}, who="test")
    frame = poles.load(located_only=True)
    colours = webmap.colour_map(poles.SECTEURS)
    row = frame[frame["id"] == free].iloc[0]
    [point] = webmap.pole_points(frame[frame["id"] == free], "secteurs", colours)
    assert point["c"] == webmap.OTHER_COLOUR  # coloured « autre » by its first sector, a free one
    assert "incubation, insertion" in point["p"]
    state = webmap.MapState(secteurs=("insertion",))
    assert free in set(webmap.filter_poles(frame, state)["id"])
    assert row["secteurs"] == ["incubation", "insertion"]
    at = app_page("poles", check=False)
    at.selectbox(key="poles-selected").set_value(free).run()
    sectors = at.multiselect(key=f"edit-{free}-secteurs")  # the edit form (the add form has its own)
    assert sectors.value == ["incubation", "insertion"]
    at.text_input(key=f"edit-{free}-membres").input("12")
    [save] = [b for b in at.button if b.label == "Enregistrer"]
    save.click().run()
    assert not at.exception
    assert registry.get(free)["secteurs"] == ["incubation", "insertion"] and registry.get(free)["membres"] == 12
