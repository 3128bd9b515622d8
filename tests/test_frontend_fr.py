"""The French frontend (ptce_geo._frontend_fr): HTML pages rewritten with lang="fr", the translation
script and the focus style; everything else untouched. The real server is audited in
tests/test_browser_a11y.py."""

from __future__ import annotations

import asyncio
import re

from ptce_geo import _frontend_fr, _server

INDEX = (b'<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta charset="UTF-8" />\n    <title>Streamlit</title>\n'
         b'  </head>\n  <body>\n    <noscript>You need to enable JavaScript to run this app.</noscript>\n'
         b'    <div id="root"></div>\n  </body>\n</html>\n')


def _app(body=INDEX, ctype=b"text/html", status=200, chunks=2):
    seen = []

    async def app(scope, receive, send):
        seen.append(dict(scope["headers"]))
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                   (b"etag", b'"abc"'), (b"last-modified", b"Mon, 01 Dec 2025 00:00:00 GMT"),
                   (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        step = max(1, len(body) // chunks)
        parts = [body[i:i + step] for i in range(0, len(body), step)] or [b""]
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    app.seen = seen
    return app


def _get(app, path, headers=(), method="GET"):
    sent = []

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": list(headers)}
    asyncio.run(app(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_pages_are_served_in_french_with_the_script_and_focus_style():
    inner = _app()
    mw = _frontend_fr.FrenchFrontend(inner)
    for path in ("/", "/lacunes", "/component/streamlit_folium.st_folium/index.html"):
        status, headers, body = _get(mw, path, [(b"accept-encoding", b"gzip"), (b"if-none-match", b'"abc"')])
        html = body.decode()
        assert status == 200 and '<html lang="fr">' in html and 'lang="en"' not in html, path
        assert 'id="ptce-fr-script"' in html and 'id="ptce-fr-style"' in html
        assert "Activez JavaScript pour utiliser cette application." in html
        assert "You need to enable JavaScript" not in html.split("<script")[0]
        assert int(headers["content-length"]) == len(body)
        # the rewritten page is not the file Streamlit would validate, nor compressed by it
        assert "etag" not in headers and "last-modified" not in headers and headers["cache-control"] == "no-cache"
    assert all(b"accept-encoding" not in h and b"if-none-match" not in h for h in inner.seen)
    # the script comes first in <head>: it runs before Streamlit's bundle draws anything
    head = html.split("<head>", 1)[1]
    assert head.lstrip().startswith('<style id="ptce-fr-style">')


def test_other_responses_pass_through():
    cases = [
        ("/static/js/index.js", b"application/javascript", b"function(){}" * 200),
        ("/_stcore/health", b"text/plain", b"ok"),
        ("/app/static/layers/regions--france--0123.geojson", b"application/geo+json", b"{}"),
        ("/media/abc.png", b"image/png", b"\x89PNG"),
        ("/lacunes", b"application/json", b'{"lang":"en"}'),  # not HTML
    ]
    for path, ctype, body in cases:
        status, headers, out = _get(_frontend_fr.FrenchFrontend(_app(body, ctype)), path)
        assert out == body and headers.get("etag") == '"abc"', path
    # a POST, an error page: untouched
    assert _get(_frontend_fr.FrenchFrontend(_app()), "/", method="POST")[2] == INDEX
    assert _get(_frontend_fr.FrenchFrontend(_app(status=404)), "/x")[2] == INDEX


def test_rewrite_is_idempotent_and_handles_pages_without_lang():
    once = _frontend_fr.rewrite_html(INDEX)
    assert _frontend_fr.rewrite_html(once) == once
    bare = _frontend_fr.rewrite_html(b"<html><head></head><body>x</body></html>")
    assert bare.startswith(b'<html lang="fr"><head><style id="ptce-fr-style">')


def test_served_by_make_run():
    names = [m.cls.__name__ for m in _server.middleware()]
    assert names[0] == "FrenchFrontend" and "FrontendCompression" in names


def test_translation_table_is_french_and_covers_the_issue_strings():
    texts = _frontend_fr.TEXTS
    for english in ("Skip to main content", "Drag and drop file here", "Browse files", "Running...", "Stop",
                    "Upload", "Collapse sidebar", "Download as CSV", "Choose an option"):
        assert english in texts and texts[english] != english
    assert all(k != v for k, v in texts.items() if k not in ("Notifications", "Pagination"))

    def apply(text):
        for pattern, repl in _frontend_fr.PATTERNS:
            if re.search(pattern, text):
                return re.sub(pattern, repl, text)
        return texts.get(text, text)

    assert apply("200MB per file • CSV, XLSX, GEOJSON") == "200 Mo par fichier • CSV, XLSX, GEOJSON"
    assert apply("Limit 200MB per file") == "Limite de 200 Mo par fichier"
    assert apply("Help for Population prioritaire") == "Aide : Population prioritaire"
    assert apply("Remove Pôles (PTCE)") == "Retirer « Pôles (PTCE) »"
    assert apply("Fullscreen: Aperçu (basse résolution)") == "Plein écran : Aperçu (basse résolution)"
    # the JavaScript uses the same patterns: they must be valid there too (no Python-only syntax),
    # and its replacements say $1 where Python says \1
    assert all("(?P" not in p and "(?<" not in p for p, _ in _frontend_fr.PATTERNS)
    script_patterns = _frontend_fr.SCRIPT.split("var PATTERNS = ", 1)[1].split(".map(", 1)[0]
    assert '"Aide : $1"' in script_patterns and "\\1" not in script_patterns
    # the app's own text is never translated (markdown, captions, tables, map popups…)
    assert "[data-testid='stMarkdownContainer']" in _frontend_fr.APP_TEXT
    assert ".leaflet-popup-content" in _frontend_fr.APP_TEXT
