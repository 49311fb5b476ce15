"""argparse in French: its own words (usage, titles, -h, errors) without gettext catalogues.

`Parser` is the parser class of every `convier` command (subparsers inherit it): `utilisation :`,
`arguments positionnels`, `affiche cette aide et quitte`, and errors translated from argparse's
English messages, printed as `convier : erreur : …` with exit code 2.
"""

from __future__ import annotations

import argparse
import re
import sys

_ERRORS = (
    (r"^the following arguments are required: (.*)$", "arguments obligatoires manquants : {0}"),
    (r"^unrecognized arguments: (.*)$", "arguments non reconnus : {0}"),
    (r"^one of the arguments (.*) is required$", "un de ces arguments est obligatoire : {0}"),
    (r"^ambiguous option: (\S+) could match (.*)$", "option ambiguë : {0} peut désigner {1}"),
    (r"^argument (.*?): invalid choice: (.*?) \(choose from (.*)\)$", "argument {0} : choix invalide : {1} "
                                                                       "(choix possibles : {2})"),
    (r"^argument (.*?): invalid int value: (.*)$", "argument {0} : nombre entier attendu, reçu {1}"),
    (r"^argument (.*?): invalid float value: (.*)$", "argument {0} : nombre attendu, reçu {1}"),
    (r"^argument (.*?): invalid (\S+) value: (.*)$", "argument {0} : valeur invalide : {2}"),
    (r"^argument (.*?): expected one argument$", "argument {0} : une valeur attendue"),
    (r"^argument (.*?): expected at least one argument$", "argument {0} : au moins une valeur attendue"),
    (r"^argument (.*?): expected at most one argument$", "argument {0} : au plus une valeur attendue"),
    (r"^argument (.*?): expected (\d+) arguments?$", "argument {0} : {1} valeurs attendues"),
    (r"^argument (.*?): ignored explicit argument (.*)$", "argument {0} : valeur en trop ignorée : {1}"),
    (r"^argument (.*?): not allowed with argument (.*)$", "argument {0} : incompatible avec l’argument {1}"),
    (r"^argument (.*?): (.*)$", "argument {0} : {1}"),
)


def french_error(message: str) -> str:
    for pattern, french in _ERRORS:
        match = re.match(pattern, message, re.S)
        if match:
            return french.format(*match.groups())
    return message


class HelpFormatter(argparse.HelpFormatter):
    def start_section(self, heading):  # « options : », with the no-break space French puts before a colon
        super().start_section(f"{heading}\u00a0" if heading else heading)

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "utilisation : " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, add_help: bool = True, formatter_class=HelpFormatter, **kwargs):
        super().__init__(*args, add_help=False, formatter_class=formatter_class, **kwargs)
        self._positionals.title = "arguments positionnels"
        self._optionals.title = "options"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="affiche cette aide et quitte")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {french_error(message)}\n")
