"""The proposals of the page « Pôles »: the editors' queue (diff, validate, reject with a reason)
and the contributor's own proposals with their status."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import proposals, registry, registry_review
from .._errors import ConflictError, PtceGeoError
from .common import escape, show_error
from .poles_access import Session
from .poles_editor import flash

__all__ = ["queue", "mine"]


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    stamp = pd.to_datetime(iso, utc=True, errors="coerce")
    return iso if pd.isna(stamp) else stamp.tz_convert("Europe/Paris").strftime("%d/%m/%Y %H:%M")


def _decided_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "N°": p["id"], "Proposé le": _when(p["date"]), "Auteur": p["author"], "Objet": proposals.KINDS[p["kind"]],
        "Pôle": p["nom"] or "", "État": proposals.STATUSES[p["status"]], "Décidé par": p["decided_by"] or "",
        "Le": _when(p["decided_at"]), "Raison du rejet": p["reason"] or "",
    } for p in rows], columns=["N°", "Proposé le", "Auteur", "Objet", "Pôle", "État", "Décidé par", "Le",
                               "Raison du rejet"])


def _validated(done: dict) -> str:
    """What the validator is told, read back from the history row just written."""
    row = registry.history(done["result_pole_id"]).iloc[0]
    return (f"Proposition n° {done['id']} validée : pôle « {escape(row['nom'])} » ({escape(row['id'])}). Historique : "
            f"{escape(row['action'])}, auteur {escape(row['auteur'])}, validateur {escape(row['validateur'])}.")


def _one(session: Session, prop: dict) -> None:
    rows, version = proposals.diff(prop)
    seen_key = f"prop-seen-{prop['id']}"
    seen = st.session_state.get(seen_key, version)
    with st.container(border=True):
        st.markdown(f"**N° {prop['id']} — {proposals.KINDS[prop['kind']]}** « {escape(prop['nom'])} » — proposé par "
                    f"{escape(prop['author'])} le {_when(prop['date'])}")
        if prop["kind"] == "modification" and version is None:
            st.warning("Ce pôle n'est plus dans le registre (supprimé ou fusionné) : rejetez la proposition.")
        if rows:
            st.dataframe(pd.DataFrame(rows).rename(columns={"champ": "Champ", "actuel": "Actuel", "propose": "Proposé"}),
                         hide_index=True, width="stretch")
        else:
            st.caption("La fiche actuelle contient déjà ces valeurs : valider ne changera rien.")
        cols = st.columns([1, 4, 1], vertical_alignment="bottom")
        ok = cols[0].button("Valider", key=f"prop-ok-{prop['id']}", type="primary")
        reason = cols[1].text_input("Raison du rejet (montrée à l'auteur)", key=f"prop-why-{prop['id']}")
        no = cols[2].button("Rejeter", key=f"prop-no-{prop['id']}")
    try:
        if ok:
            done = session.write("validation", proposal_id=prop["id"], version=seen)
            flash(_validated(done))
            st.rerun()
        elif no:
            session.write("rejet", proposal_id=prop["id"], reason=reason)
            flash(f"Proposition n° {prop['id']} rejetée ; la raison est conservée et montrée à son auteur.")
            st.rerun()
    except ConflictError as exc:
        st.error(f"{exc} La différence ci-dessus est celle d'aujourd'hui : relisez-la avant de valider.")
    except PtceGeoError as exc:
        show_error(exc)
    if not ok and seen is not None and version is not None and seen != version:
        st.info("Le pôle a changé depuis votre première lecture : la différence affichée est à jour.")
    st.session_state[seen_key] = version


def queue(session: Session) -> None:
    """Editors: every pending proposal, oldest first; the decided ones below."""
    waiting = proposals.pending()
    st.markdown(f"**Propositions en attente : {len(waiting)}**")
    if not waiting:
        st.caption("Aucune proposition en attente.")
    for prop in waiting:
        _one(session, prop)
    decided = [p for p in reversed(registry_review.proposals()) if p["status"] != "en_attente"]
    if decided:
        with st.expander(f"Propositions traitées ({len(decided)})"):
            st.dataframe(_decided_table(decided), hide_index=True, width="stretch")


def mine(session: Session) -> None:
    """Contributors: the state of their own proposals, and the reason of a rejection."""
    label = session.identity.author(session.mode).label
    rows = proposals.of_author(label)
    st.markdown("**Vos propositions**")
    if not rows:
        st.caption("Vous n'avez encore rien proposé : onglet « Ajouter » pour un nouveau pôle, ou la fiche d'un pôle "
                   "(onglet « Registre ») pour une modification.")
        return
    st.dataframe(_decided_table(rows).drop(columns=["Auteur"]), hide_index=True, width="stretch")
