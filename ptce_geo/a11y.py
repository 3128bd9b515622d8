"""Accessibility texts of ptce-geo: the alternatives of its images and the accessibility statement.

The French RGAA (référentiel général d'amélioration de l'accessibilité, version 4.1.2) asks every
public online service for an accessibility statement (« déclaration d'accessibilité »): its
compliance status, the content that is not accessible, how the statement was established, and
how to report a problem and seek redress. :func:`statement` returns it as data (title, then
sections of paragraphs and bullet lists) for the page « Accessibilité » (``ui.accessibilite``) and the
README; every claim in it is backed by a test named in :data:`TESTS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from . import settings

__all__ = ["COMPLIANCE", "RGAA_VERSION", "AXE_ENGINE", "print_preview_alt", "STATEMENT_DATE", "TESTS", "md_escape",
    "Section", "Statement", "statement"]

#: What the app claims, deliberately: no formal RGAA audit (by a human auditor, on the 106
#: criteria) has been done, so the service is « partiellement conforme » at best.
COMPLIANCE = "partiellement conforme"
RGAA_VERSION = "RGAA 4.1.2"
#: axe-core version bundled by ``axe-playwright-python`` (the audit's engine).
AXE_ENGINE = "axe-core 4.12, fourni par le paquet axe-playwright-python, dans Chromium"


def print_preview_alt(territory_label: str, layer_labels: Sequence[str], title: str | None = None,
                      paper: str = "a4", orientation: str | None = None) -> str:
    """Text alternative of a printed map's preview: what map, of which territory, with which layers
    (« Aperçu de la carte « Titre » : région Occitanie, format A4 portrait ; couches : … »)."""
    layers = ", ".join(layer_labels) if layer_labels else "aucune couche (contours seuls)"
    sheet = f"format {paper.upper()}" + (f" {orientation}" if orientation else " (orientation automatique)")
    named = f"« {title.strip()} »" if title and title.strip() else "imprimable"
    return (f"Aperçu de la carte {named} : {territory_label}, {sheet} ; couches : {layers}. La légende, l'échelle "
            "et les sources figurent sur la carte ; le détail des données est sur les pages « Territoire » et "
            "« Lacunes ».")


# --------------------------------------------------------------------------- accessibility statement

#: Date the statement was last established (update with the audit results in the README).
STATEMENT_DATE = "1er décembre 2026"

#: The automated tests behind the statement (file — what it checks).
TESTS: tuple[tuple[str, str], ...] = (
    ("tests/test_browser_a11y.py::test_axe_audit",
     "audit axe-core des six pages et de la page « Accessibilité », dans leur état initial, avec chaque "
     "onglet ouvert et chaque section dépliée, cadre de la carte compris : aucune violation critique ni "
     "sérieuse ; langue du document « fr » et aucun des textes anglais de Streamlit ou de Leaflet"),
    ("tests/test_browser_a11y.py::test_french_everywhere",
     "libellés français du lien d'évitement, des boutons de la carte, du dépôt de fichier et des aides ; "
     "rien d'anglais pendant un calcul"),
    ("tests/test_browser_a11y.py::test_keyboard_only_path",
     "parcours au clavier seul : rechercher une commune, ouvrir son territoire, afficher une couche, "
     "atteindre les boutons de la carte, avec un focus visible"),
    ("tests/test_mapsummary.py", "version texte des cartes : mêmes chiffres que la carte, tableaux réels"),
    ("tests/test_a11y_print.py",
     "cartes imprimées lisibles en niveaux de gris (classes séparées par la luminance et les hachures, "
     "légende nommant chaque motif) ; PDF titrés, avec sujet et langue « fr »"),
)


def md_escape(text: str) -> str:
    """Backslash-escape every ASCII punctuation (CommonMark): a setting's text shows as typed."""
    import re

    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", str(text)).replace("\n", " ")


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)  # str (a paragraph) or list[str] (a bullet list)


@dataclass
class Statement:
    title: str
    intro: str
    sections: list[Section]


def statement(contact: str | None = None) -> Statement:
    """The accessibility statement (« déclaration d'accessibilité ») in the structure RGAA asks:
    état de conformité, résultats des tests, contenus non accessibles, établissement de la
    déclaration, retour d'information et contact, voies de recours. ``contact``: default the
    ``contact`` setting (``PTCE_GEO_CONTACT``). Paragraphs are Markdown written here (the contact,
    set by whoever runs the app, is escaped)."""
    if contact is None:
        contact = settings.get().contact
    tests = [f"{what} ({name})" for name, what in TESTS]
    reach = (f"Contact : {md_escape(contact)}." if contact else
             "L'organisme qui vous donne accès à ptce-geo n'a pas renseigné de contact (variable "
             "PTCE_GEO_CONTACT) : adressez-vous à lui, ou au réseau qui vous a transmis le lien.")
    return Statement(
        title="Accessibilité",
        intro=("Déclaration d'accessibilité de ptce-geo, l'atlas des pôles territoriaux de coopération "
               "économique. Les organismes publics qui l'utilisent ou le publient doivent rendre leurs services "
               "en ligne accessibles (article 47 de la loi n° 2005-102 du 11 février 2005) ; cette déclaration "
               "porte sur l'application telle qu'elle est livrée (make run)."),
        sections=[
            Section("État de conformité", [
                f"ptce-geo est **{COMPLIANCE}** avec le {RGAA_VERSION}. Aucun audit de conformité complet "
                "(les 106 critères, par un auditeur, avec des lecteurs d'écran) n'a encore été réalisé : le taux "
                "de conformité n'est pas connu. Les tests automatiques ci-dessous passent ; ils détectent une partie "
                "seulement des défauts possibles.",
            ]),
            Section("Résultats des tests", [
                f"Tests automatiques, rejoués à chaque « make test » ({AXE_ENGINE}) :",
                tests,
                "Audit initial (avant les corrections de décembre 2026) : contraste insuffisant des légendes et "
                "textes secondaires sur les six pages (sérieux), aperçu de la page Impression sans alternative "
                "textuelle (critique), pôles de la carte sans nom accessible (sérieux), niveaux de titres sautés "
                "sur quatre pages, zoom interdit et contenu hors repères dans le cadre de la carte (modérés), "
                "document déclaré en anglais, textes de Streamlit et de Leaflet en anglais. Tous sont corrigés ; "
                "reste une remarque mineure d'axe-core sur la zone de dépôt de fichier de Streamlit (onglet "
                "« Importer » de la page Pôles).",
            ]),
            Section("Contenus non accessibles", [
                "Non-conformités et limites connues :",
                [
                    "La carte elle-même (Leaflet) se déplace et se zoome au clavier, ses boutons, pôles et groupes "
                    "de pôles s'atteignent par la touche Tab, mais les contours (communes, zonages) ne sont pas "
                    "atteignables un à un : leur contenu est donné par la « Version texte de la carte » placée "
                    "sous chaque carte.",
                    "Sur la carte, la couleur des pôles (par secteur ou par appel) n'est portée que par la couleur ; "
                    "le secteur et l'appel de chaque pôle sont dans sa fiche et dans la version texte.",
                    "Les grands tableaux interactifs (pages Pôles, Lacunes, Territoire) sont dessinés dans un "
                    "canevas : un lecteur d'écran n'en lit qu'une partie. Chacun est téléchargeable (CSV, Excel) "
                    "et les versions texte des cartes utilisent de vrais tableaux.",
                    "À l'écran, les classes de la carte se distinguent par leur clarté (échelles du foncé au "
                    "clair) et leur contour (pointillé pour les Territoires d'industrie), pas par des hachures ; "
                    "les hachures et motifs sont réservés aux cartes imprimées.",
                    "Les PDF produits (cartes et atlas) ont un titre, un sujet et la langue « fr », mais ne sont "
                    "pas balisés (PDF/UA) : un lecteur d'écran n'en lit pas la structure. Les mêmes informations "
                    "sont dans l'application (versions texte, pages Territoire et Lacunes).",
                    "Les textes de l'interface de Streamlit sont traduits par un script servi avec l'application "
                    "(make run) : un texte ajouté par une future version de Streamlit pourrait rester en anglais "
                    "jusqu'à la mise à jour de la table de traduction ; lancée sans serve.py (streamlit run "
                    "app.py), l'application garde les textes anglais de Streamlit.",
                    "Non vérifiés à ce jour : l'usage avec des lecteurs d'écran réels (NVDA, JAWS, VoiceOver), "
                    "l'agrandissement à 200 % et l'affichage sur un écran de 320 pixels de large.",
                ],
                "Dérogation pour charge disproportionnée : aucune. Contenu tiers non soumis : les tuiles du fond "
                "de carte OpenStreetMap (l'option « Aucun fond » les retire).",
            ]),
            Section("Établissement de cette déclaration", [
                f"Déclaration établie le {STATEMENT_DATE}, par l'équipe de développement, à partir des tests "
                "automatiques.",
                ["Technologies : HTML5, CSS, JavaScript, WAI-ARIA (Streamlit 1.67, Leaflet 1.9).",
                 "Environnement de test : Chromium sans interface (paquet Debian), piloté par Playwright, "
                 "fenêtre de 1400 × 1000 pixels.",
                 f"Outil : {AXE_ENGINE}, règles WCAG 2.0, 2.1 et 2.2 niveaux A et AA, et bonnes pratiques.",
                 "Pages testées : Carte (France entière, et la Lozère avec six couches), Pôles (chacun de ses "
                 "onglets), Lacunes, Territoire, Impression, Données, Accessibilité ; sections repliables "
                 "ouvertes."],
            ]),
            Section("Retour d'information et contact", [
                "Si vous ne parvenez pas à accéder à un contenu ou à un service, signalez-le : on vous orientera "
                "vers une alternative accessible ou on vous fournira le contenu sous une autre forme (tableau, "
                "fichier, carte décrite).",
                reach,
            ]),
            Section("Voies de recours", [
                "Si vous avez signalé un défaut d'accessibilité qui vous empêche d'accéder à un contenu ou à un "
                "service et que vous n'avez pas obtenu de réponse satisfaisante, vous pouvez saisir le Défenseur "
                "des droits :",
                ["par le formulaire en ligne : https://formulaire.defenseurdesdroits.fr/",
                 "auprès d'un de ses délégués dans votre région : https://www.defenseurdesdroits.fr/carte-des-delegues",
                 "par courrier, gratuitement, sans timbre : Défenseur des droits, Libre réponse 71120, "
                 "75342 Paris CEDEX 07"],
            ]),
        ],
    )
