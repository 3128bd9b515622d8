"""Headline figures per zoning, each in the unit of its zoning, with the sentence that defines it.

- QPV: districts covered out of the metropolitan ones (1,362), the overseas ones (DROM) and those
  outside the COG communes (Saint-Martin, French Polynesia); their residents only when INSEE's
  population file is there (``qpv.population``).
- Territoires d'industrie: territories with at least one pole in or near them (a pole in one of
  their communes, or one of their communes covered) out of all territories, and the population of
  their covered communes.
- FRR: communes covered out of the FRR communes, and their population.
- All zonings: ``coverage.ALL_DEFINITION`` — the population of the communes in a Territoire
  d'industrie or FRR plus the residents (INSEE) of the QPV outside them; a QPV commune's other
  residents are never counted.

The same rows feed the CLI (``ptce-geo figures``), the pages « Lacunes », « Territoire » and
« Carte », and the exports; :func:`registry_sentence` says how big the pole registry is.
"""

from __future__ import annotations

import pandas as pd

from . import coverage
from ._fmt import fmt_int
from ._fmt import fmt_share as fmt_rate

__all__ = ["figures", "registry_sentence", "zoning_line"]


def _qpv_row(nat: dict) -> dict:
    parts = []
    for key, label in (("metro", "en métropole"), ("outre_mer", "outre-mer (DROM)"),
                       ("hors_cog", "à Saint-Martin et en Polynésie française")):
        total = nat.get(f"qpv_{key}", 0)
        if total:
            parts.append(f"{fmt_int(nat[f'qpv_{key}_covered'])} sur {fmt_int(total)} {label}")
    value = f"{fmt_int(nat['qpv_covered'])} QPV couverts sur {fmt_int(nat['qpv_total'])}"
    residents = []
    for key, label in (("metro", "en métropole"), ("outre_mer", "outre-mer"), ("hors_cog", "hors COG")):
        pop = nat.get(f"qpv_{key}_population")
        if pop is not None:
            missing = nat.get(f"qpv_{key}_without_population", 0)
            residents.append(f"{fmt_int(nat[f'qpv_{key}_population_covered'])} habitants couverts sur "
                             f"{fmt_int(pop)} {label}" + (f" ({missing} QPV sans population connue)" if missing else ""))
    definition = ("Un QPV est couvert quand un pôle est dans le quartier, à moins du rayon de son contour "
                  "(distance au polygone, en mètres) ou que sa commune est dans le périmètre déclaré d'un pôle.")
    if residents:
        definition += " Habitants : population des QPV publiée par l'INSEE."
    else:
        definition += (" Population des QPV inconnue (fichier INSEE absent) : les QPV sont comptés en nombre, "
                       "jamais par la population de leur commune.")
    return {"zonage": "qpv", "libelle": "Quartiers prioritaires (QPV 2024)", "chiffre": value,
            "detail": " ; ".join(parts + residents), "definition": definition}


def _ti_row(result: coverage.CommuneCoverage) -> dict | None:
    try:
        t = coverage.by_territory(result, "territoires-industrie")
    except Exception:  # noqa: BLE001 - layer missing: the row says so
        return None
    reached = (t["poles"] > 0) | (t["communes_covered"] > 0)
    pop, cov = int(t["population"].sum()), int(t["population_covered"].sum())
    return {"zonage": "territoires-industrie", "libelle": "Territoires d'industrie (2023-2027)",
            "chiffre": f"{fmt_int(int(reached.sum()))} territoires avec un pôle dans ou près d'eux sur {fmt_int(len(t))}",
            "detail": f"{fmt_int(cov)} habitants couverts sur {fmt_int(pop)} ({fmt_rate(cov, pop)})",
            "definition": ("Un territoire compte quand un pôle est dans l'une de ses communes ou qu'une de ses "
                           "communes est couverte ; population couverte : celle de ses communes couvertes.")}


def _frr_row(c: pd.DataFrame) -> dict:
    frr = c["frr"].to_numpy()
    cov = c["covered"].to_numpy()
    pop = c["population"].fillna(0).astype("int64").to_numpy()
    n, nc = int(frr.sum()), int((frr & cov).sum())
    p, pc = int(pop[frr].sum()), int(pop[frr & cov].sum())
    return {"zonage": "frr", "libelle": "France Ruralités Revitalisation (FRR 2025)",
            "chiffre": f"{fmt_int(nc)} communes FRR couvertes sur {fmt_int(n)}",
            "detail": f"{fmt_int(pc)} habitants couverts sur {fmt_int(p)} ({fmt_rate(pc, p)})",
            "definition": "Communes classées FRR sous une forme ou une autre ; population municipale (INSEE)."}


def _all_row(result: coverage.CommuneCoverage) -> dict:
    nat = coverage.national(coverage.recompute(result, result.params["radius_km"], zoning="all")
                            if result.params["zoning"] != "all" else result)
    known = nat["qpv_metro_population"] is not None or nat["qpv_outre_mer_population"] is not None
    definition = "Population « toutes zones » : " + coverage.ALL_DEFINITION + "."
    if not known:
        definition += (" Sans le fichier de population des QPV (INSEE), seule la population des communes en "
                       "Territoire d'industrie ou FRR est comptée ; les QPV sont comptés à part, en nombre.")
    return {"zonage": "all", "libelle": "Toutes zones prioritaires (QPV, Territoires d'industrie, FRR)",
            "chiffre": f"{fmt_int(nat['priority_population_covered'])} habitants couverts sur "
                       f"{fmt_int(nat['priority_population'])}",
            "detail": f"taux {fmt_rate(nat['priority_population_covered'], nat['priority_population'])}",
            "definition": definition}


def figures(result: coverage.CommuneCoverage) -> pd.DataFrame:
    """One row per zoning (qpv, territoires-industrie, frr, all): zonage, libelle, chiffre,
    detail, definition — French texts, figures in the unit of the zoning."""
    nat = coverage.national(result)
    rows = [_qpv_row(nat)]
    ti = _ti_row(result)
    if ti is not None:
        rows.append(ti)
    rows += [_frr_row(result.communes), _all_row(result)]
    out = pd.DataFrame(rows, columns=["zonage", "libelle", "chiffre", "detail", "definition"])
    out["registre"] = registry_sentence(result.registry)
    text_p, text_v = coverage.describe(result.params, result.vintages)
    out["parametres"], out["millesimes"] = text_p, text_v
    out.attrs.update(params=dict(result.params), vintages=dict(result.vintages), registry=dict(result.registry or {}))
    return out


def registry_sentence(registry: dict | None) -> str:
    """« 81 pôles connus, dont 37 localisés … ; un territoire montré sans pôle peut en avoir un que le
    registre ne connaît pas encore. »"""
    return coverage.registry_text(registry)


def zoning_line(result: coverage.CommuneCoverage) -> str:
    """The headline of the result's own zoning, one French line (CLI stderr, captions)."""
    table = figures(result)
    z = result.params["zoning"]
    row = table[table["zonage"] == z]
    if row.empty:  # zrr: historical, commune-based
        nat = coverage.national(result)
        return (f"ZRR (historique) : {fmt_int(nat['priority_population_covered'])} habitants couverts sur "
                f"{fmt_int(nat['priority_population'])}")
    r = row.iloc[0]
    return f"{r['libelle']} : {r['chiffre']} ({r['detail']}). {r['definition']}"
