"""Reading a Jekyll post (YAML front matter + markdown) into a typed `Post`.

Real posts from numerique.gouv.fr carry trailing spaces, half-filled lists,
corrupted dates and HTML inside YAML strings: everything here tolerates them
and keeps the oddities as warnings instead of failing. Only a post that cannot
be read at all (bad YAML, no title) raises `PostError`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from convier.errors import InputError


class PostError(InputError):
    """A post that cannot become an invitation; the message names the file."""


@dataclass(frozen=True)
class Image:
    src: str
    alt: str | None  # None: the post gave no alternative text


@dataclass(frozen=True)
class InfoField:
    label: str
    content: str
    link: str | None = None


@dataclass(frozen=True)
class Access:
    kind: str  # "Métro", "Bus", "RER"...
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Post:
    source: str
    title: str
    body: str  # markdown
    chapeau: str = ""  # markdown
    date: dt.datetime | None = None
    published: bool = True
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    event_start: dt.datetime | None = None
    event_end: dt.datetime | None = None
    place: str = ""
    address: str = ""
    access: tuple[Access, ...] = ()
    info_fields: tuple[InfoField, ...] = ()
    show_map: bool = True
    redirect: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)


_FRONT = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*$\r?\n?", re.S | re.M)


def _text(value) -> str:
    """A YAML scalar as clean text: None and the literal 'null' are empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value if _text(v))
    text = str(value).strip()
    return "" if text.lower() == "null" else text


def _one_line(value) -> str:
    return re.sub(r"\s+", " ", _text(value))


def _timestamp(value, key: str, warnings: list[str]) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            warnings.append(f"{key} : date illisible ({value!r}), ignorée")
            return None
    if moment.year < 1990:
        warnings.append(f"{key} : date invraisemblable ({value}), ignorée")
        return None
    return moment


def _images(value, warnings: list[str]) -> tuple[Image, ...]:
    images = []
    for item in value or ():
        if isinstance(item, str):
            item = {"image": item}
        if not isinstance(item, dict) or not _text(item.get("image")):
            continue
        alt = item.get("alternative-textuelle")
        images.append(Image(src=_text(item["image"]), alt=_one_line(alt) if alt is not None else None))
    return tuple(images)


def _access(value, warnings: list[str]) -> tuple[Access, ...]:
    found = []
    for item in value or ():
        if not isinstance(item, dict):
            continue
        lines = []
        for line in item.get("lignes") or ():
            name = _one_line(line.get("nom") if isinstance(line, dict) else line)
            if name:
                lines.append(name)
        kind = _one_line(item.get("type"))
        if kind or lines:
            found.append(Access(kind=kind, lines=tuple(lines)))
    return tuple(found)


def _info_fields(value) -> tuple[InfoField, ...]:
    fields = []
    for item in value or ():
        if not isinstance(item, dict):
            continue
        label, content, link = _one_line(item.get("intitule")), _text(item.get("contenu")), _text(item.get("lien"))
        if not (label or content or link):
            continue
        fields.append(InfoField(label=label, content=content, link=link or None))
    return tuple(fields)


def _strings(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    return tuple(s for s in (_one_line(v) for v in value) if s)


_YAML_PROBLEMS = (
    ("end of stream", "guillemet ouvert et jamais fermé"),
    ("mapping values are not allowed", "« : » inattendu ; mettez la valeur entre guillemets"),
    ("cannot start any token", "caractère interdit à cet endroit (une tabulation ? indentez avec des espaces)"),
    ("expected <block end>", "indentation incohérente"),
    ("could not find expected ':'", "« : » manquant après une clé"),
    ("found duplicate anchor", "ancre en double"),
    ("found undefined alias", "alias « * » inconnu"),
)


_KINDS = {"list": "une liste", "str": "un simple texte", "int": "un nombre", "float": "un nombre", "bool": "un booléen"}


def yaml_error(exc: yaml.YAMLError, source: str, first_line: int, what: str) -> str:
    """A YAML error in French, with the file line where the faulty construct begins.

    `first_line` is the file line of the YAML's first line (2 under a post's opening « --- »)."""
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    where = f", ligne {mark.line + first_line}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    french = next((fr for key, fr in _YAML_PROBLEMS if key in problem), "")
    return f"{source}{where} : {what} ({french + ' ; ' if french else ''}{problem})"


def parse_post(text: str, source: str = "<billet>") -> Post:
    """Parse the text of a post; `source` names it in messages."""
    if not text.strip():
        raise PostError(f"{source} : le fichier est vide")
    from convier.domain.mime import marker_line

    if line := marker_line(text):
        raise PostError(f"{source}, ligne {line} : « @@TOKEN@@ » et « @@GREETING@@ » sont réservés aux liens "
                        "personnels que convier place lui-même ; retirez-les du billet")
    match = _FRONT.match(text)
    if not match:
        if re.match(r"\A\ufeff?---[ \t]*\r?\n", text):
            raise PostError(f"{source} : en-tête YAML non fermé (la ligne « --- » qui le termine manque)")
        raise PostError(f"{source} : pas d’en-tête YAML (le billet doit commencer par une ligne « --- »)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise PostError(yaml_error(exc, source, first_line=2, what="en-tête YAML invalide")) from None
    if not isinstance(meta, dict):
        raise PostError(f"{source} : l’en-tête YAML doit être un ensemble de clés "
                        f"(title: …, date: …), pas {_KINDS.get(type(meta).__name__, type(meta).__name__)}")
    title = _one_line(meta.get("title"))
    if not title:
        raise PostError(f"{source} : le billet n’a pas de titre (clé « title » absente ou vide)")

    warnings: list[str] = []
    start = _timestamp(meta.get("event_start_date", meta.get("event_date")), "event_start_date", warnings)
    end = _timestamp(meta.get("event_end_date"), "event_end_date", warnings)
    if start and end and end < start:
        warnings.append(f"event_end_date ({end}) est antérieure au début ({start}) : fin ignorée")
        end = None
    published = meta.get("published", True)
    return Post(
        source=source,
        title=title,
        body=text[match.end():],
        chapeau=_text(meta.get("chapeau-text")),
        date=_timestamp(meta.get("date"), "date", warnings),
        published=published is not False and str(published).lower() != "false",
        categories=_strings(meta.get("categories")) or _strings(meta.get("categorie")),
        tags=_strings(meta.get("tags")),
        images=_images(meta.get("une-ou-diaporama"), warnings),
        event_start=start,
        event_end=end,
        place=_one_line(meta.get("lieu")),
        address=_text(meta.get("adresse")),
        access=_access(meta.get("acces"), warnings),
        info_fields=_info_fields(meta.get("champs_informations")),
        show_map=meta.get("afficher_la_carte", True) is not False,
        redirect=_text(meta.get("redirection") or meta.get("redirection-interne")),
        warnings=tuple(warnings),
    )


def read_post(path: str | Path) -> Post:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PostError(f"{path} : lecture impossible ({exc.strerror})") from None
    return parse_post(decode_post(raw, str(path)), str(path))


def decode_post(raw: bytes, source: str) -> str:
    """A post's bytes as text (UTF-8, with or without BOM), or the error naming the line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise PostError(f"{source}, ligne {line} : le fichier n’est pas en UTF-8 (octet {exc.start} ; "
                        "enregistrez-le en UTF-8)") from None
