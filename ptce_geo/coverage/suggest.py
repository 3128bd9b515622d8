"""Where the next poles would help most: greedy maximal coverage of K new sites (``suggest``),
and the sites as poles (``suggested_poles``) to recompute with."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import ParameterError, UnknownChoiceError
from .model import TOLERANCE_M, CommuneCoverage, check_params
from .territories import finish

__all__ = ["suggest", "suggested_poles"]


def _targets(result: CommuneCoverage) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Weights of the uncovered priority communes and QPV, the uncovered QPV, and the objective.

    Objective ``population``: commune populations (Territoires d'industrie, FRR, ZRR, and the
    Territoire d'industrie/FRR part of ``all``) and INSEE residents of the QPV (``qpv``, and the QPV
    outside those communes for ``all``); ``qpv``: the number of QPV, for zoning ``qpv`` when no
    QPV population is known (a commune's population never stands in for it)."""
    c = result.communes
    d = result.qpv
    zoning = result.params["zoning"]
    pop = c["population"].fillna(0).to_numpy(dtype=float)
    cov = c["covered"].to_numpy()
    qpop = pd.to_numeric(pd.Series(d["population"]), errors="coerce").to_numpy(dtype=float)
    qunc = ~d["covered"].to_numpy()
    objective = "population"
    if zoning == "qpv":
        wc = np.zeros(len(c))
        if np.isfinite(qpop).any():
            wq = np.where(qunc & np.isfinite(qpop), qpop, 0.0)
        else:
            objective = "qpv"
            wq = qunc.astype(float)
    elif zoning == "all":
        tf = c["in_territoire_industrie"].to_numpy() | c["frr"].to_numpy()
        wc = np.where(tf & ~cov, pop, 0.0)
        outside = ~d["commune_ti_frr"].to_numpy()
        wq = np.where(qunc & outside & np.isfinite(qpop), qpop, 0.0)
    else:
        wc = np.where(c["in_zoning"].to_numpy() & ~cov, pop, 0.0)
        wq = np.zeros(len(d))
    return wc, wq, qunc, objective


def suggest(result: CommuneCoverage, count: int, radius_km: float | None = None, region: str | None = None,
            candidates_in_zoning: bool = False) -> pd.DataFrame:
    """Greedy maximal coverage: ``count`` new pole sites (commune points) that cover the most
    uncovered priority population (or, for zoning ``qpv`` without INSEE's population, the most
    uncovered QPV), with the marginal gain of each (in the order chosen).

    The radius defaults to the one of ``result``. Candidate sites: every commune point, or
    those of ``region`` (a region code) and/or of the zoning's communes. A site covers the
    uncovered priority communes whose point is within the radius and the uncovered QPV whose
    contour is within the radius (same group, also across a regional border). Greedy is the
    standard (1 − 1/e)-approximation; ties go to the smallest code.
    Columns: rang, code, nom, departement, region, lon, lat, gain_population (empty when the
    objective is a number of QPV), gain_qpv (QPV newly covered), gain_communes, cumulative_gain
    (of the objective, ``params["objective"]``), covered_communes (``;``-joined codes).
    """
    from scipy import sparse
    from scipy.spatial import cKDTree

    radius = result.params.get("radius_km") if radius_km is None else radius_km
    if radius is None:
        raise ParameterError("Un rayon est nécessaire pour suggérer des sites : donnez --radius-km (par exemple 15).")
    check_params(radius, result.params["zoning"])
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = -1
    if count < 1:
        raise ParameterError(f"Nombre de sites invalide : {count!r}. Donnez un entier ≥ 1 (par exemple 5).")
    base = result.base
    c = result.communes
    t = base.table
    if region is not None and str(region) not in set(c["region"].dropna().astype(str)):
        raise UnknownChoiceError("Code de région", region, sorted(set(c["region"].dropna().astype(str))))
    wc, wq, qunc, objective = _targets(result)
    n, m = len(c), len(result.qpv)
    cand = np.isfinite(t["x"].to_numpy()) & np.isfinite(t["y"].to_numpy())
    if region is not None:
        cand &= c["region"].astype(str).to_numpy() == str(region)
    if candidates_in_zoning:
        cand &= c["in_zoning"].to_numpy()
    rows, cols = [], []
    r_m = float(radius) * 1000.0 + TOLERANCE_M
    for g, idx in base.group_idx.items():
        xy = base.group_xy[g]
        cnd = np.flatnonzero(cand[idx])
        if not len(cnd):
            continue
        tgt = np.flatnonzero((wc[idx] > 0) & np.isfinite(xy).all(axis=1))
        if len(tgt):
            pairs = cKDTree(xy[cnd]).sparse_distance_matrix(cKDTree(xy[tgt]), r_m, output_type="ndarray")
            rows.append(idx[cnd[pairs["i"]]])  # "ndarray" output keeps zero distances (a site on its own commune)
            cols.append(idx[tgt[pairs["j"]]])
        if g in base.districts.metric:
            qpos, geoms = base.districts.metric[g]
            live = qunc[qpos]
            if live.any():
                tree = shapely.STRtree(geoms[live])
                ci, qj = tree.query(shapely.points(xy[cnd]), predicate="dwithin", distance=r_m)
                rows.append(idx[cnd[ci]])
                cols.append(n + qpos[np.flatnonzero(live)[qj]])
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    A = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n + m))
    A.data[:] = 1.0  # a pair reported twice still counts once
    w = np.concatenate([wc, wq])
    live_q = np.concatenate([np.zeros(n), qunc.astype(float)])
    live_c = np.concatenate([(wc > 0).astype(float), np.zeros(m)])
    chosen = []
    for _ in range(count):
        gains = A @ w
        best = int(np.argmax(gains)) if n else 0  # ties → first position = smallest code (table sorted by code)
        if not n or gains[best] <= 0:
            break
        reached = A.indices[A.indptr[best]:A.indptr[best + 1]]
        newly_q = reached[live_q[reached] > 0]
        newly_c = reached[live_c[reached] > 0]
        chosen.append((best, float(gains[best]), newly_c, len(newly_q)))
        w[reached] = 0.0
        live_q[reached] = 0.0
        live_c[reached] = 0.0
    gain_pop = [int(round(gv)) if objective == "population" else pd.NA for _, gv, _, _ in chosen]
    out = pd.DataFrame({
        "code": [c["code"].iloc[b] for b, *_ in chosen],
        "nom": [c["nom"].iloc[b] for b, *_ in chosen],
        "departement": [c["departement"].iloc[b] for b, *_ in chosen],
        "region": [c["region"].iloc[b] for b, *_ in chosen],
        "lon": [round(float(t["lon"].iloc[b]), 6) for b, *_ in chosen],
        "lat": [round(float(t["lat"].iloc[b]), 6) for b, *_ in chosen],
        "gain_population": pd.array(gain_pop, dtype="Int64"),
        "gain_qpv": np.array([nq for *_, nq in chosen], dtype="int64"),
        "gain_communes": np.array([len(cv) for _, _, cv, _ in chosen], dtype="int64"),
        "covered_communes": [";".join(c["code"].to_numpy()[cv]) for _, _, cv, _ in chosen],
    })
    out.insert(0, "rang", np.arange(1, len(out) + 1))
    objective_gain = np.array([int(round(gv)) for _, gv, _, _ in chosen], dtype="int64")
    out.insert(9, "cumulative_gain", np.cumsum(objective_gain) if len(objective_gain) else objective_gain)
    params = dict(result.params, radius_km=float(radius), count=count, region=region,
                  candidates_in_zoning=bool(candidates_in_zoning), objective=objective)
    out = finish(out, params, result.vintages, result.registry)
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs=settings.WEB_CRS)


def suggested_poles(suggestion: pd.DataFrame) -> gpd.GeoDataFrame:
    """The suggested sites as a pole frame (no perimeter), to add to the registry's poles."""
    return gpd.GeoDataFrame({
        "id": [f"suggestion-{r}" for r in suggestion["rang"]],
        "nom": [f"Site suggéré n° {r} ({n})" for r, n in zip(suggestion["rang"], suggestion["nom"])],
        "code_insee": suggestion["code"].to_numpy(),
        "departement": suggestion["departement"].to_numpy(),
        "perimetre": [[] for _ in range(len(suggestion))],
    }, geometry=gpd.points_from_xy(suggestion["lon"], suggestion["lat"]), crs=settings.WEB_CRS)
