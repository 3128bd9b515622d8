"""Import of pole files: French-Excel CSV, XLSX, GeoJSON; row-by-row report; all or nothing."""

import hashlib
import io
import json

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from ptce_geo import cli, importer, poles, registry
from ptce_geo._errors import PtceGeoError, ValidationError

# French Excel: cp1252, ";" separator, decimal comma. Lines 2, 3, 9 are valid; the others are not.
EXCEL_CSV = (
    "Nom du pôle;Code INSEE;Commune;Latitude;Longitude;Année de création;Secteurs;Appel\r\n"
    "Ressourcerie des Côteaux;31446;;43,5449;1,4808;2018;Déchets;AMI 2021\r\n"  # 2 ok
    "Pôle Léman;;Évian-les-Bains;;;2019;insertion;\r\n"  # 3 ok (commune name only)
    ";93039;;;;2015;;\r\n"  # 4 missing name
    "Pôle fantôme;99999;;;;;;\r\n"  # 5 unknown INSEE code
    "Pôle du futur;75056;;;;2999;;\r\n"  # 6 bad year
    "Pôle au large;;;10,5;-30,2;;;\r\n"  # 7 point outside France
    "Cité Phares (Le PHARES);93039;;;;;;\r\n"  # 8 duplicate of a seed pole
    "Pôle saisi à Figeac;46102;;44,6080;2,0310;;;AAP 2015\r\n"  # 9 ok
    "Pôle loin de sa commune;46102;;48,85;2,35;;;\r\n"  # 10 point far from its commune
    "Pôle à secteur inconnu;75056;;;;;astrologie;\r\n"  # 11 ok: a free sector, with a warning
)
BAD = {(4, "nom"), (5, "code_insee"), (6, "annee_creation"), (7, "latitude"), (8, "nom"), (10, "latitude")}


def digest(reg):
    """State of the registry: the SQLite file's hash, or every row of every table (either store)."""
    return reg() if callable(reg) else hashlib.sha256(reg.read_bytes()).hexdigest()


@pytest.fixture
def reg(registry_backend, snapshot):
    """A fresh registry in SQLite then in PostgreSQL (tests of what an import writes)."""
    registry.ensure()
    return snapshot


@pytest.fixture
def reg_sqlite(fresh_data):
    """A fresh SQLite registry (tests of reading and checking files)."""
    return registry.ensure()


@pytest.fixture
def excel_csv(tmp_path):
    path = tmp_path / "poles_excel.csv"
    path.write_bytes(EXCEL_CSV.encode("cp1252"))
    return path


def test_dry_run_reports_each_bad_row_and_field(reg, excel_csv, capsys):
    before = digest(reg)
    report = importer.check(excel_csv)
    errors = {(i.ligne, i.champ) for i in report.issues if i.gravite == "erreur"}
    assert errors == BAD
    assert "Windows-1252" in report.detail and "« ; »" in report.detail
    assert len(report.valid_records) == 4
    rec = {r["nom"]: r for r in report.valid_records}
    assert rec["Pôle à secteur inconnu"]["secteurs"] == ["astrologie"]
    assert (11, "secteurs") in {(i.ligne, i.champ) for i in report.issues if i.gravite == "avertissement"}
    assert rec["Ressourcerie des Côteaux"]["latitude"] == pytest.approx(43.5449)
    assert rec["Ressourcerie des Côteaux"]["secteurs"] == ["déchets/réemploi"]
    assert rec["Pôle Léman"]["code_insee"] == "74119" and rec["Pôle Léman"]["geocodage"] == "commune"
    assert cli.main(["poles", "import", str(excel_csv), "--dry-run"]) == 1
    out = capsys.readouterr().out
    for line, field in BAD:
        assert f"ligne {line}, champ « {field} »" in out
    assert "doublon" in out and "hors de France" in out and "code INSEE inconnu" in out
    assert digest(reg) == before


def test_import_without_skip_changes_nothing(reg, excel_csv, capsys):
    before = digest(reg)
    assert cli.main(["poles", "import", str(excel_csv)]) == 1
    assert "Import refusé" in capsys.readouterr().err
    assert digest(reg) == before
    assert not importer.default_rejects_path(excel_csv).exists()
    with pytest.raises(ValidationError) as err:
        importer.run(excel_csv)
    assert err.value.report.error_lines == sorted({n for n, _ in BAD})
    assert digest(reg) == before


def test_import_skip_invalid_imports_valid_rows_and_writes_rejects(reg, excel_csv, tmp_path):
    n_before = len(poles.load())
    rejects = tmp_path / "rejets.csv"
    assert cli.main(["poles", "import", str(excel_csv), "--skip-invalid", "--rejects", str(rejects), "--who", "Bob"]) == 0
    after = poles.load()
    assert len(after) == n_before + 4
    added = after[after["nom"].isin(["Ressourcerie des Côteaux", "Pôle Léman", "Pôle saisi à Figeac"])]
    assert len(added) == 3 and added["localise"].all()
    assert set(added["geocodage"]) == {"saisie", "commune"}
    table = pd.read_csv(rejects, sep=";", dtype=str, encoding="utf-8-sig")
    assert list(table["ligne"].astype(int)) == [4, 5, 6, 7, 8, 10]
    assert table["motifs"].str.len().gt(10).all()
    assert "code INSEE inconnu" in table.set_index("ligne").loc["5", "motifs"]
    hist = registry.history()
    assert (hist["action"] == "import").sum() == 4 and set(hist.loc[hist["action"] == "import", "auteur"]) == {"Bob"}
    # importing the same file again: every valid row is now a duplicate
    again = importer.check(excel_csv)
    assert {(i.ligne, i.champ) for i in again.issues if i.gravite == "erreur"} >= {(2, "nom"), (3, "nom"), (9, "nom")}


def test_name_and_insee_code_are_enough_utf8_comma(reg, tmp_path):
    path = tmp_path / "min.csv"
    path.write_text("nom,code_insee\nPôle minimal,1053\nAutre pôle,2A004\n", encoding="utf-8")
    report = importer.run(path, who="t")
    assert report.ok and len(report.imported_ids) == 2
    got = poles.load().set_index("nom")
    assert got.at["Pôle minimal", "code_insee"] == "01053"  # the zero Excel ate is put back
    assert got.at["Autre pôle", "commune"] == "Ajaccio"


def test_xlsx_import(reg, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Nom", "INSEE", "Latitude", "Longitude", "Membres", "Site web"])
    ws.append(["Pôle tableur", 93039, 48.9349, 2.3392, 12, "https://exemple.org"])
    ws.append(["Pôle tableur bis", 97302, None, None, 3.5, None])  # 3.5 members: invalid
    path = tmp_path / "poles.xlsx"
    wb.save(path)
    report = importer.check(path)
    assert [(i.ligne, i.champ) for i in report.issues if i.gravite == "erreur"] == [(3, "membres")]
    assert report.valid_records[0]["membres"] == 12 and report.valid_records[0]["geocodage"] == "saisie"


def test_geojson_import(reg, tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom": "Pôle point"}, "geometry": {"type": "Point", "coordinates": [2.0262, 44.607]}},
        {"type": "Feature", "properties": {"nom": "Pôle polygone"},
         "geometry": {"type": "Polygon", "coordinates": [[[2, 44], [2.1, 44], [2.1, 44.1], [2, 44]]]}},
        {"type": "Feature", "properties": {"nom": "Pôle réunionnais"}, "geometry": {"type": "Point", "coordinates": [55.45, -20.88]}},
    ]}
    path = tmp_path / "poles.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    report = importer.check(path)
    assert [(i.ligne, i.champ) for i in report.issues if i.gravite == "erreur"] == [(2, "geometry")]
    recs = {r["nom"]: r for r in report.valid_records}
    assert recs["Pôle point"]["code_insee"] == "46102"  # the point tells the commune
    assert recs["Pôle réunionnais"]["departement"] == "974"


def test_commune_name_ambiguous_or_unknown(reg_sqlite, tmp_path):
    path = tmp_path / "noms.csv"
    path.write_text("nom;commune;departement\nA;Saint-Nazaire;\nB;Saint-Nazaire;44\nC;Atlantide;\n", encoding="utf-8")
    report = importer.check(path)
    errors = {(i.ligne, i.champ): i.message for i in report.issues if i.gravite == "erreur"}
    assert set(errors) == {(2, "commune"), (4, "commune")}
    assert "44184" in errors[(2, "commune")] and "ambiguë" in errors[(2, "commune")]
    assert report.valid_records[0]["code_insee"] == "44184"


def test_file_errors_are_domain_errors(reg, tmp_path):
    cases = {"vide.csv": b"", "sans_nom.csv": b"commune;code\nX;93039\n", "binaire.xlsx": b"PK\x03\x04garbage",
             "x.geojson": b"{not json", "x.pdf": b"%PDF"}
    before = digest(reg)
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(PtceGeoError):
            importer.run(path, skip_invalid=True)
    assert digest(reg) == before


def test_every_problem_of_a_row_is_reported_at_once(reg_sqlite, tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text("nom;code_insee;annee;secteurs\nPôle double faute;99999;2999;astrologie\n", encoding="utf-8")
    report = importer.check(path)
    assert {i.champ for i in report.issues if i.gravite == "erreur"} == {"code_insee", "annee_creation"}
    assert {i.champ for i in report.issues if i.gravite == "avertissement"} == {"secteurs"}


def test_commune_name_must_match_the_code(reg_sqlite, tmp_path):
    path = tmp_path / "marseille.csv"
    path.write_text("nom;code_insee;commune\nPôle phocéen;13004;Marseille\nPôle arlésien;13004;arles\n"
                    "Pôle dionysien;93066;St-Denis\nPôle parisien;75056;Paris 11e arrondissement\n", encoding="utf-8")
    report = importer.check(path)
    errors = {(i.ligne, i.champ): i.message for i in report.issues if i.gravite == "erreur"}
    assert set(errors) == {(2, "commune")}
    msg = errors[(2, "commune")]
    assert "'Marseille'" in msg and "'13004'" in msg and "'Arles'" in msg and "13055" in msg
    assert [r["commune"] for r in report.valid_records] == ["Arles", "Saint-Denis", "Paris"]


def test_sectors_separated_by_commas_or_semicolons(reg_sqlite, tmp_path):
    path = tmp_path / "secteurs.csv"
    path.write_text('nom;code_insee;secteurs\nA;75056;insertion, culture\nB;75056;"mobilité ; numérique"\n'
                    "C;75056;insertion et culture\n", encoding="utf-8")
    report = importer.check(path)
    recs = {r["nom"]: r for r in report.valid_records}
    assert recs["A"]["secteurs"] == ["insertion", "culture"] and recs["B"]["secteurs"] == ["mobilité", "numérique"]
    assert report.ok and recs["C"]["secteurs"] == ["insertion", "culture"]  # « et » understood, and said
    [warned] = [i for i in report.issues if i.gravite == "avertissement"]
    assert warned.ligne == 4 and "« ; »" in warned.message


def test_default_rejects_file_is_never_overwritten(reg_sqlite, tmp_path, capsys):
    rows = [["Nom", "Code INSEE"], ["Pôle bon", "75056"], ["Pôle fantôme", "99999"]]
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(tmp_path / "p.xlsx")
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom": "Pôle bon 2", "code_insee": "46102"}, "geometry": None},
        {"type": "Feature", "properties": {"nom": "Pôle fantôme 2", "code_insee": "99998"}, "geometry": None}]}
    (tmp_path / "p.geojson").write_text(json.dumps(doc), encoding="utf-8")
    assert cli.main(["poles", "import", str(tmp_path / "p.xlsx"), "--skip-invalid"]) == 0
    first = (tmp_path / "p_rejets.csv").read_bytes()
    assert str(tmp_path / "p_rejets.csv") in capsys.readouterr().out
    assert cli.main(["poles", "import", str(tmp_path / "p.geojson"), "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "p_rejets.csv").read_bytes() == first  # the first rejects are kept
    second = pd.read_csv(tmp_path / "p_rejets-2.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert str(tmp_path / "p_rejets-2.csv") in out and "Objets rejetés" in out
    assert list(second["objet"]) == ["2"] and second["nom"].iloc[0] == "Pôle fantôme 2"


def test_geojson_report_speaks_of_objects(reg_sqlite, tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom": "Pôle A", "code_insee": "75056"}, "geometry": None},
        {"type": "Feature", "properties": {"nom": "Pôle A", "code_insee": "75056"}, "geometry": None}]}
    path = tmp_path / "objets.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    text = importer.check(path).text()
    assert "objet 2, champ « nom »" in text and "doublon de l'objet 1" in text and "2 objet(s) lu(s)" in text
    assert "ligne" not in text


def test_file_problems_are_said_in_french(reg_sqlite, tmp_path):
    cases = {
        "absent.csv": None,
        "dossier": "dir",
        "sans_extension": b"nom\nA\n",
        "bizarre.csv": b"nom;commune\nA;\x81\x8d\x8f\xff\n",  # neither UTF-8 nor Windows-1252
        "faux.xlsx": b"ceci n'est pas un zip",
        "casse.geojson": b'{"type": "FeatureCollection", "features": [}',
        "ancien.xls": b"\xd0\xcf\x11\xe0",
    }
    expected = {"absent.csv": "introuvable", "dossier": "est un dossier", "sans_extension": "pas d'extension",
                "bizarre.csv": "ni UTF-8 ni Windows-1252", "faux.xlsx": "n'est pas un classeur Excel .xlsx valide",
                "casse.geojson": "ligne 1, colonne", "ancien.xls": ".xlsx"}
    for name, data in cases.items():
        path = tmp_path / name
        if data == "dir":
            path.mkdir()
        elif data is not None:
            path.write_bytes(data)
        with pytest.raises(PtceGeoError) as err:
            importer.check(path)
        message = str(err.value)
        assert expected[name] in message, message
        for english in ("No such file", "codec", "BadZipFile", "Expecting", "inconnu : '(aucune)'", "Errno"):
            assert english not in message, message


# ---------------------------------------------------------------- property-based

VALID_ROWS = [
    ["Pôle Alpha", "31446", "43,5449", "1,4808", "2018", "insertion"],
    ["Pôle Bêta", "46102", "", "", "2015", "déchets/réemploi; culture"],
    ["Pôle Gamma", "75056", "", "", "", ""],
]
HEAD = ["Nom du pôle", "Code INSEE", "Latitude", "Longitude", "Année de création", "Secteurs"]
CELL = st.one_of(st.text(max_size=12), st.sampled_from(["", "93039", "99999", "2A004", "1e309", "nan", "-0,0", "48,9",
                                                         "2015", "19x5", ";", '"', "\r\n", "<script>", "oui"]))
FAST = hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


def _csv_bytes(rows, sep, encoding):
    text = "\r\n".join(sep.join(r) for r in [HEAD, *rows]) + "\r\n"
    return text.encode(encoding, errors="replace")


def _attempt(reg, path, skip):
    """Run an import; return the number of poles added. Only domain errors may escape; a refused
    import leaves the registry file byte-for-byte unchanged; an accepted one adds exactly its valid rows."""
    before = digest(reg)
    n_before = len(registry.records())
    try:
        report = importer.run(path, skip_invalid=skip, rejects=path.with_suffix(".rej.csv"), who="hypothesis")
    except PtceGeoError:
        assert digest(reg) == before
        return 0
    n_after = len(registry.records())
    assert n_after - n_before == len(report.imported_ids) == len(report.valid_records)
    if not skip:
        assert report.ok
    return len(report.imported_ids)


@FAST
@given(data=st.data(), sep=st.sampled_from([";", ","]), encoding=st.sampled_from(["utf-8", "cp1252", "utf-8-sig"]),
       skip=st.booleans())
def test_mutated_csv_never_crashes_nor_half_writes(reg_sqlite, tmp_path_factory, data, sep, encoding, skip):
    rows = [list(r) for r in VALID_ROWS]
    for _ in range(data.draw(st.integers(0, 6))):
        r = data.draw(st.integers(0, len(rows) - 1))
        c = data.draw(st.integers(0, len(HEAD) - 1))
        rows[r][c] = data.draw(CELL)
    raw = bytearray(_csv_bytes(rows, sep, encoding))
    for _ in range(data.draw(st.integers(0, 3))):  # byte-level damage
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[pos:pos + data.draw(st.integers(1, 20))]
        else:
            raw[pos:pos] = data.draw(st.binary(max_size=8))
    path = tmp_path_factory.mktemp("csv") / "mutant.csv"
    path.write_bytes(bytes(raw))
    _attempt(reg_sqlite, path, skip)


def _xl_ok(text: str) -> bool:
    """Text openpyxl can store (no control characters)."""
    return not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text)


@FAST
@given(data=st.data(), skip=st.booleans())
def test_mutated_xlsx_never_crashes_nor_half_writes(reg_sqlite, tmp_path_factory, data, skip):
    wb = openpyxl.Workbook()
    ws = wb.active
    headers = list(HEAD)
    if data.draw(st.booleans()):
        headers[data.draw(st.integers(0, len(headers) - 1))] = data.draw(st.text(max_size=10).filter(_xl_ok))
    ws.append(headers)
    value = st.one_of(st.none(), CELL.filter(_xl_ok),
                      st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                      st.dates())
    for r in VALID_ROWS:
        row = list(r)
        for _ in range(data.draw(st.integers(0, 3))):
            row[data.draw(st.integers(0, len(row) - 1))] = data.draw(value)
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    raw = bytearray(buf.getvalue())
    if data.draw(st.booleans()):  # damage the zip container
        pos = data.draw(st.integers(0, 10**6)) % len(raw)  # (the zip's size varies with its timestamps)
        raw[pos:pos + data.draw(st.integers(1, 64))] = data.draw(st.binary(max_size=16))
    path = tmp_path_factory.mktemp("xlsx") / "mutant.xlsx"
    path.write_bytes(bytes(raw))
    _attempt(reg_sqlite, path, skip)
