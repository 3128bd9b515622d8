"""Every territory's map layer files, published at once for a static folder shared by several servers.

The map explorer publishes a layer file the first time a visitor opens a territory
(``webmap.publish_layer``). Servers that share one folder mounted read-only cannot do that: the
folder is prepared once, on one machine, by ``ptce-geo prepare --territoires``, which calls
``publish_all``: for each département and each région, the layers drawn per territory (EPCI,
communes — also the base of the FRR/ZRR and coverage colours —, QPV, Territoires d'industrie,
and the régions and départements around it). Files already there are kept;
a priority layer that cannot be obtained is counted, not fatal (it is reported).
"""

from __future__ import annotations

from collections.abc import Callable

from . import boundaries, webmap
from ._errors import PtceGeoError
from .webmap import territory_key

__all__ = ["TERRITORY_FILES", "territory_keys", "publish", "publish_all"]

TERRITORY_FILES = ("epci", "communes", "qpv", "territoires-industrie", "regions", "departements")


def territory_keys() -> list[str]:
    """``dep-01`` … ``dep-976``, then ``reg-01`` … ``reg-94``."""
    deps = sorted(boundaries.load("departement", simplified=True)["code"])
    regs = sorted(boundaries.load("region", simplified=True)["code"])
    return [territory_key("departement", c) for c in deps] + [territory_key("region", c) for c in regs]


def publish(key: str, skip=()) -> tuple[int, dict[str, str]]:
    """Publish the layer files of one territory (``dep-48``); return (files, {layer: why not})."""
    files, unavailable = 0, {}
    for layer in TERRITORY_FILES:
        if layer in skip:
            continue
        try:
            webmap.publish_layer(layer, key)
            files += 1
        except PtceGeoError as exc:
            unavailable[layer] = str(exc)
    return files, unavailable


def publish_all(progress: Callable[[str], None] | None = None) -> dict:
    """Publish every territory's layer files; return ``{"fichiers": n, "territoires": n,
    "indisponibles": {layer: message}}`` (a layer whose data is missing is skipped everywhere)."""
    files, unavailable = 0, {}
    keys = territory_keys()
    for n, key in enumerate(keys, start=1):
        done, missing = publish(key, skip=unavailable)
        files += done
        unavailable.update(missing)
        if progress and (n % 20 == 0 or n == len(keys)):
            progress(f"{n}/{len(keys)} territoires")
    return {"fichiers": files, "territoires": len(keys), "indisponibles": unavailable}
