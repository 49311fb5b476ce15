"""YAML as staff write it (a post's front matter, a campaign file): data, the line of every key, French errors.

PyYAML raises a bare `ValueError` for an impossible date (`2025-02-30`) and English messages for
syntax errors; here every problem becomes one `InputError` naming the file line, in French.
"""

from __future__ import annotations

import datetime as dt

import yaml
from yaml.constructor import ConstructorError

from convier.errors import InputError


class _Loader(yaml.SafeLoader):
    pass


def _timestamp(loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        raise ConstructorError(None, None, f"date impossible « {node.value} »", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

_PROBLEMS = (
    ("date impossible", None),  # already French
    ("end of stream", "guillemet ouvert et jamais fermé, ou texte interrompu"),
    ("mapping values are not allowed", "« : » inattendu ; mettez la valeur entre guillemets"),
    ("that cannot start any token", "caractère interdit en début de valeur (« @ », « ` », « % » ou une tabulation) ; "
                                    "mettez la valeur entre guillemets"),
    ("tab character", "tabulation à la place d’une indentation ; indentez avec des espaces"),
    ("expected <block end>", "indentation incohérente"),
    ("could not find expected ':'", "« : » manquant après une clé"),
    ("did not find expected key", "indentation incohérente ou clé manquante"),
    ("did not find expected '-'", "élément de liste mal aligné (« - »)"),
    ("expected ',' or ']'", "liste entre crochets mal fermée (« ] » manquant ?)"),
    ("expected ',' or '}'", "ensemble entre accolades mal fermé (« } » manquant ?)"),
    ("found duplicate anchor", "ancre « & » en double"),
    ("found undefined alias", "alias « * » inconnu ; mettez la valeur entre guillemets"),
    ("unknown escape character", "séquence « \\ » inconnue entre guillemets doubles ; utilisez des guillemets simples"),
    ("expected alphabetic or numeric character", "caractère inattendu après « & » ou « * » ; mettez la valeur "
                                                 "entre guillemets"),
    ("undefined tag handle", "étiquette « ! » inconnue ; mettez la valeur entre guillemets"),
    ("could not determine a constructor", "étiquette « ! » inconnue ; mettez la valeur entre guillemets"),
    ("special characters are not allowed", "caractère de contrôle invisible dans le texte ; supprimez-le"),
    ("expected a single document", "plusieurs documents (une ligne « --- » de trop)"),
    ("but found another document", "plusieurs documents (une ligne « --- » de trop)"),
    ("unhashable", "clé invalide (une liste ou un ensemble utilisé comme clé)"),
    ("chomping or indentation", "bloc « | » ou « > » mal formé"),
    ("while scanning", "syntaxe YAML incorrecte"),
)


def french_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    for key, french in _PROBLEMS:
        if key in problem:
            return french or problem
    return "syntaxe YAML incorrecte"


def _mark_line(exc) -> int | None:
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    return None if mark is None else mark.line


def yaml_error(exc: yaml.YAMLError, source: str, first_line: int, what: str) -> str:
    """A YAML error in French, with the file line where the faulty construct is.

    `first_line` is the file line of the YAML's first line (2 under a post's opening « --- »)."""
    line = _mark_line(exc)
    where = f", ligne {line + first_line}" if line is not None else f", ligne {first_line}"
    problem = french_problem(exc)
    hint = ""
    if problem.startswith("date impossible"):
        hint = " : ce jour n’existe pas ; écrivez une date réelle, par exemple 2026-12-02 09:30:00 +01:00"
    return f"{source}{where} : {what} : {problem}{hint}"


def _lines(node, first_line: int, prefix: str = "", out: dict | None = None) -> dict[str, int]:
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                name = f"{prefix}{key.value}"
                out.setdefault(name, key.start_mark.line + first_line)
                _lines(value, first_line, name + ".", out)
    return out


def load(text: str, source: str, *, first_line: int = 1, what: str = "YAML invalide",
         error: type[InputError] = InputError) -> tuple[object, dict[str, int]]:
    """(data, {dotted key: file line}); InputError in French for anything PyYAML refuses."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise error(yaml_error(exc, source, first_line, what)) from None
    except (ValueError, TypeError, OverflowError) as exc:  # anything a constructor let through
        raise error(f"{source}, ligne {first_line} : {what} : valeur illisible ({type(exc).__name__})") from None
    finally:
        loader.dispose()
    return data, (_lines(node, first_line) if node is not None else {})


def is_date(value) -> bool:
    return isinstance(value, (dt.date, dt.datetime))
