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

from convier.errors import InputError, Notice, os_error
from convier.inputs import yamltext
from convier.inputs.yamltext import yaml_error  # noqa: F401  (campaignfile and others import it from here)


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
    body_line: int = 1  # the file line where the body starts (after the closing « --- »)
    lines: dict = field(default_factory=dict, compare=False)  # front-matter key -> file line
    warnings: tuple[Notice, ...] = field(default=(), compare=False)


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


def _timestamp(value, key: str, warnings: list, where: str = "", line: int | None = None) -> dt.datetime | None:
    """A front-matter date; `where` is « fichier, ligne N » for messages. A date-shaped value that is not a real
    day (2025-02-30) is an error; other unreadable text (corrupted real posts) a warning."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            if _DATE_LIKE.match(text):
                raise PostError(f"{where} : « {key} » : date impossible « {text} » (mois de 1 à 12, jour qui existe "
                                f"dans le mois) ; écrivez par exemple {DATE_EXAMPLE}") from None
            warnings.append(Notice("date", f"{key} : date illisible ({text!r}), ignorée (attendu : {DATE_EXAMPLE})",
                                   line))
            return None
    if moment.year < 1990:
        warnings.append(Notice("date", f"{key} : date invraisemblable ({value}), ignorée", line))
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


_KINDS = {"list": "une liste", "str": "un simple texte", "int": "un nombre", "float": "un nombre", "bool": "un booléen"}

_DATE_LIKE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}")
DATE_EXAMPLE = "2026-12-02 09:30:00 +01:00"


def parse_post(text: str, source: str = "<billet>") -> Post:
    """Parse the text of a post; `source` names it in messages."""
    if not text.strip():
        raise PostError(f"{source}, ligne 1 : le fichier est vide (un billet commence par « --- », "
                        "puis title: …, puis « --- » et le texte)")
    from convier.domain.mime import marker_line

    if line := marker_line(text):
        raise PostError(f"{source}, ligne {line} : « @@TOKEN@@ » et « @@GREETING@@ » sont réservés aux liens "
                        "personnels que convier place lui-même ; retirez-les du billet")
    match = _FRONT.match(text)
    if not match:
        if re.match(r"\A\ufeff?---[ \t]*\r?\n", text):
            raise PostError(f"{source}, ligne 1 : en-tête YAML non fermé (ajoutez la ligne « --- » qui le termine)")
        raise PostError(f"{source}, ligne 1 : pas d’en-tête YAML (le billet doit commencer par une ligne « --- », "
                        "puis title: …, puis « --- »)")
    meta, lines = yamltext.load(match.group(1), source, first_line=2, what="en-tête YAML invalide",
                                 error=PostError)
    meta = {} if meta is None else meta
    if not isinstance(meta, dict):
        raise PostError(f"{source}, ligne 2 : l’en-tête YAML doit être un ensemble de clés "
                        f"(title: …, date: …), pas {_KINDS.get(type(meta).__name__, type(meta).__name__)}")

    def at(key: str) -> str:
        return f"{source}, ligne {lines.get(key, 1)}"

    title = _one_line(meta.get("title"))
    if not title:
        raise PostError(f"{at('title')} : le billet n’a pas de titre (ajoutez title: « Le titre » dans l’en-tête)")

    warnings: list[str] = []
    start_key = "event_start_date" if "event_start_date" in meta else "event_date"
    start = _timestamp(meta.get(start_key), start_key, warnings, at(start_key), lines.get(start_key))
    end = _timestamp(meta.get("event_end_date"), "event_end_date", warnings, at("event_end_date"),
                     lines.get("event_end_date"))
    if start and end and end < start:
        warnings.append(Notice("date", f"event_end_date ({end}) est antérieure au début ({start}) : fin ignorée",
                               lines.get("event_end_date")))
        end = None
    date = _timestamp(meta.get("date"), "date", warnings, at("date"), lines.get("date"))
    published = meta.get("published", True)
    return Post(
        source=source,
        title=title,
        body=text[match.end():],
        chapeau=_text(meta.get("chapeau-text")),
        date=date,
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
        body_line=text[:match.end()].count("\n") + 1,
        lines=lines,
        warnings=tuple(warnings),
    )


def read_post(path: str | Path) -> Post:
    return parse_post(read_post_text(path), str(Path(path)))


def read_post_text(path: str | Path) -> str:
    """A post file's text; a missing or non-UTF-8 file is refused here, naming it (its line for bad bytes).
    `--stack` reads it this way on the workstation and hands the text to the campaign function."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PostError(str(os_error(path, exc))) from None
    return decode_post(raw, str(path))


def decode_post(raw: bytes, source: str) -> str:
    """A post's bytes as text (UTF-8, with or without BOM), or the error naming the line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise PostError(f"{source}, ligne {line} : le fichier n’est pas en UTF-8 (octet {exc.start} ; "
                        "enregistrez-le en UTF-8)") from None
