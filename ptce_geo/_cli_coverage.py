"""Commands of the analysis and the maps: ``coverage``, ``gaps``, ``figures``, ``suggest`` and ``print``."""

from __future__ import annotations

import sys

from . import coverage, export, headline
from ._cli_parser import OUTPUT_HELP, positive_int, region_code
from ._errors import PtceGeoError, UnknownChoiceError

__all__ = ["add_coverage", "say_what_is_counted", "add_print"]


def add_coverage(sub) -> None:
    """``coverage``, ``gaps`` and ``suggest``: coverage of priority territories by the poles."""
    def common(p, radius=True):
        p.add_argument("--radius-km", type=float, default=coverage.DEFAULT_RADIUS_KM, metavar="KM",
                       help=f"rayon autour de chaque pôle, en km (défaut {coverage.DEFAULT_RADIUS_KM:g})")
        p.add_argument("--no-perimeter", action="store_true", help="ignorer les périmètres déclarés des pôles")
        p.add_argument("--zoning", default="all", metavar="ZONAGE", help="zonage : " + ", ".join(coverage.ZONINGS) + " (défaut all)")
        p.add_argument("--format", default=None, choices=export.FORMATS, metavar="FORMAT",
                       help="csv (; et BOM, pour Excel), xlsx, geojson ou gpkg (défaut : extension de -o, sinon csv)")
        p.add_argument("-o", "--output", default="-", metavar="FICHIER", help=OUTPUT_HELP)

    def fmt(args):
        return export.output_format(args.format, args.output, export.FORMATS)

    def result(args):
        coverage.require_layers(args.zoning)
        res = coverage.compute(args.radius_km, use_perimeter=not args.no_perimeter, zoning=args.zoning)
        say_what_is_counted(res)
        return res

    cov = sub.add_parser("coverage", help="Couverture des territoires prioritaires par les pôles")
    cov.add_argument("--level", default="departement", metavar="NIVEAU",
                     help="commune, epci, departement, region, qpv ou territoires-industrie")
    common(cov)

    def run_cov(args):
        if args.level not in coverage.TERRITORY_LEVELS:
            raise UnknownChoiceError("Niveau", args.level, coverage.TERRITORY_LEVELS)
        coverage.write(coverage.by_territory(result(args), args.level), fmt(args), args.output, level=args.level)

    cov.set_defaults(func=run_cov)

    gap = sub.add_parser("gaps", help="Territoires prioritaires sans pôle, classés par population prioritaire")
    gap.add_argument("--level", default="commune", metavar="NIVEAU", help="commune, epci, qpv ou territoires-industrie")
    gap.add_argument("--top", type=positive_int, default=None, metavar="N", help="les N premiers seulement (N ≥ 1)")
    common(gap)
    gap.set_defaults(func=lambda a: coverage.write(coverage.gaps(result(a), a.level, top=a.top), fmt(a), a.output,
                                                   level=a.level))

    fig = sub.add_parser("figures", help="Chiffres clés par zonage, chacun dans son unité (QPV, territoires, communes)")
    common(fig)
    fig.set_defaults(func=lambda a: export.write(_figures(result(a)), export.output_format(a.format, a.output, ("csv", "xlsx")),
                                                 a.output, excel=True))

    sug = sub.add_parser("suggest", help="Où implanter K nouveaux pôles (couverture maximale, glouton)")
    sug.add_argument("--count", type=positive_int, required=True, metavar="N", help="nombre de sites à proposer (≥ 1)")
    sug.add_argument("--region", type=region_code, default=None, metavar="CODE",
                     help="code de la région où chercher les sites (ex. 84 ; 4 vaut 04)")
    sug.add_argument("--in-zoning", action="store_true", help="sites choisis parmi les communes du zonage")
    common(sug)
    sug.set_defaults(func=lambda a: coverage.write(
        coverage.suggest(result(a), a.count, region=a.region, candidates_in_zoning=a.in_zoning), fmt(a), a.output))


def say_what_is_counted(res) -> None:
    """On stderr (stdout may be the table): the registry's size and the headline of the zoning."""
    print(f"Registre : {headline.registry_sentence(res.registry)}", file=sys.stderr)
    print(f"Chiffre clé : {headline.zoning_line(res)}", file=sys.stderr)
    if res.params.get("qpv_population") == "fichier refusé":
        print(f"Attention : {res.base.districts.population_note}", file=sys.stderr)


def _figures(res):
    return headline.figures(res)


def add_print(sub) -> None:
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
        from . import printing  # matplotlib: loaded only by the commands that draw

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
                printing.choice("Format de l'atlas", args.format, {"pdf": "pdf"})
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
