"""Widgets of the page « Carte » (map explorer); map building itself is in webmap, and what every
session shares (the map, the panel, the text version, built once per state) in ``ui.carte_view``."""

from __future__ import annotations

import streamlit as st

from .. import boundaries
from .._errors import PtceGeoError
from .._fmt import fmt_int
from .carte_view import (BUILDS, MapView, SummaryView, base_payload, ensure_static_assets, env_stamp,
                         map_files_exist, map_layer_url, map_optional, map_view, md_text, pd_isna, pd_notna,
                         poles_stamp, summary_view, territory_names)

__all__ = ["BUILDS", "MapView", "SummaryView", "carte_page", "ensure_static_assets", "map_optional", "md_text",
           "pd_isna", "pd_notna", "poles_stamp"]


def _carte_init(state) -> None:
    """Put the URL's state into the widgets once per session (then the widgets rule)."""
    from .. import webmap

    ss = st.session_state
    if ss.get("carte__init"):
        return
    ss["carte__init"] = True
    ss["carte_niveau"] = {None: "France entière", "departement": "Département", "region": "Région"}[state.level]
    if state.level == "departement":
        ss["carte_dep"] = state.code
    if state.level == "region":
        ss["carte_reg"] = state.code
    for key in webmap.LAYERS:
        ss[f"carte_couche_{key}"] = key in state.couches
    ss["carte_rayon"] = float(state.rayon)
    ss["carte_secteurs"] = list(state.secteurs)
    ss["carte_appels"] = list(state.appels)
    ss["carte_annees_on"] = state.annees is not None
    if state.annees:
        ss["carte_annees"] = tuple(state.annees)
    ss["carte_zonage"] = state.zonage
    ss["carte_couleur"] = state.couleur
    ss["carte_indicateur"] = state.indicateur
    ss["carte_fond"] = state.fond
    ss["carte_commune"] = state.commune
    ss["carte_lieu"] = state.lieu
    ss["carte_lieu_nom"] = state.lieu_nom


def _carte_search() -> None:
    """on_change of the search box: find the place, select its département, remember it."""
    from .. import webmap

    ss = st.session_state
    text = ss.get("carte_recherche", "")
    ss["carte_recherche_erreur"] = ""
    ss["carte_homonymes"] = []
    if not str(text).strip():
        return
    try:
        place = webmap.search_place(text)
        ss["carte_homonymes"] = webmap.homonyms(text)
    except PtceGeoError as exc:
        ss["carte_recherche_erreur"] = str(exc)
        return
    _show_place(place)


def _carte_pick_homonym() -> None:
    """on_change of the homonym choice: show the chosen commune instead."""
    from .. import webmap

    code = st.session_state.get("carte_homonyme")
    if code:
        try:
            _show_place(webmap.commune_place(code))
        except PtceGeoError as exc:
            st.session_state["carte_recherche_erreur"] = str(exc)


def _show_place(place) -> None:
    ss = st.session_state
    if place.kind == "commune":
        ss["carte_commune"], ss["carte_lieu"], ss["carte_lieu_nom"] = place.commune, None, ""
    else:
        ss["carte_commune"], ss["carte_lieu"], ss["carte_lieu_nom"] = "", (place.latitude, place.longitude), place.label
    if place.departement:
        ss["carte_niveau"], ss["carte_dep"] = "Département", place.departement


def _carte_clear_place() -> None:
    ss = st.session_state
    ss["carte_commune"], ss["carte_lieu"], ss["carte_lieu_nom"], ss["carte_recherche"] = "", None, "", ""
    ss["carte_homonymes"] = []


def carte_page() -> None:
    """The page « Carte », in four steps: the sidebar's controls give a ``webmap.MapState`` (also
    written to the URL: the permalink), its layers (``map_view``: ``webmap.explorer_layers``, pure
    and tested without Streamlit), then the map, the text version and the territory panel.

    Per session only the widgets and the registry's stamp (one query) are computed; the map
    (layers, rendered script), the panel and the text version are built once per state and data
    version (``map_view``, ``summary_view``, ``base_payload``) and shared by every session."""
    from .. import webmap

    st.title("Carte des pôles territoriaux de coopération économique")
    ensure_static_assets()
    state = _controls()
    st.query_params.from_dict(webmap.state_params(state))
    stamp, urls = poles_stamp(), tuple(sorted(webmap.asset_urls().items()))
    view = _layers(state, stamp, urls)
    _render(state, view, stamp, urls)


def _vocabularies() -> tuple[list[str], list[str]]:
    """The sectors and calls a pole filter offers."""
    try:
        from .. import poles as _poles

        return list(_poles.SECTEURS), list(_poles.APPELS)
    except ImportError:
        return [], []


def _controls() -> "webmap.MapState":
    """The sidebar (search, territory, layers, filters, colours, radius, basemap), initialised from
    the URL on a session's first run; returns the map state it shows."""
    from .. import webmap

    secteurs_vocab, appels_vocab = _vocabularies()
    url_state, warnings = webmap.parse_state(dict(st.query_params), secteurs_vocab, appels_vocab)
    _carte_init(url_state)
    for w in warnings:
        st.warning(w)
    ss = st.session_state
    dep_names, reg_names = territory_names(env_stamp())
    with st.sidebar:
        st.header("Carte")
        _search_controls(dep_names)
        territoire = _territory_control(dep_names, reg_names)
        st.subheader("Couches")
        couches = []
        for key, label in webmap.LAYERS.items():
            suffix = " — territoire choisi seulement" if key in webmap.LOCAL_LAYERS else ""
            if st.checkbox(label + suffix, key=f"carte_couche_{key}"):
                couches.append(key)
        with st.expander("Filtres des pôles", expanded=False):
            secteurs = st.multiselect("Secteurs", secteurs_vocab, key="carte_secteurs", placeholder="Tous les secteurs")
            appels = st.multiselect("Appel", appels_vocab, key="carte_appels", placeholder="Tous les appels")
            annees = None
            if st.checkbox("Filtrer par année de création", key="carte_annees_on"):
                annees = st.slider("Années de création", 1990, 2030, value=ss.get("carte_annees", (2010, 2025)),
                                   key="carte_annees")
            zonage = st.selectbox("Zonage", list(webmap.ZONING_FILTERS), key="carte_zonage",
                                  format_func=webmap.ZONING_FILTERS.get)
        couleur = st.radio("Couleur des pôles", list(webmap.COLOUR_BY), key="carte_couleur", horizontal=True,
                           format_func={"secteur": "par secteur", "appel": "par appel"}.get)
        indicateur = st.radio("Choroplèthe de couverture", list(webmap.INDICATORS), key="carte_indicateur",
                              format_func=webmap.INDICATORS.get)
        rayon = st.slider("Rayon d'action d'un pôle (km)", 1.0, 60.0, step=1.0, key="carte_rayon", format="%.0f km")
        fond = st.radio("Fond de carte", list(webmap.BASEMAPS), key="carte_fond", format_func=webmap.BASEMAPS.get)
    return webmap.MapState(
        territoire=territoire, couches=tuple(couches), rayon=float(rayon), secteurs=tuple(secteurs),
        appels=tuple(appels), annees=tuple(annees) if annees else None, zonage=zonage, couleur=couleur,
        indicateur=indicateur, fond=fond, commune=ss.get("carte_commune") or "",
        lieu=tuple(ss["carte_lieu"]) if ss.get("carte_lieu") else None, lieu_nom=ss.get("carte_lieu_nom") or "",
    )


def _search_controls(dep_names: dict) -> None:
    """Search box for a commune or an address, the choice between homonyms, and « Effacer »."""
    ss = st.session_state
    st.text_input("Rechercher une commune (nom ou code INSEE) ou une adresse", key="carte_recherche",
                  on_change=_carte_search, placeholder="ex. Mende, 48095, 10 rue de la Paix Paris")
    if ss.get("carte_recherche_erreur"):
        st.error(ss["carte_recherche_erreur"])
    if len(ss.get("carte_homonymes") or []) > 1:
        table = boundaries.commune_table()
        codes = ss["carte_homonymes"]
        if ss.get("carte_homonyme") not in codes:
            ss["carte_homonyme"] = ss.get("carte_commune") if ss.get("carte_commune") in codes else codes[0]
        st.selectbox(f"{len(codes)} communes portent ce nom", codes, key="carte_homonyme",
                     on_change=_carte_pick_homonym,
                     format_func=lambda c: f"{table.at[c, 'nom']} ({dep_names.get(table.at[c, 'departement'], '')}, "
                                           f"{c}) — {fmt_int(table.at[c, 'population'])} hab.")
    if ss.get("carte_commune") or ss.get("carte_lieu"):
        st.button("Effacer la recherche", on_click=_carte_clear_place)


def _territory_control(dep_names: dict, reg_names: dict) -> str:
    """France, a département or a région; returns the territory key (``""`` for France)."""
    from .. import webmap

    niveau = st.radio("Territoire", ["France entière", "Département", "Région"], key="carte_niveau",
                      horizontal=True)
    if niveau == "Département":
        code = st.selectbox("Département", list(dep_names), key="carte_dep",
                            format_func=lambda c: f"{c} — {dep_names[c]}")
        return webmap.territory_key("departement", code)
    if niveau == "Région":
        code = st.selectbox("Région", list(reg_names), key="carte_reg",
                            format_func=lambda c: f"{reg_names[c]} ({c})")
        return webmap.territory_key("region", code)
    return ""


def _layers(state, stamp: str, urls: tuple) -> MapView:
    """The layers of ``state`` (shared by every session at this data version), published again when
    a layer file was deleted since; a missing layer is said, the others drawn."""
    from .. import webmap

    view = map_view(state, stamp, urls)
    if not map_files_exist(view):  # a layer file deleted since it was published: publish it again
        map_layer_url.clear()
        map_view.clear()
        summary_view.clear()
        view = map_view(state, stamp, urls)
    for key, msg in view.missing.items():
        st.warning(f"Couche « {webmap.LAYERS[key]} » indisponible : {msg}")
    return view


def _render(state, view: MapView, stamp: str, urls: tuple) -> None:
    """The map, its sources, permalink note and text version on the left; the territory panel on
    the right."""
    from .. import _map_component
    from . import accessibilite

    left, right = st.columns([3, 1])
    with left:
        # The base map stays the same from one rerun to the next; the layers travel as a feature
        # group that streamlit-folium swaps in place: no reload, the reader's view is kept.
        _map_component.show(base_payload(state.fond, urls), view.payload, key="carte_map", height=640)
    # the side panel's figures and the text version under the map come from one function (after the
    # map: the coverage may take a few seconds on a cold start)
    summary = summary_view(state, stamp, urls)
    with left:
        if summary.flags_note:
            st.info(summary.flags_note)
        st.caption(summary.sources)
        st.caption("Lien permanent : l'adresse de cette page contient l'état de la carte (territoire, couches, "
                   "rayon, filtres) ; copiez-la pour rouvrir la même carte.")
        accessibilite.text_version_view(summary.text_version, "carte")
    with right:
        _carte_panel(summary)


def _metric(where, h) -> None:
    where.metric(h.label, h.value, help=h.help)


#: Headlines the panel lays out itself, before the coverage ones.
_PANEL_TOP = ("communes", "population", "poles", "regions", "departements")


def _carte_panel(view: SummaryView) -> None:
    """Figures of the selected territory (``mapsummary.carte_headline``) and searched commune, escaped
    (``SummaryView``: built once, shared by every session)."""
    headline = view.headline
    st.header(view.title)
    c1, c2 = st.columns(2)
    _metric(c1, headline["communes"])
    _metric(c2, headline["population"])
    _metric(st, headline["poles"])
    if view.overseas:
        st.caption(view.overseas)
    if "regions" in headline:
        c3, c4 = st.columns(2)
        _metric(c3, headline["regions"])
        _metric(c4, headline["departements"])
    if view.coverage_error is None:
        if view.figures_known:
            for h in headline.values():  # the coverage in the unit of the zoning, the registry
                if h.key in _PANEL_TOP:
                    continue
                if h.kind == "metric":
                    _metric(st, h)
                elif h.sentence:
                    st.caption(h.sentence)
    else:
        st.caption(f"Chiffres de couverture indisponibles : {view.coverage_error}")
    for kind, text in view.panel_lines:
        (st.caption if kind == "caption" else st.markdown)(text)
