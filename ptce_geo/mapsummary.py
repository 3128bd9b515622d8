"""The text version of every map: what a map shows, as tables a screen reader can browse.

RGAA (criterion 1.8 and 4.x) and WCAG 1.1.1 ask that information given by a map be available as
text too. Each map of the app has one « Version texte » beneath it, built here from the very
objects that draw the map — never from a copy of its figures:

* page « Carte »: :func:`explorer_text` reads the ``webmap.MapLayers`` handed to
  ``webmap.explorer_layers`` (layers on, their published files, joins and classes), the poles
  frame the map drew, and the headline figures the side panel shows (:func:`carte_headline`, one
  function for both);
* pages « Lacunes » and « Territoire »: :func:`gap_map_layers` prepares what their map draws and
  :func:`gap_map_text` describes the same frames; the headline figures are
  :func:`coverage_headline`, the function the figures above the map (``coverage_metrics``) use.

A :class:`TextVersion` holds a one-sentence summary and tables with French column names; values
are plain text (``ui.accessibilite`` renders them with ``st.table``, a real HTML table: escaped, no HTML
from the data reaches the page). Counts are counts of what is drawn: for a layer drawn from a
published GeoJSON file, the features of that file (:func:`layer_count`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from ._fmt import fmt_rate
from ._fmt import fmt_rounded as fmt_int  # figures of the text version: rounded to the unit
from ._fmt import missing as _missing

__all__ = ["FIGURES_COLUMNS", "GapMap", "Headline", "LAYER_COLUMNS", "LEGEND_COLUMNS", "POLE_COLUMNS", "POP_HELP",
           "QPV_COVERED_HELP", "TextVersion", "carte_headline", "coverage_headline", "explorer_text",
           "figures_table", "fmt_int", "fmt_rate", "gap_map_layers", "gap_map_text", "layer_count", "luminance",
           "shade_words", "style_words"]

FIGURES_COLUMNS = ["Indicateur", "Valeur"]
LAYER_COLUMNS = ["Couche", "Éléments dessinés", "Source et millésime"]
LEGEND_COLUMNS = ["Couche", "Classe", "Représentation", "Nombre"]
POLE_COLUMNS = ["Pôle", "Commune", "Département", "Secteurs", "Appel"]


@dataclass
class Headline:
    """One figure as the page shows it: French label, formatted value, optional explanation."""

    key: str
    label: str
    value: str
    help: str | None = None
    exact: str | None = None  # the full value when ``value`` is abbreviated (« 66,5 M »)
    kind: str = "metric"  # how a panel shows it: ``metric``, or ``caption`` (the sentence below)
    sentence: str | None = None  # a caption's words; empty: said by another headline's sentence


@dataclass
class TextVersion:
    """What one map shows, in words and tables (see the module docstring)."""

    summary: str
    figures: pd.DataFrame
    layers: pd.DataFrame
    legend: pd.DataFrame
    poles: pd.DataFrame
    places: pd.DataFrame | None = None  # territories drawn (gaps), when the map shows a list of them
    places_title: str = ""
    notes: list[str] = field(default_factory=list)
    markdown_safe: bool = False  # cells, headers and texts escaped for Markdown already (``ui.accessibilite``)


# --------------------------------------------------------------------------- formatting

def _plain(value) -> str:
    """A map's label back to plain text (map labels are HTML-escaped for Leaflet)."""
    return "" if _missing(value) else html.unescape(str(value))


def _sectors(value) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(str(v) for v in value) or "n.c."
    return _plain(value) or "n.c."


def _frame(rows: list, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns).astype(str) if rows else pd.DataFrame(columns=columns)


# --------------------------------------------------------------------------- headline figures

#: What the priority population counts, per zoning (``coverage_headline``'s help texts).
POP_HELP = {
    "qpv": "Habitants des QPV (population INSEE des quartiers) ; vide sans le fichier de l'INSEE : les QPV sont "
           "alors comptés en nombre, jamais par la population de leur commune.",
    "territoires-industrie": "Population municipale des communes membres d'un Territoire d'industrie.",
    "frr": "Population municipale des communes classées FRR.",
    "zrr": "Population municipale des communes classées ZRR (zonage historique).",
}
QPV_COVERED_HELP = ("Un pôle dans le quartier, à moins du rayon de son contour, ou sa commune dans un "
                    "périmètre déclaré.")


def _all_help() -> str:
    from . import coverage

    return "Définition : " + coverage.ALL_DEFINITION + "."


def coverage_headline(figures: Mapping, zoning: str = "all") -> list[Headline]:
    """The coverage figures of a territory (``coverage.national`` or a ``by_territory`` row) in the
    unit of the zoning — QPV counted in districts (and residents with INSEE's file), the others in
    inhabitants of their communes — as the pages « Lacunes » and « Territoire » show them above
    their map (``coverage_metrics``) and in its text version."""
    heads = [Headline("poles", "Pôles localisés", fmt_int(figures.get("poles")))]
    if zoning == "qpv":
        total, covered = figures.get("qpv_count", figures.get("qpv_total")), figures.get("qpv_covered")
        heads += [Headline("qpv_count", "QPV", fmt_int(total), "Quartiers prioritaires touchant le territoire "
                                                               "(QPV 2024)."),
                  Headline("qpv_covered", "dont couverts", fmt_int(covered), QPV_COVERED_HELP)]
        pop = figures.get("priority_population")
        if _missing(pop):
            heads.append(Headline("qpv_population", "Habitants des QPV", "n.c.", POP_HELP["qpv"]))
        else:
            heads.append(Headline("qpv_population", "Habitants des QPV couverts",
                                  f"{fmt_int(figures.get('priority_population_covered'))} sur {fmt_int(pop)}",
                                  POP_HELP["qpv"]))
        return heads
    label = "Population prioritaire" if zoning != "all" else "Population prioritaire (toutes zones)"
    return heads + [
        Headline("priority_population", label, fmt_int(figures.get("priority_population")),
                 POP_HELP.get(zoning) or _all_help()),
        Headline("priority_population_covered", "dont couverte", fmt_int(figures.get("priority_population_covered"))),
        Headline("coverage_rate", "Taux de couverture", fmt_rate(figures.get("coverage_rate")),
                 "Part de la population prioritaire ci-contre couverte par au moins un pôle (rayon ou périmètre)."),
    ]


def carte_headline(state, communes: pd.DataFrame, shown: pd.DataFrame, figures: Mapping | None,
                   compact=None, registry=None) -> dict[str, Headline]:
    """The side panel of the page « Carte » (and its text version): communes, population, poles shown,
    régions and départements (France), then the coverage of the territory in the unit of the zoning
    (``figures``: its coverage row, None when unavailable; QPV in districts, the others in
    inhabitants) and the registry (``registry``: ``CommuneCoverage.registry``). ``compact`` formats
    the population for the narrow panel (its exact value goes in ``exact``). Headlines of kind
    ``caption`` are said by the panel as the sentence ``sentence``."""
    pop = communes["population"].sum()
    out = {
        "communes": Headline("communes", "Communes", fmt_int(len(communes))),
        "population": Headline("population", "Population", compact(pop) if compact else fmt_int(pop),
                               f"{fmt_int(pop)} habitants", exact=f"{fmt_int(pop)} habitants"),
        "poles": Headline("poles", "Pôles affichés", fmt_int(len(shown))),
    }
    if not state.territoire:
        out["regions"] = Headline("regions", "Régions", f"{communes['region'].nunique()}")
        out["departements"] = Headline("departements", "Départements", f"{communes['departement'].nunique()}")
    if figures is None:
        return out
    from . import coverage

    zoning = state.zonage or "all"
    get = figures.get
    qpv_total, qpv_cov = get("qpv_count", get("qpv_total")), get("qpv_covered")
    qpv_line = Headline("qpv_covered", "QPV couverts", f"{fmt_int(qpv_cov)} sur {fmt_int(qpv_total)}",
                        "Quartiers prioritaires avec un pôle dans le quartier, à moins du rayon de leur contour ou "
                        "dont la commune est dans le périmètre déclaré d'un pôle.")
    if zoning == "qpv":
        out["qpv_covered"] = qpv_line
        p = get("priority_population")
        if _missing(p):
            out["qpv_population"] = Headline(
                "qpv_population", "Habitants des QPV", "inconnus sans le fichier de population de l'INSEE",
                kind="caption", sentence="Habitants des QPV : inconnus sans le fichier de population de l'INSEE (les "
                                         "QPV sont comptés en nombre, jamais par la population de leur commune).")
        else:
            value = f"{fmt_int(get('priority_population_covered'))} sur {fmt_int(p)} (INSEE)"
            out["qpv_population"] = Headline("qpv_population", "Habitants des QPV couverts", value, kind="caption",
                                             sentence=f"Habitants des QPV couverts : {value}")
    else:
        help_text = _all_help() if zoning == "all" else (
            f"Population municipale des communes {coverage.ZONING_LABELS.get(zoning, zoning)} à moins du rayon "
            "d'un pôle ou dans son périmètre déclaré.")
        out["coverage_rate"] = Headline("coverage_rate", "Population prioritaire couverte",
                                        fmt_rate(get("coverage_rate")), help_text)
        prio, cov = fmt_int(get("priority_population")), fmt_int(get("priority_population_covered"))
        # « toutes zones » counts QPV residents only with INSEE's file (national figures name its
        # vintage, a territory's row carries the residents); without it, say what is counted
        qpv_residents = bool(get("qpv_population_source")) or not _missing(get("qpv_population"))
        scope = ("communes en Territoire d'industrie ou FRR et habitants des QPV hors de ces communes (INSEE)"
                 if qpv_residents else "communes en Territoire d'industrie ou FRR seulement (habitants des QPV "
                 "inconnus sans le fichier de l'INSEE : les QPV sont comptés à part, en nombre)")
        out["priority_population"] = Headline(
            "priority_population", "Population prioritaire", f"{prio} hab.", kind="caption",
            sentence=(f"Population prioritaire : {prio} hab., dont couverte : {cov} hab. (rayon {state.rayon:g} km)"
                      + (f" — toutes zones : {scope}" if zoning == "all" else "")))
        out["priority_population_covered"] = Headline(
            "priority_population_covered", f"dont couverte (rayon {state.rayon:g} km)", f"{cov} hab.",
            kind="caption", sentence="")
        out["qpv_covered"] = Headline(qpv_line.key, qpv_line.label, qpv_line.value, qpv_line.help, kind="caption",
                                      sentence=f"QPV couverts : {qpv_line.value}")
    unlocated = get("poles_non_localises")
    if unlocated and not _missing(unlocated):
        out["poles_non_localises"] = Headline(
            "poles_non_localises", "Pôles connus, non localisés", fmt_int(unlocated), kind="caption",
            sentence=f"Pôles connus, non localisés : {int(unlocated)} (connus du registre par leur seul département "
                     "ou leur région, sans commune : hors de la carte et de la couverture)")
    if registry is not None:
        text = coverage.registry_text(registry)
        out["registre"] = Headline("registre", "Registre", text, kind="caption", sentence=f"Registre : {text}")
    return out


def figures_table(headlines: Sequence[Headline] | Mapping[str, Headline]) -> pd.DataFrame:
    items = headlines.values() if isinstance(headlines, Mapping) else headlines
    return _frame([(h.label, h.exact or h.value) for h in items], FIGURES_COLUMNS)


# --------------------------------------------------------------------------- symbols in words

def luminance(colour: str) -> float:
    """Relative luminance (WCAG) of ``#rrggbb``: 0 black, 1 white — what a greyscale print keeps."""
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def shade_words(colours: Sequence[str]) -> list[str]:
    """« teinte 2 sur 5 (1 : la plus foncée) » for each colour of a class scale, ranked
    by luminance: a reader who cannot tell the hues apart can still rank the classes."""
    order = sorted(range(len(colours)), key=lambda i: luminance(colours[i]))
    rank = {i: r + 1 for r, i in enumerate(order)}
    n = len(colours)
    return [f"teinte {rank[i]} sur {n} (1 : la plus foncée)" for i in range(n)]


def style_words(style: Mapping) -> str:
    """A Leaflet style in words: « aplat et contour pointillé », « trait continu »…"""
    dashed = "pointillé" if style.get("dashArray") else "continu"
    if float(style.get("fillOpacity", 0) or 0) > 0:
        return f"aplat de couleur, contour {dashed}"
    return f"trait {dashed}"


# --------------------------------------------------------------------------- counts of drawn features

_CODE_RE = re.compile(rb'"code":"((?:[^"\\]|\\.)*)"')


@lru_cache(maxsize=64)
def _file_codes(name: str) -> tuple[tuple[str, ...], int]:
    """(codes of the features, number of features) of a published layer file (immutable: its name
    carries its version, so the cache never goes stale)."""
    from . import webmap

    path = webmap.layers_dir() / name
    data = path.read_bytes()
    # the codes alone, without parsing the geometries (20 times faster on a région's communes);
    # the full parse when the file does not look as ``webmap.to_geojson`` writes it
    codes = _CODE_RE.findall(data)
    total = data.count(b'{"type":"Feature"')
    if len(codes) == total:
        return tuple(json.loads(b'"' + c + b'"') for c in codes), total
    features = json.loads(data).get("features", [])
    return tuple(str((f.get("properties") or {}).get("code", "")) for f in features), len(features)


def layer_count(url: str | None, join: Mapping | None = None) -> int | None:
    """Features a ``GeoLayer`` draws from a published file: all of them, or with ``join`` only
    those whose code has an entry (how FRR, ZRR and the choropleth are drawn). None when the file
    cannot be read (the layer is then reported as not loaded)."""
    if not url:
        return None
    try:
        codes, total = _file_codes(url.rsplit("/", 1)[-1])
    except (OSError, ValueError):
        return None
    if join is None:
        return total
    return sum(1 for c in codes if c in join)


# --------------------------------------------------------------------------- page « Carte »

def _pole_rows(shown: pd.DataFrame, communes: pd.DataFrame | None = None) -> pd.DataFrame:
    rows = []
    for _, r in shown.iterrows():
        commune = _plain(r.get("commune"))
        if not commune and communes is not None and r.get("code_insee") in communes.index:
            commune = str(communes.at[r.get("code_insee"), "nom"])
        if r.get("code_insee"):
            commune = f"{commune} ({_plain(r.get('code_insee'))})" if commune else _plain(r.get("code_insee"))
        rows.append((_plain(r.get("nom")), commune or "n.c.", _plain(r.get("departement")) or "n.c.",
                     _sectors(r.get("secteurs")), _plain(r.get("appel")) or "n.c."))
    rows.sort(key=lambda row: row[0].casefold())
    return _frame(rows, POLE_COLUMNS)


def explorer_text(state, layers, shown: pd.DataFrame, headline: Mapping[str, Headline],
                  vintages: Mapping[str, str], missing: Mapping[str, str] | None = None) -> TextVersion:
    """Text version of the map explorer: ``layers`` is the ``webmap.MapLayers`` the map was drawn
    from, ``shown`` the poles it drew, ``headline`` the side panel's figures (:func:`carte_headline`),
    ``vintages`` the sources line's vintages, ``missing`` the layers that could not be drawn."""
    from . import webmap

    missing = dict(missing or {})
    layer_rows, legend_rows = [], []
    drawn_names = []
    for key in state.couches:
        label = webmap.LAYERS[key]
        source = (webmap.BOUNDARY_SOURCE if key in ("regions", "departements", "epci", "communes")
                  else vintages.get(key, ""))
        if key == "poles":
            if layers.poles is None:
                continue
            drawn_names.append(label)
            layer_rows.append((label, fmt_int(len(layers.poles)), source))
            by = "appel" if state.couleur == "appel" else "premier secteur"
            counts: dict[str, int] = {}
            for _, row in shown.iterrows():
                k = webmap.pole_colour_key(row, state.couleur)
                k = k if k in layers.pole_colours else "autre / non renseigné"
                counts[k] = counts.get(k, 0) + 1
            for k in [*layers.pole_colours, "autre / non renseigné"]:
                if counts.get(k):
                    legend_rows.append((label, _plain(k), f"disque de couleur ({by})", fmt_int(counts[k])))
            continue
        if not layers.has(key):
            continue
        drawn_names.append(label)
        join = layers.joins.get(key)
        count = layer_count(layers.urls.get(key), join) if key in layers.urls else None
        if count is None and key in layers.geojson:
            count = len(json.loads(layers.geojson[key]).get("features", []))
        layer_rows.append((label, fmt_int(count), source))
        if key == "couverture" and layers.classes is not None:
            cl = layers.classes
            what = webmap.INDICATORS[layers.indicator]
            values = join or {}
            by_colour: dict[str, int] = {}
            for v in values.values():
                by_colour[v.get("couleur")] = by_colour.get(v.get("couleur"), 0) + 1
            shades = shade_words(cl.colours)
            for colour, lab, shade in zip(cl.colours, cl.labels, shades):
                legend_rows.append((f"{label} — {what}", lab, f"aplat, {shade}", fmt_int(by_colour.get(colour, 0))))
            legend_rows.append((f"{label} — {what}", webmap.NO_DATA_LABEL, "aplat gris clair",
                                fmt_int(by_colour.get(webmap.NO_DATA_COLOUR, 0))))
        elif key in ("frr", "zrr") and join is not None:
            classes: dict[str, int] = {}
            for v in join.values():
                c = _plain(v.get("classement"))
                classes[c] = classes.get(c, 0) + 1
            kind = "contour de couleur" if webmap.outlined(state, layers, key) else "aplat de couleur"
            for c in sorted(classes):
                legend_rows.append((label, c, kind, fmt_int(classes[c])))
        elif key == "qpv" and not state.territoire:  # France: one point per district
            legend_rows.append((label, label, "point de couleur (un par quartier)", fmt_int(count)))
        elif key in ("qpv", "territoires-industrie"):
            legend_rows.append((label, label, style_words(webmap.STYLES.get(key, {})), fmt_int(count)))
        else:
            legend_rows.append((label, "limite", style_words(webmap.STYLES.get(key, {})), fmt_int(count)))
    notes = [f"Couche « {webmap.LAYERS.get(k, k)} » non dessinée : {_plain(msg)}" for k, msg in missing.items()]
    if state.commune:
        notes.append(f"Commune recherchée, surlignée en rouge : {state.commune}.")
    if state.lieu:
        notes.append(f"Adresse recherchée, marquée d'un cercle rouge : {state.lieu_nom or 'adresse'}.")
    territory = webmap.territory_name(state.territoire)
    summary = (f"Carte « {territory} » : {', '.join(drawn_names) if drawn_names else 'aucune couche'}"
               f" ; {headline['poles'].value if 'poles' in headline else fmt_int(len(shown))} pôle(s) affiché(s).")
    return TextVersion(summary=summary, figures=figures_table(headline), layers=_frame(layer_rows, LAYER_COLUMNS),
                       legend=_frame(legend_rows, LEGEND_COLUMNS), poles=_pole_rows(shown), notes=notes)


# --------------------------------------------------------------------------- pages « Lacunes », « Territoire »

@dataclass
class GapMap:
    """What the gap map of « Lacunes » and « Territoire » draws (``gap_map_layers``)."""

    gaps: pd.DataFrame  # code, nom, priority_population, geometry (rows with a geometry only)
    poles: pd.DataFrame | None  # the coverage result's poles drawn (id, nom, commune, lat, lon)
    radius_km: float | None
    outline: pd.DataFrame | None
    level: str = "commune"


def gap_map_layers(shapes, poles_frame, radius_km: float | None, outline=None, level: str = "commune") -> GapMap:
    """The frames the gap map draws, prepared once for the map and its text version."""
    gaps = pd.DataFrame(columns=["code", "nom", "priority_population", "geometry"])
    if shapes is not None and len(shapes):
        gaps = shapes[["code", "nom", "priority_population", "geometry"]].copy()
        gaps = gaps[gaps.geometry.notna()]
    return GapMap(gaps=gaps, poles=poles_frame, radius_km=radius_km or None,
                  outline=outline if outline is not None and len(outline) else None, level=level)


_GAP_LEVEL_NAMES = {"commune": "communes", "epci": "EPCI", "qpv": "quartiers prioritaires",
                    "territoires-industrie": "Territoires d'industrie"}


def gap_map_text(gmap: GapMap, headline: Sequence[Headline], territory: str, registry: pd.DataFrame | None = None,
                 communes: pd.DataFrame | None = None) -> TextVersion:
    """Text version of the gap map: the gaps and poles it draws (``gmap``, from :func:`gap_map_layers`)
    and the coverage figures shown above it (``headline``, from :func:`coverage_headline`).
    ``registry`` (``poles.load()``) adds the poles' sectors and calls; ``communes``
    (``boundaries.commune_table()``) their communes' names."""
    gaps_label = f"Territoires prioritaires sans pôle ({_GAP_LEVEL_NAMES.get(gmap.level, gmap.level)})"
    n_poles = 0 if gmap.poles is None else len(gmap.poles)
    layer_rows = [(gaps_label, fmt_int(len(gmap.gaps)), "calcul ptce-geo (couverture)")]
    legend_rows = [(gaps_label, "territoire prioritaire sans pôle", "aplat rouge orangé et petit point rouge plein",
                    fmt_int(len(gmap.gaps)))]
    if gmap.poles is not None:
        layer_rows.append(("Pôles localisés", fmt_int(n_poles), "registre ptce-geo"))
        legend_rows.append(("Pôles localisés", "pôle", "disque bleu cerclé de blanc", fmt_int(n_poles)))
        if gmap.radius_km:
            legend_rows.append(("Pôles localisés", f"rayon d'action de {gmap.radius_km:g} km", "cercle bleu clair",
                                fmt_int(n_poles)))
    if gmap.outline is not None:
        layer_rows.append(("Contour du territoire", "1", "COG (INSEE, IGN)"))
        legend_rows.append(("Contour du territoire", territory, "trait gris foncé", "1"))
    places = _frame([(str(i + 1), _plain(r.nom), _plain(r.code), fmt_int(r.priority_population))
                     for i, r in enumerate(gmap.gaps.itertuples())],
                    ["Rang", "Nom", "Code", "Population prioritaire"])
    poles = pd.DataFrame(columns=POLE_COLUMNS)
    if gmap.poles is not None and n_poles:
        frame = gmap.poles.rename(columns={"commune": "code_insee"})[["id", "nom", "code_insee"]].copy()
        if registry is not None and len(registry):
            extra = registry.set_index("id")[[c for c in ("departement", "secteurs", "appel", "commune")
                                              if c in registry.columns]]
            frame = frame.join(extra, on="id")
        if "commune" not in frame.columns and communes is not None:
            frame["commune"] = frame["code_insee"].map(communes["nom"]) if "nom" in communes else ""
        poles = _pole_rows(frame, communes)
    summary = (f"Carte « {territory} » : {fmt_int(len(gmap.gaps))} territoire(s) prioritaire(s) sans pôle"
               f" et {fmt_int(n_poles)} pôle(s)" + (f" entouré(s) de leur rayon de {gmap.radius_km:g} km."
                                                   if gmap.radius_km and n_poles else "."))
    return TextVersion(summary=summary, figures=figures_table(headline), layers=_frame(layer_rows, LAYER_COLUMNS),
                       legend=_frame(legend_rows, LEGEND_COLUMNS), poles=poles, places=places,
                       places_title="Territoires prioritaires sans pôle dessinés, par population prioritaire")
