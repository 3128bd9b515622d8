"""Small synthetic territories whose coverage figures are known by hand.

Metropolitan row (Lambert-93), six 10 km × 10 km communes along x, town halls at their centres:

    dep 01: A 01001 [0,10]  B 01002 [10,20]  C 01003 [20,30]
    dep 02: D 02001 [30,40] E 02002 [40,50]  F 02003 [50,60]      (km from X0)
    dep 03: G 03001 [200,210]

P1 stands on the border of C and D (x = 30 km; its commune is C), so its distances are
C 5, D 5, B 15, E 15 (exactly the radius), A 25, F 25 km. P2 stands in G and declares the
perimeter {A, F} (across departments 01 and 02). Overseas: R 97401 in Réunion (no pole),
M 97101 in Guadeloupe; a pole in Martinique (same CRS as Guadeloupe) is only used in one test.

Flags: A QPV, B FRR, D Territoire d'industrie, E ZRR only (not a priority for "all"), F FRR and QPV,
R QPV, M QPV.

QPV (``qpv_layer``), contours in Lambert-93 / local UTM:
    QN00101M in A, x ∈ [8, 9.5] km, y ∈ [4, 6]: 20.5 km from P1's point, A's town hall 25 km.
    QN00201M in F, x ∈ [58, 59.5] km: 28 km from P1, F's town hall 25 km.
    QN97401M in R, QN97101M in M (around their town halls).
With ``population=True`` the layer carries INSEE-like residents: 600, 50, 300, 100.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

X0, Y0 = 700_000.0, 6_600_000.0
KM = 1000.0

METRO = [  # code, nom, dep, region, epci, x0 (km), population
    ("01001", "A", "01", "84", "200000001", 0, 1000),
    ("01002", "B", "01", "84", "200000001", 10, 200),
    ("01003", "C", "01", "84", "200000001", 20, 300),
    ("02001", "D", "02", "32", "200000002", 30, 5000),
    ("02002", "E", "02", "32", "200000002", 40, 50),
    ("02003", "F", "02", "32", "200000002", 50, 70),
    ("03001", "G", "03", "84", "200000003", 200, 10),
]
FLAGS = {  # code: (qpv, ti, frr, zrr)
    "01001": (True, False, False, False),
    "01002": (False, False, True, False),
    "02001": (False, True, False, False),
    "02002": (False, False, False, True),
    "02003": (True, False, True, False),
    "97401": (True, False, False, False),
    "97101": (True, False, False, False),
}


def _to4326(geoms, crs):
    return gpd.GeoSeries(geoms, crs=crs).to_crs("EPSG:4326").values


def _square(x0, y0, side):
    return shapely.box(x0, y0, x0 + side, y0 + side)


def communes() -> gpd.GeoDataFrame:
    rows, polys, mairies = [], [], []
    for code, nom, dep, reg, epci, xk, pop in METRO:
        x = X0 + xk * KM
        polys.append(_square(x, Y0, 10 * KM))
        mairies.append(shapely.Point(x + 5 * KM, Y0 + 5 * KM))
        rows.append((code, nom, dep, reg, epci, pop))
    metro = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["code", "nom", "departement", "region", "epci", "population"]),
        geometry=_to4326(polys, "EPSG:2154"), crs="EPSG:4326",
    )
    metro["mairie"] = _to4326(mairies, "EPSG:2154")
    reunion = gpd.GeoDataFrame(
        {"code": ["97401"], "nom": ["R"], "departement": ["974"], "region": ["04"], "epci": ["249740101"],
         "population": [800]},
        geometry=_to4326([_square(340_000, 7_650_000, 10 * KM)], "EPSG:2975"), crs="EPSG:4326",
    )
    reunion["mairie"] = _to4326([shapely.Point(345_000, 7_655_000)], "EPSG:2975")
    guadeloupe = gpd.GeoDataFrame(
        {"code": ["97101"], "nom": ["M"], "departement": ["971"], "region": ["01"], "epci": ["249710001"],
         "population": [400]},
        geometry=_to4326([_square(650_000, 1_780_000, 10 * KM)], "EPSG:5490"), crs="EPSG:4326",
    )
    guadeloupe["mairie"] = _to4326([shapely.Point(655_000, 1_785_000)], "EPSG:5490")
    out = pd.concat([metro, reunion, guadeloupe], ignore_index=True)
    out["population"] = out["population"].astype("Int64")
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326").sort_values("code", ignore_index=True)


def flags() -> pd.DataFrame:
    codes = communes()["code"]
    f = pd.DataFrame({"code": codes})
    for i, col in enumerate(("in_qpv", "in_territoire_industrie", "frr", "zrr")):
        f[col] = [FLAGS.get(c, (False,) * 4)[i] for c in codes]
    f["priority"] = f["in_qpv"] | f["in_territoire_industrie"] | f["frr"]
    f.attrs["vintages"] = {"qpv": "test", "frr": "test"}
    return f


def pole(pid, nom, x, y, crs="EPSG:2154", code_insee=None, departement=None, perimetre=()):
    return {"id": pid, "nom": nom, "code_insee": code_insee, "departement": departement,
            "perimetre": list(perimetre), "geometry": _to4326([shapely.Point(x, y)], crs)[0]}


def poles(*extra) -> gpd.GeoDataFrame:
    rows = [
        pole("P1", "Pôle frontière", X0 + 30 * KM, Y0 + 5 * KM, code_insee="01003", departement="01"),
        pole("P2", "Pôle à périmètre", X0 + 205 * KM, Y0 + 5 * KM, code_insee="03001", departement="03",
             perimetre=["01001", "02003"]),
        *extra,
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def qpv_layer(population: bool = False) -> gpd.GeoDataFrame:
    metro = _to4326([shapely.box(X0 + 8 * KM, Y0 + 4 * KM, X0 + 9.5 * KM, Y0 + 6 * KM),
                     shapely.box(X0 + 58 * KM, Y0 + 4 * KM, X0 + 59.5 * KM, Y0 + 6 * KM)], "EPSG:2154")
    reunion = _to4326([shapely.box(344_000, 7_654_000, 346_000, 7_656_000)], "EPSG:2975")
    guadeloupe = _to4326([shapely.box(654_000, 1_784_000, 656_000, 1_786_000)], "EPSG:5490")
    out = gpd.GeoDataFrame(
        {"code": ["QN00101M", "QN00201M", "QN97401M", "QN97101M"],
         "nom": ["Quartier A", "Quartier F", "Quartier R", "Quartier M"],
         "communes": [["01001"], ["02003"], ["97401"], ["97101"]],
         "departement": ["01", "02", "974", "971"], "geometry_kind": "polygon"},
        geometry=[*metro, *reunion, *guadeloupe], crs="EPSG:4326",
    )
    if population:
        out["population"] = [600, 50, 300, 100]
    return out
