"""The French argparse of the command line: ``FrenchParser`` (usage, help and errors in French,
only while it works), French number types, and the argument helpers every command group uses."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

from . import export

__all__ = ["FrenchParser", "positive_int", "region_code", "OUTPUT_HELP", "TABLE_FORMAT_HELP", "add_format",
           "write_table"]


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


class FrenchParser(argparse.ArgumentParser):
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


def positive_int(text: str) -> int:
    value = _int_fr(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"il faut un entier supérieur ou égal à 1, et non {text!r} (ex. 20)")
    return value


def region_code(text: str) -> str:
    """A région code as INSEE writes it: ``4`` → ``04`` (codes have two digits)."""
    code = str(text).strip()
    return code.zfill(2) if code.isdigit() and len(code) == 1 else code


OUTPUT_HELP = "fichier à écrire (défaut : sortie standard) ; sans --format, son extension donne le format"
TABLE_FORMAT_HELP = "csv, geojson, gpkg ou xlsx (défaut : extension de -o, sinon csv)"


def add_format(parser, formats=export.FORMATS, help: str = TABLE_FORMAT_HELP) -> None:
    """The ``--format`` option of a command writing a table (``write_table``)."""
    parser.add_argument("--format", default=None, choices=formats, metavar="FORMAT", help=help)


def write_table(args, load, formats=export.FORMATS, **kwargs) -> None:
    """Write the frame ``load()`` returns to ``-o`` in the format of ``--format``, else of the file's
    extension, else CSV; the format is checked first, so a refused one loads nothing."""
    fmt = export.output_format(args.format, args.output, formats)
    export.write(load(), fmt, args.output, **kwargs)
