"""The optional campaign file (YAML) that completes or overrides a post.

Every key is optional; an unknown key or a value of the wrong kind is refused
with the key's name, since a typo in `capacity` or `sender` would otherwise
ship silently to thousands of people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path

import yaml

from convier.errors import InputError
from convier.inputs.post import yaml_error

ANSWERS = ("yes", "no", "maybe")
DEFAULT_SITE_URL = "https://www.numerique.gouv.fr"
DEFAULT_SENDER = "DINUM <ne-pas-repondre@numerique.gouv.fr>"


@dataclass(frozen=True)
class EventSettings:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    place: str | None = None
    address: str | None = None
    online_url: str | None = None


@dataclass(frozen=True)
class CampaignSettings:
    subject: str | None = None
    sender: str | None = None
    reply_to: str | None = None
    public_url: str | None = None
    site_url: str = DEFAULT_SITE_URL
    event: EventSettings = field(default_factory=EventSettings)
    capacity: int | None = None
    answers: tuple[str, ...] = ANSWERS
    source: str = ""


_KEYS = {"subject", "sender", "reply_to", "public_url", "site_url", "event", "capacity", "answers"}
_EVENT_KEYS = {"start", "end", "place", "address", "online_url"}


def _fail(source: str, key: str, why: str) -> InputError:
    return InputError(f"{source} : « {key} » {why}")


def _moment(source: str, key: str, value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    try:
        return dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise _fail(source, key, f"n’est pas une date (attendu : 2023-01-24 09:00:00 +01:00), reçu {value!r}") from None


def _string(source: str, key: str, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int, float)):
        raise _fail(source, key, f"doit être un texte, reçu {type(value).__name__}")
    return str(value).strip() or None


def _url(source: str, key: str, value) -> str | None:
    url = _string(source, key, value)
    if url and not url.startswith("https://"):
        raise _fail(source, key, f"doit être une adresse https://, reçu {url!r}")
    return url.rstrip("/") if url else None


def check_mailbox(source: str, key: str, value: str | None) -> str | None:
    """A `Name <address>` or bare address; refuses line breaks (header injection)."""
    if value is None:
        return None
    if "\n" in value or "\r" in value:
        raise _fail(source, key, "ne doit pas contenir de retour à la ligne")
    name, address = parseaddr(value)
    if not address or "@" not in address:
        raise _fail(source, key, f"n’est pas une adresse électronique valable : {value!r}")
    from convier.domain.mime import ascii_address

    try:
        ascii_address(address)  # what the headers and SES will carry: an IDNA domain, an ASCII local part
    except ValueError as exc:
        raise _fail(source, key, f"{exc} ; écrivez la partie avant l’arobase sans accent") from None
    try:
        Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        raise _fail(source, key, f"n’est pas une adresse électronique valable : {value!r}") from None
    return value


def parse_campaign(text: str, source: str = "<campagne>") -> CampaignSettings:
    from convier.domain.mime import marker_line

    if line := marker_line(text):
        raise InputError(f"{source}, ligne {line} : « @@TOKEN@@ » et « @@GREETING@@ » sont réservés aux liens "
                         "personnels que convier place lui-même ; retirez-les du fichier de campagne")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(yaml_error(exc, source, first_line=1, what="YAML invalide")) from None
    if not isinstance(data, dict):
        raise InputError(f"{source} : le fichier de campagne doit être un ensemble de clés")
    return campaign_from_dict(data, source)


def campaign_from_dict(data: dict, source: str = "<campagne>") -> CampaignSettings:
    """The same checks for the keys as they come from a form (the console) as from a YAML file."""
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise InputError(f"{source} : clé inconnue « {unknown[0]} » (clés possibles : {', '.join(sorted(_KEYS))})")
    event = data.get("event") or {}
    if not isinstance(event, dict):
        raise _fail(source, "event", "doit être un ensemble de clés (start, end, place, address, online_url)")
    unknown = sorted(set(map(str, event)) - _EVENT_KEYS)
    if unknown:
        raise InputError(f"{source} : clé inconnue « event.{unknown[0]} » "
                         f"(clés possibles : {', '.join(sorted(_EVENT_KEYS))})")
    capacity = data.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1):
        raise _fail(source, "capacity", f"doit être un nombre entier positif, reçu {capacity!r}")
    answers = data.get("answers", list(ANSWERS))
    if isinstance(answers, list):
        # YAML 1.1 reads the documented `answers: [yes, no, maybe]` as [True, False, 'maybe'].
        answers = [{True: "yes", False: "no"}.get(a, a) if isinstance(a, bool) else a for a in answers]
    if not isinstance(answers, list) or not answers or any(a not in ANSWERS for a in answers):
        raise _fail(source, "answers", f"doit être une liste parmi {list(ANSWERS)}, reçu {answers!r}")
    start = _moment(source, "event.start", event.get("start"))
    end = _moment(source, "event.end", event.get("end"))
    if start and end and end < start:
        raise _fail(source, "event.end", "est antérieure à event.start")
    return CampaignSettings(
        subject=_string(source, "subject", data.get("subject")),
        sender=check_mailbox(source, "sender", _string(source, "sender", data.get("sender"))),
        reply_to=check_mailbox(source, "reply_to", _string(source, "reply_to", data.get("reply_to"))),
        public_url=_url(source, "public_url", data.get("public_url")),
        site_url=_url(source, "site_url", data.get("site_url")) or DEFAULT_SITE_URL,
        event=EventSettings(
            start=start, end=end,
            place=_string(source, "event.place", event.get("place")),
            address=_string(source, "event.address", event.get("address")),
            online_url=_url(source, "event.online_url", event.get("online_url")),
        ),
        capacity=capacity,
        answers=tuple(dict.fromkeys(answers)),
        source=source,
    )


def read_campaign(path: str | Path | None) -> CampaignSettings:
    if path is None:
        return CampaignSettings()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path} : lecture impossible ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} : le fichier n’est pas en UTF-8") from None
    return parse_campaign(text, str(path))
