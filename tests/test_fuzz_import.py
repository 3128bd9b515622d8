"""Fuzz test of imports: at least 500 mutated CSV, XLSX and GeoJSON files per run.

Truncations, damaged bytes, bombs (a sheet declaring a million rows, ZIP members expanding
far beyond their size, hundreds of thousands of empty lines, separators or JSON objects),
lone surrogates, control characters, duplicated headers, formula and Markdown text, plus a
file over the size limit, a link to ``/dev/zero`` and a FIFO. Each file is imported (dry run,
all-or-nothing, or valid rows only) in a child process under a memory limit
(``resource.setrlimit``, ``tests/fuzz_worker.py``); for each the test checks: no uncaught
exception, a French message naming the file and the row or the limit, registry bytes
unchanged on refusal, exactly the valid rows added otherwise, and the child's peak memory.

Half the files come from a fixed seed, half from a seed drawn for this run and printed
(``PTCE_GEO_FUZZ_SEED=N`` replays it). Two children share the files (one per core).
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXED_SEED = 17
PER_SEED = 260  # files per seed: 2 × 260 = 520 per run
MEMORY_MB = 1536  # address space of a child (its libraries alone take ~470 MB)
PEAK_MB = 700  # resident memory a child may reach

HEAD = ["Nom du pôle", "Code INSEE", "Latitude", "Longitude", "Année de création", "Secteurs", "Site web", "Source"]
PLACES = [("31446", "43,5449", "1,4808"), ("46102", "44,6080", "2,0310"), ("75056", "", ""), ("93039", "", ""),
          ("97411", "", ""), ("2A004", "", "")]
HOSTILE_TEXT = ['=HYPERLINK("http://exemple.invalid/?x";"clic")', "+33 1 23", "-moins", "@arobase",
                "![img](http://exemple.invalid/pixel.png)", "[lien](javascript:alert(1))", r"Pôle $\frac{$",
                "<script>alert(1)</script>", ":red[rouge] **gras**", "'=quote", "Pôle\u202eevil"]
SECTORS = ["insertion", "emploi", "Coopération, incubation", "astrologie", "culture; numérique", ""]


def _name(rng: random.Random, i: int) -> str:
    return f"Pôle fuzz {rng.randrange(10**9)} n°{i}"


def _rows(rng: random.Random, n: int, hostile: bool = False) -> list[list[str]]:
    rows = []
    for i in range(n):
        code, lat, lon = rng.choice(PLACES)
        name = _name(rng, i)
        if hostile and rng.random() < 0.7:
            name = rng.choice(HOSTILE_TEXT) + f" {rng.randrange(10**9)}"
        rows.append([name, code, lat, lon, str(rng.randint(1990, 2024)), rng.choice(SECTORS),
                     rng.choice(["https://exemple.org", "javascript:alert(1)", ""]),
                     rng.choice(["", "![x](http://exemple.invalid/x.png)", "enquête 2024"])])
    return rows


def _csv(rows, head=HEAD, sep=";", encoding="utf-8", end="\r\n") -> bytes:
    def cell(v):
        return f'"{v}"' if any(c in v for c in (sep, '"', "\n")) else v
    text = end.join(sep.join(cell(c.replace('"', '""')) for c in r) for r in [head, *rows]) + end
    return text.encode(encoding, errors="replace")


def _xlsx(rows, head=HEAD) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in [head, *rows]:
        ws.append(r)
    for row in ws.iter_rows():  # text typed as text (« '=… » in a spreadsheet), not formulas
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _geojson(rows, head=HEAD) -> bytes:
    feats = []
    for r in rows:
        props = dict(zip(head, r))
        lat, lon = props.pop("Latitude"), props.pop("Longitude")
        geom = {"type": "Point", "coordinates": [float(lon.replace(",", ".")), float(lat.replace(",", "."))]} \
            if lat else None
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False).encode("utf-8")


def _damage(rng: random.Random, data: bytes) -> bytes:
    raw = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op, pos = rng.choice(["flip", "cut", "insert"]), rng.randrange(max(len(raw), 1))
        if op == "flip" and raw:
            raw[pos] = rng.randrange(256)
        elif op == "cut":
            del raw[pos:pos + rng.randint(1, 40)]
        else:
            raw[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(raw)


def _zip(members: dict, stored: set = frozenset()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data,
                        compress_type=zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _workbook_members() -> dict:
    with zipfile.ZipFile(io.BytesIO(_xlsx([["Pôle", "75056", "", "", "", "", "", ""]]))) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _sheet(rows_xml: str, dimension: str = "A1:B2") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{rows_xml}</sheetData></worksheet>'
            ).encode()


# Files a run always holds (kind, extension, builder); their outcome is known.
def _fixed_bombs() -> list[tuple[str, str, bytes, str]]:
    """(kind, extension, bytes, words the refusal must say)."""
    members = _workbook_members()
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>nom</t></is></c></row>'
    empty_rows = "".join(f'<row r="{i}"/>' for i in range(2, 150_002))
    wide = '<row r="2">' + "".join(f'<c r="A2"><v>{i}</v></c>' for i in range(1500)) + "</row>"
    big_types = b"<Types>" + b" " * (40 * 2**20) + b"</Types>"
    ratio_sheet = _sheet(header + " " * (30 * 2**20))
    out = [
        ("xlsx-dimension", "xlsx", None, "16 384 colonnes"),  # built below with openpyxl
        ("xlsx-empty-rows", "xlsx", _zip({**members, "xl/worksheets/sheet1.xml": _sheet(header + empty_rows)},
                                         stored={"xl/worksheets/sheet1.xml"}), "limite"),
        ("xlsx-content-types", "xlsx", _zip({**members, "[Content_Types].xml": big_types}), "limite"),
        ("xlsx-ratio", "xlsx", _zip({**members, "xl/worksheets/sheet1.xml": ratio_sheet}), "limite"),
        ("xlsx-wide-row", "xlsx", _zip({**members, "xl/worksheets/sheet1.xml": _sheet(header + wide)},
                                       stored={"xl/worksheets/sheet1.xml"}), "limite"),
        ("xlsx-members", "xlsx", _zip({**members, **{f"x/{i}.xml": b"x" for i in range(1100)}}), "limite"),
        ("csv-lines", "csv", b"nom;code_insee\r\n" + b"\n" * 600_000, "limite"),
        ("csv-separators", "csv", b"nom;code_insee\r\nA;" + b";" * 20_000 + b"\r\n", "limite"),
        ("csv-open-quote", "csv", b'nom;code_insee\r\n"Pole;75056\r\nB;75056\r\n', "ligne"),
        ("geojson-containers", "geojson", b'{"type":"FeatureCollection","features":[' + b"{}," * 1_100_000 + b"{}]}",
         "limite"),
        ("geojson-nesting", "geojson", b'{"type":"FeatureCollection","features":' + b"[" * 200_000 + b"]" * 200_000
         + b"}", "imbrication"),
    ]
    wb = openpyxl.Workbook()
    wb.active["A1"] = "nom"
    wb.active["XFD1048576"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    out[0] = ("xlsx-dimension", "xlsx", buf.getvalue(), "16 384 colonnes")
    return out


def _mutant(rng: random.Random, i: int) -> tuple[str, str, bytes, str]:
    """(kind, extension, bytes, mode) of one random file."""
    fmt = rng.choices(["csv", "xlsx", "geojson"], weights=[45, 30, 25])[0]
    kind = rng.choice(["valid", "hostile", "truncate", "damage", "dup-header", "control", "surrogate"])
    rows = _rows(rng, rng.randint(1, 6), hostile=kind in ("hostile", "truncate", "damage"))
    head = list(HEAD)
    mode = rng.choice(["check", "run", "skip"])
    if kind == "dup-header":
        head[rng.randrange(1, len(head))] = rng.choice(["Nom du pôle", "nom du pole", "NOM DU PÔLE"])
    if kind == "control":
        rows[0][0] += "\x07"
    if kind == "surrogate" and fmt == "geojson":
        rows[0][0] += "\ud800"
    if fmt == "csv":
        encoding = rng.choice(["utf-8", "cp1252", "utf-8-sig"])
        data = _csv(rows, head, sep=rng.choice([";", ","]), encoding=encoding)
        if kind == "surrogate":  # undecodable bytes (a CSV file cannot hold a lone surrogate)
            first = rows[0][0].encode(encoding)
            data = data.replace(first, first + b"\xed\xa0\x80\x81", 1)
    elif fmt == "xlsx":
        if kind == "control":
            rows[0][0] = rows[0][0].replace("\x07", "")  # openpyxl cannot store it
        data = _xlsx(rows, head)
    else:
        if kind == "dup-header":  # a duplicated key in one JSON object
            data = _geojson(rows).replace(b'"Code INSEE":', b'"Nom du p\xc3\xb4le": "doublon", "Code INSEE":', 1)
        else:
            data = _geojson_text(rows, head)
    if kind == "truncate":
        data = data[:rng.randrange(1, max(len(data), 2))]
    elif kind == "damage":
        data = _damage(rng, data)
    return f"{fmt}-{kind}", fmt, data, mode


def _geojson_text(rows, head) -> bytes:
    """GeoJSON whose strings may hold lone surrogates, written as JSON escapes (``\\ud800``)."""
    text = json.dumps(json.loads(_geojson([[c.replace("\ud800", "") for c in r] for r in rows], head)),
                      ensure_ascii=True)
    for r in rows:
        if "\ud800" in r[0]:
            clean = json.dumps(r[0].replace("\ud800", ""), ensure_ascii=True)[1:-1]
            text = text.replace(clean, clean + "\\ud800", 1)
    return text.encode("utf-8")


ENGLISH = ("Traceback", "Error:", "Expecting", "codec", "No such file", "Errno", "Permission denied", "invalid literal", "could not")
NAMES_SOMETHING = ("ligne", "objet", "limite", "colonne", "en-tête", "clé", "position", "octet", "illisible",
                   "n'est pas", "vide", "encodage", "imbrication", "trop gros", "feuille", "élément", "valide")


def _build(tmp: Path, seed: int) -> list[dict]:
    rng = random.Random(seed)
    jobs = []
    for i in range(PER_SEED):
        kind, ext, data, mode = _mutant(rng, i)
        path = tmp / f"s{seed}-{i:03d}.{ext}"
        path.write_bytes(data)
        jobs.append({"path": str(path), "mode": mode, "kind": kind})
    return jobs


@pytest.fixture(scope="module")
def fuzz_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    started = time.perf_counter()
    seed = int(os.environ.get("PTCE_GEO_FUZZ_SEED") or time.time_ns() % 2**31)
    print(f"\nfuzz des imports : graine fixe {FIXED_SEED}, graine de ce passage {seed} "
          f"(rejouer : PTCE_GEO_FUZZ_SEED={seed})")
    jobs = _build(tmp, FIXED_SEED) + _build(tmp, seed)
    expected = {}
    for kind, ext, data, words in _fixed_bombs():
        path = tmp / f"bomb-{kind}.{ext}"
        path.write_bytes(data)
        jobs.append({"path": str(path), "mode": "run", "kind": kind})
        expected[str(path)] = words
    big = tmp / "trop-gros.csv"
    with open(big, "wb") as fh:
        fh.write(b"nom;code_insee\r\n")
        fh.truncate(33 * 2**20)  # sparse: instant
    zero = tmp / "zero.csv"
    zero.symlink_to("/dev/zero")
    fifo = tmp / "tube.csv"
    os.mkfifo(fifo)
    for path, words in ((big, "limite"), (zero, "périphérique"), (fifo, "FIFO")):
        jobs.append({"path": str(path), "mode": "run", "kind": path.stem})
        expected[str(path)] = words
    generated = time.perf_counter()
    data_dir = tmp / "data"
    env = {**os.environ, "PTCE_GEO_DATA": str(data_dir), "PTCE_GEO_OFFLINE": "1"}
    # the registry is created once before the children share it
    subprocess.run([sys.executable, "-c", "from ptce_geo import registry; registry.ensure()"], env=env, check=True,
                   cwd=ROOT, timeout=300)
    halves = [jobs[0::2], jobs[1::2]]
    procs = []
    for n, half in enumerate(halves):
        job_file, out_file = tmp / f"job{n}.json", tmp / f"out{n}.json"
        job_file.write_text(json.dumps({"files": half, "memory_mb": MEMORY_MB}), encoding="utf-8")
        env_n = {**env, "PTCE_GEO_DATA": str(data_dir / f"w{n}")}
        subprocess.run([sys.executable, "-c", "from ptce_geo import registry; registry.ensure()"], env=env_n,
                       check=True, cwd=ROOT, timeout=300)
        procs.append((subprocess.Popen([sys.executable, str(ROOT / "tests" / "fuzz_worker.py"), str(job_file),
                                        str(out_file)], env=env_n, cwd=ROOT, stderr=subprocess.PIPE), out_file))
    results, peaks = [], []
    for proc, out_file in procs:
        _, err = proc.communicate(timeout=1800)
        assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
        got = json.loads(out_file.read_text(encoding="utf-8"))
        results += got["results"]
        peaks.append(got["peak_mb"])
    outcomes = {}
    for r in results:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    slow = sorted(results, key=lambda r: -r["seconds"])[:3]
    print(f"fuzz : {len(results)} fichiers, {outcomes}, en {time.perf_counter() - started:.0f} s (génération "
          f"{generated - started:.0f} s) ; pic mémoire des processus fils {max(peaks):.0f} Mo ; plus lents : "
          + ", ".join(f"{r['kind']} {r['seconds']:.1f} s" for r in slow))
    return {"results": results, "peaks": peaks, "expected": expected, "seed": seed}


def test_at_least_500_files_never_crash(fuzz_results):
    results = fuzz_results["results"]
    assert len(results) >= 500
    crashes = [r for r in results if r["outcome"] == "crash"]
    assert not crashes, f"graine {fuzz_results['seed']} : " + "\n\n".join(f"{r['path']}\n{r['message']}"
                                                                         for r in crashes[:3])
    kinds = {r["kind"].split("-")[0] for r in results}
    assert {"csv", "xlsx", "geojson"} <= kinds


def test_refusals_are_french_name_the_file_and_change_nothing(fuzz_results):
    for r in fuzz_results["results"]:
        if r["outcome"] != "refused":
            continue
        msg, name = r["message"], Path(r["path"]).name
        assert r["unchanged"] and r["added_rows"] == 0, r
        assert name in msg, (name, msg)
        assert any(w in msg for w in NAMES_SOMETHING), msg
        assert not any(w in msg for w in ENGLISH), msg
        assert "mémoire insuffisante" not in msg, msg


def test_accepted_files_write_exactly_their_valid_rows(fuzz_results):
    for r in fuzz_results["results"]:
        if r["outcome"] == "checked":
            assert r["unchanged"], r
        elif r["outcome"] == "imported":
            assert r["added_rows"] == r["added"], r
            if r["mode"] == "run":
                assert r["errors"] == 0, r
            if r["errors"]:
                assert r["rejects"] and Path(r["rejects"]).is_file(), r
        if r["outcome"] in ("checked", "imported"):
            assert r["issue_rows_known"] and r["issues_french"], r


def test_expected_verdicts(fuzz_results):
    """Valid and hostile-text files are accepted; bombs, special files and duplicated headers are
    refused saying the limit; a bad character is an error on its row."""
    by_path = {r["path"]: r for r in fuzz_results["results"]}
    for path, words in fuzz_results["expected"].items():
        r = by_path[path]
        assert r["outcome"] == "refused" and words in r["message"], r
        assert r["seconds"] < 60, r
    for r in fuzz_results["results"]:
        kind = r["kind"]
        if kind.endswith(("-valid", "-hostile")):
            assert r["outcome"] in ("checked", "imported") or "doublon" in r.get("message", ""), r
        if kind.endswith("-dup-header"):
            assert r["outcome"] == "refused" and "double" in r["message"], r
        if kind in ("csv-control", "geojson-control", "geojson-surrogate"):
            assert r["outcome"] == "refused" or r["errors"] >= 1, r


def test_peak_memory_is_bounded(fuzz_results):
    assert max(fuzz_results["peaks"]) <= PEAK_MB, fuzz_results["peaks"]
