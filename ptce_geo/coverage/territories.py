"""Figures per territory (``by_territory``: EPCI, département, région, QPV, Territoire
d'industrie), national totals (``national``) and the ranked gaps (``gaps``) of a result."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import boundaries, priority, qpv, settings
from .._errors import UnknownChoiceError
from ..registry_size import registry_text
from .model import (GAP_LEVELS, QPV_COLUMNS, TERRITORY_COLUMNS, TERRITORY_LEVELS, ZONING_FLAGS, ZONING_SHORT,
                    CommuneCoverage, describe, stamp_frame)

__all__ = ["by_territory", "finish", "national", "gaps"]


def _membership(level: str, result: CommuneCoverage, layer=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pairs code→commune position, territory names) for a level."""
    c = result.communes
    pos = pd.Series(np.arange(len(c)), index=c["code"].to_numpy())
    if level == "commune":
        pairs = pd.DataFrame({"territory": c["code"].to_numpy(), "pos": np.arange(len(c))})
        names = pd.DataFrame({"code": c["code"], "nom": c["nom"]})
        return pairs, names
    if level in ("epci", "departement", "region"):
        key = c[level].astype(object)
        ok = key.notna().to_numpy()
        pairs = pd.DataFrame({"territory": key[ok].astype(str).to_numpy(), "pos": np.flatnonzero(ok)})
        names = _level_names(level, pairs["territory"].unique())
        return pairs, names
    # qpv / territoires-industrie: a layer with a list of communes per territory
    if layer is None and level == "qpv" and result.base is not None and result.base.districts is not None:
        layer = result.base.districts.table
    if layer is None:
        layer = priority.load(level)
    rows = []
    for code, communes in zip(layer["code"].astype(str), layer["communes"]):
        for cc in (communes if isinstance(communes, (list, tuple, np.ndarray)) else str(communes).split(";")):
            p = pos.get(str(cc))
            if p is not None:
                rows.append((code, int(p)))
    pairs = pd.DataFrame(rows, columns=["territory", "pos"]).drop_duplicates()
    names = pd.DataFrame({"code": layer["code"].astype(str).to_numpy(), "nom": layer["nom"].astype(object).to_numpy()})
    return pairs, names


_NAMES: dict = {}


def _level_names(level: str, codes) -> pd.DataFrame:
    names = _NAMES.get(level)
    if names is None:
        try:
            layer = boundaries.load(level, simplified=True)
            names = dict(zip(layer["code"].astype(str), layer["nom"]))
        except Exception:  # noqa: BLE001 - synthetic territories have no official names
            names = {}
        _NAMES[level] = names
    codes = sorted(codes)
    return pd.DataFrame({"code": codes, "nom": [names.get(c, c) for c in codes]})


def by_territory(result: CommuneCoverage, level: str, layer=None) -> pd.DataFrame:
    """Coverage figures per territory of ``level`` (``TERRITORY_LEVELS``).

    Columns: code, nom, poles (located in it), communes, population, priority_communes,
    priority_population, priority_population_covered, coverage_rate (covered / priority
    population; empty when unknown or none), then priority_communes_covered, communes_covered,
    population_covered, nearest_distance_km (smallest over its uncovered priority communes),
    QPV_COLUMNS (each QPV touching the territory counted once: count, covered, share covered,
    INSEE residents — empty without the file — and how many QPV lack a population), then per
    zoning z (ti, frr, zrr): z_communes, z_population, z_population_covered, z_coverage_rate;
    qpv_communes (communes holding a QPV); all_communes, all_population, all_population_covered,
    all_coverage_rate (``ALL_DEFINITION``); for départements and régions poles_non_localises
    (poles of the registry known only by their département or région); then parametres,
    millesimes, registre.
    The priority_* columns are those of the result's zoning, in its unit: commune populations for
    Territoires d'industrie, FRR and ZRR, QPV residents for ``qpv``, the union above for ``all``.
    QPV and Territoire d'industrie rows report the figures of the communes they lie in.
    """
    if level not in TERRITORY_LEVELS:
        raise UnknownChoiceError("Niveau", level, TERRITORY_LEVELS)
    c = result.communes
    pairs, names = _membership(level, result, layer)
    p = pairs["pos"].to_numpy()
    pop = c["population"].fillna(0).to_numpy(dtype=float)[p]
    cov = c["covered"].to_numpy()[p]
    zon = c["in_zoning"].to_numpy()[p]
    zcov = c["zoning_covered"].to_numpy()[p]
    ti_frr = (c["in_territoire_industrie"].to_numpy() | c["frr"].to_numpy())[p]
    uncovered_dist = np.where(zon & ~zcov, c["nearest_distance_km"].to_numpy()[p], np.nan)
    frame = pd.DataFrame({
        "territory": pairs["territory"].to_numpy(),
        "poles": c["poles"].to_numpy()[p],
        "communes": 1,
        "population": pop,
        "priority_communes": zon.astype(int),
        "priority_communes_covered": (zon & zcov).astype(int),
        "communes_covered": cov.astype(int),
        "population_covered": np.where(cov, pop, 0.0),
        "nearest_distance_km": uncovered_dist,
        "_tf_pop": np.where(ti_frr, pop, 0.0),
        "_tf_pop_cov": np.where(ti_frr & cov, pop, 0.0),
    })
    for z in ("territoires-industrie", "frr", "zrr"):
        s_ = ZONING_SHORT[z]
        f = c[ZONING_FLAGS[z]].to_numpy()[p]
        frame[f"{s_}_communes"] = f.astype(int)
        frame[f"{s_}_population"] = np.where(f, pop, 0.0)
        frame[f"{s_}_population_covered"] = np.where(f & cov, pop, 0.0)
    frame["qpv_communes"] = c["in_qpv"].to_numpy()[p].astype(int)
    frame["all_communes"] = c["priority"].to_numpy()[p].astype(int)
    agg = frame.groupby("territory", sort=True).agg(
        {col: ("min" if col == "nearest_distance_km" else "sum") for col in frame.columns if col != "territory"}
    )
    out = names.set_index("code").join(agg, how="left")
    out = out.join(qpv.territory_figures(result.qpv, qpv.territory_pairs(level, result, pairs)), how="left")
    out.index.name = "code"
    out = out.reset_index()
    for col in ("qpv_count", "qpv_covered", "qpv_without_population"):
        out[col] = out[col].fillna(0)
    ints = [col for col in out.columns if (col.endswith(("communes", "covered")) or col == "poles" or "population" in col
                                           or col in ("qpv_count", "qpv_without_population"))
            and not col.startswith(("qpv_population", "_all"))]
    for col in ints:
        out[col] = out[col].fillna(0).round().astype("int64")
    for col in ("qpv_population", "qpv_population_covered", "_all_qpv_pop", "_all_qpv_pop_cov"):
        out[col] = pd.array(pd.to_numeric(out[col], errors="coerce").round(), dtype="Int64")
    out["qpv_share_covered"] = _rate(out["qpv_covered"], out["qpv_count"])
    out["qpv_coverage_rate"] = _rate(out["qpv_population_covered"].astype("Float64"),
                                     out["qpv_population"].astype("Float64"))
    for z in ("territoires-industrie", "frr", "zrr"):
        s_ = ZONING_SHORT[z]
        out[f"{s_}_coverage_rate"] = _rate(out[f"{s_}_population_covered"], out[f"{s_}_population"])
    out["all_population"] = (out["_tf_pop"] + out["_all_qpv_pop"].fillna(0).astype(float)).round().astype("int64")
    out["all_population_covered"] = (out["_tf_pop_cov"] + out["_all_qpv_pop_cov"].fillna(0).astype(float)
                                     ).round().astype("int64")
    out["all_coverage_rate"] = _rate(out["all_population_covered"], out["all_population"])
    zoning = result.params["zoning"]
    if zoning in ("territoires-industrie", "frr", "zrr"):
        s_ = ZONING_SHORT[zoning]
        out["priority_population"] = out[f"{s_}_population"]
        out["priority_population_covered"] = out[f"{s_}_population_covered"]
    elif zoning == "qpv":
        out["priority_population"] = out["qpv_population"]
        out["priority_population_covered"] = out["qpv_population_covered"]
    else:
        out["priority_population"] = out["all_population"]
        out["priority_population_covered"] = out["all_population_covered"]
    out["coverage_rate"] = _rate(out["priority_population_covered"].astype("Float64"),
                                 out["priority_population"].astype("Float64"))
    out["nearest_distance_km"] = out["nearest_distance_km"].round(3)
    ordered = TERRITORY_COLUMNS + ["priority_communes_covered", "communes_covered", "population_covered",
                                   "nearest_distance_km"] + QPV_COLUMNS
    for z in ("territoires-industrie", "frr", "zrr"):
        s_ = ZONING_SHORT[z]
        ordered += [f"{s_}_communes", f"{s_}_population", f"{s_}_population_covered", f"{s_}_coverage_rate"]
    ordered += ["qpv_communes", "all_communes", "all_population", "all_population_covered", "all_coverage_rate"]
    if level in ("departement", "region") and result.registry:
        counts = result.registry[f"unlocated_by_{level}"]
        out["poles_non_localises"] = out["code"].map(counts).fillna(0).astype("int64")
        ordered.append("poles_non_localises")
    out = out[ordered]
    if level == "commune":
        extra = c.set_index("code")[["departement", "region", "epci", "in_qpv", "in_territoire_industrie", "frr",
                                     "zrr", "priority", "in_zoning", "nearest_pole", "nearest_pole_nom",
                                     "covered", "covered_by", "zoning_covered", "point_source"]]
        out = out.join(extra, on="code")
        out["nearest_distance_km"] = c["nearest_distance_km"].to_numpy()
    params = dict(result.params, level=level)
    return finish(out, params, result.vintages, result.registry)


def _rate(num: pd.Series, den: pd.Series) -> pd.Series:
    num = pd.Series(pd.array(pd.to_numeric(pd.Series(num)), dtype="Float64")).to_numpy(dtype=float, na_value=np.nan)
    den = pd.Series(pd.array(pd.to_numeric(pd.Series(den)), dtype="Float64")).to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan))


def finish(out: pd.DataFrame, params: dict, vintages: dict, registry: dict | None = None) -> pd.DataFrame:
    text_p, text_v = describe(params, vintages)
    out = out.copy()
    out["parametres"] = text_p
    out["millesimes"] = text_v
    out["registre"] = registry_text(registry)
    out = stamp_frame(out, params, vintages)
    out.attrs["registry"] = dict(registry or {})
    return out


def national(result: CommuneCoverage) -> dict:
    """National totals in the unit of the result's zoning (same definitions as ``by_territory``),
    QPV counts by part of France, and the registry's size — for the headline figures."""
    c = result.communes
    pop = c["population"].fillna(0).to_numpy(dtype=float)
    zon = c["in_zoning"].to_numpy()
    zcov = c["zoning_covered"].to_numpy()
    d = result.qpv
    tf = c["in_territoire_industrie"].to_numpy() | c["frr"].to_numpy()
    cov = c["covered"].to_numpy()
    qpop = pd.Series(pd.array(d["population"].to_numpy(), dtype="Int64"))
    qcov = d["covered"].to_numpy()
    outside = ~d["commune_ti_frr"].to_numpy()
    zoning = result.params["zoning"]
    if zoning == "qpv":
        prio = qpop.sum(min_count=1)
        covered = qpop.where(pd.Series(qcov), 0).sum(min_count=1)
    elif zoning == "all":
        prio = float(pop[tf].sum()) + float(qpop.where(pd.Series(outside), 0).fillna(0).sum())
        covered = float(pop[tf & cov].sum()) + float(qpop.where(pd.Series(outside & qcov), 0).fillna(0).sum())
    else:
        prio = float(pop[zon].sum())
        covered = float(pop[zon & cov].sum())
    known = not pd.isna(prio)
    out = {
        "zoning": zoning,
        "poles": int(len(result.poles)),
        "communes": int(len(c)),
        "population": int(pop.sum()),
        "priority_communes": int(zon.sum()),
        "priority_communes_covered": int((zon & zcov).sum()),
        "priority_population": int(prio) if known else None,
        "priority_population_covered": int(covered) if known and not pd.isna(covered) else (0 if known else None),
        "coverage_rate": (float(covered) / float(prio)) if known and prio and not pd.isna(covered) else float("nan"),
        "priority_communes_uncovered": int((zon & ~zcov).sum()),
        "qpv_population_source": (result.base.districts.population_source if result.base is not None else None),
    }
    groups = d["group"].astype(str).to_numpy()
    overseas = set(settings.get().overseas_crs)
    parts = {"metro": groups == "metro", "outre_mer": np.isin(groups, list(overseas)),
             "hors_cog": np.isin(groups, list(qpv.EXTRA_CRS))}
    for name, mask in parts.items():
        pk = qpop[mask]
        out[f"qpv_{name}"] = int(mask.sum())
        out[f"qpv_{name}_covered"] = int((mask & qcov).sum())
        out[f"qpv_{name}_population"] = None if pk.notna().sum() == 0 else int(pk.sum())
        out[f"qpv_{name}_population_covered"] = None if pk.notna().sum() == 0 else \
            int(qpop[mask & qcov].fillna(0).sum())
        out[f"qpv_{name}_without_population"] = int(pk.isna().sum())
    out["qpv_total"] = int(len(d))
    out["qpv_covered"] = int(qcov.sum())
    out["registry"] = dict(result.registry or {})
    return out


# --------------------------------------------------------------------------- gaps

def _rank(g: pd.DataFrame, by_count: str | None = None) -> pd.DataFrame:
    """Largest priority population first (unknown ones after the known), then ``by_count`` (more
    priority units first), then the farthest from a pole, then the code."""
    key = pd.DataFrame({
        "known": g["priority_population"].notna().to_numpy(),
        "pop": pd.to_numeric(g["priority_population"], errors="coerce").fillna(-1).to_numpy(dtype=float),
        "count": g[by_count].to_numpy(dtype=float) if by_count else np.zeros(len(g)),
        "dist": pd.to_numeric(g["nearest_distance_km"], errors="coerce").fillna(-1).to_numpy(dtype=float),
        "code": g["code"].astype(str).to_numpy(),
    }, index=g.index)
    order = key.sort_values(["known", "pop", "count", "dist", "code"], ascending=[False, False, False, False, True],
                            kind="stable").index
    return g.loc[order]


def gaps(result: CommuneCoverage, level: str = "commune", top: int | None = None, layer=None,
         within: tuple[str, str] | None = None) -> pd.DataFrame:
    """Priority territories that no pole covers, ranked.

    ``commune``: a commune flagged for the zoning none of whose priority part is covered (for
    ``qpv``: none of its QPV is covered; for ``all``: neither the commune, when in a Territoire
    d'industrie or FRR, nor any of its QPV). ``epci`` / ``territoires-industrie``: a territory
    with priority communes none of which is covered. ``qpv``: a QPV not covered (pole inside,
    radius of its contour, perimeter), whatever the zoning.
    Ranked by priority population (QPV residents for QPV: empty without INSEE's file; unknown
    populations come after the known ones), then by number of priority units, then by distance
    to the nearest pole (farthest first). ``within=("departement", "13")`` keeps the
    territories of one EPCI/département/région (by their communes).
    """
    if level not in GAP_LEVELS:
        raise UnknownChoiceError("Niveau des lacunes", level, GAP_LEVELS)
    c = result.communes
    if level == "commune":
        g = c[c["in_zoning"] & ~c["zoning_covered"]].copy()
        g["zonages"] = [_zonings_text(r) for r in g[["in_qpv", "in_territoire_industrie", "frr", "zrr"]].itertuples(False)]
        if within is not None:
            g = g[g["code" if within[0] == "commune" else within[0]].astype(str) == str(within[1])]
        cols = ["code", "nom", "departement", "region", "epci", "zonages", "population", "qpv_total",
                "priority_population", "nearest_distance_km", "nearest_pole", "nearest_pole_nom"]
        g = _rank(g[cols], "qpv_total")
    elif level == "qpv":
        d = result.qpv
        g = d[~d["covered"]].copy()
        if within is not None:
            key = "code" if within[0] == "commune" else within[0]
            base = result.base
            ok = base.qpv_pos >= 0
            vals = c[key].astype(str).to_numpy()[base.qpv_pos[ok]]
            inside = set(base.districts.commune_pairs["pos"].to_numpy()[ok][vals == str(within[1])])
            g = g[np.isin(np.arange(len(d))[~d["covered"].to_numpy()], list(inside))]
        g["communes"] = g["communes"].map(lambda cs: ";".join(cs))
        g = g.rename(columns={"distance_km": "nearest_distance_km"})
        g["priority_population"] = g["population"]
        cols = ["code", "nom", "communes", "departement", "hors_communes_cog", "priority_population",
                "nearest_distance_km", "nearest_pole", "nearest_pole_nom"]
        g = _rank(g[cols])
    else:
        t = by_territory(result, level, layer=layer)
        g = t[(t["priority_communes"] > 0) & (t["priority_communes_covered"] == 0)].copy()
        if within is not None:
            pairs, _ = _membership(level, result, layer)
            key = "code" if within[0] == "commune" else within[0]
            inside = c[key].astype(str).to_numpy()[pairs["pos"].to_numpy()] == str(within[1])
            g = g[g["code"].isin(set(pairs["territory"][inside]))]
        # nearest pole of the territory = that of its nearest uncovered priority commune
        pairs, _ = _membership(level, result, layer)
        sub = pd.DataFrame({"territory": pairs["territory"].to_numpy(),
                            "d": c["nearest_distance_km"].to_numpy()[pairs["pos"].to_numpy()],
                            "pid": c["nearest_pole"].to_numpy()[pairs["pos"].to_numpy()],
                            "pnom": c["nearest_pole_nom"].to_numpy()[pairs["pos"].to_numpy()],
                            "z": c["in_zoning"].to_numpy()[pairs["pos"].to_numpy()]})
        sub = sub[sub["z"]].sort_values("d", na_position="last").drop_duplicates("territory").set_index("territory")
        g["nearest_pole"] = g["code"].map(sub["pid"])
        g["nearest_pole_nom"] = g["code"].map(sub["pnom"])
        cols = ["code", "nom", "communes", "population", "priority_communes", "qpv_count", "priority_population",
                "nearest_distance_km", "nearest_pole", "nearest_pole_nom"]
        g = _rank(g[cols], "priority_communes")
    if top is not None:
        g = g.head(int(top))
    g = g.reset_index(drop=True)
    g.insert(0, "rang", np.arange(1, len(g) + 1))
    g["nearest_distance_km"] = g["nearest_distance_km"].astype(float).round(3)
    g["priority_population"] = pd.array(pd.to_numeric(g["priority_population"], errors="coerce").round(),
                                        dtype="Int64")
    return finish(g, dict(result.params, level=level), result.vintages, result.registry)


def _zonings_text(row) -> str:
    labels = ("QPV", "Territoire d'industrie", "FRR", "ZRR")
    return ", ".join(lab for lab, on in zip(labels, row) if on)
