"""How `make run` serves the app (ptce_geo._server): frontend compression, layer cache headers,
warm-up. The middleware is driven here with a small ASGI app; the real server is exercised by
tests/test_browser_map.py."""

from __future__ import annotations

import asyncio
import gzip
import logging

from ptce_geo import _server, webmap

BUNDLE = b"function streamlit(){return 42};\n" * 2000


def _app(body=BUNDLE, status=200, ctype=b"application/javascript", extra=()):
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["path"])
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()), *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        half = len(body) // 2  # streamed in two chunks, as FileResponse does
        await send({"type": "http.response.body", "body": body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": body[half:]})

    app.calls = calls
    return app


def _get(middleware, path, headers=(), method="GET"):
    sent = []

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": list(headers)}
    asyncio.run(middleware(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


GZIP = [(b"accept-encoding", b"gzip, deflate, br")]


def test_frontend_bundle_gzipped_once_and_served_from_memory():
    app = _app()
    mw = _server.FrontendCompression(app)
    status, headers, body = _get(mw, "/static/js/index.abc123.js", GZIP)
    assert status == 200 and headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == BUNDLE and int(headers["content-length"]) == len(body) < len(BUNDLE) / 10
    again = _get(mw, "/static/js/index.abc123.js", GZIP)
    assert again[2] == body and app.calls == ["/static/js/index.abc123.js"]  # second answer from memory


def test_what_is_not_compressed_passes_through_untouched():
    cases = [
        (_app(), "/static/js/a.js", []),  # client without gzip
        (_app(), "/static/js/a.js", GZIP + [(b"range", b"bytes=0-99")]),  # range request
        (_app(ctype=b"font/woff2"), "/static/media/f.woff2", GZIP),  # compressed already
        (_app(status=404, body=b"x" * 5000, ctype=b"text/plain"), "/static/js/missing.js", GZIP),
        (_app(extra=[(b"content-encoding", b"br")]), "/static/js/b.js", GZIP),  # encoded by the app
        (_app(body=b"tiny", ctype=b"text/css"), "/static/css/t.css", GZIP),  # too small to bother
        (_app(), "/_stcore/health", GZIP),  # not the frontend
    ]
    for app, path, headers in cases:
        status, out, body = _get(_server.FrontendCompression(app), path, headers)
        assert "content-encoding" not in out or out["content-encoding"] == "br", path
        assert body == (b"x" * 5000 if status == 404 else b"tiny" if path.endswith("t.css") else BUNDLE), path


def test_fonts_served_from_memory_as_they_are():
    app = _app(ctype=b"font/woff2")
    mw = _server.FrontendCompression(app)
    for _ in range(2):
        status, headers, body = _get(mw, "/static/media/f.woff2", GZIP)
        assert status == 200 and body == BUNDLE and "content-encoding" not in headers
        assert headers["content-length"] == str(len(BUNDLE))
    assert app.calls == ["/static/media/f.woff2"]


def test_published_layers_are_immutable_and_compressed_once():
    app = _app(ctype=b"application/geo+json")
    mw = _server.FrontendCompression(app)
    path = "/app/static/layers/regions--france--0123456789ab.geojson"
    for _ in range(2):  # the second answer comes from memory, with the same headers
        status, headers, body = _get(mw, path, GZIP)
        assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == BUNDLE
    assert app.calls == [path]
    status, headers, body = _get(mw, path)  # a client without gzip gets the file as it is
    assert body == BUNDLE and headers["cache-control"] == "public, max-age=31536000, immutable"
    leaflet = _server.FrontendCompression(_app())
    _, plain, body = _get(leaflet, "/app/static/vendor/leaflet/leaflet.js", GZIP)
    assert "cache-control" not in plain and gzip.decompress(body) == BUNDLE


def test_component_builds_compressed_once_within_a_memory_budget():
    app = _app()
    mw = _server.FrontendCompression(app, max_bytes=100)  # too small to keep anything
    for _ in range(2):
        _, headers, body = _get(mw, "/component/streamlit_folium.st_folium/static/js/main.js", GZIP)
        assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == BUNDLE
    assert len(app.calls) == 2  # over budget: compressed each time, never kept
    app = _app()
    mw = _server.FrontendCompression(app)
    for _ in range(2):
        _get(mw, "/component/streamlit_folium.st_folium/static/js/main.js", GZIP)
    assert len(app.calls) == 1


def test_warm_up_loads_what_the_first_visit_needs(caplog):
    for path in webmap.layers_dir().glob("regions--france--*.geojson"):
        path.unlink()
    with caplog.at_level(logging.INFO):
        steps = _server.warm_up()
    assert list(steps) == ["imports", "limites", "couches web", "zonages", "couverture", "classes"]
    assert list(webmap.layers_dir().glob("regions--france--*.geojson"))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
