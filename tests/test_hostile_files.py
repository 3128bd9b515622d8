"""Hostile files (issue 17): bounded reading, outputs that replace only regular files, lone
surrogates and undecodable bytes, duplicated headers, truncated rows, registry errors that
tell the true cause. Bombs are refused before parsing (the fuzz test runs them under a
memory limit too)."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ptce_geo import _limits, cli, importer, registry
from ptce_geo._errors import DataFormatError, FileAccessError, RegistryError, ValidationError


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def reg(fresh_data):
    return registry.ensure()


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _xlsx_members() -> dict:
    wb = openpyxl.Workbook()
    wb.active.append(["nom", "code_insee"])
    wb.active.append(["Pôle", "75056"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


# ------------------------------------------------------------------ 1. bounded reading


def test_a_5_kb_workbook_declaring_the_whole_sheet_is_refused_before_parsing(reg, tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "nom"
    wb.active["XFD1048576"] = "x"
    path = tmp_path / "bombe.xlsx"
    wb.save(path)
    assert path.stat().st_size < 10_000
    before = digest(reg)
    with pytest.raises(DataFormatError) as err:
        importer.run(path, skip_invalid=True)
    msg = str(err.value)
    assert "1 048 576 lignes" in msg and "16 384 colonnes" in msg and "A1:XFD1048576" in msg
    assert f"{_limits.int_fr(_limits.MAX_SHEET_ROWS)} lignes" in msg and f"{_limits.MAX_COLUMNS} colonnes" in msg
    assert "endommagé" not in msg and digest(reg) == before


def test_two_million_empty_rows_and_a_gigabyte_member_are_refused(reg, tmp_path):
    members = _xlsx_members()
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<dimension ref="A1:B2"/><sheetData>' + b"<row/>" * 2_000_000
             + b"</sheetData></worksheet>")
    empty = tmp_path / "vide.xlsx"
    with zipfile.ZipFile(empty, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in {**members, "xl/worksheets/sheet1.xml": sheet}.items():
            zf.writestr(name, data)
    del sheet
    assert empty.stat().st_size < 300_000
    with pytest.raises(DataFormatError) as err:
        importer.check(empty)
    assert "limite" in str(err.value) and "vide.xlsx" in str(err.value)

    bomb = tmp_path / "types.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if name != "[Content_Types].xml":
                zf.writestr(name, data)
        with zf.open("[Content_Types].xml", "w", force_zip64=True) as fh:
            block = b" " * 2**20
            for _ in range(1024):  # 1 Gio of spaces, about 1 Mo compressed
                fh.write(block)
    assert bomb.stat().st_size < 3_000_000
    with pytest.raises(DataFormatError) as err:
        importer.check(bomb)
    msg = str(err.value)
    assert "'[Content_Types].xml' fait 1 Gio" in msg and "32 Mio" in msg and "endommagé" not in msg.split(".")[0]


def test_only_regular_files_are_read(reg, tmp_path):
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    with pytest.raises(FileAccessError, match="périphérique"):
        importer.check(zero)
    fifo = tmp_path / "tube.csv"
    os.mkfifo(fifo)
    with pytest.raises(FileAccessError, match="FIFO"):
        importer.check(fifo)  # refused at once: never waits for a writer
    big = tmp_path / "gros.csv"
    with open(big, "wb") as fh:
        fh.write(b"nom;code_insee\n")
        fh.truncate(40 * 2**20)
    with pytest.raises(FileAccessError) as err:
        importer.check(big)
    assert "40 Mio" in str(err.value) and "32 Mio" in str(err.value)
    link = tmp_path / "lien.csv"  # a link to a regular file is read
    (tmp_path / "vrai.csv").write_text("nom;code_insee\nPôle lié;75056\n", encoding="utf-8")
    link.symlink_to(tmp_path / "vrai.csv")
    assert importer.check(link).valid_records[0]["nom"] == "Pôle lié"


def test_too_many_columns_lines_or_rows_are_refused_naming_the_limit(reg, tmp_path):
    wide = tmp_path / "large.csv"
    wide.write_text(";".join(f"c{i}" for i in range(150)) + "\nA\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="150 colonnes, la limite est 100"):
        importer.check(wide)
    rows = tmp_path / "long.csv"
    rows.write_text("nom\n" + "A\n" * (_limits.MAX_ROWS + 1), encoding="utf-8")
    with pytest.raises(DataFormatError, match="plus de 100 000 lignes de pôles"):
        importer.check(rows)


# ------------------------------------------------------------------ 2. outputs


def test_o_refuses_a_symlink_a_folder_and_a_fifo(fresh_data, tmp_path, capsys):
    target = tmp_path / "precieux.txt"
    target.write_text("à garder", encoding="utf-8")
    link = tmp_path / "lien.csv"
    link.symlink_to(target)
    code, _, err = run(capsys, "poles", "list", "-o", str(link))
    assert code == 1 and "lien symbolique" in err and "ne sera pas remplacé" in err
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "à garder"
    code, _, err = run(capsys, "poles", "export", "-o", str(link))
    assert code == 1 and link.is_symlink()
    folder = tmp_path / "dossier.csv"
    folder.mkdir()
    code, _, err = run(capsys, "poles", "history", "-o", str(folder))
    assert code == 1 and "dossier" in err and folder.is_dir()
    fifo = tmp_path / "tube.csv"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "boundaries", "region", "-o", str(fifo))
    assert code == 1 and "FIFO" in err and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    code, _, err = run(capsys, "print", "--departement", "46", "-o", str(tmp_path / "lien.pdf"))  # absent: fine later
    pdf_link = tmp_path / "carte.pdf"
    pdf_link.symlink_to(target)
    code, _, err = run(capsys, "print", "--departement", "46", "-o", str(pdf_link))
    assert code == 1 and "lien symbolique" in err and target.read_text(encoding="utf-8") == "à garder"
    code, _, err = run(capsys, "print", "--atlas", "-o", str(pdf_link))
    assert code == 1 and "lien symbolique" in err


def test_o_refuses_a_device_node(fresh_data, tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.skip("créer un nœud de périphérique demande d'être root (test sauté : non root)")
    node = tmp_path / "full"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # a copy of /dev/full
    code, _, err = run(capsys, "poles", "list", "-o", str(node))
    assert code == 1 and "périphérique" in err
    assert stat.S_ISCHR(os.lstat(node).st_mode)  # still a device, not replaced by a regular file
    code, _, err = run(capsys, "print", "--departement", "46", "--format", "png", "-o", str(node))
    assert code == 1 and stat.S_ISCHR(os.lstat(node).st_mode)


def test_rejects_refuses_a_symlink_and_changes_nothing(reg, tmp_path, capsys):
    src = tmp_path / "p.csv"
    src.write_text("nom;code_insee\nPôle bon;75056\nPôle fantôme;99999\n", encoding="utf-8")
    target = tmp_path / "autre.txt"
    target.write_text("x", encoding="utf-8")
    link = tmp_path / "rejets.csv"
    link.symlink_to(target)
    before = digest(reg)
    code, _, err = run(capsys, "poles", "import", str(src), "--skip-invalid", "--rejects", str(link))
    assert code == 1 and "--rejects" in err and "lien symbolique" in err
    assert digest(reg) == before and link.is_symlink() and target.read_text(encoding="utf-8") == "x"
    # the default name is not taken by a dangling link either
    dangling = tmp_path / "p_rejets.csv"
    dangling.symlink_to(tmp_path / "nulle-part")
    assert importer.default_rejects_path(src) == tmp_path / "p_rejets-2.csv"


def test_dash_o_writes_to_standard_output(fresh_data, capsysbinary):
    assert cli.main(["poles", "export", "-o", "-"]) == 0
    out = capsysbinary.readouterr()
    assert out.out.startswith(b"\xef\xbb\xbfid;nom;") and "pôles exportés dans la sortie standard" in out.err.decode()
    assert cli.main(["print", "--departement", "46", "--format", "svg", "-o", "-"]) == 0
    svg = capsysbinary.readouterr().out
    assert svg.lstrip().startswith(b"<?xml") and b"</svg>" in svg


# ------------------------------------------------------------------ 3. surrogates and undecodable bytes


def test_a_lone_surrogate_is_refused_at_validation_naming_the_object(reg, tmp_path):
    path = tmp_path / "s.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
                    '{"nom": "P\\ud800le", "code_insee": "75056"}, "geometry": null}, {"type": "Feature", '
                    '"properties": {"nom": "Pôle sain", "code_insee": "75056"}, "geometry": null}]}', encoding="utf-8")
    report = importer.check(path)
    [bad] = [i for i in report.issues if i.gravite == "erreur"]
    assert (bad.ligne, bad.champ) == (1, "nom") and "U+D800" in bad.message
    assert "objet 1, champ « nom »" in report.text()
    before = digest(reg)
    with pytest.raises(ValidationError):
        importer.run(path)
    assert digest(reg) == before
    done = importer.run(path, skip_invalid=True, rejects=tmp_path / "r.csv")
    assert len(done.imported_ids) == 1 and "P\ufffdle" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")


def test_undecodable_who_and_file_name_are_french_not_tracebacks(reg, tmp_path, capsys):
    path = Path(os.fsdecode(bytes(tmp_path) + b"/p\xff.csv"))
    path.write_text("nom;code_insee\nPôle à nom de fichier bizarre;75056\n", encoding="utf-8")
    code, out, err = run(capsys, "poles", "import", str(path), "--dry-run")
    assert code == 0 and "p\ufffd.csv" in out
    before = digest(reg)
    code, out, err = run(capsys, "poles", "import", str(path), "--who", os.fsdecode(b"Jos\xe9"))
    assert code == 2 and "--who illisible" in err and "Traceback" not in err
    assert digest(reg) == before
    assert cli.main(["poles", "import", str(path), "--who", "José"]) == 0
    assert registry.history().iloc[0]["auteur"] == "José"
    assert "p\ufffd.csv" in registry.records()[-1]["source"] or any(
        "p\ufffd.csv" in (r["source"] or "") for r in registry.records())


# ------------------------------------------------------------------ 4. refuse what cannot be trusted


def test_duplicated_headers_are_refused_naming_them(reg, tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("nom;code_insee;Nom\nPôle A;75056;Pôle B\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        importer.check(csv_path)
    assert "en-têtes en double" in str(err.value) and "'Nom' (colonnes 1 et 3)" in str(err.value)
    wb = openpyxl.Workbook()
    wb.active.append(["nom", "code_insee", "nom"])
    wb.active.append(["Pôle A", "75056", "Pôle B"])
    wb.save(tmp_path / "d.xlsx")
    with pytest.raises(DataFormatError, match="en double"):
        importer.check(tmp_path / "d.xlsx")
    (tmp_path / "d.geojson").write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                                        '"properties": {"nom": "A", "nom": "B"}, "geometry": null}]}', encoding="utf-8")
    with pytest.raises(DataFormatError, match="clé\\(s\\) en double.*'nom'"):
        importer.check(tmp_path / "d.geojson")
    # two different headers for one field: the first is read, the report says the other is ignored
    (tmp_path / "a.csv").write_text("nom;Nom du pôle;code_insee\nPôle lu;Pôle ignoré;75056\n", encoding="utf-8")
    report = importer.check(tmp_path / "a.csv")
    assert report.valid_records[0]["nom"] == "Pôle lu" and report.ignored == ["Nom du pôle"]


def test_truncated_last_row_is_an_error_naming_it(reg, tmp_path):
    full = "nom;code_insee;annee\r\nPôle un;75056;2015\r\nPôle deux;46102;2016\r\n".encode()
    cut = tmp_path / "coupe.csv"
    cut.write_bytes(full[:-12])  # « Pôle deux;46 »
    report = importer.check(cut)
    [bad] = [i for i in report.issues if i.gravite == "erreur"]
    assert bad.ligne == 3 and "tronqué" in bad.message and len(report.valid_records) == 1
    with pytest.raises(ValidationError):
        importer.run(cut)
    no_break = tmp_path / "sans-fin.csv"
    no_break.write_bytes(full[:-2])
    report = importer.check(no_break)
    assert report.ok and any(i.ligne == 3 and "retour à la ligne" in i.message for i in report.issues)
    quote = tmp_path / "guillemet.csv"
    quote.write_bytes(b'nom;code_insee\r\nP1;75056\r\n"P2;46102\r\nP3;75056\r\n')
    with pytest.raises(DataFormatError, match="ligne 3 .*guillemet"):
        importer.check(quote)


# ------------------------------------------------------------------ 5. registry errors tell the true cause


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A 2 Mio tmpfs holding the data dir (root only: skipped elsewhere)."""
    if os.geteuid() != 0:
        pytest.skip("monter un petit système de fichiers demande d'être root (test sauté : non root)")
    mnt = tmp_path / "disque"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode:
        pytest.skip(f"montage tmpfs impossible ici : {done.stderr.decode(errors='replace').strip()}")
    monkeypatch.setenv("PTCE_GEO_DATA", str(mnt / "data"))
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_permission_and_damage_are_three_messages(small_disk, tmp_path):
    reg = registry.ensure()
    filler = small_disk / "remplissage"
    with open(filler, "wb", buffering=0) as fh:  # fill the disk, leaving a few kilobytes
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass
    os.truncate(filler, max(filler.stat().st_size - 12_000, 0))
    rows = "".join(f"Pôle de remplissage {i} avec un nom assez long pour occuper de la place;75056\n" for i in range(3000))
    big = tmp_path / "gros.csv"
    big.write_text("nom;code_insee\n" + rows, encoding="utf-8")
    before = digest(reg)
    with pytest.raises(RegistryError) as err:
        importer.run(big)
    full = str(err.value)
    assert full.startswith("Disque plein") and "intact" in full and "renommez" not in full and "graine" not in full
    assert digest(reg) == before
    filler.unlink()

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        with pytest.raises(RegistryError) as err:
            importer.run(big)
        denied = str(err.value)
        assert denied.startswith("Permission refusée") and "renommez" not in denied and "graine" not in denied
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert digest(reg) == before

    reg.write_bytes(b"SQLite format 3\x00" + b"\x07" * 8000)
    with pytest.raises(RegistryError) as err:
        registry.records()
    damaged = str(err.value)
    assert "endommagé" in damaged and "renommez" in damaged
    assert len({full.split(":")[0], denied.split(":")[0], damaged.split(":")[0]}) == 3


def test_a_failed_rollback_does_not_hide_the_cause(reg, monkeypatch):
    """SQLite rolls back by itself after a disk I/O error; the ROLLBACK that follows fails
    (« no transaction is active ») and used to replace the real error by « endommagé »."""
    import sqlite3

    from ptce_geo import _store_sqlite

    real = _store_sqlite._connect

    class Boom(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO poles"):
                super().execute("ROLLBACK")  # what SQLite does on SQLITE_IOERR
                exc = sqlite3.OperationalError("disk I/O error")
                exc.sqlite_errorcode = 10 | (3 << 8)  # SQLITE_IOERR_WRITE
                raise exc
            return super().execute(sql, *args)

    def connect(p):
        con = sqlite3.connect(p, timeout=15, isolation_level=None, factory=Boom)
        con.row_factory = sqlite3.Row
        return con

    monkeypatch.setattr(_store_sqlite, "_connect", connect)
    with pytest.raises(RegistryError) as err:
        registry.add({"nom": "X", "secteurs": [], "perimetre": [], "localise": False}, who="t")
    assert "entrée-sortie" in str(err.value) and "endommagé" not in str(err.value)
    monkeypatch.setattr(_store_sqlite, "_connect", real)


def test_rows_past_a_wrong_declared_dimension_are_read(reg, tmp_path):
    """A sheet declaring A1:B2 but holding six rows: every row is read, none silently dropped."""
    wb = openpyxl.Workbook()
    wb.active.append(["nom", "code_insee"])
    for i in range(5):
        wb.active.append([f"Pôle {i}", "75056"])
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "dimension.xlsx"
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(path, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "xl/worksheets/sheet1.xml":
                assert b'ref="A1:B6"' in data
                data = data.replace(b'ref="A1:B6"', b'ref="A1:B2"', 1)
            zout.writestr(name, data)
    assert len(importer.check(path).valid_records) == 5


def test_a_workbook_of_an_unknown_zip_version_is_a_damaged_file_not_a_traceback(reg, tmp_path):
    """Found by the fuzz test (seed 961285831): a central directory claiming « version 15.9 » made
    Python's zipfile raise NotImplementedError, which escaped as a traceback."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in _xlsx_members().items():
            zf.writestr(name, data)
    raw = bytearray(buf.getvalue())
    at = raw.find(b"PK\x01\x02")
    raw[at + 6:at + 8] = (159).to_bytes(2, "little")  # « version needed to extract » of the first member
    path = tmp_path / "version.xlsx"
    path.write_bytes(bytes(raw))
    before = digest(reg)
    with pytest.raises(DataFormatError, match="classeur Excel .xlsx valide"):
        importer.run(path)
    assert digest(reg) == before
