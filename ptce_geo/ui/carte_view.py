"""What the page « Carte » shows, built once per map state and data version for every session.

The cached loaders of the map's data (optional sources, coverage, published layer files, joins),
the map itself (``map_view``: layers and the feature group's script), the base map
(``base_payload``) and what is shown beside and under it (``summary_view``: panel, sources, text
version). ``BUILDS`` counts how many times each was built. The widgets are in ``ui.carte``.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import streamlit as st

from .. import boundaries
from .._errors import PtceGeoError
from .._fmt import fmt_int
from .common import boundaries_layer

__all__ = ["base_payload", "BUILDS", "ensure_static_assets", "env_stamp", "map_files_exist", "map_layer_url",
           "map_optional", "map_view", "MapView", "md_text", "pd_isna", "pd_notna", "poles_stamp", "summary_view",
           "SummaryView", "territory_names"]


def md_text(text) -> str:
    """Escape user text for st.markdown: every ASCII punctuation is backslash-escaped (CommonMark),
    so ``<img …>``, ``*``, ``[…](…)`` show as typed and nothing becomes HTML or a link (``_text.md``)."""
    from .._text import md

    return md(text)


@st.cache_resource(show_spinner=False, max_entries=32)  # one "poles" entry per registry state: bounded
def map_optional(name: str, stamp: str = ""):
    """(frame, None) or (None, French error) for one optional source; failures are cached too,
    so an offline app does not retry downloads on every rerun."""
    try:
        if name == "poles":
            from .. import poles

            return poles.load(), None
        if name == "flags":
            from .. import priority

            return priority.flags(), None
        from .. import priority

        return priority.load(name), None
    except ImportError as exc:
        return None, f"module absent ({exc})"
    except PtceGeoError as exc:
        return None, str(exc)


def env_stamp() -> str:
    """Part of every map cache key: the settings that decide where data comes from."""
    from .. import settings as _settings

    s = _settings.get()
    return f"{s.cache_dir}|{s.data_dir}|{s.mirror_dir}|{s.offline}"


def poles_stamp() -> str:
    """Cache key of what the map builds from the poles: the registry's vintage text first (shown as
    the layer's source), then ``registry.stamp()`` — it moves with every write, made by this server
    or by another one sharing the database — then the settings. One query."""
    try:
        from .. import poles, registry

        stamp = registry.stamp()
        return f"{poles.vintage(stamp)}|{stamp}|{env_stamp()}"
    except Exception:  # noqa: BLE001 - registry unreadable: the layer reports it
        return env_stamp()


@st.cache_resource(show_spinner="Calcul de la couverture…", max_entries=8)
def _map_coverage(radius_km: float, zoning: str, stamp: str):
    try:
        from .. import coverage

        result = coverage.compute(radius_km=radius_km, zoning=zoning)
        return result, coverage.by_territory(result, "departement"), coverage.by_territory(result, "region"), None
    except ImportError as exc:
        return None, None, None, f"module de couverture absent ({exc})"
    except PtceGeoError as exc:
        return None, None, None, str(exc)


@st.cache_resource(show_spinner=False, max_entries=256)
def map_layer_url(key: str, territoire: str, stamp: str = "") -> str:
    """URL of the layer's published GeoJSON file (built once, then served as a static file)."""
    from .. import webmap

    if key in webmap.PRIORITY_LAYER:
        _source, err = map_optional(key, stamp)
        if err:
            raise PtceGeoError(err)
    return webmap.publish_layer(key, territoire)


def _layer_url(key: str, territoire: str, stamp: str) -> str:
    """``map_layer_url``, rebuilt if its file was deleted since (e.g. ``make clean-cache``)."""
    from .. import webmap

    url = map_layer_url(key, territoire, stamp)
    if not (webmap.layers_dir() / url.rsplit("/", 1)[-1]).exists():
        map_layer_url.clear()
        url = map_layer_url(key, territoire, stamp)
    return url


@st.cache_resource(show_spinner=False, max_entries=64)
def _map_join(key: str, territoire: str, stamp: str = "") -> dict:
    """FRR/ZRR classes of the territory's communes (drawn over the communes file)."""
    from .. import webmap

    source, err = map_optional(key, stamp)
    if source is None:
        raise PtceGeoError(err)
    return webmap.priority_join(key, source, territoire)


@st.cache_resource(show_spinner=False, max_entries=16)
def _map_choropleth(territoire: str, radius_km: float, zoning: str, indicator: str, stamp: str):
    """(outline layer, code → colour and text, classes) of the coverage choropleth."""
    from .. import webmap

    result, by_dep, _, err = _map_coverage(radius_km, zoning, stamp)
    if result is None:
        raise PtceGeoError(err)
    if territoire:
        codes = set(webmap.territory_communes(territoire).index)
        table = webmap.commune_coverage_table(result.communes[result.communes["code"].isin(codes)])
    else:
        table = by_dep
    return webmap.coverage_join(table, territoire, indicator)


@st.cache_resource(show_spinner=False, max_entries=32)
def _map_qpv_join(territoire: str, radius_km: float, zoning: str, stamp: str) -> dict:
    """Nearest pole and distance to the contour of the territory's QPV (their popup)."""
    from .. import webmap

    result, _, _, err = _map_coverage(radius_km, zoning, stamp)
    if result is None:
        raise PtceGeoError(err)
    return webmap.qpv_join(result.qpv, territoire, radius_km)


@st.cache_resource(show_spinner=False)
def ensure_static_assets() -> str:
    """Copy Leaflet to ./static once per process; without it the map falls back to the CDN."""
    from .. import webmap

    try:
        return str(webmap.prepare_static())
    except (PtceGeoError, OSError) as exc:
        return f"indisponible : {exc}"


#: How many times each part of the page « Carte » shared by all sessions was built in this process
#: (``map``, ``summary``, ``base``): a newcomer on a state already shown builds nothing (tests read it).
BUILDS: collections.Counter = collections.Counter()


@dataclass(frozen=True)
class MapView:
    """What the map of one state draws, built once per (state, data version) for every session:
    the layers handed to ``webmap.explorer_layers``, the poles drawn, the layers that could not be,
    and the feature group's script ready for the browser (``_map_component``)."""

    layers: object  # webmap.MapLayers
    shown: object  # pd.DataFrame of the poles drawn
    missing: dict
    vintages: dict
    payload: object  # _map_component.LayersPayload


@dataclass(frozen=True)
class SummaryView:
    """Everything the page shows beside and under the map, built once per (state, data version):
    the panel's figures, the sources line, the text version (escaped for Markdown)."""

    title: str
    headline: dict
    figures_known: bool
    coverage_error: str | None
    overseas: str | None
    panel_lines: tuple  # ("markdown" | "caption", text) after the figures
    flags_note: str | None
    sources: str
    text_version: object  # mapsummary.TextVersion, markdown_safe


@st.cache_resource(show_spinner=False, max_entries=8)
def base_payload(fond: str, urls: tuple) -> object:
    """The explorer's base map rendered once per basemap (it never changes with the layers)."""
    from .. import _map_component, webmap

    BUILDS["base"] += 1
    return _map_component.base_payload(webmap.explorer_base(fond, dict(urls)), "carte_map")


@st.cache_resource(show_spinner=False, max_entries=64)
def territory_names(env: str) -> tuple[dict, dict]:
    """(département code → name, région code → name), in the order of the boundaries."""
    deps = boundaries_layer("departement")
    regs = boundaries_layer("region")
    return dict(zip(deps["code"], deps["nom"])), dict(zip(regs["code"], regs["nom"]))


@st.cache_resource(show_spinner=False, max_entries=64)
def map_view(state, stamp: str, urls: tuple) -> MapView:
    """The layers of ``state`` at data version ``stamp`` (``poles_stamp``: it moves with every
    registry write, so an edit shows at the next rerun), shared by every session."""
    import pandas as pd

    from .. import _map_component, webmap

    BUILDS["map"] += 1
    pole_frame, pole_err = map_optional("poles", stamp)
    flags = map_optional("flags", env_stamp())[0] if state.zonage else None
    layers = webmap.MapLayers(indicator=state.indicateur)
    missing: dict[str, str] = {}
    vintages: dict[str, str] = {}
    for key in state.couches:
        if key == "poles":
            continue
        if key == "couverture":
            try:
                outline, layers.joins[key], layers.classes = _map_choropleth(
                    state.territoire, state.rayon, state.zonage or "all", state.indicateur, stamp)
                layers.urls[key] = _layer_url(outline, state.territoire, env_stamp())
                result = _map_coverage(state.rayon, state.zonage or "all", stamp)[0]
                from .. import coverage

                vintages[key] = coverage.vintages_text(result.vintages)
            except PtceGeoError as exc:
                missing[key] = str(exc)
            continue
        try:
            if key in webmap.JOIN_LAYERS:
                layers.joins[key] = _map_join(key, state.territoire, env_stamp())
                layers.urls[key] = _layer_url(webmap.JOIN_LAYERS[key], state.territoire, env_stamp())
            else:
                layers.urls[key] = _layer_url(key, state.territoire, env_stamp())
            if key == "qpv" and state.territoire:
                try:
                    layers.joins[key] = _map_qpv_join(state.territoire, state.rayon, state.zonage or "all", stamp)
                except PtceGeoError:
                    pass  # contours without the popup's nearest pole: the coverage notice says why
            if key in webmap.PRIORITY_LAYER:
                from .. import priority

                vintages[key] = priority.vintage(key)
        except PtceGeoError as exc:
            missing[key] = str(exc)

    shown = pd.DataFrame()
    if "poles" in state.couches:
        if pole_frame is None:
            missing["poles"] = pole_err
        else:
            try:
                shown = webmap.filter_poles(pole_frame, state, flags)
                layers.pole_colours = webmap.colour_map(_vocabulary(state.couleur))
                layers.poles = webmap.pole_points(shown, state.couleur, layers.pole_colours)
                vintages["poles"] = stamp.split("|")[0]
            except PtceGeoError as exc:
                missing["poles"] = str(exc)
    bounds = webmap.territory_bounds(state.territoire)
    if state.commune:
        com = boundaries_layer("commune")
        row = com[com["code"] == state.commune]
        layers.highlight = webmap.to_geojson(row, ["code", "nom"])
        if len(row) and not row.geometry.iloc[0].is_empty:
            minx, miny, maxx, maxy = row.total_bounds
            bounds = ((miny, minx), (maxy, maxx))
    if state.lieu:
        layers.marker = (state.lieu[0], state.lieu[1], state.lieu_nom or "Adresse recherchée")
        bounds = ((state.lieu[0] - 0.02, state.lieu[1] - 0.03), (state.lieu[0] + 0.02, state.lieu[1] + 0.03))
    urls_d = dict(urls)
    payload = _map_component.layers_payload(webmap.explorer_base(state.fond, urls_d),
                                             webmap.explorer_layers(state, layers, urls_d, bounds=bounds))
    return MapView(layers=layers, shown=shown, missing=missing, vintages=vintages, payload=payload)


@st.cache_resource(show_spinner=False, max_entries=64)
def summary_view(state, stamp: str, urls: tuple) -> SummaryView:
    """The panel, sources and text version of ``state`` at data version ``stamp``, shared by every
    session (the coverage may take a few seconds on a cold start: built after the map is shown)."""
    from .. import mapsummary, webmap
    from . import accessibilite

    BUILDS["summary"] += 1
    view = map_view(state, stamp, urls)
    result, by_dep, by_reg, cov_err = _map_coverage(state.rayon, state.zonage or "all", stamp)
    figures = _coverage_figures(state, result, by_dep, by_reg)
    headline = mapsummary.carte_headline(state, webmap.territory_communes(state.territoire), view.shown, figures,
                                         compact=webmap.fmt_compact,
                                         registry=result.registry if result is not None else None)
    flags, flags_err = map_optional("flags", env_stamp())
    note = None
    if flags is not None and flags.attrs.get("missing_layers"):
        note = ("Couches prioritaires manquantes : "
                + ", ".join(webmap.LAYERS.get(k, k) for k in flags.attrs["missing_layers"])
                + ". Lancez « ptce-geo prepare » avec une connexion Internet ou un miroir (PTCE_GEO_MIRROR).")
    elif flags is None and flags_err:
        note = f"Couches prioritaires indisponibles : {flags_err}"
    lines = webmap.sources_text(state, view.vintages)
    sources = "Sources et millésimes des couches affichées : " + " · ".join(md_text(x) for x in lines)
    tv = mapsummary.explorer_text(state, view.layers, view.shown, headline, view.vintages, view.missing)
    return SummaryView(
        title=webmap.territory_name(state.territoire), headline=headline, figures_known=figures is not None,
        coverage_error=None if result is not None else str(cov_err), overseas=_overseas_caption(state, view.shown),
        panel_lines=tuple(_panel_lines(state, view.shown, flags, result)), flags_note=note, sources=sources,
        text_version=accessibilite.markdown_version(tv))


def _vocabulary(colour_by: str) -> list[str]:
    """The values the poles are coloured by (calls or sectors), in the registry's order."""
    try:
        from .. import poles as _poles
    except ImportError:
        return []
    return list(_poles.APPELS) if colour_by == "appel" else list(_poles.SECTEURS)


def map_files_exist(view: MapView) -> bool:
    """Whether every published layer file the map reads is still there (``make clean-cache``…)."""
    from .. import webmap

    return all((webmap.layers_dir() / url.rsplit("/", 1)[-1]).exists() for url in view.layers.urls.values())


def _overseas_caption(state, shown) -> str | None:
    """National view: the poles drawn overseas, outside the frame of metropolitan France."""
    if state.territoire or not len(shown) or "departement" not in shown.columns:
        return None
    overseas = shown[shown["departement"].astype(str).str.startswith("97")]
    if not len(overseas):
        return None
    names = sorted({str(d) for d in overseas["departement"]})
    return (f"dont {len(overseas)} en outre-mer ({', '.join(names)}), hors du cadre de la carte : "
            "dézoomez ou choisissez le département.")


def _coverage_figures(state, result, by_dep, by_reg):
    """The coverage row of the map's territory (France: ``coverage.national``); None if unknown."""
    if result is None:
        return None
    if state.territoire:
        t = by_dep if state.level == "departement" else by_reg
        row = t[t["code"] == state.code]
        return row.iloc[0] if len(row) else None
    from .. import coverage

    return coverage.national(result)


def _panel_lines(state, shown, flags, result) -> list[tuple[str, str]]:
    """The panel's text after the figures: searched commune (its zonings, nearest pole), searched
    address, poles drawn — as (``markdown`` | ``caption``, escaped text)."""
    out: list[tuple[str, str]] = []
    if state.commune:
        row = boundaries.commune_table().loc[state.commune]
        out.append(("markdown", f"**Commune : {md_text(row['nom'])} ({md_text(state.commune)})** — "
                                f"{fmt_int(row['population'])} hab."))
        if flags is not None:
            f = flags[flags["code"] == state.commune]
            if len(f):
                f = f.iloc[0]
                out.append(("markdown", "\n".join([
                    f"- QPV : {int(f['qpv_count'])}",
                    f"- Territoire d'industrie : {'oui' if f['in_territoire_industrie'] else 'non'}",
                    f"- FRR : {md_text(f['frr_classement'] or 'n.c.')}",
                    f"- ZRR (historique) : {md_text(f['zrr_classement'] or 'n.c.')}",
                ])))
        if result is not None:
            c = result.communes[result.communes["code"] == state.commune]
            if len(c) and pd_notna(c.iloc[0]["nearest_distance_km"]):
                km = f"{float(c.iloc[0]['nearest_distance_km']):.1f}".replace(".", ",")
                out.append(("caption", f"Pôle le plus proche : {md_text(c.iloc[0].get('nearest_pole_nom', ''))} "
                                       f"à {km} km"))
    if state.lieu:
        out.append(("markdown", f"**Adresse : {md_text(state.lieu_nom)}**"))
    if len(shown):
        out.append(("markdown", "**Pôles**"))
        items = [f"- {md_text(r['nom'])} — {md_text(r.get('commune') or 'n.c.')}"
                 + (f" ({md_text(r['appel'])})" if isinstance(r.get("appel"), str) and r.get("appel") else "")
                 for _, r in shown.head(40).iterrows()]
        if len(shown) > 40:
            items.append(f"- … et {len(shown) - 40} autres")
        out.append(("markdown", "\n".join(items)))
    return out


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def pd_notna(value) -> bool:
    return not pd_isna(value)
