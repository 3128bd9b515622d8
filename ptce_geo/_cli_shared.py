"""Commands of a shared deployment: ``ptce-geo db status|upgrade|copy`` (where the registry lives, its
schema, moving it: ``database``, ``registry_admin``) and the territory layers of ``prepare --territoires``."""

from __future__ import annotations

import sys
from . import database, registry_admin, territory_layers

__all__ = ["add_db", "prepare_territories"]


def add_db(sub) -> None:
    p = sub.add_parser("db", help="Base du registre (SQLite ou PostgreSQL) : état, migration, copie")
    dsub = p.add_subparsers(dest="db_command", required=True)

    st = dsub.add_parser("status", help="où est le registre, version de son schéma, nombre de lignes par table")

    def run_status(args):
        info = registry_admin.status()
        print(f"Registre : {info['store']}")
        print(f"Schéma : {info['schema']} (cette version de ptce-geo connaît le schéma {info['known']})")
        if info["counts"]:
            print(f"Contenu : {registry_admin.counts_text(info['counts'])}.")
        elif info["schema"] < info["known"]:
            print("Contenu : à migrer d'abord (ptce-geo db upgrade).")

    st.set_defaults(func=run_status)

    up = dsub.add_parser("upgrade", help="migre le registre vers le schéma de cette version (une transaction)")

    def run_upgrade(args):
        found, now = registry_admin.upgrade()
        where = database.describe()
        if found == now:
            print(f"Registre {where} déjà au schéma {now} : rien à migrer.")
        else:
            print(f"Registre {where} migré : schéma {found} → {now}.")

    up.set_defaults(func=run_upgrade)

    cp = dsub.add_parser("copy", help="copie tout le registre (pôles, historique, rôles, propositions) ailleurs")
    cp.add_argument("--to", required=True, metavar="DESTINATION",
                    help="postgresql://utilisateur@hôte:port/base ou sqlite:CHEMIN")
    cp.add_argument("--remplacer", "--replace", action="store_true", dest="replace",
                    help="écrase le registre que la destination contient déjà (sinon la copie est refusée)")

    def run_copy(args):
        target = database.open_target(args.to)
        print(f"Copie de {database.describe()} vers {database.describe(target)}…", file=sys.stderr)
        result = registry_admin.copy(args.to, replace=args.replace)
        print(f"Copie vérifiée : {registry_admin.counts_text(result['counts'])} — mêmes nombres et mêmes lignes, "
              f"historique compris, dans la source ({result['source']}) et la destination ({result['target']}).")
        print("Pour que l'app s'en serve : " + (
            f"PTCE_GEO_DATABASE_URL={target.label} (mot de passe à remettre, ou dans ~/.pgpass)."
            if target.dialect == "postgresql" else
            f"unset PTCE_GEO_DATABASE_URL et PTCE_GEO_DATA={target.path.parent} (fichier {target.path.name} "
            "renommé poles.sqlite)."))

    cp.set_defaults(func=run_copy)


def prepare_territories() -> None:
    """``prepare --territoires``: every territory's layer files (``territory_layers``), with progress."""
    done = territory_layers.publish_all(lambda msg: print(f"  couches des territoires : {msg}", file=sys.stderr))
    print(f"Couches des territoires publiées : {done['fichiers']} fichiers pour {done['territoires']} territoires.")
    for layer, msg in done["indisponibles"].items():
        print(f"Attention : couche {layer} non publiée — {msg}", file=sys.stderr)
