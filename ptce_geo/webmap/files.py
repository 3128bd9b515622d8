"""Files the browser fetches: layer files (published, versioned, pruned) and Leaflet's own files.

Each (layer, territory) is written once as GeoJSON under ``static/layers`` (``publish_layer``),
named after the version of its data, and served by Streamlit's static file serving; the map only
carries URLs. Leaflet and Leaflet.markercluster are copied from the XStatic packages to
``static/vendor`` (``prepare_static``) so the map works without Internet (``asset_urls``).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from .. import boundaries
from .._errors import DataUnavailableError, PtceGeoError
from .data import NATION_WIDE, boundary_layer, priority_layer, to_geojson
from .state import check_choice

__all__ = ["asset_urls", "LAYER_FORMAT", "layer_geojson", "layer_precision", "LAYER_PROPS", "layer_version",
           "layers_dir", "NATIONAL_LAYERS", "national_layers", "prepare_static", "prune_layers", "publish_layer",
           "STATIC_URL", "static_dir"]

LAYER_PROPS = {"regions": ["code", "nom"], "departements": ["code", "nom"], "epci": ["code", "nom"],
               "communes": ["code", "nom", "population"], "qpv": ["code", "nom", "communes"],
               "territoires-industrie": ["code", "nom"]}
# FRR and ZRR colour the communes file of the territory (a join by code) instead of shipping
# the same commune contours again; the coverage choropleth does the same (``coverage_join``).
NATIONAL_LAYERS = ("regions", "departements", "territoires-industrie", "qpv")
LAYER_FORMAT = "4"  # bump when layer_geojson's output changes: every published file is renamed


def layer_precision(key: str, layer: str = "") -> int:
    """Decimals kept in the GeoJSON: 3 (≈ 100 m) for the whole country and for the régions and
    départements around a territory (contours simplified at 250 m or more), 4 (≈ 10 m) for the other
    layers of a département or a région — below the simplification tolerance of the web contours
    (60 m for communes)."""
    return 3 if not key or layer in NATION_WIDE else 4


def layer_geojson(layer: str, key: str) -> str:
    """GeoJSON text of a boundary or priority layer with the level of detail of territory ``key``."""
    check_choice("Couche", layer, LAYER_PROPS)
    if layer in ("regions", "departements", "epci", "communes"):
        frame = boundary_layer(layer, key)
    else:
        from .. import priority

        frame = priority_layer(layer, priority.load(layer), key)
    props = ["code", "nom"] if layer == "qpv" and not key else LAYER_PROPS[layer]
    return to_geojson(frame, props, precision=layer_precision(key, layer))


def layer_version(layer: str) -> str:
    """Version of the data behind a layer (boundaries or priority files); part of its file name."""
    if layer in ("regions", "departements", "epci", "communes"):
        return boundaries.cache_key()
    from .. import priority

    return priority.cache_key(layer)


def layers_dir() -> Path:
    return static_dir() / "layers"


def _publish(name: str, build) -> str:
    path = layers_dir() / name
    if not path.exists():
        from .. import _cache
        from .._errors import os_error_fr

        text = build()
        try:
            _cache.atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        except OSError as exc:  # a shared static folder mounted read-only that lacks this file
            raise DataUnavailableError(
                f"fichier {name!r} absent du dossier des couches {str(path.parent)!r}, qui ne peut pas être écrit "
                f"ici ({os_error_fr(exc)}). Sur la machine qui prépare le dossier partagé, lancez « ptce-geo "
                "prepare --territoires » (toutes les couches de chaque territoire).") from exc
    return f"{STATIC_URL}/layers/{name}"


def publish_layer(layer: str, key: str) -> str:
    """URL of a layer's GeoJSON file for territory ``key`` (``""`` = France), written once.

    Files live in ``static/layers`` (served by Streamlit's static file serving, gzip-compressed);
    their name carries the data's version, so a new release of the data gets a new file, an
    existing file never changes, and browsers may cache it for good (``_server``).
    """
    check_choice("Couche", layer, LAYER_PROPS)
    return _publish(f"{layer}--{key or 'france'}--{_file_version(layer)}.geojson", lambda: layer_geojson(layer, key))


def _file_version(layer: str) -> str:
    return hashlib.sha1(f"{layer_version(layer)}|{LAYER_FORMAT}".encode()).hexdigest()[:12]


def national_layers() -> dict[str, str]:
    """Publish the layers of the national view (what a first visitor sees); layer → URL."""
    out = {}
    for layer in NATIONAL_LAYERS:
        try:
            out[layer] = publish_layer(layer, "")
        except PtceGeoError:
            continue  # a missing priority layer is reported by the page
    return out


def prune_layers() -> int:
    """Delete published layer files of older data versions (or unreadable names); returns how many."""
    root = layers_dir()
    if not root.exists():
        return 0
    current: dict[str, str | None] = {}
    removed = 0
    for path in root.glob("*.geojson"):
        parts = path.stem.split("--")
        layer = parts[0] if len(parts) == 3 else None
        if layer in LAYER_PROPS and layer not in current:
            try:
                current[layer] = _file_version(layer)
            except PtceGeoError:
                current[layer] = None  # data unavailable now: keep what was published
        if layer is None or layer not in LAYER_PROPS or (current[layer] is not None and parts[2] != current[layer]):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


STATIC_URL = "/app/static"
_VENDOR = {
    "leaflet": ("xstatic.pkg.leaflet", ["leaflet.js", "leaflet.css", "images/layers.png",
                                        "images/layers-2x.png", "images/marker-icon.png",
                                        "images/marker-icon-2x.png", "images/marker-shadow.png"]),
    "markercluster": ("xstatic.pkg.leaflet_markercluster",
                      ["leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"]),
}
_CDN = {
    "leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist",
    "markercluster": "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0",
}


def static_dir() -> Path:
    """``./static`` beside app.py (served by Streamlit at /app/static; generated, git-ignored)."""
    return Path(__file__).resolve().parents[2] / "static"


def prepare_static() -> Path:
    """Copy Leaflet and MarkerCluster (XStatic packages) to ``static/vendor``; idempotent."""
    import importlib

    target_root = static_dir() / "vendor"
    for name, (module, files) in _VENDOR.items():
        try:
            base = Path(importlib.import_module(module).BASE_DIR)
        except ImportError as exc:
            raise PtceGeoError(
                f"Paquet {module!r} absent : lancez « make install » (XStatic-Leaflet, XStatic-Leaflet-MarkerCluster)."
            ) from exc
        for rel in files:
            src, dst = base / rel, target_root / name / rel
            if not dst.exists() or dst.stat().st_size != src.stat().st_size:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
    return target_root


def asset_urls() -> dict[str, str]:
    """URLs of Leaflet/MarkerCluster files: local static copies when present, CDN otherwise."""
    vendor = static_dir() / "vendor"
    local = all((vendor / name / files[0]).exists() for name, (_, files) in _VENDOR.items())
    if local:
        lf, mc = f"{STATIC_URL}/vendor/leaflet", f"{STATIC_URL}/vendor/markercluster"
        return {"leaflet_js": f"{lf}/leaflet.js", "leaflet_css": f"{lf}/leaflet.css",
                "mc_js": f"{mc}/leaflet.markercluster.js", "mc_css": f"{mc}/MarkerCluster.css",
                "mc_default_css": f"{mc}/MarkerCluster.Default.css"}
    lf, mc = _CDN["leaflet"], _CDN["markercluster"]
    return {"leaflet_js": f"{lf}/leaflet.js", "leaflet_css": f"{lf}/leaflet.css",
            "mc_js": f"{mc}/leaflet.markercluster.js", "mc_css": f"{mc}/MarkerCluster.css",
            "mc_default_css": f"{mc}/MarkerCluster.Default.css"}
