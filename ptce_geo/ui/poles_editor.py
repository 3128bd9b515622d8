"""Write widgets of the page « Pôles »: the pole form (edit, propose, add), placing a pole on a
small map, deletion with confirmation, merging duplicates, roles.

Every button ends in ``Session.write`` (``editing.write``: the rights are checked on the server);
these widgets are only shown to visitors who may use them. A message that must survive the
``st.rerun`` after a write goes through ``flash``.
"""

from __future__ import annotations

import streamlit as st

from .. import access, poles, proposals, registry, registry_review, settings, webmap
from .._errors import ConflictError, PtceGeoError
from .carte_view import ensure_static_assets
from .common import boundaries_layer, escape, show_error
from .poles_access import Session

__all__ = ["FRANCE", "flash", "attempt", "show_flash", "reset_form", "point_picker", "pole_form",
    "edit_or_propose", "add_or_propose", "delete_pole", "merge_poles", "roles_admin"]

_FIELDS = [  # (field, label) of the form, in order
    ("nom", "Nom"), ("adresse", "Adresse"), ("code_insee", "Code INSEE de la commune"),
    ("forme_juridique", "Forme juridique"), ("annee_creation", "Année de création"), ("membres", "Nombre de membres"),
    ("site_web", "Site web"), ("perimetre", "Périmètre (codes INSEE ou SIREN d'EPCI, séparés par « ; »)"),
    ("source", "Source (URL)"), ("latitude", "Latitude (ex. 44,5176)"), ("longitude", "Longitude (ex. 3,5003)"),
]
FRANCE = (46.6, 2.4)


def flash(message: str) -> None:
    st.session_state["poles-flash"] = message


def attempt(session: Session, action: str, said, **params) -> None:
    """``session.write(action, **params)``; on success the message ``said(result)`` is kept for the
    next run and the page reruns, on refusal or invalid input the French error is shown."""
    try:
        result = session.write(action, **params)
    except PtceGeoError as exc:
        show_error(exc)
        return
    flash(said(result))
    st.rerun()


def show_flash() -> None:
    message = st.session_state.pop("poles-flash", None)
    if message:
        st.success(message)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def _init_form(k: str, rec: dict | None) -> None:
    """Put a record's values into the form's widgets once per record version (and after a save)."""
    stamp = (rec or {}).get("version", 0)
    if st.session_state.get(f"{k}-init") == stamp:
        return
    rec = rec or {}
    for field, _label in _FIELDS:
        st.session_state[f"{k}-{field}"] = _text(rec.get(field))
    st.session_state[f"{k}-secteurs"] = list(rec.get("secteurs") or [])
    st.session_state[f"{k}-appel"] = rec.get("appel") or ""
    st.session_state[f"{k}-initial"] = {f: _text(rec.get(f)) for f in ("latitude", "longitude")}
    st.session_state[f"{k}-init"] = stamp


def reset_form(k: str) -> None:
    """Empty the form ``k`` (after a save); the map's last click is remembered as already used,
    since the map component keeps returning it."""
    last = st.session_state.get(f"{k}-click")
    for key in [key for key in st.session_state if str(key).startswith(f"{k}-")]:
        del st.session_state[key]
    if last is not None:
        st.session_state[f"{k}-click"] = last


@st.cache_resource(show_spinner=False)
def _departement_outlines() -> str:
    """Département outlines for a map without tiles (offline), simplified at 3 km in Lambert-93."""
    dep = boundaries_layer("departement")[["geometry"]].to_crs(settings.METRIC_CRS)
    dep["geometry"] = dep.simplify(3000)
    return dep.to_crs(settings.WEB_CRS).to_json(drop_id=True)


def _commune_outline(code: str) -> str | None:
    """GeoJSON of one commune's contour (the simplified layer shared by the pages), or None."""
    communes = boundaries_layer("commune")
    one = communes[communes["code"] == code]
    return one[["geometry"]].to_json(drop_id=True) if len(one) and not one.geometry.iloc[0].is_empty else None


def point_picker(k: str) -> None:
    """A small map: a click puts its coordinates (and the commune there) into the form of ``k``."""
    import folium
    from streamlit_folium import st_folium

    def number(field):
        try:
            return poles.parse_number(st.session_state.get(f"{k}-{field}"))
        except (TypeError, ValueError):
            return None

    lat, lon = number("latitude"), number("longitude")
    code = poles.normalize_insee(st.session_state.get(f"{k}-code_insee"))
    center, zoom = FRANCE, 5
    if lat is not None and lon is not None:
        center, zoom = (lat, lon), 12
    elif code:
        point = poles.commune_point(code) if len(code) == 5 else None
        if point is not None:
            center, zoom = point, 11
    ensure_static_assets()
    m = webmap.base_map(location=list(center), zoom_start=zoom, min_zoom=4, max_zoom=18)
    if settings.get().offline:
        folium.GeoJson(_departement_outlines(), name="Départements",
                       style_function=lambda f: {"color": "#555555", "weight": 1, "fillOpacity": 0}).add_to(m)
    if code:
        outline = _commune_outline(code)
        if outline:
            folium.GeoJson(outline, name="Commune", style_function=lambda f: {
                "color": "#1f5fa8", "weight": 2, "dashArray": "4 4", "fillOpacity": 0.04}).add_to(m)
    if lat is not None and lon is not None:  # a vector marker: no icon image to fetch
        folium.CircleMarker([lat, lon], radius=7, color="#b2182b", weight=2, fill=True, fill_opacity=0.9,
                            tooltip="Point du pôle").add_to(m)
    out = st_folium(m, key=f"{k}-map", height=320, use_container_width=True, returned_objects=["last_clicked"])
    st.caption("Cliquez sur la carte pour placer le pôle (la commune est déduite du point), ou saisissez la latitude "
               "et la longitude dans la fiche. Point rouge : le point de la fiche ; tirets bleus : sa commune.")
    click = (out or {}).get("last_clicked")
    if click and click != st.session_state.get(f"{k}-click"):
        st.session_state[f"{k}-click"] = click
        st.session_state[f"{k}-latitude"] = f"{click['lat']:.6f}"
        st.session_state[f"{k}-longitude"] = f"{click['lng']:.6f}"
        found = poles.commune_at(click["lat"], click["lng"])
        st.session_state[f"{k}-code_insee"] = found or ""
        st.rerun()


def pole_form(k: str, rec: dict | None, submit: str) -> dict | None:
    """The fields of a pole (keys prefixed ``k``); on submit, the raw values to validate. The
    point is sent only when it was typed or clicked (a commune's point stays a commune's point)."""
    _init_form(k, rec)
    with st.form(f"{k}-form"):
        raw = {}
        for field, label in _FIELDS[:3]:
            raw[field] = st.text_input(label, key=f"{k}-{field}")
        known = list(poles.SECTEURS) + [s for s in st.session_state.get(f"{k}-secteurs", []) if s not in poles.SECTEURS]
        raw["secteurs"] = st.multiselect("Secteurs", known, key=f"{k}-secteurs", accept_new_options=True,
                                         placeholder="Choisir un ou plusieurs secteurs")
        raw["appel"] = st.selectbox("Appel", ["", *poles.APPELS], key=f"{k}-appel")
        for field, label in _FIELDS[3:]:
            raw[field] = st.text_input(label, key=f"{k}-{field}")
        sent = st.form_submit_button(submit, type="primary")
    if not sent:
        return None
    raw["secteurs"] = "; ".join(raw["secteurs"])
    initial = st.session_state.get(f"{k}-initial", {})
    if all(raw[f].strip() == initial.get(f, "") for f in ("latitude", "longitude")):
        raw.pop("latitude")
        raw.pop("longitude")
    return raw


def _version_seen(rec: dict) -> int:
    key = f"poles-version-{rec['id']}"
    if key not in st.session_state:
        st.session_state[key] = rec["version"]
    seen = st.session_state[key]
    if seen != rec["version"]:
        st.warning(f"Ce pôle a changé depuis que vous l'avez ouvert (version {rec['version']}, vous éditez la "
                   f"version {seen}).")
        if st.button("Recharger la fiche", key=f"poles-reload-{rec['id']}"):
            st.session_state[key] = rec["version"]
            reset_form(f"edit-{rec['id']}")
            st.rerun()
    return seen


def edit_or_propose(session: Session, rec: dict) -> None:
    """Editors change the pole (with the version they read); contributors propose the change."""
    k = f"edit-{rec['id']}"
    seen = _version_seen(rec)
    editor = session.is_editor
    st.markdown("**Modifier la fiche**" if editor else "**Proposer une modification** (un éditeur la validera)")
    _init_form(k, rec)  # before the map, which centres on the form's point
    point_picker(k)
    raw = pole_form(k, rec, "Enregistrer" if editor else "Proposer cette modification")
    if raw is None:
        return
    try:
        if editor:
            new = session.write("modification", pole_id=rec["id"], raw=raw, version=seen)
            st.session_state[f"poles-version-{rec['id']}"] = new["version"]
            flash(f"Fiche enregistrée (version {new['version']}).")
        else:
            number = session.write("proposition", pole_id=rec["id"], raw=raw, version=seen)
            flash(f"Proposition n° {number} enregistrée : un éditeur la validera (onglet « Propositions »).")
    except ConflictError as exc:
        st.error(str(exc))
        return
    except PtceGeoError as exc:
        show_error(exc)
        return
    st.rerun()


def add_or_propose(session: Session) -> None:
    """A new pole: added by an editor, proposed by a contributor."""
    editor = session.is_editor
    st.markdown("Un nom et un code INSEE (ou un point placé sur la carte) suffisent ; les autres champs sont "
                "facultatifs. " + ("Le pôle est ajouté au registre." if editor else
                                   "Votre proposition sera validée par un éditeur avant d'entrer dans le registre."))
    point_picker("new")
    raw = pole_form("new", None, "Ajouter au registre" if editor else "Proposer ce pôle")
    if raw is None:
        return
    try:
        if editor:
            pid = session.write("ajout", raw=raw)
            flash(f"Pôle ajouté au registre (identifiant {pid}).")
        else:
            number = session.write("proposition", raw=raw)
            flash(f"Proposition n° {number} enregistrée : un éditeur la validera. Son état est dans l'onglet "
                  "« Propositions ».")
    except PtceGeoError as exc:
        show_error(exc)
        return
    reset_form("new")
    st.rerun()


def delete_pole(session: Session, rec: dict) -> None:
    seen = st.session_state.get(f"poles-version-{rec['id']}", rec["version"])
    with st.expander("Supprimer ce pôle"):
        st.warning("La suppression retire le pôle du registre, des cartes et des calculs de couverture. Son historique "
                   "reste consultable (onglet « Historique », action « suppression », avec ses dernières valeurs).")
        ok = st.checkbox(f"Je confirme la suppression de « {escape(rec['nom'])} »", key=f"poles-delete-ok-{rec['id']}")
        if st.button("Supprimer définitivement", disabled=not ok, key=f"poles-delete-{rec['id']}"):
            st.session_state["poles-select-next"] = None  # used only by the rerun that follows a success
            attempt(session, "suppression", lambda _: f"Pôle « {escape(rec['nom'])} » supprimé (historique conservé).",
                    pole_id=rec["id"], version=seen)
            st.session_state.pop("poles-select-next", None)


def merge_poles(session: Session, rec: dict) -> None:
    """Merge this pole with a duplicate: the reader chooses which record is kept and sees what changes."""
    import difflib

    import pandas as pd

    with st.expander("Fusionner avec un doublon"):
        st.caption("La fiche conservée garde ses valeurs ; ses champs vides sont complétés par ceux de l'autre, les "
                   "secteurs et le périmètre sont réunis ; la commune et le point ne viennent de l'autre fiche que si la "
                   "fiche conservée n'a pas de commune. L'autre fiche est supprimée ; les deux historiques gardent une "
                   "ligne « fusion » qui nomme l'autre pôle.")
        others = [r for r in registry.records() if r["id"] != rec["id"]]
        me = poles.fold(rec["nom"])
        others.sort(key=lambda r: -difflib.SequenceMatcher(None, me, poles.fold(r["nom"])).ratio())
        names = {r["id"]: f"{r['nom']} — {r['commune'] or 'commune inconnue'} ({r['id']})" for r in others}
        other = st.selectbox("Doublon", list(names), format_func=names.get, index=None, key=f"poles-merge-{rec['id']}",
                             placeholder="Choisir le pôle en double")
        if other is None:
            return
        pair = {rec["id"]: rec, other: registry.get(other)}
        keep_id = st.radio("Fiche conservée", list(pair), format_func=lambda i: f"{pair[i]['nom']} ({i})",
                           key=f"poles-merge-keep-{rec['id']}", horizontal=True)
        drop_id = other if keep_id == rec["id"] else rec["id"]
        keep, drop = pair[keep_id], pair[drop_id]
        merged = registry.merged_record(keep, drop)
        rows = [{"Champ": proposals.FIELD_LABELS[c], "Fiche conservée": proposals.shown(keep.get(c)),
                 "Après fusion": proposals.shown(merged.get(c))}
                for c in proposals.FIELD_LABELS if keep.get(c) != merged.get(c)]
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        else:
            st.caption("La fiche conservée ne change pas : l'autre n'apporte aucune valeur.")
        ok = st.checkbox(f"Je confirme : « {escape(drop['nom'])} » est supprimé et fusionné dans « {escape(keep['nom'])} »",
                         key=f"poles-merge-ok-{rec['id']}")
        if st.button("Fusionner", disabled=not ok, key=f"poles-merge-go-{rec['id']}"):
            st.session_state["poles-select-next"] = keep_id  # used only by the rerun that follows a success
            attempt(session, "fusion", lambda _: f"« {escape(drop['nom'])} » fusionné dans « {escape(keep['nom'])} ».",
                    keep_id=keep_id, keep_version=keep["version"], drop_id=drop_id, drop_version=drop["version"])
            st.session_state.pop("poles-select-next", None)


def roles_admin(session: Session) -> None:
    """Admins: the stored roles, grant and revoke, the log of changes."""
    import pandas as pd

    st.caption("Toute personne connectée est contributeur. " + " ".join(
        f"« {r} » : {d}." for r, d in access.ROLES.items()))
    rows = registry_review.roles()
    if rows:
        st.dataframe(pd.DataFrame(rows).rename(columns={"email": "Adresse", "role": "Rôle", "granted_by": "Attribué par",
                                                        "granted_at": "Le"}), hide_index=True, width="stretch")
    with st.form("roles-grant"):
        email = st.text_input("Adresse électronique", placeholder="prenom.nom@exemple.gouv.fr")
        role = st.selectbox("Rôle", list(access.ROLES), format_func=lambda r: f"{r} — {access.ROLES[r]}")
        sent = st.form_submit_button("Attribuer le rôle")
    if sent:
        attempt(session, "roles", lambda _: f"Rôle « {role} » attribué à {escape(email.strip().lower())}.",
                email=email, role=role)
    if rows:
        who = st.selectbox("Retirer le rôle de", [r["email"] for r in rows], index=None, key="roles-revoke-who")
        if st.button("Retirer le rôle", disabled=who is None, key="roles-revoke"):
            attempt(session, "roles", lambda _: f"Rôle retiré à {escape(who)} (contributeur une fois connecté).",
                    email=who, role=None)
    log = registry_review.role_history()
    if log:
        st.markdown("**Changements de rôles**")
        st.dataframe(pd.DataFrame(log)[["at", "who", "email", "before", "after"]].rename(columns={
            "at": "Date (UTC)", "who": "Par", "email": "Adresse", "before": "Avant", "after": "Après"}),
            hide_index=True, width="stretch")

