"""The pole schema: columns, canonical vocabularies and ``normalize`` — pure, no geography, no I/O.

A pole (PTCE) is one row with the columns of ``COLUMNS``; ``EDITABLE`` are those a user (file,
form) may set, the others are derived. ``normalize(raw)`` turns one raw record (strings from a
file or a form) into a clean record plus a list of ``(field, French message)`` problems; the
importer, the seed and the app's edit form all use it, so a value accepted in one is accepted in
the other. Text holding a lone surrogate or a control character is refused, naming the field.

Sectors are a guide, not a gate: a word of the vocabulary (``SECTEURS``) or one of its
usual spellings is taken as it is; an unknown word close to one of them (« emploi »,
« culturel », « numerique ») is mapped to it, and any other word is kept as a free sector
(shown and exported as typed, coloured « autre » on the map); both are warnings
(``normalize(raw, warnings=[])`` collects them), never a reason to refuse a row.

Territory checks (the code exists, the point is in France) need the boundaries: they are in
``_territory`` (``poles.check_territory``). This module imports nothing of ptce-geo but the
character checks of ``_text``: the registry, the importer and the checks all build on it.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from datetime import date
from functools import lru_cache

import pandas as pd

from ._text import bad_character

__all__ = [
    "COLUMNS", "EDITABLE", "SECTEURS", "APPELS", "GEOCODAGES", "FIRST_YEAR", "MAX_SECTEUR_CHARS",
    "fold", "blank", "text_value", "split_list", "parse_number", "parse_int", "parse_bool", "canonical_secteur",
    "guess_secteur", "parse_secteurs", "canonical_appel", "normalize_insee", "normalize", "same_commune_name",
]

# Columns of ``load()``, in order (the contract).
COLUMNS = [
    "id", "nom", "adresse", "code_insee", "commune", "departement", "region", "latitude", "longitude",
    "geocodage", "forme_juridique", "secteurs", "annee_creation", "appel", "membres", "site_web",
    "perimetre", "source", "localise", "version",
]

# Fields a user (file, form) may set; the others are derived.
EDITABLE = [
    "nom", "adresse", "code_insee", "latitude", "longitude", "forme_juridique", "secteurs",
    "annee_creation", "appel", "membres", "site_web", "perimetre", "source",
]

SECTEURS = [
    "insertion",
    "déchets/réemploi",
    "économie circulaire",
    "énergies renouvelables",
    "agriculture/alimentation",
    "services à la personne",
    "santé/autonomie",
    "petite enfance",
    "culture",
    "mobilité",
    "bâtiment",
    "numérique",
    "industrie",
    "textile/mode",
    "sport/loisirs",
    "tiers-lieu",
    "tourisme",
    "formation/recherche",
    "développement local",
]

# State calls: the 2013 and 2015 calls for projects (laureates announced Jan. 2014 and Jan. 2016) and the
# calls for expressions of interest of 2021, 2023 and 2025 (« Financer le développement des PTCE »,
# 8 laureates announced Dec. 2025).
APPELS = ["AAP 2013", "AAP 2015", "AMI 2021", "AMI 2023", "AMI 2025"]

GEOCODAGES = ("adresse", "commune", "saisie")

# Common spellings → canonical sector.
_SECTEUR_ALIASES = {
    "iae": "insertion",
    "insertion par l activite economique": "insertion",
    "dechets": "déchets/réemploi",
    "reemploi": "déchets/réemploi",
    "recyclage": "déchets/réemploi",
    "ressourcerie": "déchets/réemploi",
    "energie": "énergies renouvelables",
    "energies": "énergies renouvelables",
    "enr": "énergies renouvelables",
    "agriculture": "agriculture/alimentation",
    "alimentation": "agriculture/alimentation",
    "circuits courts": "agriculture/alimentation",
    "sap": "services à la personne",
    "aide a domicile": "services à la personne",
    "sante": "santé/autonomie",
    "autonomie": "santé/autonomie",
    "bien vieillir": "santé/autonomie",
    "btp": "bâtiment",
    "construction": "bâtiment",
    "eco construction": "bâtiment",
    "renovation energetique": "bâtiment",
    "textile": "textile/mode",
    "mode": "textile/mode",
    "sport": "sport/loisirs",
    "loisirs": "sport/loisirs",
    "tiers lieu": "tiers-lieu",
    "recherche": "formation/recherche",
    "formation": "formation/recherche",
    "velo": "mobilité",
    "transport": "mobilité",
}

# Words seen in real files, mapped to the nearest sector: a guess, said in the import report.
_SECTEUR_GUESSES = {
    "emploi": "insertion",
    "insertion professionnelle": "insertion",
    "alimentation durable": "agriculture/alimentation",
    "agriculture biologique": "agriculture/alimentation",
    "energie renouvelable": "énergies renouvelables",
    "transition energetique": "énergies renouvelables",
    "mobilites": "mobilité",
    "culturel": "culture",
    "arts et culture": "culture",
    "sante": "santé/autonomie",
    "petite enfance et famille": "petite enfance",
    "tiers lieux": "tiers-lieu",
    "developpement territorial": "développement local",
    "developpement economique local": "développement local",
}

_APPEL_ALIASES = {
    "aap 2013": "AAP 2013", "aap 2014": "AAP 2013", "aap1": "AAP 2013", "aap n 1": "AAP 2013",
    "2013": "AAP 2013", "2014": "AAP 2013",
    "aap 2015": "AAP 2015", "aap 2016": "AAP 2015", "aap2": "AAP 2015", "aap n 2": "AAP 2015",
    "2015": "AAP 2015", "2016": "AAP 2015",
    "ami 2021": "AMI 2021", "2021": "AMI 2021",
    "ami 2023": "AMI 2023", "2023": "AMI 2023",
    "ami 2025": "AMI 2025", "2025": "AMI 2025",
}

_TRUE = {"oui", "o", "vrai", "true", "1", "yes", "x"}
_FALSE = {"non", "n", "faux", "false", "0", "no", ""}

FIRST_YEAR = 1900


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def fold(text, ligatures: bool = True) -> str:
    """Lower-case, accents and punctuation removed: ``"Déchets / Réemploi"`` → ``"dechets reemploi"``,
    ``"Cœur"`` → ``"coeur"`` (``ligatures=False``: the old behaviour that dropped œ/æ, for matching
    ids made before)."""
    text = str(text)
    if ligatures:
        text = text.translate(_LIGATURES)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


_CANON = {fold(s): s for s in SECTEURS}
_CANON_APPELS = {fold(a): a for a in APPELS}


def blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if pd.isna(value) is True:
            return True
    except (TypeError, ValueError):
        pass
    return isinstance(value, str) and not value.strip()


def text_value(value) -> str | None:
    if isinstance(value, str):  # the usual case, first
        return value.strip() or None
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_LIST_SEP = re.compile(r"[;,|\n]+")
_INSEE = re.compile(r"(\d{5}|2[AB]\d{3})")
_PERIMETRE = re.compile(r"(\d{5}|2[AB]\d{3}|\d{9})")


def split_list(value) -> list[str]:
    """List cells as people type them: items separated by « ; », « , », « | » or new lines."""
    if blank(value):
        return []
    if isinstance(value, (list, tuple, set)):
        items = [str(v) for v in value]
    else:
        items = _LIST_SEP.split(str(value))
    return [i.strip() for i in items if i and i.strip()]


def parse_number(value) -> float | None:
    """A number as French Excel writes it (``"43,5"``, ``"1 234,5"``); raises ValueError."""
    if blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out = float(value)
    else:
        text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        out = float(text)
    if not math.isfinite(out):
        raise ValueError(value)
    return out


def parse_int(value) -> int | None:
    number = parse_number(value)
    if number is None:
        return None
    if not float(number).is_integer():
        raise ValueError(value)
    return int(number)


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    key = fold(value) if not blank(value) else ""
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(value)


@lru_cache(maxsize=4096)
def canonical_secteur(value: str) -> str | None:
    key = fold(value)
    return _CANON.get(key) or _SECTEUR_ALIASES.get(key)


MAX_SECTEUR_CHARS = 80


@lru_cache(maxsize=4096)
def guess_secteur(value: str) -> str | None:
    """The sector an unknown word most likely means (a word seen in real files, « emploi » →
    insertion, or a close spelling of a sector or of one of its usual spellings, ``difflib``
    ratio ≥ 0.85), or None."""
    key = fold(value)
    if not key:
        return None
    if key in _SECTEUR_GUESSES:
        return _SECTEUR_GUESSES[key]
    known = {**_SECTEUR_GUESSES, **_SECTEUR_ALIASES, **_CANON}
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.85)
    return known[close[0]] if close else None


def parse_secteurs(value, warnings: list | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """Sectors of a cell: canonical when known or close to a known one, else kept as typed.

    Returns ``(sectors, problems)``; problems only for unusable text (too long). What was
    mapped or kept as a free sector is appended to ``warnings`` as ``(field, message)``."""
    out: list[str] = []
    problems: list[tuple[str, str]] = []
    for item in split_list(value):
        canon = canonical_secteur(item)
        if canon is None and re.search(r"\s(et|&)\s", item):  # « insertion et culture »
            parts = [canonical_secteur(p) for p in re.split(r"\s+(?:et|&)\s+", item)]
            if all(parts):
                for part in parts:
                    if part not in out:
                        out.append(part)
                if warnings is not None:
                    warnings.append(("secteurs", f"secteur {item!r} compris comme {' ; '.join(parts)} (plusieurs "
                                                 "secteurs : séparez-les par « ; » ou « , »)."))
                continue
        if canon is None:
            canon = guess_secteur(item)
            if canon is not None and warnings is not None:
                warnings.append(("secteurs", f"secteur {item!r} hors vocabulaire, compris comme {canon!r}."))
        if canon is None:
            if len(item) > MAX_SECTEUR_CHARS:
                problems.append(("secteurs", f"secteur trop long ({len(item)} caractères, {MAX_SECTEUR_CHARS} au plus) : "
                                             "séparez les secteurs par « ; » ou « , »."))
                continue
            canon = " ".join(item.split())
            if warnings is not None:
                warnings.append(("secteurs", f"secteur libre {canon!r} gardé tel quel (hors des {len(SECTEURS)} "
                                             "secteurs du vocabulaire : il s'affiche et s'exporte, la carte le "
                                             "colore « autre »)."))
        if canon not in out:
            out.append(canon)
    return out, problems


@lru_cache(maxsize=1024)
def canonical_appel(value: str) -> str | None:
    key = fold(value)
    return _CANON_APPELS.get(key) or _APPEL_ALIASES.get(key)


def normalize_insee(value) -> str | None:
    """``93039`` / ``"1004"`` (Excel ate the zero) / ``"2A004"`` → a 5-character code, or None."""
    text = text_value(value)
    if text is None:
        return None
    text = text.upper().replace(" ", "")
    if text.isdigit() and len(text) == 4:
        text = "0" + text
    return text


def normalize(raw: dict, warnings: list | None = None) -> tuple[dict, list[tuple[str, str]]]:
    """Clean one raw record; return ``(record, problems)`` with problems as ``(field, message)``.

    Checks what a single record can tell: text free of lone surrogates and control
    characters, name present, year, counts, coordinates readable, call known, INSEE code
    format; sectors are mapped or kept (``parse_secteurs``, warnings appended to
    ``warnings``). Territory checks (code exists, point in France) need the boundaries and
    are done by ``check_territory``.
    """
    problems: list[tuple[str, str]] = []
    rec: dict = {}
    for key, value in raw.items():
        if isinstance(value, str):
            bad = bad_character(value)
            if bad:
                problems.append((key, f"{bad}."))
    if problems:
        bad_fields = {f for f, _ in problems}
        raw = {k: (None if k in bad_fields else v) for k, v in raw.items()}
        if "nom" in bad_fields:
            raw["nom"] = "?"  # reported above, not also as « nom manquant »
    nom = text_value(raw.get("nom"))
    if nom is None:
        problems.append(("nom", "nom manquant : chaque pôle doit avoir un nom."))
    elif len(nom) > 300:
        problems.append(("nom", f"nom trop long ({len(nom)} caractères, 300 au plus)."))
    rec["nom"] = nom
    for key in ("adresse", "forme_juridique", "site_web", "source", "commune", "departement", "region"):
        rec[key] = text_value(raw.get(key))
    code = normalize_insee(raw.get("code_insee"))
    if code is not None and not _INSEE.fullmatch(code):
        problems.append(("code_insee", f"code INSEE mal formé : {code!r} (5 caractères, ex. « 93039 »)."))
    rec["code_insee"] = code

    for key, lo, hi in (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0)):
        try:
            value = parse_number(raw.get(key))
        except (TypeError, ValueError):
            problems.append((key, f"{key} illisible : {raw.get(key)!r} (nombre décimal, ex. « 48,9 »)."))
            value = None
        if value is not None and not lo <= value <= hi:
            problems.append((key, f"{key} hors bornes : {value!r} (entre {lo:g} et {hi:g})."))
            value = None
        rec[key] = value
    if (rec["latitude"] is None) != (rec["longitude"] is None):
        missing = "longitude" if rec["longitude"] is None else "latitude"
        if not any(f in ("latitude", "longitude") for f, _ in problems):
            problems.append((missing, "latitude et longitude vont ensemble : renseignez les deux ou aucune."))
    rec["geocodage"] = text_value(raw.get("geocodage"))
    if rec["geocodage"] is not None and rec["geocodage"] not in GEOCODAGES:
        problems.append(("geocodage", f"géocodage inconnu : {rec['geocodage']!r} ({', '.join(GEOCODAGES)})."))

    try:
        year = parse_int(raw.get("annee_creation"))
    except (TypeError, ValueError, OverflowError):
        problems.append(("annee_creation", f"année illisible : {raw.get('annee_creation')!r} (ex. « 2015 »)."))
        year = None
    if year is not None and not FIRST_YEAR <= year <= date.today().year:
        problems.append(("annee_creation", f"année invraisemblable : {year!r} (entre {FIRST_YEAR} et {date.today().year})."))
        year = None
    rec["annee_creation"] = year

    try:
        membres = parse_int(raw.get("membres"))
    except (TypeError, ValueError, OverflowError):
        problems.append(("membres", f"nombre de membres illisible : {raw.get('membres')!r} (entier, ex. « 35 »)."))
        membres = None
    if membres is not None and not 0 <= membres <= 1_000_000:
        problems.append(("membres", f"nombre de membres invraisemblable : {membres!r}."))
        membres = None
    rec["membres"] = membres

    rec["secteurs"], sector_problems = parse_secteurs(raw.get("secteurs"), warnings)
    problems += sector_problems

    appel = text_value(raw.get("appel"))
    if appel is not None:
        canon = canonical_appel(appel)
        if canon is None:
            problems.append(("appel", f"appel inconnu : {appel!r}. Valeurs possibles : {', '.join(APPELS)}."))
        appel = canon
    rec["appel"] = appel

    perimetre = []
    for item in split_list(raw.get("perimetre")):
        code_p = item.replace(" ", "").upper()
        if len(code_p) == 4 and code_p.isdigit():
            code_p = "0" + code_p
        if not _PERIMETRE.fullmatch(code_p):
            problems.append(("perimetre", f"périmètre : {item!r} n'est ni un code INSEE de commune ni un SIREN d'EPCI."))
        elif code_p not in perimetre:
            perimetre.append(code_p)
    rec["perimetre"] = perimetre

    loc = raw.get("localise")
    if blank(loc):
        rec["localise"] = None
    else:
        try:
            rec["localise"] = parse_bool(loc)
        except ValueError:
            problems.append(("localise", f"valeur oui/non illisible : {loc!r}."))
            rec["localise"] = None
    return rec, problems


# ---------------------------------------------------------------- commune names


def _name_key(name: str) -> str:
    """Commune name compared loosely: article, « St »/« Ste », arrondissement number, « Cedex » ignored."""
    key = fold(name)
    key = re.sub(r"\bst\b", "saint", key)
    key = re.sub(r"\bste\b", "sainte", key)
    key = re.sub(r"\s+cedex(\s+\d+)?$", "", key)
    key = re.sub(r"\s+\d+\s*(er|e|eme)?(\s+arrondissement)?$", "", key)
    key = re.sub(r"^(le|la|les|l)\s+", "", key)
    return key.replace(" ", "")


def same_commune_name(given: str, official: str) -> bool:
    """Whether a commune name typed by a user names the commune ``official`` (COG spelling)."""
    return _name_key(given) == _name_key(official)
