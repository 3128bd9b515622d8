"""Catalogue of the official sources of the priority layers, described as data.

Each :class:`Source` says what a file is (title, publisher, licence, vintage), where it
comes from (a stable URL, and/or a data.gouv.fr dataset id with a selector picking the
resource by title and format), what it must look like (format, ZIP member, sha256 when
the URL is pinned to an immutable copy) and under which local name it lives in the
mirror (``PTCE_GEO_MIRROR``) and in the raw cache (``<cache_dir>/raw/``).

``_http.fetch(sources.get(source_id))`` turns an entry into a local file.

Files whose URL points at a commit-pinned GitHub copy are byte copies of the published
file (see ``../shared/geodata/SOURCES.md``); their sha256 is pinned. The data.gouv.fr
resources move with each release, so they are not pinned.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import UnknownChoiceError

__all__ = ["LICENCE_OUVERTE", "Source", "SOURCES", "get"]

LICENCE_OUVERTE = "Licence Ouverte / Etalab 2.0"


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    licence: str
    vintage: str
    filename: str  # local name, in the mirror and in the raw cache
    format: str  # "csv", "geojson", "geojson|zip"
    url: str | None = None  # stable URL (tried first when no dataset selector resolves)
    page: str | None = None  # human page of the publisher
    datagouv_dataset: str | None = None  # data.gouv.fr dataset id or slug
    resource_title: str | None = None  # regex matched (case-insensitive) against resource titles
    resource_formats: tuple[str, ...] = ()  # accepted resource formats (lower case)
    zip_member: str | None = None  # member a ZIP download must hold (matched on its end)
    sha256: str | None = None
    aliases: tuple[str, ...] = ()  # other names the file may have in a mirror
    optional: bool = False  # the layer works without it (QPV polygons)

    def local_names(self) -> tuple[str, ...]:
        return (self.filename, *self.aliases)


_GITHUB_RAW = "https://raw.githubusercontent.com"

_CATALOGUE: tuple[Source, ...] = (
    Source(
        id="qpv-2024-contours",
        title="Quartiers prioritaires de la politique de la ville 2024 — contours (WGS84)",
        publisher="ANCT",
        licence=LICENCE_OUVERTE,
        vintage="QPV 2024 (métropole), 2025 (outre-mer)",
        filename="qpv_2024_contours.geojson",
        aliases=("qpv_2024_polygones.geojson", "qpv_2024_contours.zip",
                 "QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"),
        format="geojson|zip",
        url="https://www.data.gouv.fr/api/1/datasets/r/942d4ee8-8142-4556-8ea1-335537ce1119",
        page="https://www.data.gouv.fr/fr/datasets/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/",
        datagouv_dataset="5a561801c751df42d7fca9b6",
        resource_title=r"QP.?2024.*WGS.?84",
        resource_formats=("geojson", "json", "zip"),
        zip_member="GEOJSON/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson",
        optional=True,
    ),
    Source(
        id="qpv-2024-population",
        title="Population des quartiers prioritaires 2024 (population municipale par QPV)",
        publisher="INSEE",
        licence=LICENCE_OUVERTE,
        vintage="QPV 2024, population municipale de référence (recensement)",
        filename="pop_QPV24.csv",
        aliases=("pop_QPV24.xlsx", "pop_QPV24.zip", "pop_QPV24_csv.zip", "pop_qpv24.csv"),
        format="csv|xlsx|zip",
        # No stable file URL is known: INSEE serves its files from the statistics page below.
        # The file is read from the mirror or the raw cache only (see qpv.read_population).
        page="https://www.insee.fr/fr/statistiques/8210600",
        optional=True,
    ),
    Source(
        id="qpv-2024-liste",
        title="Quartiers prioritaires 2024 — liste des QPV et de leurs communes",
        publisher="ANCT",
        licence=LICENCE_OUVERTE,
        vintage="QPV 2024 (métropole), 2025 (outre-mer)",
        filename="qpv_2024_communes.csv",
        format="csv",
        url="https://www.data.gouv.fr/api/1/datasets/r/4c6bb7f3-97b6-4834-8a3a-f5f8b3e6735b",
        page="https://www.data.gouv.fr/fr/datasets/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/",
    ),
    Source(
        id="qpv-2024-centroides",
        title="Quartiers prioritaires 2024 — un point par commune concernée (ANCT)",
        publisher="ANCT",
        licence=LICENCE_OUVERTE,
        vintage="QPV 2024 (métropole), 2025 (outre-mer)",
        filename="qpv_2024_centroids.geojson",
        format="geojson",
        url=f"{_GITHUB_RAW}/anct-carto/superposeur-V2/3f2b0c0b87604a13831a9f214988878b6a4cb67e/"
        "data/admin/centroide-4326_qpv.geojson",
        page="https://github.com/anct-carto/superposeur-V2",
        sha256="b4aa296353dd1b714b32da990e698e0332e709b4bac4d0a0a7df8fd07e7bffe4",
    ),
    Source(
        id="territoires-industrie-2023",
        title="Territoires d'industrie 2023-2027 — périmètres (liste du 4 juillet 2024)",
        publisher="ANCT",
        licence=LICENCE_OUVERTE,
        vintage="programme 2023-2027, liste du 4 juillet 2024 (communes COG 2023)",
        filename="territoires_industrie_2023_2027.geojson",
        format="geojson",
        url=f"{_GITHUB_RAW}/anct-carto/superposeur-anct/5c5ffe30cc5d4a0e05a99d30a316d196e180f96a/"
        "data/geom/geojsonV2/ti_geom.geojson",
        page="https://www.data.gouv.fr/fr/organizations/agence-nationale-de-la-cohesion-des-territoires/",
        sha256="7d114c0d2538cd1653a6807ab88fbe3bf468133c681c84b0ab2da03ffa175ffb",
    ),
    Source(
        id="frr-2025",
        title="France Ruralités Revitalisation — classement des communes au 10 juillet 2025",
        publisher="DGCL (ministère de la Cohésion des territoires)",
        licence=LICENCE_OUVERTE,
        vintage="classement du 10 juillet 2025 (communes COG 2025)",
        filename="frr_communes_2025.csv",
        format="csv",
        url=f"{_GITHUB_RAW}/incubateur-ademe/benefriches/23f401f86c870d59423f3532c85f8ab56f196108/"
        "apps/api/data/france-ruralites/liste-communes-FRR-juillet2025.csv",
        page="https://www.observatoire-des-territoires.gouv.fr/frr-france-ruralites-revitalisation",
        sha256="a7626bf67b0e59cfdf70be6ebe0ea98a7713d03e7a5831d725d8e8ff936b6cda",
    ),
    Source(
        id="zrr-2017",
        title="Zones de revitalisation rurale — classement des communes (export ANCT, COG 2021)",
        publisher="ANCT (Observatoire des territoires)",
        licence=LICENCE_OUVERTE,
        vintage="arrêté du 16 mars 2017 modifié en 2018 (communes COG 2021)",
        filename="zrr_communes_cog2021.csv",
        format="csv",
        url=f"{_GITHUB_RAW}/Guillaume-Bsst/Time4-ZRR-QPV/a10320fa0b920f4b80e4d0baa38e3c48a06d8a10/"
        "ZRR_list_source.csv",
        page="https://www.data.gouv.fr/fr/datasets/zones-de-revitalisation-rurale-zrr/",
        sha256="06d1c3ba4be7cf44408db340372b10e1601b6b7ff8fcc899714b6f7b0dfbd6a9",
    ),
)

SOURCES: dict[str, Source] = {s.id: s for s in _CATALOGUE}


def get(source_id: str) -> Source:
    """The catalogue entry of ``source_id`` (UnknownChoiceError listing the valid ids)."""
    try:
        return SOURCES[source_id]
    except KeyError:
        raise UnknownChoiceError("Source", source_id, SOURCES) from None

