"""The page « Territoire »: one territory's coverage, its priority zonings, QPV and map."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import boundaries, coverage, webmap
from .._errors import PtceGeoError
from .common import boundaries_layer, escape, show_error
from .coverage import (coverage_controls, coverage_downloads, coverage_metrics, coverage_result, gap_columns,
                       gap_map_with_text, show_table)

__all__ = ["TERRITORY_LEVEL_LABELS", "territory_picker", "territoire_view", "zoning_table", "qpv_view"]

TERRITORY_LEVEL_LABELS = {"commune": "Commune", "epci": "EPCI", "departement": "Département", "region": "Région"}


def territory_picker(prefix: str = "territoire") -> tuple[str, str, str] | None:
    """Level, then a territory found by name or code (accents and case ignored); returns
    (level, code, nom), or None with a French hint when nothing matches."""
    cols = st.columns([1, 2, 3])
    level = cols[0].selectbox("Niveau", boundaries.LEVELS, index=2, format_func=TERRITORY_LEVEL_LABELS.get,
                              key=f"{prefix}_niveau")
    query = cols[1].text_input("Rechercher (nom ou code)", key=f"{prefix}_recherche").strip()
    names = _matching(boundaries_layer(level), query)
    if names.empty:
        plural = {"commune": "commune(s)", "epci": "EPCI", "departement": "département(s)", "region": "région(s)"}
        elsewhere = [f"{len(found)} {plural[other]}" for other in boundaries.LEVELS
                     if other != level and len(found := _matching(boundaries_layer(other), query))]
        hint = (f" Il y a {', '.join(elsewhere)} de ce nom : changez le « Niveau »."
                if elsewhere else " Vérifiez l'orthographe ou tapez un code (INSEE, SIREN).")
        st.info(f"Aucun territoire de niveau « {TERRITORY_LEVEL_LABELS[level]} » ne correspond à "
                f"« {escape(query)} ».{hint}")
        return None
    options = dict(zip(names["code"], names["nom"]))
    code = cols[2].selectbox("Territoire", list(options), format_func=lambda c: f"{options[c]} ({c})",
                             key=f"{prefix}_code")
    return level, code, options[code]


def _matching(layer, query: str):
    """Rows of a boundary layer whose code starts with ``query`` or whose name contains it (folded)."""
    names = layer[["code", "nom"]]
    if query:
        q = webmap.fold(query)
        names = names[names["code"].str.lower().str.startswith(query.lower())
                      | names["nom"].map(webmap.fold).str.contains(q, regex=False)]
    return names.head(500)


def territoire_view() -> None:
    """The « Territoire » page body: zonings, poles, coverage, gaps inside, small map, downloads."""
    picked = territory_picker()
    if picked is None:
        return
    level, code, nom = picked
    radius, use_perimeter, zoning = coverage_controls("territoire")
    try:
        result = coverage_result(radius, use_perimeter, zoning)
        row = coverage.by_territory(result, level).set_index("code").loc[code]
        st.header(f"{TERRITORY_LEVEL_LABELS[level]} : {nom} ({code})")
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
                          f"{TERRITORY_LEVEL_LABELS[level]} {nom} ({code})", "territoire", outline=outline,
                          height=440)
    except PtceGeoError as exc:
        show_error(exc)


def zoning_table(row):
    """One line per zoning of a territory, each in its unit: QPV in districts (residents only with
    INSEE's file), the others in communes and inhabitants; « toutes zones » as defined."""
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
