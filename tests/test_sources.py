"""Source catalogue and downloads: mirror first, cache, checked downloads against a local
HTTP server (pytest-httpserver); every fault leaves the last good file in place."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import time
import zipfile

import pytest
from werkzeug import Response

from ptce_geo import _http, sources
from ptce_geo._errors import DataUnavailableError, DownloadError, UnknownChoiceError

GOOD = b"code;classement\n01001;FRR socle\n01002;Non class\xc3\xa9e\n"
GOOD_V2 = b"code;classement\n01001;FRR+\n01002;Non class\xc3\xa9e\n"


@pytest.fixture
def online(tmp_path, monkeypatch):
    """Network allowed (towards the local server only), no mirror, an empty cache."""
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "0")
    monkeypatch.delenv("PTCE_GEO_MIRROR", raising=False)
    monkeypatch.setenv("PTCE_GEO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PTCE_GEO_HTTP_RETRIES", "3")
    monkeypatch.setenv("PTCE_GEO_HTTP_TIMEOUT", "5")
    monkeypatch.setattr(_http, "BACKOFF_S", 0.0)
    return tmp_path / "cache"


def make_source(httpserver, path="/frr.csv", **kw) -> sources.Source:
    base = dict(
        id="test-frr", title="FRR test", publisher="DGCL", licence="LO 2.0", vintage="2025",
        filename="frr_test.csv", format="csv", url=httpserver.url_for(path),
    )
    base.update(kw)
    return sources.Source(**base)


def seed_cache(source: sources.Source, content: bytes = GOOD, date: str = "2025-09-01T10:00:00+00:00"):
    path = _http.raw_dir() / source.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    path.with_name(path.name + ".meta.json").write_text(json.dumps({"downloaded": date}))
    return path


def leftovers(cache):
    return [p.name for p in (cache / "raw").iterdir() if p.name.endswith(".part")]


# --- catalogue --------------------------------------------------------------------------

def test_catalogue_is_complete_data():
    for src in sources.SOURCES.values():
        assert src.title and src.publisher and src.licence and src.vintage and src.filename
        # INSEE's QPV population has no stable file URL: optional, read from the mirror or the cache only
        assert src.url or src.datagouv_dataset or (src.optional and src.page)
        assert src.format in ("csv", "geojson", "geojson|zip", "csv|xlsx|zip")
    assert sources.get("qpv-2024-contours").datagouv_dataset == "5a561801c751df42d7fca9b6"
    assert "qpv_2024_polygones.geojson" in sources.get("qpv-2024-contours").local_names()
    assert sources.get("qpv-2024-population").page == "https://www.insee.fr/fr/statistiques/8210600"


def test_unknown_source_lists_valid_ids():
    with pytest.raises(UnknownChoiceError) as err:
        sources.get("qpv-2015")
    assert "'qpv-2015'" in str(err.value) and "frr-2025" in str(err.value)


def test_pinned_checksums_match_the_mirror(mirror_dir):
    pinned = [s for s in sources.SOURCES.values() if s.sha256]
    assert len(pinned) >= 4
    for src in pinned:
        assert _http.sha256_of(mirror_dir / src.filename) == src.sha256, src.id
    for src in sources.SOURCES.values():
        if not src.optional:
            assert (mirror_dir / src.filename).is_file(), src.filename


def test_raw_download_folder_is_a_setting(monkeypatch, tmp_path):
    """Downloads go to ``<cache>/raw`` unless ``PTCE_GEO_RAW`` names another folder."""
    monkeypatch.setenv("PTCE_GEO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PTCE_GEO_RAW", raising=False)
    assert _http.raw_dir() == (tmp_path / "cache" / "raw").resolve()
    monkeypatch.setenv("PTCE_GEO_RAW", str(tmp_path / "ailleurs"))
    assert _http.raw_dir() == (tmp_path / "ailleurs").resolve()
    monkeypatch.delenv("PTCE_GEO_MIRROR", raising=False)
    source = sources.get("frr-2025")
    assert _http.local_copy(source) is None
    (tmp_path / "ailleurs").mkdir()
    (tmp_path / "ailleurs" / source.filename).write_bytes(b"x")
    got = _http.local_copy(source)
    assert got.origin == "cache" and got.path == (tmp_path / "ailleurs" / source.filename).resolve()


def test_mirror_is_used_without_network(mirror_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("PTCE_GEO_CACHE", str(tmp_path))
    got = _http.fetch(sources.get("frr-2025"))
    assert got.origin == "miroir" and got.path == mirror_dir / "frr_communes_2025.csv"
    assert not (tmp_path / "raw").exists()  # nothing copied, nothing downloaded


# --- successful downloads ---------------------------------------------------------------

def test_http_500_then_success_is_retried(online, httpserver):
    httpserver.expect_ordered_request("/frr.csv").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/frr.csv").respond_with_data(GOOD, content_type="text/csv")
    src = make_source(httpserver)
    got = _http.fetch(src)
    assert got.origin == "téléchargement" and got.message is None
    assert got.path.read_bytes() == GOOD
    assert len(httpserver.log) == 2
    meta = json.loads(got.path.with_name(got.path.name + ".meta.json").read_text())
    assert meta["sha256"] == hashlib.sha256(GOOD).hexdigest() and meta["url"] == src.url
    assert leftovers(online) == []


def test_checksum_accepted_when_right(online, httpserver):
    httpserver.expect_request("/frr.csv").respond_with_data(GOOD)
    src = make_source(httpserver, sha256=hashlib.sha256(GOOD).hexdigest())
    assert _http.fetch(src).path.read_bytes() == GOOD


def test_refresh_replaces_the_cache_when_the_download_is_good(online, httpserver):
    src = make_source(httpserver)
    seed_cache(src, GOOD)
    httpserver.expect_request("/frr.csv").respond_with_data(GOOD_V2)
    assert _http.fetch(src).path.read_bytes() == GOOD  # no refresh: the cache, no request
    assert len(httpserver.log) == 0
    got = _http.fetch(src, refresh=True)
    assert got.origin == "téléchargement" and got.path.read_bytes() == GOOD_V2


def test_datagouv_dataset_is_resolved_by_title_and_format(online, httpserver, monkeypatch):
    monkeypatch.setenv("PTCE_GEO_DATAGOUV_API", httpserver.url_for("/api/1"))
    geojson = b'{"type": "FeatureCollection", "features": []}'
    httpserver.expect_request("/api/1/datasets/abc123/").respond_with_json({
        "id": "abc123",
        "resources": [
            {"title": "QP2024_France_hexagonale_LB93", "format": "zip", "latest": httpserver.url_for("/lb93")},
            {"title": "QP2024 France Hexagonale Outre Mer WGS84", "format": "csv", "latest": httpserver.url_for("/csv")},
            {"title": "QP2024 France Hexagonale Outre Mer WGS84", "format": "geojson",
             "latest": httpserver.url_for("/wgs84")},
        ],
    })
    httpserver.expect_request("/wgs84").respond_with_data(geojson, content_type="application/geo+json")
    src = dataclasses.replace(
        sources.get("qpv-2024-contours"), url=None, datagouv_dataset="abc123", filename="qpv_test.geojson"
    )
    got = _http.fetch(src)
    assert got.path.read_bytes() == geojson
    assert [r.path for r in [e[0] for e in httpserver.log]] == ["/api/1/datasets/abc123/", "/wgs84"]


def test_datagouv_api_failure_falls_back_to_the_stable_url(online, httpserver, monkeypatch):
    monkeypatch.setenv("PTCE_GEO_DATAGOUV_API", httpserver.url_for("/api/1"))
    httpserver.expect_request("/api/1/datasets/abc123/").respond_with_json({"resources": []})
    httpserver.expect_request("/stable").respond_with_data(b'{"type": "FeatureCollection", "features": []}')
    src = dataclasses.replace(
        sources.get("qpv-2024-contours"), url=httpserver.url_for("/stable"), datagouv_dataset="abc123",
        filename="qpv_test.geojson",
    )
    assert _http.fetch(src).origin == "téléchargement"


# --- faults: the last good cache survives, the message says what happened ----------------

def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _slow(request):
    time.sleep(1.2)
    return Response(GOOD_V2)


def _trickle(request):
    """One byte every 0.2 s for a minute: no single read ever times out."""
    def body():
        for i in range(300):
            time.sleep(0.2)
            yield GOOD_V2[i % len(GOOD_V2):i % len(GOOD_V2) + 1]
    return Response(body(), headers={"Content-Length": "300"}, direct_passthrough=True)


FAULTS = {
    "http-500": (lambda s: s.expect_request("/frr.csv").respond_with_data("down", status=500), {}, "HTTP 500"),
    "timeout": (lambda s: s.expect_request("/frr.csv").respond_with_handler(_slow), {}, "délai d'attente dépassé"),
    "truncated": (
        lambda s: s.expect_request("/frr.csv").respond_with_response(
            Response(iter([GOOD_V2[:20]]), headers={"Content-Length": str(len(GOOD_V2))}, direct_passthrough=True)
        ),
        {}, "tronqué",
    ),
    "checksum": (
        lambda s: s.expect_request("/frr.csv").respond_with_data(GOOD_V2), {"sha256": "0" * 64}, "SHA-256",
    ),
    "zip-member": (
        lambda s: s.expect_request("/frr.csv").respond_with_data(
            _zip_bytes({"SHP/QP2024.shp": b"x", "README.txt": b"y"}), content_type="application/zip"
        ),
        {"format": "geojson|zip", "zip_member": "GEOJSON/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"},
        "ne contient pas le fichier attendu",
    ),
    "redirect-loop": (
        lambda s: s.expect_request("/frr.csv").respond_with_response(
            Response("", status=302, headers={"Location": "/frr.csv"})), {}, "boucle de redirections",
    ),
    "bad-gzip": (
        lambda s: s.expect_request("/frr.csv").respond_with_response(
            Response(b"ceci n'est pas du gzip", headers={"Content-Encoding": "gzip"})), {}, "compressé illisible",
    ),
    "json-200": (
        lambda s: s.expect_request("/frr.csv").respond_with_json({"message": "quota dépassé"}), {}, "du JSON",
    ),
    "xml-200": (
        lambda s: s.expect_request("/frr.csv").respond_with_data(
            '<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>', content_type="application/xml"),
        {}, "du XML",
    ),
    "geojson-error-body": (
        lambda s: s.expect_request("/frr.csv").respond_with_json({"error": "resource not found", "status": 404}),
        {"format": "geojson", "filename": "qpv_test.geojson"}, "pas du GeoJSON",
    ),
    "trickle": (lambda s: s.expect_request("/frr.csv").respond_with_handler(_trickle), {}, "délai total"),
    "html-200": (
        lambda s: s.expect_request("/frr.csv").respond_with_data(
            "<!DOCTYPE html><html><body>Maintenance en cours</body></html>", content_type="text/html"
        ),
        {}, "page HTML",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_keeps_last_good_cache(fault, online, httpserver, monkeypatch):
    serve, extra, words = FAULTS[fault]
    if fault == "timeout":
        monkeypatch.setenv("PTCE_GEO_HTTP_TIMEOUT", "0.3")
        monkeypatch.setenv("PTCE_GEO_HTTP_RETRIES", "2")
    if fault == "trickle":
        monkeypatch.setenv("PTCE_GEO_HTTP_DEADLINE", "1")
    started = time.monotonic()
    serve(httpserver)
    src = make_source(httpserver, **extra)
    good = seed_cache(src, GOOD)

    got = _http.fetch(src, refresh=True)
    assert got.origin == "cache" and got.path == good
    assert good.read_bytes() == GOOD  # untouched
    assert words in got.message, got.message
    assert "2025-09-01" in got.message and "conservée" in got.message
    assert "disque" not in got.message
    assert leftovers(online) == []
    if fault == "trickle":
        assert time.monotonic() - started < 10  # given up at the deadline, not after 60 s

    # the same fault without any cache: an error naming the source and the fault
    good.unlink()
    with pytest.raises(DownloadError) as err:
        _http.fetch(src, refresh=True, layer="France Ruralités Revitalisation (FRR 2025)")
    assert words in str(err.value) and "PTCE_GEO_MIRROR" in str(err.value) and src.url in str(err.value)
    assert not good.exists() and leftovers(online) == []


def test_transient_faults_are_retried(online, httpserver):
    httpserver.expect_request("/frr.csv").respond_with_data("down", status=503)
    src = make_source(httpserver)
    with pytest.raises(DownloadError, match="après 3 tentative"):
        _http.fetch(src)
    assert len(httpserver.log) == 3


def test_not_found_is_not_retried(online, httpserver):
    httpserver.expect_request("/frr.csv").respond_with_data("nope", status=404)
    with pytest.raises(DownloadError, match="HTTP 404"):
        _http.fetch(make_source(httpserver))
    assert len(httpserver.log) == 1


def test_zip_with_expected_member_is_accepted(online, httpserver):
    member = "GEOJSON/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"
    data = _zip_bytes({member: b'{"type":"FeatureCollection","features":[]}', "SHP/a.shp": b"x"})
    httpserver.expect_request("/qp.zip").respond_with_data(data, content_type="application/zip")
    src = make_source(httpserver, path="/qp.zip", format="geojson|zip", zip_member=member, filename="qp.dat")
    assert _http.fetch(src).path.read_bytes() == data


# --- offline ----------------------------------------------------------------------------

def test_offline_uses_cache_and_says_its_date(online, httpserver, monkeypatch):
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    src = make_source(httpserver)
    seed_cache(src, GOOD, date="2025-10-02T08:00:00+00:00")
    got = _http.fetch(src, refresh=True)
    assert got.origin == "cache" and "Hors ligne" in got.message and "2025-10-02" in got.message
    assert len(httpserver.log) == 0


def test_offline_without_anything_names_layer_url_and_mirror(online, monkeypatch):
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    with pytest.raises(DataUnavailableError) as err:
        _http.fetch(sources.get("frr-2025"), layer="France Ruralités Revitalisation (FRR 2025)")
    msg = str(err.value)
    assert "France Ruralités Revitalisation" in msg
    assert sources.get("frr-2025").url in msg
    assert "PTCE_GEO_MIRROR" in msg and "ptce-geo data sync" in msg and "frr_communes_2025.csv" in msg


def test_a_large_geojson_is_checked_by_its_head_and_end(tmp_path, monkeypatch):
    """Over ``_PARSE_LIMIT`` a GeoJSON is not parsed whole (memory): its head must hold features and
    its end close the document, so an error body or a truncated file is still refused."""
    monkeypatch.setattr(_http, "_PARSE_LIMIT", 10)
    src = sources.Source(id="t", title="t", publisher="p", licence="l", vintage="v", filename="t.geojson",
                         format="geojson")
    good = tmp_path / "good.geojson"
    good.write_bytes(b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                     b'"geometry": null}]}\n')
    _http.check_file(good, src)
    for body in (b'{"error": "not found", "status": 404}', b'{"type": "FeatureCollection", "features": [{"type": "Fe'):
        bad = tmp_path / "bad.geojson"
        bad.write_bytes(body)
        with pytest.raises(DownloadError, match="structure d'un GeoJSON"):
            _http.check_file(bad, src)
