"""How ``make run`` serves the app: ``serve.py`` wraps ``app.py`` in an ``st.App`` with these parts.

Compression of Streamlit's own frontend
    Streamlit 1.67 serves its JavaScript bundles and fonts (``/static/…``, 3 MB) uncompressed
    and expects a reverse proxy to compress them. ptce-geo is often run as it is, on a
    laptop or a small server, so :class:`FrontendCompression` gzips those responses itself,
    once per file (the bundles are content-hashed and never change), and keeps the result in
    memory (64 MB at most). The same for the app's static files (Leaflet, map layers: their
    names carry their data's version) and the components' builds (``/component/…``): Streamlit's
    own gzip would compress them again for every newcomer. WebSocket messages (the map) are
    compressed by Streamlit's own ``server.enableWebsocketCompression`` (``.streamlit/config.toml``).

Cache headers of the map layers
    Map layers are static GeoJSON files whose name carries the version of their data
    (``webmap.publish_layer``); they are served with ``Cache-Control: immutable`` so the
    browser fetches each layer once.

Warm-up
    :func:`lifespan` starts :func:`warm_up` in a background thread when the server starts:
    imports (folium compiles ~100 templates), boundaries, the national layer files, priority
    flags, the default coverage, then mapclassify are in memory before the first visitor
    arrives (what the map needs first), then frozen out of the garbage collector's walks
    (``gc.freeze``; ``runner.postScriptGC = false`` in ``.streamlit/config.toml`` stops Streamlit's
    full collection after every page run). It never fails the server.

French frontend
    :class:`ptce_geo._frontend_fr.FrenchFrontend` serves every HTML page with ``lang="fr"``, a
    script that puts Streamlit's own English labels into French and a visible keyboard focus.

``streamlit run app.py`` still works without any of this (uncompressed, no warm-up, Streamlit's
English labels and ``lang="en"``).
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import threading
import time

__all__ = ["WARM_UP_THREAD", "LAYER_PREFIX", "FrontendCompression", "warm_up", "lifespan", "middleware"]

log = logging.getLogger(__name__)
WARM_UP_THREAD = "ptce-geo-warm-up"


class _QuietWarmUp(logging.Filter):
    """Drop Streamlit's « missing ScriptRunContext » warning when the warm-up thread (which runs
    outside any page on purpose) touches Streamlit."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != WARM_UP_THREAD


# Content types worth compressing (fonts in woff2 and images are compressed already).
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml",
                 "application/geo+json", "font/ttf", "application/x-font-ttf")
LAYER_PREFIX = "/app/static/layers/"
# Files that never change while the server runs: Streamlit's frontend (content-hashed), the app's
# static folder (Leaflet copies, map layers named after their data's version) and the components'
# builds (streamlit-folium). Compressed once, served from memory to every newcomer.
_COMPRESS_ONCE = ("/static/", "/app/static/", "/component/")
_MIN_SIZE = 1024
_MAX_BYTES = 64 * 1024 * 1024  # compressed bodies kept in memory, at most


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


class FrontendCompression:
    """ASGI middleware: gzip Streamlit's frontend files once and serve them from memory (fonts and
    images too, as they are); ``immutable`` cache headers for versioned map layers.

    Only ``GET /static/…`` answers with status 200, a compressible type and no encoding
    of their own are compressed, and only for clients that accept gzip; range requests
    and everything else pass through untouched.
    """

    def __init__(self, app, level: int = 6, max_entries: int = 512, max_bytes: int = _MAX_BYTES):
        self.app = app
        self.level = level
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._bytes = 0
        self._store: dict[str, tuple[bytes, list]] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path.startswith(LAYER_PREFIX):
            send = _with_headers(send, [(b"cache-control", b"public, max-age=31536000, immutable")])
        if (not path.startswith(_COMPRESS_ONCE) or scope["method"] != "GET" or scope.get("query_string")
                or "gzip" not in _header(scope, b"accept-encoding") or _header(scope, b"range")):
            return await self.app(scope, receive, send)
        cached = self._store.get(path)
        if cached is not None:
            body, headers = cached
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self._compress(scope, receive, send, path)

    async def _compress(self, scope, receive, send, path):
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body" or not start:
                return await send(message)
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await self._finish(start, b"".join(chunks), send, path)

        # the file as it is from the app (Streamlit's own gzip would compress it at every request)
        scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", ()) if k.lower() != b"accept-encoding"]}
        await self.app(scope, receive, capture)

    async def _finish(self, start, body, send, path):
        headers = [(k, v) for k, v in start.get("headers", [])]
        names = {k.lower(): v for k, v in headers}
        ctype = names.get(b"content-type", b"").decode("latin-1").lower()
        if start.get("status") != 200 or b"content-encoding" in names:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        if len(body) < _MIN_SIZE or not ctype.startswith(_COMPRESSIBLE):
            # fonts, images, tiny files: kept as they are (no file read, no thread, per newcomer)
            packed, out = body, headers
        else:
            import anyio.to_thread

            packed = await anyio.to_thread.run_sync(lambda: gzip.compress(body, self.level, mtime=0))
            out = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"vary")]
            out += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding"),
                    (b"content-length", str(len(packed)).encode())]
        with self._lock:
            if len(self._store) < self.max_entries and self._bytes + len(packed) <= self.max_bytes:
                self._store[path] = (packed, out)
                self._bytes += len(packed)
        await send({**start, "headers": out})
        await send({"type": "http.response.body", "body": packed})


def _with_headers(send, extra: list[tuple[bytes, bytes]]):
    async def wrapped(message):
        if message["type"] == "http.response.start" and message.get("status") == 200:
            keep = [(k, v) for k, v in message.get("headers", []) if k.lower() not in {e[0] for e in extra}]
            message = {**message, "headers": keep + extra}
        await send(message)

    return wrapped


def warm_up() -> dict[str, float]:
    """Load what the first page view needs; returns seconds per step. Errors are logged, not raised
    (a missing layer is the page's to report)."""
    from ._errors import PtceGeoError

    steps: dict[str, float] = {}

    def step(name, func):
        t = time.perf_counter()
        try:
            func()
        except (PtceGeoError, OSError, ImportError) as exc:
            log.info("Préchargement « %s » impossible : %s", name, exc)
        steps[name] = time.perf_counter() - t

    def imports():
        # folium compiles its templates at import. Not streamlit_folium: a component declared
        # outside a page run is not served (HTTP 404).
        import folium  # noqa: F401
        import folium.plugins  # noqa: F401

    def classify():
        import mapclassify  # noqa: F401 - imports scipy.stats (1-3 s): only the choropleth needs it

    def bounds():
        from . import boundaries

        boundaries.commune_table()
        for level in ("region", "departement", "commune"):
            boundaries.load(level, simplified=True)

    def flags():
        from . import priority

        priority.flags()

    def cover():
        from . import coverage

        coverage.compute()

    def layers():
        from . import webmap

        webmap.prepare_static()
        webmap.national_layers()

    # what the first view of the map needs first, then the panel's figures, then the choropleth
    for name, func in (("imports", imports), ("limites", bounds), ("couches web", layers),
                       ("zonages", flags), ("couverture", cover), ("classes", classify)):
        step(name, func)
    # What the warm-up loaded lives as long as the server: moved out of the collector's sight
    # (gc.freeze), so Python's full collections no longer walk its ~300 000 objects.
    import gc

    gc.collect()
    gc.freeze()
    from streamlit.logger import get_logger

    get_logger(__name__).info("Préchargement terminé : %s", ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    return steps


@contextlib.asynccontextmanager
async def lifespan(app):
    """``st.App`` lifespan: start the warm-up thread, never wait for it."""
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_QuietWarmUp())
    threading.Thread(target=warm_up, name=WARM_UP_THREAD, daemon=True).start()
    yield


def middleware() -> list:
    from starlette.middleware import Middleware

    from ._frontend_fr import FrenchFrontend

    return [Middleware(FrenchFrontend), Middleware(FrontendCompression)]
