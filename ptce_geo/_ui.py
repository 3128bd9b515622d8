"""Streamlit plumbing shared by every page: page setup, cached loaders, common widgets.

Pages import from here instead of repeating code; nothing runs at import. Cached
loaders take hashable arguments only (strings, numbers, tuples).
"""

from __future__ import annotations

import html

import geopandas as gpd
import streamlit as st

from . import boundaries
from ._errors import PtceGeoError

PAGE_TITLE = "ptce-geo — Atlas des PTCE"


def configure() -> None:
    st.set_page_config(page_title=PAGE_TITLE, page_icon="🗺️", layout="wide")


@st.cache_resource(show_spinner="Chargement des limites administratives…")
def boundaries_layer(level: str, simplified: bool = True) -> gpd.GeoDataFrame:
    """Boundaries of one level, shared by every session (read-only: copy before changing)."""
    return boundaries.load(level, simplified=simplified)


def show_error(exc: PtceGeoError) -> None:
    st.error(str(exc))


def escape(text) -> str:
    """HTML-escape any user text before it goes into a popup, tooltip or markdown."""
    return html.escape("" if text is None else str(text))


def missing_layers_notice() -> list[str]:
    """Show a French warning naming the priority layers that are not available locally
    (neither in the mirror nor in the cache) and how to get them; returns their names.

    Works offline with nothing cached: it only looks for files, never downloads.
    """
    from . import priority

    try:
        missing = priority.missing_layers()
    except PtceGeoError as exc:  # a broken setting must not stop the page
        st.warning(str(exc))
        return list(priority.LAYERS)
    if missing:
        names = ", ".join(f"« {priority.LABELS[name]} »" for name in missing)
        st.warning(
            f"Couches absentes : {names}. Les indicateurs qui en dépendent sont incomplets. "
            "Pour les obtenir : lancez `ptce-geo data sync` avec une connexion Internet, "
            "ou définissez la variable PTCE_GEO_MIRROR vers un dossier contenant les fichiers "
            "officiels (voir la page « Données »)."
        )
    return missing


def priority_status_view() -> None:
    """The « Données » page body: one block per priority layer (status, vintage, source, how to get it)."""
    from . import priority, sources

    table = priority.status()
    st.dataframe(
        table[["titre", "millesime", "en_cache", "origine", "date"]].rename(
            columns={"titre": "Couche", "millesime": "Millésime", "en_cache": "Disponible",
                     "origine": "Origine", "date": "Date de la copie"}
        ),
        hide_index=True,
        use_container_width=True,
    )
    for row in table.itertuples():
        with st.expander(f"{'✅' if row.en_cache else '⚠️'} {row.titre}", expanded=not row.en_cache):
            st.markdown(f"**Millésime** : {escape(row.millesime)}")
            for sid in priority.LAYER_SOURCES[row.layer] + priority.OPTIONAL_SOURCES.get(row.layer, ()):
                src = sources.get(sid)
                st.markdown(
                    f"- {escape(src.title)} — {escape(src.publisher)}, {escape(src.licence)} "
                    f"(fichier `{escape(src.filename)}`) : {escape(src.url or src.page)}"
                )
            if row.layer == "qpv" and row.en_cache:
                st.markdown(
                    "Contours officiels des QPV : "
                    + ("présents (polygones)." if row.polygones_qpv else
                       "absents — les QPV sont représentés par un point par commune concernée. "
                       "`ptce-geo data sync` les télécharge (data.gouv.fr).")
                )
            if row.en_cache:
                st.markdown(f"Copie locale : {escape(row.origine)}, du {escape(row.date)}.")
            else:
                st.markdown(f"**Absente.** Pour l'obtenir : {escape(row.obtenir)}.")


# ---------------------------------------------------------------- page « Pôles » (issue 4)

_POLE_TABLE_COLUMNS = {
    "nom": "Nom", "commune": "Commune", "departement": "Dép.", "appel": "Appel", "secteurs": "Secteurs",
    "forme_juridique": "Forme juridique", "geocodage": "Point", "localise": "Localisé", "id": "Identifiant",
}


def _pole_table(frame) -> "pd.DataFrame":
    import pandas as pd

    table = pd.DataFrame(frame[list(_POLE_TABLE_COLUMNS)]).copy()
    table["secteurs"] = table["secteurs"].map(lambda v: ", ".join(v) if isinstance(v, list) else "")
    table["geocodage"] = table["geocodage"].map({"commune": "commune", "adresse": "adresse", "saisie": "saisi"})
    for col in table.columns:
        if table[col].dtype == object:
            table[col] = table[col].fillna("")
    return table.rename(columns=_POLE_TABLE_COLUMNS)


def poles_who() -> str:
    """Name written in the registry history for this session's changes."""
    return st.sidebar.text_input("Votre nom (inscrit dans l'historique)", value="app", key="poles-who").strip() or "app"


def poles_browse() -> str | None:
    """Search box and table of the registry; return the id of the pole chosen for the detail view."""
    from . import poles

    frame = poles.load()
    query = st.text_input("Rechercher (nom, commune, secteur, appel…)", key="poles-query")
    found = poles.search(frame, query)
    n_loc = int(found["localise"].sum())
    st.caption(f"{len(found)} pôle(s) sur {len(frame)} — {n_loc} localisé(s) ; source : {escape(poles.vintage())}. "
               "Les pôles non localisés sont listés mais jamais placés sur la carte.")
    st.dataframe(_pole_table(found), hide_index=True, width="stretch")
    if found.empty:
        return None
    names = dict(zip(found["id"], found["nom"]))
    return st.selectbox("Fiche du pôle", list(names), format_func=lambda i: names[i], key="poles-selected")


def pole_detail(pole_id: str) -> dict:
    """Every field of a pole, HTML-escaped; return the record."""
    from . import registry

    rec = registry.get(pole_id)
    st.subheader("Fiche")
    labels = [("nom", "Nom"), ("adresse", "Adresse"), ("commune", "Commune"), ("code_insee", "Code INSEE"),
              ("departement", "Département"), ("region", "Région"), ("forme_juridique", "Forme juridique"),
              ("secteurs", "Secteurs"), ("annee_creation", "Année de création"), ("appel", "Appel"),
              ("membres", "Membres"), ("site_web", "Site web"), ("perimetre", "Périmètre"), ("source", "Source")]
    names = {
        "departement": dict(zip(*boundaries_layer("departement")[["code", "nom"]].to_numpy().T)),
        "region": dict(zip(*boundaries_layer("region")[["code", "nom"]].to_numpy().T)),
    }
    lines = []
    for key, label in labels:
        value = rec.get(key)
        if isinstance(value, list):
            value = ", ".join(value)
        if key in names and value in names[key]:
            value = f"{names[key][value]} ({value})"
        lines.append(f"- **{label}** : {escape(value) if value not in (None, '') else '—'}")
    if rec["localise"]:
        how = {"commune": "point de la commune (pas l'adresse exacte)", "adresse": "adresse géocodée (BAN)",
               "saisie": "coordonnées saisies"}.get(rec["geocodage"], escape(rec["geocodage"]))
        lines.append(f"- **Point** : {rec['latitude']:.5f}, {rec['longitude']:.5f} — {how}")
    else:
        lines.append("- **Point** : non localisé (hors carte)")
    lines.append(f"- **Version** : {rec['version']}")
    st.markdown("\n".join(lines))
    return rec


def pole_edit_form(rec: dict, who: str) -> None:
    """Edit form with the optimistic version check: the version is the one read when the pole was opened."""
    from . import poles, registry
    from ._errors import ConflictError

    key = f"poles-version-{rec['id']}"
    if key not in st.session_state:
        st.session_state[key] = rec["version"]
    version = st.session_state[key]
    if version != rec["version"]:
        st.warning(f"Ce pôle a changé depuis que vous l'avez ouvert (version {rec['version']}, vous éditez la "
                   f"version {version}).")
        if st.button("Recharger la fiche", key=f"poles-reload-{rec['id']}"):
            st.session_state[key] = rec["version"]
            st.rerun()
    with st.form(f"poles-edit-{rec['id']}"):
        st.markdown("**Modifier la fiche**")
        raw = {
            "nom": st.text_input("Nom", rec["nom"] or ""),
            "adresse": st.text_input("Adresse", rec["adresse"] or ""),
            "code_insee": st.text_input("Code INSEE de la commune", rec["code_insee"] or ""),
            "forme_juridique": st.text_input("Forme juridique", rec["forme_juridique"] or ""),
            "secteurs": st.multiselect("Secteurs", poles.SECTEURS, default=[s for s in rec["secteurs"] if s in poles.SECTEURS]),
            "appel": st.selectbox("Appel", ["", *poles.APPELS],
                                  index=(["", *poles.APPELS].index(rec["appel"]) if rec["appel"] in poles.APPELS else 0)),
            "annee_creation": st.text_input("Année de création", "" if rec["annee_creation"] is None else str(rec["annee_creation"])),
            "membres": st.text_input("Nombre de membres", "" if rec["membres"] is None else str(rec["membres"])),
            "site_web": st.text_input("Site web", rec["site_web"] or ""),
            "perimetre": st.text_input("Périmètre (codes INSEE ou SIREN d'EPCI, séparés par « ; »)", ";".join(rec["perimetre"])),
            "source": st.text_input("Source (URL)", rec["source"] or ""),
        }
        submitted = st.form_submit_button("Enregistrer")
    if submitted:
        try:
            new = poles.edit(rec["id"], raw, version, who)
        except ConflictError as exc:
            st.error(str(exc))
            return
        except PtceGeoError as exc:
            show_error(exc)
            return
        st.session_state[key] = new["version"]
        st.success(f"Fiche enregistrée (version {new['version']}).")
        st.rerun()


def poles_import(who: str) -> None:
    """Upload, preview of the validation report, then import on request."""
    import hashlib
    import tempfile
    from pathlib import Path

    from . import importer

    up = st.file_uploader("Fichier à importer (CSV, XLSX ou GeoJSON)", type=["csv", "xlsx", "geojson", "json"],
                          key="poles-upload")
    if up is None:
        st.caption("Colonnes reconnues : nom, code INSEE, commune, adresse, latitude/longitude, secteurs, année de "
                   "création, appel, membres, site web, périmètre, source (en-têtes français usuels). "
                   "Un fichier avec seulement le nom et le code INSEE suffit.")
        return
    data = up.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "ptce-geo-import" / digest
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(up.name).name
    path.write_bytes(data)
    try:
        report = importer.check(path)
    except PtceGeoError as exc:
        show_error(exc)
        return
    (st.success if report.ok else st.warning)(f"Vérification : {report.summary()}")
    st.text(report.text())
    issues = report.issues_frame()
    if len(issues):
        st.dataframe(issues, hide_index=True, width="stretch")
    st.markdown("**Aperçu des pôles qui seraient ajoutés**")
    st.dataframe(report.preview(), hide_index=True, width="stretch")
    skip = False
    if not report.ok:
        skip = st.checkbox("Ignorer les lignes invalides (elles seront proposées en téléchargement)", key="poles-skip")
    if st.button("Importer dans le registre", disabled=not (report.ok or skip) or not report.valid_records,
                 key="poles-do-import"):
        try:
            done = importer.run(path, skip_invalid=skip, rejects=folder / f"{path.stem}_rejets.csv", who=who)
        except PtceGeoError as exc:
            show_error(exc)
            return
        st.success(f"{len(done.imported_ids)} pôle(s) ajouté(s) au registre.")
        if done.rejects_path:
            st.download_button("Télécharger les lignes rejetées (CSV)", Path(done.rejects_path).read_bytes(),
                               file_name=Path(done.rejects_path).name, mime="text/csv")


def poles_export_buttons() -> None:
    from . import export, poles

    frame = poles.load()
    meta = {"source": poles.vintage()}
    cols = st.columns(3)
    cols[0].download_button("CSV (Excel)", export.to_csv_bytes(frame, excel=True), file_name="poles.csv",
                            mime="text/csv")
    cols[1].download_button("GeoJSON", export.to_geojson_bytes(frame[frame["localise"]]), file_name="poles.geojson",
                            mime="application/geo+json")
    cols[2].download_button("Excel (XLSX)", export.to_xlsx_bytes(frame, sheet="poles", meta=meta), file_name="poles.xlsx",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    st.caption("Le GeoJSON ne contient que les pôles localisés ; CSV et XLSX contiennent tous les pôles.")


def poles_history() -> None:
    from . import registry

    st.dataframe(registry.history(), hide_index=True, width="stretch")


# --------------------------------------------------------------------------- map explorer (page « Carte »)

def md_text(text) -> str:
    """Escape user text for st.markdown: every ASCII punctuation is backslash-escaped (CommonMark),
    so ``<img …>``, ``*``, ``[…](…)`` show as typed and nothing becomes HTML or a link."""
    import re as _re

    text = "" if text is None else str(text)
    return _re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text).replace("\n", " ")


@st.cache_resource(show_spinner=False)
def _map_optional(name: str, stamp: str = ""):
    """(frame, None) or (None, French error) for one optional source; failures are cached too,
    so an offline app does not retry downloads on every rerun."""
    try:
        if name == "poles":
            from . import poles

            return poles.load(), None
        if name == "flags":
            from . import priority

            return priority.flags(), None
        from . import priority

        return priority.load(name), None
    except ImportError as exc:
        return None, f"module absent ({exc})"
    except PtceGeoError as exc:
        return None, str(exc)


def _env_stamp() -> str:
    """Part of every map cache key: the settings that decide where data comes from."""
    from . import settings as _settings

    s = _settings.get()
    return f"{s.cache_dir}|{s.data_dir}|{s.mirror_dir}|{s.offline}"


def _poles_stamp() -> str:
    try:
        from . import poles

        return f"{poles.vintage()}|{_env_stamp()}"
    except Exception:  # noqa: BLE001 - registry unreadable: the layer reports it
        return _env_stamp()


@st.cache_resource(show_spinner="Calcul de la couverture…", max_entries=8)
def _map_coverage(radius_km: float, zoning: str, stamp: str):
    try:
        from . import coverage

        result = coverage.compute(radius_km=radius_km, zoning=zoning)
        return result, coverage.by_territory(result, "departement"), coverage.by_territory(result, "region"), None
    except ImportError as exc:
        return None, None, None, f"module de couverture absent ({exc})"
    except PtceGeoError as exc:
        return None, None, None, str(exc)


@st.cache_resource(show_spinner=False, max_entries=64)
def _map_geojson(key: str, territoire: str, stamp: str = "") -> str:
    from . import webmap

    if key in ("regions", "departements", "epci", "communes"):
        frame = webmap.boundary_layer(key, territoire)
        props = ["code", "nom"] + (["population"] if key == "communes" else [])
        # National outlines are simplified at 250-400 m: 3 decimals (≈ 100 m) lose nothing visible.
        return webmap.to_geojson(frame, props, precision=_map_precision(territoire))
    source, err = _map_optional(key, stamp)
    if source is None:
        raise PtceGeoError(err)
    frame = webmap.priority_layer(key, source, territoire)
    props = {"qpv": ["code", "nom", "communes"], "territoires-industrie": ["code", "nom"],
             "frr": ["code", "nom", "classement"], "zrr": ["code", "nom", "classement"]}[key]
    return webmap.to_geojson(frame, props, precision=_map_precision(territoire))


def _map_precision(territoire: str) -> int:
    """Decimals kept in the GeoJSON: 5 (≈ 1 m) for a département, 4 (≈ 10 m) for a région, 3 nationally."""
    return 3 if not territoire else (5 if territoire.startswith("dep-") else 4)


@st.cache_resource(show_spinner=False, max_entries=16)
def _map_choropleth(territoire: str, radius_km: float, zoning: str, indicator: str, stamp: str):
    from . import webmap

    result, by_dep, _, err = _map_coverage(radius_km, zoning, stamp)
    if result is None:
        raise PtceGeoError(err)
    if territoire:
        codes = set(webmap.territory_communes(territoire).index)
        table = webmap.commune_coverage_table(result.communes[result.communes["code"].isin(codes)])
    else:
        table = by_dep
    frame, classes = webmap.coverage_layer(table, territoire, indicator)
    return webmap.to_geojson(frame, ["code", "nom", "valeur_texte", "couleur"], 5 if territoire else 4), classes


@st.cache_resource(show_spinner=False)
def _carte_static() -> str:
    """Copy Leaflet to ./static once per process; without it the map falls back to the CDN."""
    from . import webmap

    try:
        return str(webmap.prepare_static())
    except (PtceGeoError, OSError) as exc:
        return f"indisponible : {exc}"


def _carte_init(state) -> None:
    """Put the URL's state into the widgets once per session (then the widgets rule)."""
    from . import webmap

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
    from . import webmap

    ss = st.session_state
    text = ss.get("carte_recherche", "")
    ss["carte_recherche_erreur"] = ""
    if not str(text).strip():
        return
    try:
        place = webmap.search_place(text)
    except PtceGeoError as exc:
        ss["carte_recherche_erreur"] = str(exc)
        return
    if place.kind == "commune":
        ss["carte_commune"], ss["carte_lieu"], ss["carte_lieu_nom"] = place.commune, None, ""
    else:
        ss["carte_commune"], ss["carte_lieu"], ss["carte_lieu_nom"] = "", (place.latitude, place.longitude), place.label
    if place.departement:
        ss["carte_niveau"], ss["carte_dep"] = "Département", place.departement


def _carte_clear_place() -> None:
    ss = st.session_state
    ss["carte_commune"], ss["carte_lieu"], ss["carte_lieu_nom"], ss["carte_recherche"] = "", None, "", ""


def carte_page() -> None:
    """The page « Carte »: sidebar controls, the map, the territory panel, legend and sources."""
    import pandas as pd
    from streamlit_folium import st_folium

    from . import webmap

    st.title("Carte des pôles territoriaux de coopération économique")
    _carte_static()
    try:
        from . import poles as _poles

        secteurs_vocab, appels_vocab = list(_poles.SECTEURS), list(_poles.APPELS)
    except ImportError:
        secteurs_vocab, appels_vocab = [], []
    url_state, warnings = webmap.parse_state(dict(st.query_params), secteurs_vocab, appels_vocab)
    _carte_init(url_state)
    for w in warnings:
        st.warning(w)
    ss = st.session_state
    deps = boundaries_layer("departement")[["code", "nom", "region"]]
    regs = boundaries_layer("region")[["code", "nom"]]
    dep_names = dict(zip(deps["code"], deps["nom"]))
    reg_names = dict(zip(regs["code"], regs["nom"]))
    pole_frame, pole_err = _map_optional("poles", _poles_stamp())
    # Priority flags are needed before the map only for the zoning filter (they load in seconds).
    flags, flags_err = _map_optional("flags", _env_stamp()) if url_state.zonage or ss.get("carte_zonage") \
        else (None, None)

    with st.sidebar:
        st.header("Carte")
        st.text_input("Rechercher une commune (nom ou code INSEE) ou une adresse", key="carte_recherche",
                      on_change=_carte_search, placeholder="ex. Mende, 48095, 10 rue de la Paix Paris")
        if ss.get("carte_recherche_erreur"):
            st.error(ss["carte_recherche_erreur"])
        if ss.get("carte_commune") or ss.get("carte_lieu"):
            st.button("Effacer la recherche", on_click=_carte_clear_place)
        niveau = st.radio("Territoire", ["France entière", "Département", "Région"], key="carte_niveau",
                          horizontal=True)
        territoire = ""
        if niveau == "Département":
            code = st.selectbox("Département", list(dep_names), key="carte_dep",
                                format_func=lambda c: f"{c} — {dep_names[c]}")
            territoire = webmap.territory_key("departement", code)
        elif niveau == "Région":
            code = st.selectbox("Région", list(reg_names), key="carte_reg",
                                format_func=lambda c: f"{reg_names[c]} ({c})")
            territoire = webmap.territory_key("region", code)
        st.subheader("Couches")
        couches = []
        for key, label in webmap.LAYERS.items():
            suffix = " — territoire choisi seulement" if key in webmap.LOCAL_LAYERS else ""
            if st.checkbox(label + suffix, key=f"carte_couche_{key}"):
                couches.append(key)
        with st.expander("Filtres des pôles", expanded=False):
            secteurs = st.multiselect("Secteurs", secteurs_vocab, key="carte_secteurs")
            appels = st.multiselect("Appel", appels_vocab, key="carte_appels")
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
        rayon = st.slider("Rayon d'action d'un pôle (km)", 1.0, 60.0, step=1.0, key="carte_rayon")
        fond = st.radio("Fond de carte", list(webmap.BASEMAPS), key="carte_fond", format_func=webmap.BASEMAPS.get)

    state = webmap.MapState(
        territoire=territoire, couches=tuple(couches), rayon=float(rayon), secteurs=tuple(secteurs),
        appels=tuple(appels), annees=tuple(annees) if annees else None, zonage=zonage, couleur=couleur,
        indicateur=indicateur, fond=fond, commune=ss.get("carte_commune") or "",
        lieu=tuple(ss["carte_lieu"]) if ss.get("carte_lieu") else None, lieu_nom=ss.get("carte_lieu_nom") or "",
    )
    st.query_params.from_dict(webmap.state_params(state))

    stamp = _poles_stamp()
    layers = webmap.MapLayers(indicator=state.indicateur)
    missing: dict[str, str] = {}
    vintages: dict[str, str] = {}
    for key in state.couches:
        if key == "poles":
            continue
        if key == "couverture":
            try:
                layers.geojson[key], layers.classes = _map_choropleth(
                    state.territoire, state.rayon, state.zonage or "all", state.indicateur, stamp)
                result = _map_coverage(state.rayon, state.zonage or "all", stamp)[0]
                vintages[key] = "; ".join(f"{k} : {v}" for k, v in result.vintages.items())
            except PtceGeoError as exc:
                missing[key] = str(exc)
            continue
        try:
            layers.geojson[key] = _map_geojson(key, state.territoire, _env_stamp())
            if key in webmap.PRIORITY_LAYER:
                from . import priority

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
                vocab = appels_vocab if state.couleur == "appel" else secteurs_vocab
                layers.pole_colours = webmap.colour_map(vocab)
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

    for key, msg in missing.items():
        st.warning(f"Couche « {webmap.LAYERS[key]} » indisponible : {msg}")

    left, right = st.columns([3, 1])
    with left:
        m = webmap.build_map(state, layers, bounds=bounds)
        st_folium(m, height=640, use_container_width=True, returned_objects=[], key="carte_map")
        if flags is None:
            flags, flags_err = _map_optional("flags", _env_stamp())
        if flags is not None and flags.attrs.get("missing_layers"):
            st.info("Couches prioritaires manquantes : "
                    + ", ".join(webmap.LAYERS.get(k, k) for k in flags.attrs["missing_layers"])
                    + ". Lancez « ptce-geo prepare » avec une connexion Internet ou un miroir (PTCE_GEO_MIRROR).")
        elif flags is None and flags_err:
            st.info(f"Couches prioritaires indisponibles : {flags_err}")
        lines = webmap.sources_text(state, vintages)
        st.caption("Sources et millésimes des couches affichées : " + " · ".join(md_text(x) for x in lines))
        st.caption("Lien permanent : l'adresse de cette page contient l'état de la carte (territoire, couches, "
                   "rayon, filtres) ; copiez-la pour rouvrir la même carte.")
    with right:
        _carte_panel(state, shown, flags, stamp)


def _carte_panel(state, shown, flags, stamp) -> None:
    """Figures of the selected territory (and searched commune), escaped."""
    from . import webmap

    st.subheader(webmap.territory_name(state.territoire))
    table = webmap.territory_communes(state.territoire)
    pop = table["population"].sum()
    c1, c2 = st.columns(2)
    c1.metric("Communes", webmap._fmt_int(len(table)))
    c2.metric("Population", webmap._fmt_int(pop))
    st.metric("Pôles affichés", webmap._fmt_int(len(shown)))
    if not state.territoire:
        c3, c4 = st.columns(2)
        c3.metric("Régions", f"{table['region'].nunique()}")
        c4.metric("Départements", f"{table['departement'].nunique()}")
    result, by_dep, by_reg, err = _map_coverage(state.rayon, state.zonage or "all", stamp)
    if result is not None:
        if state.territoire:
            t = (by_dep if state.level == "departement" else by_reg)
            row = t[t["code"] == state.code]
            figures = row.iloc[0] if len(row) else None
        else:
            from . import coverage

            figures = coverage.national(result)
        if figures is not None:
            rate = figures.get("coverage_rate")
            st.metric(f"Population prioritaire couverte (rayon {state.rayon:g} km)",
                      "n.c." if rate is None or pd_isna(rate) else f"{float(rate) * 100:.0f} %")
            st.caption(f"Population prioritaire : {webmap._fmt_int(figures.get('priority_population'))} hab., "
                       f"dont couverte : {webmap._fmt_int(figures.get('priority_population_covered'))} hab.")
    else:
        st.caption(f"Chiffres de couverture indisponibles : {err}")
    if state.commune:
        row = boundaries.commune_table().loc[state.commune]
        st.markdown(f"**Commune : {md_text(row['nom'])} ({md_text(state.commune)})** — "
                    f"{webmap._fmt_int(row['population'])} hab.")
        if flags is not None:
            f = flags[flags["code"] == state.commune]
            if len(f):
                f = f.iloc[0]
                st.markdown("\n".join([
                    f"- QPV : {int(f['qpv_count'])}",
                    f"- Territoire d'industrie : {'oui' if f['in_territoire_industrie'] else 'non'}",
                    f"- FRR : {md_text(f['frr_classement'] or 'n.c.')}",
                    f"- ZRR (historique) : {md_text(f['zrr_classement'] or 'n.c.')}",
                ]))
        if result is not None:
            c = result.communes[result.communes["code"] == state.commune]
            if len(c) and pd_notna(c.iloc[0]["nearest_distance_km"]):
                st.caption(f"Pôle le plus proche : {md_text(c.iloc[0].get('nearest_pole_nom', ''))} "
                           f"à {float(c.iloc[0]['nearest_distance_km']):.1f} km")
    if state.lieu:
        st.markdown(f"**Adresse : {md_text(state.lieu_nom)}**")
    if len(shown):
        st.markdown("**Pôles**")
        items = [f"- {md_text(r['nom'])} — {md_text(r.get('commune') or 'n.c.')}"
                 + (f" ({md_text(r['appel'])})" if isinstance(r.get("appel"), str) and r.get("appel") else "")
                 for _, r in shown.head(40).iterrows()]
        if len(shown) > 40:
            items.append(f"- … et {len(shown) - 40} autres")
        st.markdown("\n".join(items))


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def pd_notna(value) -> bool:
    return not pd_isna(value)


# --------------------------------------------------------------------------- coverage (« Lacunes », « Territoire »)

def zoning_select(key: str = "zonage") -> str:
    """Select box of the zonings (French labels); returns a key of ``coverage.ZONINGS``."""
    from . import coverage, priority

    labels = {"all": "Toutes zones prioritaires (QPV, Territoires d'industrie, FRR)", **priority.LABELS}
    return st.selectbox("Zonage prioritaire", coverage.ZONINGS, index=coverage.ZONINGS.index("all"),
                        format_func=lambda z: labels.get(z, z), key=key)


def radius_slider(key: str = "rayon_km") -> float:
    """Radius of a pole's catchment in km (0 to 100, default 15)."""
    from . import coverage

    return float(st.slider("Rayon autour de chaque pôle (km)", 0, 100, int(coverage.DEFAULT_RADIUS_KM), 1, key=key))


def perimeter_toggle(key: str = "perimetre") -> bool:
    return st.checkbox("Compter les périmètres déclarés des pôles (communes, EPCI)", value=True, key=key)


def coverage_controls(prefix: str) -> tuple[float, bool, str]:
    """The three coverage settings side by side: (radius_km, use_perimeter, zoning)."""
    cols = st.columns([2, 2, 2])
    with cols[0]:
        zoning = zoning_select(f"{prefix}_zonage")
    with cols[1]:
        radius = radius_slider(f"{prefix}_rayon")
    with cols[2]:
        use_perimeter = perimeter_toggle(f"{prefix}_perimetre")
    return radius, use_perimeter, zoning


@st.cache_resource(show_spinner="Calcul de la couverture…", max_entries=24)
def _coverage_cached(radius_km: float, use_perimeter: bool, zoning: str, registry_stamp: str):
    from . import coverage

    return coverage.compute(radius_km, use_perimeter=use_perimeter, zoning=zoning)


def coverage_result(radius_km: float, use_perimeter: bool, zoning: str):
    """``coverage.compute`` shared by sessions, recomputed when the pole registry or the set of
    available priority layers changes."""
    from . import priority, registry

    stamp = f"{registry.updated_at()}|{','.join(priority.missing_layers())}"
    return _coverage_cached(float(radius_km), bool(use_perimeter), zoning, stamp)


def _fmt_int(value) -> str:
    return f"{int(value):,}".replace(",", "\u202f")


def coverage_metrics(figures: dict) -> None:
    cols = st.columns(4)
    cols[0].metric("Pôles localisés", _fmt_int(figures["poles"]))
    cols[1].metric("Population prioritaire", _fmt_int(figures["priority_population"]))
    cols[2].metric("dont couverte", _fmt_int(figures["priority_population_covered"]))
    rate = figures["coverage_rate"]
    cols[3].metric("Taux de couverture", "—" if rate != rate else f"{rate:.1%}".replace(".", ","))


def coverage_downloads(table, name: str, level: str | None, key: str) -> None:
    """CSV (Excel), XLSX and GeoJSON buttons for a coverage table (same columns in each)."""
    from . import coverage

    cols = st.columns(3)
    cols[0].download_button("CSV (Excel)", coverage.to_bytes(table, "csv"), file_name=f"{name}.csv",
                            mime="text/csv", key=f"{key}_csv")
    cols[1].download_button("Excel (XLSX)", coverage.to_bytes(table, "xlsx"), file_name=f"{name}.xlsx",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            key=f"{key}_xlsx")
    try:
        geo = coverage.to_bytes(table, "geojson", level=level)
    except PtceGeoError:
        geo = None
    if geo is not None:
        cols[2].download_button("GeoJSON", geo, file_name=f"{name}.geojson", mime="application/geo+json",
                                key=f"{key}_geojson")


def _coverage_map(shapes: gpd.GeoDataFrame | None, poles_frame, radius_km: float | None, outline=None,
                  height: int = 520):
    """Folium map: optional outline, gap shapes (red), poles (blue) with their radius."""
    import folium
    from streamlit_folium import st_folium

    from . import webmap

    m = folium.Map(location=[46.6, 2.4], zoom_start=6, tiles="OpenStreetMap", prefer_canvas=True,
                   control_scale=True)
    _carte_static()  # Leaflet served locally (works offline), as on the « Carte » page
    urls = webmap.asset_urls()
    m.default_js = [("leaflet", urls["leaflet_js"])]
    m.default_css = [("leaflet_css", urls["leaflet_css"])]
    bounds = None
    if outline is not None and len(outline):
        folium.GeoJson(outline[["geometry"]].to_json(), name="Territoire",
                       style_function=lambda f: {"color": "#333333", "weight": 2, "fillOpacity": 0}).add_to(m)
        bounds = outline.total_bounds
    if shapes is not None and len(shapes):
        show = shapes[["code", "nom", "priority_population", "geometry"]].copy()
        show = show[show.geometry.notna()]
        show["nom"] = show["nom"].map(escape)
        show["code"] = show["code"].map(escape)
        folium.GeoJson(
            show.to_json(), name="Territoires prioritaires sans pôle",
            style_function=lambda f: {"color": "#b2182b", "weight": 1, "fillColor": "#ef8a62", "fillOpacity": 0.55},
            marker=folium.CircleMarker(radius=6, color="#b2182b", fill=True, fill_opacity=0.8),
            tooltip=folium.GeoJsonTooltip(fields=["code", "nom", "priority_population"],
                                          aliases=["Code", "Nom", "Population prioritaire"]),
        ).add_to(m)
        # a dot on each gap keeps small communes visible at national zoom
        dots = show.geometry.representative_point()
        for (nom_, code_, pop_), pt in zip(show[["nom", "code", "priority_population"]].itertuples(index=False), dots):
            folium.CircleMarker([pt.y, pt.x], radius=3, color="#b2182b", weight=1, fill=True, fill_opacity=0.9,
                                tooltip=f"{nom_} ({code_}) — {_fmt_int(pop_)} hab. prioritaires").add_to(m)
        if bounds is None and len(show):
            # metropolitan gaps decide the view (overseas ones stay on the map, reached by zooming out)
            rep = show.geometry.representative_point()
            metro = show[(rep.x > -6) & (rep.x < 10) & (rep.y > 41) & (rep.y < 52)]
            bounds = (metro if len(metro) else show).total_bounds
    if poles_frame is not None:
        for row in poles_frame.itertuples():
            if radius_km:
                folium.Circle([row.lat, row.lon], radius=radius_km * 1000, color="#1f5fa8", weight=1,
                              fill=True, fill_opacity=0.06).add_to(m)
            folium.CircleMarker([row.lat, row.lon], radius=5, color="#1f5fa8", fill=True, fill_opacity=1,
                                tooltip=escape(row.nom)).add_to(m)
    if bounds is not None and all(b == b for b in bounds):
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    st_folium(m, height=height, use_container_width=True, returned_objects=[])


_GAP_LEVEL_LABELS = {"commune": "Communes", "epci": "EPCI", "qpv": "Quartiers prioritaires (QPV)",
                     "territoires-industrie": "Territoires d'industrie"}

_GAP_COLUMNS = {"rang": "Rang", "code": "Code", "nom": "Nom", "departement": "Département", "zonages": "Zonages",
                "communes": "Communes", "priority_communes": "Communes prioritaires",
                "population": "Population", "priority_population": "Population prioritaire",
                "nearest_distance_km": "Pôle le plus proche (km)", "nearest_pole_nom": "Pôle le plus proche"}


def lacunes_view() -> None:
    """The « Lacunes » page body: settings, national figures, ranked gaps, map, downloads."""
    from . import coverage

    radius, use_perimeter, zoning = coverage_controls("lacunes")
    cols = st.columns([2, 1])
    level = cols[0].radio("Territoires", coverage.GAP_LEVELS, format_func=_GAP_LEVEL_LABELS.get, horizontal=True,
                          key="lacunes_niveau")
    top = cols[1].number_input("Nombre de lignes", 10, 5000, 100, 10, key="lacunes_top")
    try:
        result = coverage_result(radius, use_perimeter, zoning)
        table = coverage.gaps(result, level, top=int(top))
        coverage_metrics(coverage.national(result))
        st.subheader(f"{_GAP_LEVEL_LABELS[level]} prioritaires sans pôle, par population prioritaire")
        shown = table[[c for c in _GAP_COLUMNS if c in table.columns]].rename(columns=_GAP_COLUMNS)
        st.dataframe(shown, hide_index=True, width="stretch")
        text_p, text_v = coverage.describe(table.attrs["params"], table.attrs["vintages"])
        st.caption(f"Paramètres : {text_p}. Millésimes : {text_v}.")
        coverage_downloads(table, f"lacunes-{level}", level, "lacunes")
        shapes = coverage.as_layer(table.head(300), level)
        _coverage_map(shapes, result.poles, radius)
        suggestion_view(result, radius)
    except PtceGeoError as exc:
        show_error(exc)


def suggestion_view(result, radius_km: float) -> None:
    """« Où implanter de nouveaux pôles ? »: greedy sites with their marginal gains, downloadable."""
    from . import coverage

    with st.expander("Où implanter de nouveaux pôles ? (couverture maximale)"):
        regions = boundaries_layer("region")
        names = dict(zip(regions["code"], regions["nom"]))
        cols = st.columns([1, 2, 2])
        count = int(cols[0].number_input("Nombre de sites", 1, 50, 5, key="suggestion_nombre"))
        region = cols[1].selectbox("Chercher les sites en", [None, *sorted(names, key=names.get)],
                                   format_func=lambda c: "France entière" if c is None else names[c],
                                   key="suggestion_region")
        in_zoning = cols[2].checkbox("Sites parmi les communes du zonage", key="suggestion_zonage")
        if not radius_km:
            st.info("Choisissez un rayon supérieur à 0 km pour obtenir des suggestions.")
            return
        table = coverage.suggest(result, count, region=region, candidates_in_zoning=in_zoning)
        shown = table[["rang", "code", "nom", "departement", "gain_population", "gain_communes", "cumulative_gain"]]
        st.dataframe(shown.rename(columns={"rang": "Rang", "code": "Code", "nom": "Commune",
                                           "departement": "Département", "gain_population": "Gain (habitants)",
                                           "gain_communes": "Communes couvertes", "cumulative_gain": "Gain cumulé"}),
                     hide_index=True, width="stretch")
        st.caption("Chaque site couvre la population prioritaire encore non couverte dans le rayon choisi ; "
                   "le gain de chaque ligne s'ajoute aux précédents (algorithme glouton).")
        coverage_downloads(table, "suggestions", None, "suggestions")


_TERRITORY_LEVEL_LABELS = {"commune": "Commune", "epci": "EPCI", "departement": "Département", "region": "Région"}


def territory_picker(prefix: str = "territoire") -> tuple[str, str, str]:
    """Level, then a territory found by name or code; returns (level, code, nom)."""
    from . import boundaries

    cols = st.columns([1, 2, 3])
    level = cols[0].selectbox("Niveau", boundaries.LEVELS, index=2, format_func=_TERRITORY_LEVEL_LABELS.get,
                              key=f"{prefix}_niveau")
    layer = boundaries_layer(level)
    query = cols[1].text_input("Rechercher (nom ou code)", key=f"{prefix}_recherche").strip().lower()
    names = layer[["code", "nom"]]
    if query:
        names = names[names["code"].str.lower().str.startswith(query) | names["nom"].str.lower().str.contains(query,
                                                                                                       regex=False)]
    names = names.head(500)
    if names.empty:
        st.info(f"Aucun territoire ne correspond à « {escape(query)} ».")
        st.stop()
    options = dict(zip(names["code"], names["nom"]))
    code = cols[2].selectbox("Territoire", list(options), format_func=lambda c: f"{options[c]} ({c})",
                             key=f"{prefix}_code")
    return level, code, options[code]


def territoire_view() -> None:
    """The « Territoire » page body: zonings, poles, coverage, gaps inside, small map, downloads."""
    from . import coverage

    level, code, nom = territory_picker()
    radius, use_perimeter, zoning = coverage_controls("territoire")
    try:
        result = coverage_result(radius, use_perimeter, zoning)
        row = coverage.by_territory(result, level).set_index("code").loc[code]
        st.subheader(f"{_TERRITORY_LEVEL_LABELS[level]} : {nom} ({code})")
        coverage_metrics({"poles": row["poles"], "priority_population": row["priority_population"],
                          "priority_population_covered": row["priority_population_covered"],
                          "coverage_rate": row["coverage_rate"]})
        zonings = []
        for z in coverage.ZONINGS:
            s = coverage.ZONING_SHORT[z]
            rate = row[f"{s}_coverage_rate"]
            zonings.append({"Zonage": coverage.ZONING_LABELS[z], "Communes": int(row[f"{s}_communes"]),
                            "Population": int(row[f"{s}_population"]),
                            "Population couverte": int(row[f"{s}_population_covered"]),
                            "Taux de couverture": None if rate != rate else round(float(rate), 4)})
        st.dataframe(zonings, hide_index=True, width="stretch")
        key = "code" if level == "commune" else level
        communes = result.communes
        inside = set(communes.loc[communes[key].astype(str) == str(code), "code"])
        poles_in = result.poles[result.poles["commune"].isin(inside)]
        st.markdown(f"**Pôles implantés** : {len(poles_in)}")
        if len(poles_in):
            st.dataframe(poles_in[["id", "nom", "commune"]].rename(columns={"id": "Identifiant", "nom": "Nom",
                                                                             "commune": "Commune (INSEE)"}),
                         hide_index=True, width="stretch")
        gaps = coverage.gaps(result, "commune", within=(key, code))
        st.markdown(f"**Communes prioritaires sans pôle** : {len(gaps)}")
        if len(gaps):
            st.dataframe(gaps[[c for c in _GAP_COLUMNS if c in gaps.columns]].rename(columns=_GAP_COLUMNS),
                         hide_index=True, width="stretch")
        text_p, text_v = coverage.describe(gaps.attrs["params"], gaps.attrs["vintages"])
        st.caption(f"Paramètres : {text_p}. Millésimes : {text_v}.")
        table = coverage.by_territory(result, "commune")
        table = coverage._finish(table[table["code"].isin(inside)].drop(columns=["parametres", "millesimes"]),
                                 table.attrs["params"], table.attrs["vintages"])
        coverage_downloads(table, f"couverture-{level}-{code}", "commune", "territoire")
        outline = boundaries_layer(level)
        outline = outline[outline["code"] == code]
        near = result.poles[result.poles["group"].isin(set(result._base.table.loc[
            result.communes["code"].isin(inside).to_numpy(), "group"]))]
        _coverage_map(coverage.as_layer(gaps.head(300), "commune"), near, radius, outline=outline, height=440)
    except PtceGeoError as exc:
        show_error(exc)


# --------------------------------------------------------------------------- page « Impression » (issue 7)


@st.cache_data(show_spinner="Mise en page de la carte…", max_entries=16)
def printed_map(kind: str, code, paper: str, orientation, fmt: str, title, subtitle, layers: tuple,
                dpi: int) -> bytes:
    """A printable map as bytes (PDF, PNG or SVG); hashable arguments only."""
    from . import printing

    terr = printing.territory(kind, code)
    fig = printing.render(terr, paper=paper, orientation=orientation, title=title, subtitle=subtitle,
                          layers=layers)
    return printing.to_bytes(fig, fmt, dpi=dpi)


def print_panel() -> None:
    """Form of the page « Impression »: territory, paper, layers, title; preview; download."""
    from . import printing

    try:
        choices = printing.territory_choices()
        left, right = st.columns([1, 2])
        with left:
            label = st.selectbox("Territoire", list(choices), index=list(choices).index(
                next(k for k, v in choices.items() if v == ("region", "32"))))
            kind, code = choices[label]
            paper = st.radio("Papier", list(printing.PAPERS), format_func=str.upper, horizontal=True)
            orient_labels = {"auto": "automatique", **printing.ORIENTATIONS}
            orient = st.radio("Orientation", list(orient_labels), format_func=orient_labels.get, horizontal=True)
            fmt = st.radio("Format", list(printing.FORMATS), format_func=str.upper, horizontal=True)
            layers = st.multiselect("Couches", list(printing.LAYERS), default=list(printing.DEFAULT_LAYERS),
                                    format_func=printing.LAYERS.get)
            terr = printing.territory(kind, code)
            title = st.text_input("Titre", printing.default_title(terr), max_chars=160)
            subtitle = st.text_input("Sous-titre", printing.default_subtitle(terr), max_chars=200)
        orientation = None if orient == "auto" else orient
        args = (kind, code, paper, orientation)
        texts = (title or None, subtitle or None, tuple(printing.check_layers(layers)))
        with right:
            preview = printed_map(*args, "png", *texts, 60)
            st.image(preview, caption="Aperçu (basse résolution)", width="stretch")
        data = printed_map(*args, fmt, *texts, printing.DPI_PNG)
        mime = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}[fmt]
        name = f"carte-{kind}{'-' + code if code else ''}-{paper}.{fmt}"
        left.download_button(f"Télécharger ({fmt.upper()})", data, file_name=name, mime=mime)
        left.caption("L'atlas des 18 régions (PDF) se produit en ligne de commande : "
                     "« ptce-geo print --atlas -o atlas.pdf ».")
    except PtceGeoError as exc:
        show_error(exc)
