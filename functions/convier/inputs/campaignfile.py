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

from convier.errors import InputError, os_error
from convier.inputs import yamltext

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
    unsubscribe_mailbox: str | None = None  # a mailbox someone reads: List-Unsubscribe then offers mailto:
    public_url: str | None = None
    site_url: str = DEFAULT_SITE_URL
    event: EventSettings = field(default_factory=EventSettings)
    capacity: int | None = None
    answers: tuple[str, ...] = ANSWERS  # (): a newsletter, no answer buttons and no calendar
    allow: tuple[str, ...] = ()  # blocking checks this file overrides, explicitly (domain.checks.OVERRIDABLE)
    source: str = ""


_KEYS = {"subject", "sender", "reply_to", "unsubscribe_mailbox", "public_url", "site_url", "event", "capacity",
         "answers", "allow"}
_EVENT_KEYS = {"start", "end", "place", "address", "online_url"}


class _Where:
    """« fichier, ligne N » for a key of the file (its own line, else its parent's, else line 1)."""

    def __init__(self, source: str, lines: dict[str, int] | None = None):
        self.source, self.lines = source, lines or {}

    def __call__(self, key: str) -> str:
        if not self.lines:  # a form (the console): the field name says where
            return self.source
        while key and key not in self.lines:
            key = key.rpartition(".")[0]
        return f"{self.source}, ligne {self.lines.get(key, 1)}"


def _fail(source, key: str, why: str) -> InputError:
    where = source(key) if isinstance(source, _Where) else source
    return InputError(f"{where} : « {key} » {why}")


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
        raise _fail(source, key, f"n’est pas une date possible (écrivez par exemple 2023-01-24 09:00:00 +01:00), "
                                 f"reçu {value!r}") from None


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


def _bare_address(source, key: str, value) -> str | None:
    """An address alone (it goes inside <mailto:…>)."""
    text = check_mailbox(source, key, _string(source, key, value))
    if text is None:
        return None
    name, address = parseaddr(text)
    if name or address != text.strip() or any(c in address for c in "<>?&, "):
        raise _fail(source, key, f"doit être une adresse seule (ex. desinscription@numerique.gouv.fr), reçu {text!r}")
    return address


def _allow(source: str, value) -> tuple[str, ...]:
    """`allow: [past_event, placeholder]`: the blocking checks this campaign overrides, by name."""
    from convier.domain.checks import OVERRIDABLE

    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _fail(source, "allow", f"doit être une liste parmi {sorted(OVERRIDABLE)}, reçu {value!r}")
    unknown = [v for v in value if v not in OVERRIDABLE]
    if unknown:
        raise _fail(source, "allow", f"« {unknown[0]} » ne peut pas être autorisé (possibles : "
                                     f"{', '.join(sorted(OVERRIDABLE))})")
    return tuple(dict.fromkeys(value))


def settings_record(settings: CampaignSettings) -> dict:
    """The settings as the campaign file's keys (dates in ISO), which campaign_from_dict reads back: stored
    with the campaign, so that an edit (services.updates) and the console's form start from what was given."""
    ev = settings.event
    event = {k: v.isoformat() if isinstance(v, dt.datetime) else v
             for k, v in (("start", ev.start), ("end", ev.end), ("place", ev.place), ("address", ev.address),
                          ("online_url", ev.online_url)) if v is not None}
    data = {"subject": settings.subject, "sender": settings.sender, "reply_to": settings.reply_to,
            "unsubscribe_mailbox": settings.unsubscribe_mailbox, "public_url": settings.public_url,
            "site_url": settings.site_url if settings.site_url != DEFAULT_SITE_URL else None,
            "event": event or None, "capacity": settings.capacity, "answers": list(settings.answers),
            "allow": list(settings.allow) or None}
    return {k: v for k, v in data.items() if v is not None}


def parse_campaign(text: str, source: str = "<campagne>") -> CampaignSettings:
    from convier.domain.mime import marker_line

    if line := marker_line(text):
        raise InputError(f"{source}, ligne {line} : « @@TOKEN@@ » et « @@GREETING@@ » sont réservés aux liens "
                         "personnels que convier place lui-même ; retirez-les du fichier de campagne")
    data, lines = yamltext.load(text, source, first_line=1, what="YAML invalide")
    data = {} if data is None else data
    name = source
    source = _Where(name, lines)
    if not isinstance(data, dict):
        raise InputError(f"{name}, ligne 1 : le fichier de campagne doit être un ensemble de clés (subject: …, "
                         "event: …)")
    return campaign_from_dict(data, source)


def campaign_from_dict(data: dict, source="<campagne>") -> CampaignSettings:
    """The same checks for the keys as they come from a form (the console) as from a YAML file (with lines)."""
    source = source if isinstance(source, _Where) else _Where(str(source))
    name = source.source
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise InputError(f"{source(unknown[0])} : clé inconnue « {unknown[0]} » "
                         f"(clés possibles : {', '.join(sorted(_KEYS))})")
    event = data.get("event") or {}
    if not isinstance(event, dict):
        raise _fail(source, "event", "doit être un ensemble de clés (start, end, place, address, online_url)")
    unknown = sorted(set(map(str, event)) - _EVENT_KEYS)
    if unknown:
        raise InputError(f"{source('event.' + unknown[0])} : clé inconnue « event.{unknown[0]} » "
                         f"(clés possibles : {', '.join(sorted(_EVENT_KEYS))})")
    capacity = data.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1):
        raise _fail(source, "capacity", f"doit être un nombre entier positif, reçu {capacity!r}")
    answers = data.get("answers", list(ANSWERS))
    if isinstance(answers, list):
        # YAML 1.1 reads the documented `answers: [yes, no, maybe]` as [True, False, 'maybe'].
        answers = [{True: "yes", False: "no"}.get(a, a) if isinstance(a, bool) else a for a in answers]
    if not isinstance(answers, list) or any(a not in ANSWERS for a in answers):
        raise _fail(source, "answers", f"doit être une liste parmi {list(ANSWERS)} ([] pour une lettre "
                                       f"d’information sans réponse), reçu {answers!r}")
    allow = _allow(source, data.get("allow"))
    start = _moment(source, "event.start", event.get("start"))
    end = _moment(source, "event.end", event.get("end"))
    if start and end and end < start:
        raise _fail(source, "event.end", "est antérieure à event.start")
    return CampaignSettings(
        subject=_string(source, "subject", data.get("subject")),
        sender=check_mailbox(source, "sender", _string(source, "sender", data.get("sender"))),
        reply_to=check_mailbox(source, "reply_to", _string(source, "reply_to", data.get("reply_to"))),
        unsubscribe_mailbox=_bare_address(source, "unsubscribe_mailbox", data.get("unsubscribe_mailbox")),
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
        allow=allow,
        source=name,
    )


def read_campaign(path: str | Path | None) -> CampaignSettings:
    if path is None:
        return CampaignSettings()
    return parse_campaign(read_campaign_text(path), str(Path(path)))


def read_campaign_text(path: str | Path) -> str:
    """A campaign file's text, or the French error naming it (`--stack` sends this text to the function)."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise os_error(path, exc) from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}, ligne {line} : le fichier n’est pas en UTF-8 (enregistrez-le en UTF-8)") from None
