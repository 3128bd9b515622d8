"""Command line: ``ptce-geo COMMAND …``, a thin layer over the package.

Each command group has its own ``add_<group>(subparsers)`` function, in a ``_cli_<topic>`` module
(``_cli_data``: boundaries, prepare, data, layer; ``_cli_poles``: poles, roles; ``_cli_coverage``:
coverage, gaps, figures, suggest, print; ``_cli_shared``: db), that registers its sub-commands and
their handler; ``_cli_parser`` holds the French argparse; handlers raise domain errors, which ``main``
prints in French on stderr with exit code 1 (an OS error that escaped them is still
printed in French, never as a traceback).

Every ``-o FILE`` follows ``export.output_format``: ``--format`` if given, else the
file's extension, else CSV; an unknown extension or one contradicting ``--format`` is
refused. ``-o -`` writes to standard output; every ``-o`` and ``--rejects`` replaces only a
regular file (a symbolic link, a device, a FIFO or a folder is refused, ``_safefile``).
An argument that is not valid UTF-8 (``--who``, ``--title``…) is refused in French; a file
name with such bytes is used as it is and shown with « � ». argparse's own texts (usage, errors, ``-h``) are French for this parser only:
``FrenchParser`` swaps argparse's gettext functions while it works and puts them back.
"""

from __future__ import annotations

import argparse
import sys

from . import settings
from ._cli_coverage import add_coverage, add_print
from ._cli_data import add_boundaries, add_data, add_layer, add_prepare
from ._cli_parser import FrenchParser
from ._cli_poles import add_poles, add_roles
from ._cli_shared import add_db
from ._errors import DataUnavailableError, PtceGeoError, os_error_fr
from ._text import bad_character, printable

__all__ = ["build_parser", "main"]

# Each command group registers its sub-commands (``_cli_<group>`` modules); a new group goes here.
_GROUPS = [add_boundaries, add_prepare, add_data, add_layer, add_poles, add_roles, add_db, add_coverage,
           add_print]


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchParser(
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
