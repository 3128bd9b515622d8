"""What the pole registry knows: how many poles, how many located, and where the others are known.

Every gap view and export says it (« 81 pôles connus, dont 37 localisés … ; un territoire montré sans
pôle peut en avoir un que le registre ne connaît pas encore. »), and the poles known only by their
département or région are counted there (« connus, non localisés ») instead of vanishing.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from . import boundaries

__all__ = ["registry_counts", "registry_text"]


def registry_counts(poles: pd.DataFrame) -> dict:
    """Size of the pole registry: poles known, located (a point), known only by their
    département, by their région, or by nothing; unlocated poles per département and région."""
    n = len(poles)
    located = poles["localise"].fillna(False).astype(bool).to_numpy() if "localise" in poles.columns else \
        np.ones(n, dtype=bool)
    if isinstance(poles, gpd.GeoDataFrame) and n and "localise" not in poles.columns:
        geom = np.asarray(poles.geometry.values)
        located = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    dep = poles["departement"].astype(object).where(poles["departement"].notna(), None).to_numpy() \
        if "departement" in poles.columns else np.full(n, None, dtype=object)
    reg = poles["region"].astype(object).where(poles["region"].notna(), None).to_numpy() \
        if "region" in poles.columns else np.full(n, None, dtype=object)
    dep = np.array([d if isinstance(d, str) and d.strip() else None for d in dep], dtype=object)
    reg = np.array([r if isinstance(r, str) and r.strip() else None for r in reg], dtype=object)
    un = ~located
    by_dep = pd.Series(dep[un & (dep != None)]).value_counts().to_dict()  # noqa: E711
    if un.any():
        try:
            reg_of = dict(zip(boundaries.load("departement", simplified=True)["code"],
                              boundaries.load("departement", simplified=True)["region"]))
        except Exception:  # noqa: BLE001 - synthetic tables: the pole's own région only
            reg_of = {}
        reg = np.array([reg_of.get(d, r) if d else r for d, r in zip(dep, reg)], dtype=object)
    by_reg = pd.Series(reg[un & (reg != None)]).value_counts().to_dict()  # noqa: E711
    return {
        "known": int(n), "located": int(located.sum()),
        "departement_only": int((un & (dep != None)).sum()),  # noqa: E711
        "region_only": int((un & (dep == None) & (reg != None)).sum()),  # noqa: E711
        "nowhere": int((un & (dep == None) & (reg == None)).sum()),  # noqa: E711
        "unlocated_by_departement": {str(k): int(v) for k, v in by_dep.items()},
        "unlocated_by_region": {str(k): int(v) for k, v in by_reg.items()},
    }


def registry_text(registry: dict | None) -> str:
    """« 81 pôles connus, dont 37 localisés (…) ; un territoire montré sans pôle peut en avoir un
    que le registre ne connaît pas encore. » — what every gap view and export says."""
    if not registry:
        return ("Registre des pôles fourni par l'appelant ; un territoire montré sans pôle peut en avoir un "
                "que le registre ne connaît pas encore.")
    n, loc = registry["known"], registry["located"]
    parts = [f"{n} pôle{'s' if n > 1 else ''} connu{'s' if n > 1 else ''}, dont {loc} localisé{'s' if loc > 1 else ''}"]
    detail = []
    if registry.get("departement_only"):
        detail.append(f"{registry['departement_only']} connu{'s' if registry['departement_only'] > 1 else ''} "
                      "par leur seul département")
    if registry.get("region_only"):
        detail.append(f"{registry['region_only']} par leur seule région")
    if registry.get("nowhere"):
        detail.append(f"{registry['nowhere']} sans lieu")
    text = parts[0] + (f" ({', '.join(detail)} : comptés « connus, non localisés » à ce niveau)" if detail else "")
    return text + " ; un territoire montré sans pôle peut en avoir un que le registre ne connaît pas encore."
