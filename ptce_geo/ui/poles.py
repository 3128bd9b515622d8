"""Widgets of the page « Pôles »: registry table, detail, import preview, export, history (the
write widgets — forms, deletion, merge, roles — are in ``poles_editor``, proposals in ``poles_review``).

Text from the registry is shown as text: the « Fiche » Markdown-escapes every value
(``_text.md``: no link, image, HTML or formula can form from a name or a source); the only
link is the ``site_web`` field when it is a valid ``http(s)`` URL (``_text.md_link``), never
an image. An uploaded file is checked once, when the user asks, and that check is what the
import writes (``editing.write("import", …, report=…)``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import _limits, export, importer, poles, registry
from .._errors import PtceGeoError
from .._safefile import size_fr
from .._text import md, md_link
from .common import boundaries_layer, escape, show_error

__all__ = ["poles_browse", "pole_detail", "poles_import", "poles_export_buttons", "poles_history"]

_POLE_TABLE_COLUMNS = {
    "nom": "Nom", "commune": "Commune", "departement": "Dép.", "appel": "Appel", "secteurs": "Secteurs",
    "forme_juridique": "Forme juridique", "geocodage": "Point", "localise": "Localisé", "id": "Identifiant",
}


def _pole_table(frame) -> "pd.DataFrame":
    import pandas as pd

    table = pd.DataFrame(frame[list(_POLE_TABLE_COLUMNS)]).copy()
    table["secteurs"] = table["secteurs"].map(lambda v: ", ".join(v) if isinstance(v, list) else "")
    table["geocodage"] = table["geocodage"].map({"commune": "commune", "adresse": "adresse", "saisie": "saisi"})
    for col in table.columns:  # empty cells show blank, not « None » (pandas 3 strings are not object)
        if table[col].dtype == object or pd.api.types.is_string_dtype(table[col]):
            table[col] = table[col].astype(object).where(table[col].notna(), "")
    return table.rename(columns=_POLE_TABLE_COLUMNS)


def poles_browse() -> str | None:
    """Search box and table of the registry; return the id of the pole chosen for the detail view."""
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
    if "poles-select-next" in st.session_state:  # set by a merge or a deletion, before the widget exists
        chosen = st.session_state.pop("poles-select-next")
        if chosen in names:
            st.session_state["poles-selected"] = chosen
        else:
            st.session_state.pop("poles-selected", None)
    return st.selectbox("Fiche du pôle", list(names), format_func=lambda i: names[i], key="poles-selected")


def pole_detail(pole_id: str) -> dict:
    """Every field of a pole, Markdown-escaped (a link only for a valid http(s) ``site_web``); return the record."""
    rec = registry.get(pole_id)
    st.header("Fiche")
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
        if value in (None, ""):
            shown = "—"
        elif key == "site_web":
            shown = md_link(value, value)
        else:
            shown = md(value)
        lines.append(f"- **{label}** : {shown}")
    if rec["localise"]:
        how = {"commune": "point de la commune (pas l'adresse exacte)", "adresse": "adresse géocodée (BAN)",
               "saisie": "coordonnées saisies"}.get(rec["geocodage"], md(rec["geocodage"]))
        lines.append(f"- **Point** : {rec['latitude']:.5f}, {rec['longitude']:.5f} — {how}")
    else:
        lines.append("- **Point** : non localisé (hors carte)")
    lines.append(f"- **Version** : {rec['version']}")
    st.markdown("\n".join(lines))
    return rec


def poles_import(session) -> None:
    """Upload, preview of the validation report, then import on request (editors only: the
    upload is not even shown to others, and the import goes through ``editing.write``)."""
    import hashlib
    import tempfile
    from pathlib import Path

    up = st.file_uploader("Fichier à importer (CSV, XLSX ou GeoJSON)", type=["csv", "xlsx", "geojson", "json"],
                          key="poles-upload")
    if up is None:
        st.caption("Colonnes reconnues : nom, code INSEE, commune, adresse, latitude/longitude, secteurs, année de "
                   "création, appel, membres, site web, périmètre, source (en-têtes français usuels). "
                   "Un fichier avec seulement le nom et le code INSEE suffit. Limites : "
                   f"{size_fr(_limits.MAX_FILE_BYTES)}, {_limits.int_fr(_limits.MAX_ROWS)} pôles, "
                   f"{_limits.MAX_COLUMNS} colonnes par fichier.")
        return
    if up.size > _limits.MAX_FILE_BYTES:
        st.error(f"Fichier trop gros : {size_fr(up.size)}, la limite est {size_fr(_limits.MAX_FILE_BYTES)}. "
                 "Découpez-le en plusieurs fichiers.")
        return
    data = up.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "ptce-geo-import" / digest
    path = folder / (Path(up.name).name or "import.csv")
    state = st.session_state.get("poles-import-check")
    report = state[1] if state and state[0] == digest else None
    if report is None:
        st.caption(f"Fichier reçu : {md(up.name)} ({size_fr(len(data))}). Il n'est lu qu'à votre demande.")
        if not st.button("Vérifier le fichier", key="poles-check", type="primary"):
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            with st.spinner("Vérification du fichier…"):
                report = importer.check(path)
        except PtceGeoError as exc:
            show_error(exc)
            return
        st.session_state["poles-import-check"] = (digest, report)
    (st.success if report.ok else st.warning)(f"Vérification : {report.summary()}")
    st.text(report.text())
    issues = report.issues_frame()
    if len(issues):
        st.dataframe(issues, hide_index=True, width="stretch")
    st.markdown("**Aperçu des pôles qui seraient ajoutés**"
                + (f" (les {importer.PREVIEW_ROWS} premiers)" if report.n_valid > importer.PREVIEW_ROWS else ""))
    st.dataframe(report.preview(), hide_index=True, width="stretch")
    skip = False
    if not report.ok:
        skip = st.checkbox("Ignorer les lignes invalides (elles seront proposées en téléchargement)", key="poles-skip")
    if st.button("Importer dans le registre", disabled=not (report.ok or skip) or not report.n_valid,
                 key="poles-do-import"):
        try:
            done = session.write("import", path=path, skip_invalid=skip, rejects=folder / f"{path.stem}_rejets.csv",
                                 report=report)
        except PtceGeoError as exc:
            show_error(exc)
            return
        finally:
            st.session_state.pop("poles-import-check", None)  # a second import needs a new check
        st.success(f"{len(done.imported_ids)} pôle(s) ajouté(s) au registre.")
        if done.rejects_path:
            st.download_button("Télécharger les lignes rejetées (CSV)", Path(done.rejects_path).read_bytes(),
                               file_name=Path(done.rejects_path).name, mime="text/csv")


def poles_export_buttons() -> None:
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
    table = registry.history()
    # UTC times of the store, shown in French local time (Paris) to the minute
    when = pd.to_datetime(table["date"], utc=True, errors="coerce").dt.tz_convert("Europe/Paris")
    table = table.assign(date=when.dt.strftime("%d/%m/%Y %H:%M").fillna(table["date"]))
    st.dataframe(table.rename(columns={"numero": "N°", "date": "Date (heure de Paris)", "auteur": "Auteur",
                                       "auteur_sub": "Identifiant de connexion de l'auteur",
                                       "validateur": "Validé par", "validateur_sub": "Identifiant du validateur",
                                       "canal": "Canal", "action": "Action", "id": "Identifiant", "nom": "Pôle",
                                       "champs": "Champs modifiés", "avant": "Avant", "apres": "Après",
                                       "note": "Note"}),
                 hide_index=True, width="stretch")
