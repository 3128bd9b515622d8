"""Widgets of the pages « Lacunes » and « Territoire »: coverage controls, tables, maps, downloads."""

from __future__ import annotations


import geopandas as gpd
import pandas as pd
import streamlit as st

from ._errors import PtceGeoError
from ._ui import boundaries_layer, escape, show_error
from ._ui_carte import ensure_static_assets

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

    stamp = f"{registry.stamp()}|{','.join(priority.missing_layers())}"
    return _coverage_cached(float(radius_km), bool(use_perimeter), zoning, stamp)


def _fmt_int(value) -> str:
    return f"{int(value):,}".replace(",", "\u202f")


def coverage_metrics(figures: dict, zoning: str = "all") -> list:
    """Figures of one territory (or France) in the unit of the zoning (``mapsummary.coverage_headline``:
    QPV counted in districts, and residents when INSEE's file is there; the others in inhabitants of
    their communes), side by side; returns them for the text version of the map beneath."""
    from . import mapsummary

    heads = mapsummary.coverage_headline(figures, zoning)
    for col, h in zip(st.columns(len(heads)), heads):
        col.metric(h.label, h.value, help=h.help)
    return heads


def headline_view(result) -> None:
    """The registry's size and the headline figure of every zoning, each in its unit, defined."""
    from . import headline

    st.info(f"**Registre** : {headline.registry_sentence(result.registry)}")
    table = headline.figures(result)
    show = table[["libelle", "chiffre", "detail"]].rename(
        columns={"libelle": "Zonage", "chiffre": "Chiffre clé", "detail": "Détail"})
    st.dataframe(show, hide_index=True, width="stretch")
    with st.expander("Ce que mesure chaque chiffre"):
        st.markdown("\n".join(f"- **{r.libelle}** : {r.definition}" for r in table.itertuples()))


pd_NA = pd.NA


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


def _coverage_map(gmap, height: int = 520):
    """Folium map of a ``mapsummary.GapMap``: optional outline, gap shapes (red), poles (blue) with
    their radius."""
    import folium
    from streamlit_folium import st_folium

    from . import webmap

    ensure_static_assets()  # Leaflet served locally (works offline), as on the « Carte » page
    m = webmap.base_map()
    bounds = None
    outline, radius_km = gmap.outline, gmap.radius_km
    if outline is not None:
        folium.GeoJson(outline[["geometry"]].to_json(), name="Territoire",
                       style_function=lambda f: {"color": "#333333", "weight": 2, "fillOpacity": 0}).add_to(m)
        bounds = outline.total_bounds
    if len(gmap.gaps):
        show = gpd.GeoDataFrame(gmap.gaps, geometry="geometry", crs=getattr(gmap.gaps, "crs", None))
        show["priority_population"] = [("population inconnue" if v is None or v is pd_NA or v != v else
                                        f"{_fmt_int(v)} hab. prioritaires") for v in show["priority_population"]]
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
                                tooltip=f"{nom_} ({code_}) — {pop_}").add_to(m)
        if bounds is None and len(show):
            # metropolitan gaps decide the view (overseas ones stay on the map, reached by zooming out)
            rep = show.geometry.representative_point()
            metro = show[(rep.x > -6) & (rep.x < 10) & (rep.y > 41) & (rep.y < 52)]
            bounds = (metro if len(metro) else show).total_bounds
    if gmap.poles is not None:
        for row in gmap.poles.itertuples():
            if radius_km:
                folium.Circle([row.lat, row.lon], radius=radius_km * 1000, color="#1f5fa8", weight=1,
                              fill=True, fill_opacity=0.06).add_to(m)
            # a bigger disc with a white ring: told from the gaps' small dots without their colour
            folium.CircleMarker([row.lat, row.lon], radius=6, color="#ffffff", weight=2, fill=True,
                                fill_color="#1f5fa8", fill_opacity=1, tooltip=escape(row.nom)).add_to(m)
    if bounds is not None and all(b == b for b in bounds):
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    st_folium(m, height=height, use_container_width=True, returned_objects=[])
    st.caption("En rouge, aplats et petits points pleins : territoires prioritaires sans pôle (un point sur "
               "chacun, visible à toute échelle). En bleu, disques cerclés de blanc : pôles localisés"
               + (f", entourés de leur rayon de {radius_km:g} km." if radius_km else ".")
               + " Le contenu de la carte est repris dans sa version texte, ci-dessous.")


def gap_map_with_text(shapes, poles_frame, radius_km, headline, territory: str, key: str, outline=None,
                      level: str = "commune", height: int = 520) -> None:
    """The gap map and, beneath it, its « Version texte » — both from one ``mapsummary.GapMap``."""
    from . import _ui_a11y, boundaries, mapsummary

    gmap = mapsummary.gap_map_layers(shapes, poles_frame, radius_km, outline, level)
    _coverage_map(gmap, height=height)
    registry = None
    try:
        from ._ui_carte import _map_optional, _poles_stamp

        registry, _err = _map_optional("poles", _poles_stamp())
    except ImportError:
        pass
    tv = mapsummary.gap_map_text(gmap, headline, territory, registry=registry, communes=boundaries.commune_table())
    _ui_a11y.text_version_view(tv, key)


def show_table(frame) -> None:
    """A French table: figures with the reader's thousands separator, rates in per cent, km with
    one decimal, empty cells blank."""
    config = {}
    for col in frame.columns:
        name = str(col)
        if name.startswith("Taux"):
            config[col] = st.column_config.NumberColumn(name, format="percent")
        elif name.endswith("(km)"):
            config[col] = st.column_config.NumberColumn(name, format="%.1f")
        elif name.startswith(("Population", "Communes", "Gain", "Pôles")) and name != "Pôle le plus proche":
            config[col] = st.column_config.NumberColumn(name, format="localized")
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


_GAP_LEVEL_LABELS = {"commune": "Communes", "epci": "EPCI", "qpv": "Quartiers prioritaires (QPV)",
                     "territoires-industrie": "Territoires d'industrie"}

_GAP_COLUMNS = {"rang": "Rang", "code": "Code", "nom": "Nom", "departement": "Département", "zonages": "Zonages",
                "communes": "Communes", "priority_communes": "Communes prioritaires", "qpv_total": "QPV",
                "qpv_count": "QPV", "population": "Population", "priority_population": "Population prioritaire",
                "nearest_distance_km": "Pôle le plus proche (km)", "nearest_pole_nom": "Pôle le plus proche"}


def gap_columns(level: str, zoning: str) -> dict:
    """French headers of a gap table, saying what its population column is for this zoning."""
    cols = dict(_GAP_COLUMNS)
    if level == "qpv":
        cols.update(communes="Communes (INSEE)", priority_population="Habitants du QPV (INSEE)",
                    nearest_distance_km="Pôle le plus proche du contour (km)")
        cols.pop("population")
    elif zoning == "qpv":
        cols["priority_population"] = "Habitants des QPV (INSEE)"
        cols["population"] = "Population de la commune" if level == "commune" else "Population"
    elif zoning == "all":
        cols["priority_population"] = "Population prioritaire (toutes zones)"
    return cols


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
        headline_view(result)
        headline = coverage_metrics(coverage.national(result), zoning)
        by = ("population prioritaire" if level != "qpv" else "habitants (INSEE) quand connus, sinon distance au pôle le plus proche")
        st.header(f"{_GAP_LEVEL_LABELS[level]} prioritaires sans pôle, par {by}")
        cols = gap_columns(level, zoning)
        show_table(table[[c for c in cols if c in table.columns]].rename(columns=cols))
        st.caption(f"Registre : {coverage.registry_text(result.registry)}")
        text_p, text_v = coverage.explain(table.attrs["params"], table.attrs["vintages"])
        st.caption(f"Paramètres : {text_p}. Millésimes : {text_v}.")
        coverage_downloads(table, f"lacunes-{level}", level, "lacunes")
        shapes = coverage.as_layer(table.head(300), level)
        gap_map_with_text(shapes, result.poles, radius, headline, "France entière", "lacunes", level=level)
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
        by_qpv = table.attrs["params"].get("objective") == "qpv"
        shown = table[["rang", "code", "nom", "departement", "gain_population", "gain_qpv", "gain_communes",
                       "cumulative_gain"]]
        if by_qpv:
            shown = shown.drop(columns=["gain_population"])
        show_table(shown.rename(columns={"rang": "Rang", "code": "Code", "nom": "Commune",
                                         "departement": "Département", "gain_population": "Gain (habitants)",
                                         "gain_qpv": "QPV couverts", "gain_communes": "Communes couvertes",
                                         "cumulative_gain": "Gain cumulé" + (" (QPV)" if by_qpv else " (habitants)")}))
        st.caption(("Chaque site couvre le plus de QPV encore non couverts (population des QPV inconnue sans le "
                    "fichier INSEE)" if by_qpv else
                    "Chaque site couvre la population prioritaire encore non couverte")
                   + " dans le rayon choisi ; le gain de chaque ligne s'ajoute aux précédents (algorithme glouton).")
        coverage_downloads(table, "suggestions", None, "suggestions")


_TERRITORY_LEVEL_LABELS = {"commune": "Commune", "epci": "EPCI", "departement": "Département", "region": "Région"}


def territory_picker(prefix: str = "territoire") -> tuple[str, str, str] | None:
    """Level, then a territory found by name or code (accents and case ignored); returns
    (level, code, nom), or None with a French hint when nothing matches."""
    from . import boundaries

    cols = st.columns([1, 2, 3])
    level = cols[0].selectbox("Niveau", boundaries.LEVELS, index=2, format_func=_TERRITORY_LEVEL_LABELS.get,
                              key=f"{prefix}_niveau")
    query = cols[1].text_input("Rechercher (nom ou code)", key=f"{prefix}_recherche").strip()
    names = _matching(boundaries_layer(level), query)
    if names.empty:
        plural = {"commune": "commune(s)", "epci": "EPCI", "departement": "département(s)", "region": "région(s)"}
        elsewhere = [f"{len(found)} {plural[other]}" for other in boundaries.LEVELS
                     if other != level and len(found := _matching(boundaries_layer(other), query))]
        hint = (f" Il y a {', '.join(elsewhere)} de ce nom : changez le « Niveau »."
                if elsewhere else " Vérifiez l'orthographe ou tapez un code (INSEE, SIREN).")
        st.info(f"Aucun territoire de niveau « {_TERRITORY_LEVEL_LABELS[level]} » ne correspond à "
                f"« {escape(query)} ».{hint}")
        return None
    options = dict(zip(names["code"], names["nom"]))
    code = cols[2].selectbox("Territoire", list(options), format_func=lambda c: f"{options[c]} ({c})",
                             key=f"{prefix}_code")
    return level, code, options[code]


def _matching(layer, query: str):
    """Rows of a boundary layer whose code starts with ``query`` or whose name contains it (folded)."""
    from . import webmap

    names = layer[["code", "nom"]]
    if query:
        q = webmap.fold(query)
        names = names[names["code"].str.lower().str.startswith(query.lower())
                      | names["nom"].map(webmap.fold).str.contains(q, regex=False)]
    return names.head(500)


def territoire_view() -> None:
    """The « Territoire » page body: zonings, poles, coverage, gaps inside, small map, downloads."""
    from . import coverage

    picked = territory_picker()
    if picked is None:
        return
    level, code, nom = picked
    radius, use_perimeter, zoning = coverage_controls("territoire")
    try:
        result = coverage_result(radius, use_perimeter, zoning)
        row = coverage.by_territory(result, level).set_index("code").loc[code]
        st.header(f"{_TERRITORY_LEVEL_LABELS[level]} : {nom} ({code})")
        headline = coverage_metrics({"poles": row["poles"], "priority_population": row["priority_population"],
                          "priority_population_covered": row["priority_population_covered"],
                          "coverage_rate": row["coverage_rate"], "qpv_count": row["qpv_count"],
                          "qpv_covered": row["qpv_covered"]}, zoning)
        show_table(zoning_table(row))
        key = "code" if level == "commune" else level
        communes = result.communes
        inside = set(communes.loc[communes[key].astype(str) == str(code), "code"])
        poles_in = result.poles[result.poles["commune"].isin(inside)]
        st.markdown(f"**Pôles implantés** : {len(poles_in)}")
        if len(poles_in):
            st.dataframe(poles_in[["id", "nom", "commune"]].rename(columns={"id": "Identifiant", "nom": "Nom",
                                                                             "commune": "Commune (INSEE)"}),
                         hide_index=True, width="stretch")
        if "poles_non_localises" in row.index and row["poles_non_localises"]:
            st.markdown(f"**Pôles connus, non localisés** ({'département' if level == 'departement' else 'région'}) : "
                        f"{int(row['poles_non_localises'])} — connus du registre par leur seul "
                        f"{'département' if level == 'departement' else 'département ou leur région'}, "
                        "sans commune : ils ne comptent pas dans la couverture.")
        st.caption(f"Registre : {coverage.registry_text(result.registry)}")
        qpv_view(result, inside)
        gaps = coverage.gaps(result, "commune", within=(key, code))
        st.markdown(f"**Communes prioritaires sans pôle** : {len(gaps)}")
        if len(gaps):
            cols = gap_columns("commune", zoning)
            show_table(gaps[[c for c in cols if c in gaps.columns]].rename(columns=cols))
        text_p, text_v = coverage.explain(gaps.attrs["params"], gaps.attrs["vintages"])
        st.caption(f"Paramètres : {text_p}. Millésimes : {text_v}.")
        table = coverage.by_territory(result, "commune")
        table = coverage.finish(table[table["code"].isin(inside)].drop(columns=["parametres", "millesimes",
                                                                                 "registre"]),
                                 table.attrs["params"], table.attrs["vintages"], result.registry)
        coverage_downloads(table, f"couverture-{level}-{code}", "commune", "territoire")
        outline = boundaries_layer(level)
        outline = outline[outline["code"] == code]
        near = result.poles[result.poles["group"].isin(set(result.base.table.loc[
            result.communes["code"].isin(inside).to_numpy(), "group"]))]
        gap_map_with_text(coverage.as_layer(gaps.head(300), "commune"), near, radius, headline,
                          f"{_TERRITORY_LEVEL_LABELS[level]} {nom} ({code})", "territoire", outline=outline,
                          height=440)
    except PtceGeoError as exc:
        show_error(exc)


def zoning_table(row):
    """One line per zoning of a territory, each in its unit: QPV in districts (residents only with
    INSEE's file), the others in communes and inhabitants; « toutes zones » as defined."""
    import pandas as pd

    from . import coverage

    def rate(v):
        return None if v is None or v is pd.NA or v != v else round(float(v), 4)

    def pop(v):
        return None if v is None or v is pd.NA or v != v else int(v)

    rows = [{"Zonage": "QPV (quartiers)", "Unités": int(row["qpv_count"]), "Unités couvertes": int(row["qpv_covered"]),
             "Population": pop(row["qpv_population"]), "Population couverte": pop(row["qpv_population_covered"]),
             "Taux de couverture": rate(row["qpv_coverage_rate"] if pop(row["qpv_population"]) else
                                        row["qpv_share_covered"])}]
    for z in ("territoires-industrie", "frr", "zrr"):
        s_ = coverage.ZONING_SHORT[z]
        rows.append({"Zonage": coverage.ZONING_LABELS[z] + " (communes)", "Unités": int(row[f"{s_}_communes"]),
                     "Unités couvertes": None, "Population": int(row[f"{s_}_population"]),
                     "Population couverte": int(row[f"{s_}_population_covered"]),
                     "Taux de couverture": rate(row[f"{s_}_coverage_rate"])})
    rows.append({"Zonage": "Toutes zones (définition ci-dessous)", "Unités": int(row["all_communes"]),
                 "Unités couvertes": None, "Population": int(row["all_population"]),
                 "Population couverte": int(row["all_population_covered"]),
                 "Taux de couverture": rate(row["all_coverage_rate"])})
    return pd.DataFrame(rows)


_QPV_TABLE = {"code": "Code", "nom": "Quartier", "communes": "Communes (INSEE)", "covered": "Couvert",
              "covered_by": "Couvert par", "nearest_pole_nom": "Pôle le plus proche",
              "distance_km": "Distance au contour (km)", "population": "Habitants (INSEE)"}


def qpv_view(result, inside: set[str]) -> None:
    """The territory's QPV, covered or not, with the nearest pole and its distance to the contour."""
    base = result.base
    ok = base.qpv_pos >= 0
    codes = result.communes["code"].to_numpy()
    hit = base.districts.commune_pairs["pos"].to_numpy()[ok][[c in inside for c in codes[base.qpv_pos[ok]]]]
    d = result.qpv.iloc[sorted(set(hit))].copy()
    covered = int(d["covered"].sum())
    st.markdown(f"**Quartiers prioritaires (QPV 2024)** : {len(d)}, dont {covered} couvert{'s' if covered > 1 else ''}")
    if not len(d):
        return
    d["communes"] = d["communes"].map(lambda cs: ", ".join(cs))
    d["covered"] = d["covered"].map({True: "oui", False: "non"})
    d = d.sort_values(["covered", "distance_km", "code"], ascending=[True, False, True])
    show_table(d[list(_QPV_TABLE)].rename(columns=_QPV_TABLE))
    st.caption("Un QPV est couvert quand un pôle est dans le quartier, à moins du rayon de son contour (distance "
               "au polygone, en mètres) ou que sa commune est dans le périmètre déclaré d'un pôle. "
               + ("Habitants : population des QPV publiée par l'INSEE." if d["population"].notna().any() else
                  "Habitants inconnus sans le fichier de population des QPV de l'INSEE (voir la page « Données »)."))
