"""Proposals: how a contributor's new pole or change reaches the registry after an editor's review.

A proposal is checked when it is made, by the same rules as an import or the edit form
(``poles.validate`` / ``poles.edit_changes``), and stored as clean values (``registry_review``).
An editor sees its ``diff`` against the pole as it is now, then validates it (the pole is added
or changed in one transaction whose history row names the author and the validator) or
rejects it with a reason, which is kept and shown to the author. Callers go through
``editing.write`` (the rights check); these functions take the ``registry.Author`` to record.
"""

from __future__ import annotations

from . import poles, registry, registry_review
from ._errors import ValidationError

__all__ = ["STATUSES", "KINDS", "FIELD_LABELS", "MAX_REASON", "duplicate_of", "clean_new", "propose", "shown",
    "diff", "accept", "reject", "pending", "of_author"]

STATUSES = registry_review.STATUSES
KINDS = registry_review.KINDS

FIELD_LABELS = {
    "nom": "Nom", "adresse": "Adresse", "code_insee": "Code INSEE", "commune": "Commune", "departement": "Département",
    "region": "Région", "latitude": "Latitude", "longitude": "Longitude", "geocodage": "Point",
    "forme_juridique": "Forme juridique", "secteurs": "Secteurs", "annee_creation": "Année de création",
    "appel": "Appel", "membres": "Membres", "site_web": "Site web", "perimetre": "Périmètre", "source": "Source",
    "localise": "Localisé",
}
MAX_REASON = 2000


def duplicate_of(rec: dict, exclude_id: str | None = None) -> dict | None:
    """An existing pole with the same name (case and accents ignored) in the same commune."""
    key = (poles.fold(rec.get("nom") or ""), rec.get("code_insee") or "")
    for other in registry.records():
        if other["id"] != exclude_id and (poles.fold(other["nom"] or ""), other.get("code_insee") or "") == key:
            return other
    return None


def clean_new(raw: dict) -> dict:
    """A new pole's clean record from a form's values; ``ValidationError`` naming every problem
    (or the existing pole it duplicates)."""
    rec, problems = poles.validate(raw)
    if problems:
        raise ValidationError("Fiche invalide : " + " ; ".join(f"{f} : {m}" for f, m in problems), problems)
    same = duplicate_of(rec)
    if same is not None:
        raise ValidationError(f"Doublon : le pôle {same['nom']!r} ({same['id']}) existe déjà dans cette commune. "
                              "Modifiez sa fiche plutôt que d'en créer une autre.",
                              [("nom", "doublon d'un pôle existant")])
    return {k: rec.get(k) for k in poles.COLUMNS if k not in ("id", "version")}


def propose(author, raw: dict, pole_id: str | None = None, version: int | None = None) -> int:
    """Record a proposal (a new pole when ``pole_id`` is None, else a change of that pole as read
    at ``version``); return its number. Nothing goes into the registry's poles."""
    if pole_id is None:
        rec = clean_new(raw)
        return registry_review.add_proposal("ajout", rec, author, nom=rec["nom"])
    current = registry.get(pole_id)
    changes = {k: v for k, v in poles.edit_changes(current, raw).items() if current.get(k) != v}
    if not changes:
        raise ValidationError("Aucun changement à proposer : la fiche proposée est identique à celle du registre.")
    return registry_review.add_proposal("modification", changes, author, pole_id=pole_id,
                                        base_version=int(version if version is not None else current["version"]),
                                        nom=current["nom"])


def shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def diff(prop: dict) -> tuple[list[dict], int | None]:
    """What validating ``prop`` would change now: rows ``{"champ", "actuel", "propose"}`` against
    the current pole (empty for a new pole), and the pole's current version (None for a new
    pole, or a pole no longer in the registry)."""
    current, version = {}, None
    if prop["kind"] == "modification":
        try:
            current = registry.get(prop["pole_id"])
            version = current["version"]
        except KeyError:
            current = {}
    rows = []
    for field, value in prop["payload"].items():
        if field not in FIELD_LABELS or value in (None, [], "") and not current.get(field):
            continue
        if current.get(field) != value:
            rows.append({"champ": FIELD_LABELS[field], "actuel": shown(current.get(field)), "propose": shown(value)})
    return rows, version


def accept(proposal_id: int, validator, version: int | None = None) -> dict:
    """Validate a pending proposal: a new pole is checked again for duplicates, then the pole and
    its history row (author and validator) and the status are written in one transaction."""
    prop = registry_review.proposal(proposal_id)
    if prop["kind"] == "ajout" and prop["status"] == "en_attente":
        same = duplicate_of(prop["payload"])
        if same is not None:
            raise ValidationError(f"Proposition n° {prop['id']} : le pôle {same['nom']!r} ({same['id']}) existe déjà "
                                  "dans cette commune. Rejetez la proposition (doublon) ou fusionnez ensuite les fiches.")
    return registry_review.accept_proposal(proposal_id, validator, version)


def reject(proposal_id: int, reason: str, who) -> dict:
    """Reject a pending proposal; the reason is required and kept for its author."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez la raison du rejet : elle est conservée et montrée à l'auteur de la proposition.")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"Raison du rejet trop longue ({len(reason)} caractères, {MAX_REASON} au plus).")
    return registry_review.reject_proposal(proposal_id, reason, who)


def pending() -> list[dict]:
    return registry_review.proposals(status="en_attente")


def of_author(label: str) -> list[dict]:
    """The proposals written by ``label`` (the signed-in e-mail), newest first."""
    return list(reversed(registry_review.proposals(author=label)))
