"""Commands about the pole registry: ``poles list|import|export|history`` and ``roles list|grant|revoke``."""

from __future__ import annotations

import getpass
import sys

from . import access, editing, export, importer, poles, registry, registry_review
from ._cli_parser import OUTPUT_HELP, add_format, write_table
from ._text import printable

__all__ = ["add_poles", "add_roles"]


def _os_user() -> str:
    """Who runs the command, for the history (« cli » when the system cannot tell)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def add_poles(sub) -> None:
    p = sub.add_parser("poles", help="Registre des pôles (PTCE) : lister, importer, exporter, historique")
    psub = p.add_subparsers(dest="poles_command", required=True)

    def who(args) -> str:
        return args.who or _os_user()

    ls = psub.add_parser("list", help="Liste les pôles du registre")
    add_format(ls)
    ls.add_argument("--located-only", action="store_true", help="seulement les pôles localisés")
    ls.add_argument("-o", "--output", default="-", metavar="FICHIER", help=OUTPUT_HELP)

    def run_list(args):
        fmt = export.output_format(args.format, args.output, export.FORMATS)  # checked before the registry is read
        export.write(poles.load(located_only=args.located_only), fmt, args.output, meta={"source": poles.vintage()})

    ls.set_defaults(func=run_list)

    imp = psub.add_parser("import", help="Importe un fichier CSV, XLSX ou GeoJSON (tout ou rien)")
    imp.add_argument("file", metavar="FICHIER", help="fichier .csv, .xlsx ou .geojson")
    imp.add_argument("--dry-run", action="store_true", help="vérifie seulement, n'écrit rien")
    imp.add_argument("--skip-invalid", action="store_true", help="importe les lignes valides, écrit les rejets")
    imp.add_argument("--rejects", metavar="FICHIER", help="fichier des lignes rejetées (défaut : FICHIER_rejets.csv à côté du fichier, "
                                       "FICHIER_rejets-2.csv… s'il existe déjà)")
    imp.add_argument("--who", metavar="NOM", help="auteur inscrit dans l'historique (défaut : utilisateur courant)")

    def run_import(args):
        if args.dry_run:
            report = importer.check(args.file)
            print(report.text())
            return 0 if report.ok else 1
        report = editing.write("import", access.Identity.cli(who(args)), path=args.file, skip_invalid=args.skip_invalid,
                               rejects=args.rejects)
        print(report.text())
        return 0

    imp.set_defaults(func=run_import)

    exp = psub.add_parser("export", help="Exporte le registre (format déduit de l'extension)")
    exp.add_argument("-o", "--output", required=True, metavar="FICHIER",
                     help="fichier à écrire (le format suit son extension)")
    exp.add_argument("--format", choices=export.FORMATS, metavar="FORMAT", help="csv, geojson, gpkg ou xlsx")

    def run_export(args):
        fmt = export.output_format(args.format, args.output, export.FORMATS)
        frame = poles.load()
        export.write(frame, fmt, args.output, excel=fmt == "csv", meta={"source": poles.vintage()})
        where = "la sortie standard" if args.output == "-" else printable(str(args.output))
        print(f"{len(frame)} pôles exportés dans {where}", file=sys.stderr if args.output == "-" else sys.stdout)

    exp.set_defaults(func=run_export)

    hist = psub.add_parser("history", help="Historique des changements du registre")
    hist.add_argument("--pole", metavar="ID", help="identifiant d'un pôle (colonne « id » de poles list)")
    add_format(hist, ("csv", "xlsx"), "csv ou xlsx (défaut : extension de -o, sinon csv)")
    hist.add_argument("-o", "--output", default="-", metavar="FICHIER", help=OUTPUT_HELP)

    def run_history(args):
        write_table(args, lambda: registry.history(args.pole), ("csv", "xlsx"))

    hist.set_defaults(func=run_history)


def add_roles(sub) -> None:
    p = sub.add_parser("roles", help="Rôles des personnes connectées (mode auth) : lister, attribuer, retirer")
    rsub = p.add_subparsers(dest="roles_command", required=True, metavar="ACTION",
                            help="list, grant, revoke (ptce-geo roles ACTION -h)")

    def me() -> access.Identity:
        return access.Identity.cli(_os_user())

    ls = rsub.add_parser("list", help="Liste les rôles attribués (toute personne connectée est contributeur)")

    def run_list(args):
        rows = registry_review.roles()
        if not rows:
            print("Aucun rôle attribué : toute personne connectée est contributeur. Pour le premier administrateur : "
                  "ptce-geo roles grant EMAIL admin")
            return 0
        width = max(len(r["email"]) for r in rows)
        for r in rows:
            print(f"{r['email']:<{width}}  {r['role']:<12}  attribué par {r['granted_by']} le {r['granted_at'][:10]}")
        return 0

    ls.set_defaults(func=run_list)

    gr = rsub.add_parser("grant", help="Attribue un rôle à une adresse électronique")
    gr.add_argument("email", metavar="EMAIL", help="adresse électronique de connexion (ex. prenom.nom@exemple.gouv.fr)")
    gr.add_argument("role", metavar="ROLE", help=f"{', '.join(access.ROLES)}")

    def run_grant(args):
        role = args.role.strip().lower()
        access.check_role(role)
        before = editing.write("roles", me(), email=args.email, role=role)
        email = access.check_email(args.email)
        was = f" (auparavant : {before})" if before and before != role else ""
        print(f"{email} a maintenant le rôle « {role} »{was} : {access.ROLES[role]}.")
        return 0

    gr.set_defaults(func=run_grant)

    rv = rsub.add_parser("revoke", help="Retire le rôle d'une adresse (elle redevient contributeur)")
    rv.add_argument("email", metavar="EMAIL", help="adresse électronique de connexion")

    def run_revoke(args):
        before = editing.write("roles", me(), email=args.email, role=None)
        email = access.check_email(args.email)
        if before is None:
            print(f"{email} n'avait aucun rôle attribué : rien n'a changé.")
        else:
            print(f"Rôle « {before} » retiré à {email} : cette adresse redevient contributeur une fois connectée.")
        return 0

    rv.set_defaults(func=run_revoke)
