"""What stands between a mistake and the inboxes: every problem of a campaign, each with where and how to fix it.

Pure rules over plain values (standard library only). Two kinds of facts feed them:
- the content (post lines, rendered text, links, the renderer's own warnings), read once when the
  campaign is created (`content_problems`), since the post file is not at hand later;
- the moment of sending (event dates against the clock, audience, SES account, other campaigns),
  read again at each check (`send_problems`).

A `bloquant` problem refuses the send; `attention` is shown and does not. Some blocking rules can be
overridden by the campaign file, explicitly (`allow: [past_event, placeholder]`): the problem then stays
in the report, as `attention`, saying that the file allows it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, replace
from urllib.parse import urlsplit

from convier.domain import dates

BLOCKING, WARNING = "bloquant", "attention"

# Blocking rules a campaign file may allow (`allow: [...]`), and what each one lets through.
OVERRIDABLE = {
    "past_event": "envoyer l’invitation d’un événement passé",
    "too_soon": "envoyer alors que l’événement commence avant la fin prévue de l’envoi",
    "placeholder": "envoyer un e-mail qui contient un texte provisoire",
    "already_sent": "envoyer le même billet à une liste qui l’a déjà reçu",
}


@dataclass(frozen=True)
class Problem:
    level: str  # BLOCKING or WARNING
    code: str  # stable name: past_event, placeholder, ...
    message: str  # what is wrong, in French
    where: str  # file and line, or the field, or the list / account
    fix: str  # how to fix it, in French
    allowed: bool = False  # a blocking rule the campaign file allows

    @property
    def blocking(self) -> bool:
        return self.level == BLOCKING

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        return cls(level=data["level"], code=data["code"], message=data["message"], where=data.get("where", ""),
                   fix=data.get("fix", ""), allowed=bool(data.get("allowed")))


def blocking(problems) -> list[Problem]:
    return [p for p in problems if p.blocking]


def apply_allow(problems, allow) -> list[Problem]:
    """Blocking problems whose code the campaign file allows become warnings that say so."""
    allow = set(allow or ())
    out = []
    for p in problems:
        if p.blocking and p.code in allow and p.code in OVERRIDABLE:
            p = replace(p, level=WARNING, allowed=True,
                        fix=f"autorisé par le fichier de campagne (allow: {p.code}) ; retirez-le pour bloquer")
        out.append(p)
    return out


def ordered(problems) -> list[Problem]:
    """Blocking first, then warnings; the same problem (code, where, message) once."""
    seen, out = set(), []
    for p in sorted(problems, key=lambda p: (not p.blocking, p.allowed)):
        key = (p.code, p.where, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


# --- numbers and words -----------------------------------------------------------------------------

def number(n: float) -> str:
    """1 234 (no-break thin space between thousands), as French typography writes it."""
    return f"{int(round(n)):,}".replace(",", "\u202f")


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{number(n)} {one if abs(n) <= 1 else (many or one + 's')}"


def duration(seconds: float) -> str:
    """ "45 s", "12 min", "2 h 05" """
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes = (seconds + 59) // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


def paris_moment(moment: dt.datetime) -> str:
    """ "mardi 24 janvier 2023 à 9 h 05" in Paris time."""
    moment = dates.paris(moment)
    return f"{dates.long_date(moment.date())} à {dates.clock(moment)}"


# --- the content: read once, when the campaign is created ---------------------------------------------

@dataclass(frozen=True)
class Source:
    """The post's lines, to say where a thing the e-mail shows comes from."""

    name: str  # file name as staff know it
    lines: tuple[str, ...]

    def find(self, pattern: re.Pattern) -> list[int]:
        return [i for i, line in enumerate(self.lines, 1) if pattern.search(line)]

    def where(self, pattern: re.Pattern, fallback: str) -> str:
        found = self.find(pattern)
        if not found:
            return fallback
        shown = ", ".join(str(n) for n in found[:5]) + (" …" if len(found) > 5 else "")
        return f"{self.name}, ligne{'s' if len(found) > 1 else ''} {shown}"


# Placeholder text an editor leaves for later. « à venir » is a placeholder when it stands for a value
# (« Programme à venir », « Lieu : à venir », « (à venir) »), not in « les événements à venir nous… ».
PLACEHOLDERS = (
    ("« lien à ajouter »", re.compile(r"lien\s+à\s+ajouter", re.I)),
    ("« à compléter »", re.compile(r"à\s+compl[ée]ter", re.I)),
    ("« à venir »", re.compile(r"(?:^|[:(\[–—-]|\*\*)[ \t]*(?:[\w’']+[ \t]+)?à[ \t]+venir[ \t]*(?:[)\].;!…*]|$)",
                               re.I | re.M)),
    ("« TBD »", re.compile(r"\bTBD\b", re.I)),
    ("« XXX »", re.compile(r"(?<![\w])XXX+(?![\w])", re.I)),
    ("« @@ »", re.compile(r"@@")),
    ("« {{ »", re.compile(r"\{\{")),
    ("« {% »", re.compile(r"\{%")),
)
# Our own markers, filled per recipient: not placeholders.
_OUR_MARKERS = re.compile(r"@@(?:TOKEN|GREETING)@@")


def placeholder_problems(email_parts: dict[str, str], source: Source) -> list[Problem]:
    """Placeholder text that reaches the e-mail (subject, text), with the post lines it comes from."""
    problems = []
    for label, pattern in PLACEHOLDERS:
        in_email = [name for name, text in email_parts.items() if pattern.search(_OUR_MARKERS.sub("", text))]
        if not in_email:
            continue
        problems.append(Problem(
            BLOCKING, "placeholder", f"texte provisoire {label} dans l’e-mail ({', '.join(in_email)})",
            source.where(pattern, f"e-mail ({', '.join(in_email)})"),
            "remplacez-le par le vrai contenu dans le billet (ou le fichier de campagne), puis recréez la campagne"))
    return problems


_SPACE = r"[ \t\u00a0\u202f]"
_TIME = re.compile(rf"(?<![\d:/.-])([01]?\d|2[0-3]){_SPACE}?(?:h|heures?)(?:{_SPACE}?([0-5]\d))?(?![\w])"
                   r"|(?<![\d:/.-])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])", re.I)
_ISO_LINE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d")
EARLIEST_HOUR = 6  # "2h de formation" is a duration, not a time of day


def times_in(text: str) -> list[dt.time]:
    found = []
    for m in _TIME.finditer(text):
        hour, minute = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if int(hour) >= EARLIEST_HOUR:
            found.append(dt.time(int(hour), int(minute or 0)))
    return found


def time_problems(start: dt.datetime | None, all_day: bool, source: Source, body_first_line: int) -> list[Problem]:
    """The event's start time against the times the post writes (« Horaires : 18h30-21h30 »)."""
    if start is None or all_day:
        return []
    begins = dates.paris(start).time().replace(second=0, microsecond=0)
    mentions = []
    for number_, line in enumerate(source.lines, 1):
        if _ISO_LINE.search(line) or (number_ < body_first_line and re.match(r"\s*(date|event_\w+)\s*:", line)):
            continue
        for moment in times_in(line):
            mentions.append((number_, moment))
    if not mentions or any(moment == begins for _, moment in mentions):
        return []
    line, written = mentions[0]
    return [Problem(
        WARNING, "time_mismatch",
        f"l’événement commence à {dates.clock(begins)} (heure de Paris), le texte écrit {dates.clock(written)}",
        f"{source.name}, ligne {line}",
        "corrigez l’heure du texte ou event_start_date (event.start dans le fichier de campagne)")]


_LINK = re.compile(r"<a\b[^>]*\bhref=\"([^\"]+)\"[^>]*>(.*?)</a>", re.S | re.I)
_SIGNUP = re.compile(r"inscri|register|registration|billet|ticket|formulaire|eventbrite|weezevent|billetweb|"
                     r"framaforms|forms\.gle|docs\.google\.com/forms|typeform|livestorm|evenium|digitick|"
                     r"helloasso|demarches-simplifiees\.fr/commencer", re.I)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def link_problems(html: str, public_url: str, source: Source, answers: bool) -> list[Problem]:
    """External sign-up links competing with the answer buttons; `http://` links."""
    problems = []
    ours = _host(public_url)
    signups = {}
    for url, label in _LINK.findall(html):
        if not url.startswith("http") or _host(url) == ours:
            continue
        text = re.sub(r"<[^>]+>", "", label).strip()
        if answers and _SIGNUP.search(url + " " + text):
            signups.setdefault(url, text)
    for url, text in signups.items():
        path = urlsplit(url).path.rstrip("/")
        pattern = re.compile(re.escape(path if len(path) > 3 else _host(url)))
        problems.append(Problem(
            WARNING, "signup_link", f"lien d’inscription externe « {text or url} » ({url}) : il fait concurrence "
                                    "aux boutons de réponse de l’e-mail",
            source.where(pattern, "e-mail"),
            "retirez ce lien du billet ou du fichier de campagne, ou envoyez sans boutons (answers: [])"))
    plain = re.compile(r"http://(?!127\.0\.0\.1|localhost)[^\s)\"'<>\]]+", re.I)
    for number_, line in enumerate(source.lines, 1):
        for url in plain.findall(line):
            problems.append(Problem(
                WARNING, "http_link", f"lien non chiffré {url} : l’e-mail le réécrit en https://",
                f"{source.name}, ligne {number_}",
                "vérifiez que l’adresse répond en https:// et écrivez-la ainsi dans le billet"))
    return problems


def sender_problems(sender: str, reply_to: str, where: str) -> list[Problem]:
    """A no-reply sender or reply-to: answers and `mailto:` unsubscribes would be lost."""
    no_reply = re.compile(r"(?:ne[-_.]?pas[-_.]?r[ée]pondre|no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply)", re.I)
    problems = []
    for field, value in (("sender", sender), ("reply_to", reply_to)):
        if value and no_reply.search(value):
            problems.append(Problem(
                WARNING, "no_reply", f"{'expéditeur' if field == 'sender' else 'adresse de réponse'} "
                                     f"« {value} » : une adresse qui ne reçoit pas les réponses",
                f"{where}, {field}",
                f"indiquez une boîte lue par l’équipe dans « {field} » du fichier de campagne"))
    return problems


# The renderer's own warnings (render.message, render.invitation), read as problems. Its detection is its
# own: each warning becomes one problem, with a code by what it says.
_RENDERER = (
    ("html_size", re.compile(r"\bHTML de\b.*Ko|100 Ko", re.I),
     "allégez le billet (images, tableaux) : Gmail coupe les e-mails de plus de 102 Ko"),
    ("image_alt", re.compile(r"texte alternatif|\balt\b", re.I),
     "ajoutez « alternative-textuelle » à l’image dans le billet"),
    ("not_published", re.compile(r"pas publié", re.I),
     "publiez le billet (published: true) avant d’inviter à le lire"),
    ("no_event", re.compile(r"pas de date d’événement|aucune date d’événement", re.I),
     "ajoutez event_start_date au billet (ou event.start au fichier de campagne), ou envoyez-le en lettre "
     "d’information (answers: [])"),
    ("inferred_date", re.compile(r"déduite du texte", re.I),
     "précisez event.start dans le fichier de campagne"),
    ("dropped", re.compile(r"retir|supprim|ignor|abandonn|perdu", re.I),
     "vérifiez l’aperçu (convier render) et réécrivez ce contenu en markdown simple"),
)
_LINE_IN = re.compile(r"\blignes?\s+(\d+)")


def renderer_problems(warnings, post_name: str, newsletter: bool) -> list[Problem]:
    problems = []
    for warning in warnings:
        text = warning if isinstance(warning, str) else warning.get("message", "")
        code, fix = "render", "vérifiez l’aperçu (convier render)"
        for name, pattern, how in _RENDERER:
            if pattern.search(text):
                code, fix = name, how
                break
        if newsletter and code in ("no_event", "inferred_date"):
            continue
        line = (warning.get("line") if isinstance(warning, dict) else None) or (
            int(m.group(1)) if (m := _LINE_IN.search(text)) else None)
        where = f"{post_name}, ligne {line}" if line else post_name
        problems.append(Problem(WARNING, code, text, where, fix))
    return problems


def event_end_problems(start: dt.datetime | None, end: dt.datetime | None, all_day: bool,
                       where: str) -> list[Problem]:
    """No end time: the event ends when it starts in every calendar given (domain.event.event_span's rule)."""
    if start is None or end is not None or all_day:
        return []
    return [Problem(
        WARNING, "no_event_end",
        f"pas d’heure de fin : les agendas des invités ne montreront que le début "
        f"({dates.hours(dates.paris(start), None)}), sans durée",
        where, "ajoutez event_end_date au billet (ou event.end au fichier de campagne)")]


def content_problems(*, source: Source, body_first_line: int, subject: str, text: str, html: str,
                     public_url: str, sender: str, reply_to: str, sender_where: str, event_start, event_end,
                     all_day: bool, event_where: str, renderer_warnings, newsletter: bool) -> list[Problem]:
    """Every content rule, once, when the campaign is created; stored with the campaign."""
    problems = placeholder_problems({"objet": subject, "texte": text}, source)
    problems += sender_problems(sender, reply_to, sender_where)
    problems += link_problems(html, public_url, source, answers=not newsletter)
    problems += renderer_problems(renderer_warnings, source.name, newsletter)
    if not newsletter:
        problems += time_problems(event_start, all_day, source, body_first_line)
        problems += event_end_problems(event_start, event_end, all_day, event_where)
    return problems


# --- the moment of sending: read again at each check -------------------------------------------------

@dataclass(frozen=True)
class Audience:
    """Who the send reaches, from the list and the send records, split by reason."""

    listed: int = 0  # subscribers in the list (one per address: imports de-duplicate)
    unsubscribed: int = 0
    bounced: int = 0
    complained: int = 0
    suppressed: int = 0  # subscribed here, suppressed everywhere (a bounce or complaint from another list)
    already: int = 0  # reachable, with a send record of this campaign already (a second send skips them)
    duplicates: int = 0  # lines merged with another of the same address at the last import

    @property
    def reachable(self) -> int:
        return self.listed - self.unsubscribed - self.bounced - self.complained - self.suppressed

    @property
    def recipients(self) -> int:
        """What this send would send."""
        return max(0, self.reachable - self.already)


@dataclass(frozen=True)
class Account:
    """What SES says of the account (GetAccount); `read` False when it could not be asked."""

    read: bool = False
    sandbox: bool = False
    max_24h: float | None = None
    sent_24h: float | None = None
    max_rate: float | None = None
    error: str = ""

    @property
    def left_24h(self) -> float | None:
        if self.max_24h is None or self.max_24h < 0:  # -1: unlimited
            return None
        return max(0.0, self.max_24h - (self.sent_24h or 0))


@dataclass(frozen=True)
class OtherCampaign:
    id: str
    status: str
    enqueued: int
    same_post: bool
    created_at: str = ""


def event_timing_problems(start, end, all_day: bool, now: dt.datetime, send_ends: dt.datetime,
                          when: str, where: str) -> list[Problem]:
    """Past, or starting before the send would end (the last invitations would arrive after it began)."""
    if start is None:
        return []
    begins = dates.paris(start)
    if all_day:
        begins = dt.datetime.combine(begins.date(), dt.time(0, 0), tzinfo=dates.PARIS)
        last = dates.paris(end or start).date() + dt.timedelta(days=1)
        finishes = dt.datetime.combine(last, dt.time(0, 0), tzinfo=dates.PARIS)
    else:
        finishes = dates.paris(end) if end else begins
    fix_date = "corrigez la date (event_start_date du billet ou event.start du fichier de campagne)"
    if finishes <= now:
        days = (dates.paris(now).date() - begins.date()).days
        ago = "aujourd’hui" if days <= 0 else f"il y a {plural(days, 'jour')}"
        return [Problem(BLOCKING, "past_event", f"l’événement est passé : {when} ({ago})", where,
                        f"{fix_date}, ou, pour l’envoyer quand même, ajoutez « allow: [past_event] » "
                        "au fichier de campagne")]
    if begins <= send_ends:
        return [Problem(BLOCKING, "too_soon",
                        f"l’événement commence {when} ({paris_moment(begins)}), avant la fin prévue de l’envoi "
                        f"({paris_moment(send_ends)})", where,
                        f"{fix_date}, envoyez plus tôt, ou ajoutez « allow: [too_soon] » au fichier de campagne")]
    return []


def cancelled_problems(cancelled_at: str, cancellation: bool, invitation: str) -> list[Problem]:
    """The event of the invitation is cancelled: nothing about it goes out but the Annulation itself."""
    if not cancelled_at or cancellation:
        return []
    return [Problem(BLOCKING, "event_cancelled", "l’événement est annulé : ce message ne peut plus partir",
                    f"invitation {invitation}", "envoyez seulement le message d’annulation (convier campaign "
                    "cancel-event l’a préparé) ; annulez celui-ci : convier campaign cancel")]


def audience_problems(audience: Audience, list_name: str) -> list[Problem]:
    if audience.reachable > 0:
        return []
    return [Problem(BLOCKING, "empty_audience",
                    f"personne à qui envoyer : {plural(audience.listed, 'abonné')} dans la liste, aucun joignable "
                    "(désinscrits, rebonds, plaintes, suppressions)",
                    f"liste « {list_name} »", f"importez des abonnés : convier lists import {list_name} FICHIER")]


def sender_identity_problems(sender: str, identity: str, verified: bool | None, detail: str = "") -> list[Problem]:
    if verified is None or verified:
        return []
    return [Problem(BLOCKING, "sender_unverified",
                    f"l’expéditeur « {sender} » n’est pas vérifié dans SES ({detail or identity})",
                    "fichier de campagne, sender",
                    f"vérifiez le domaine {identity} dans la console SES (avec DKIM), ou choisissez un expéditeur "
                    "d’un domaine vérifié")]


def sandbox_problems(account: Account, unverified: int) -> list[Problem]:
    if not (account.read and account.sandbox and unverified):
        return []
    return [Problem(BLOCKING, "sandbox_unverified",
                    f"le compte SES est en mode bac à sable et {plural(unverified, 'adresse')} de l’audience "
                    f"{'n’est pas vérifiée' if unverified == 1 else 'ne sont pas vérifiées'} : SES les refusera",
                    "compte SES", "demandez l’accès production dans la console SES (Account dashboard)")]


def quota_problems(account: Account, recipients: int) -> list[Problem]:
    left = account.left_24h
    if left is None or recipients <= left:
        return []
    return [Problem(BLOCKING, "quota_exceeded",
                    f"{plural(recipients, 'destinataire')} pour {number(left)} envois restants sur le quota SES de "
                    f"24 h ({number(account.max_24h)} par 24 h, {number(account.sent_24h or 0)} déjà envoyés)",
                    "compte SES", "attendez que le quota se libère, réduisez la liste, ou demandez un quota plus "
                    "élevé à SES (Service Quotas)")]


def already_sent_problems(others: list[OtherCampaign], list_name: str) -> list[Problem]:
    found = [o for o in others if o.same_post and o.enqueued > 0]
    if not found:
        return []
    ids = ", ".join(o.id for o in found[:3])
    return [Problem(BLOCKING, "already_sent",
                    f"ce billet est déjà parti à la liste « {list_name} » (campagne {ids})",
                    f"liste « {list_name} »",
                    "vérifiez qu’il ne s’agit pas d’un doublon ; pour un rappel, ajoutez « allow: [already_sent] » "
                    "au fichier de campagne")]


LIST_CHANGE = 1 / 3  # the list changed by more than a third since its last campaign: warn


def list_change_problems(reachable: int, last: OtherCampaign | None, list_name: str) -> list[Problem]:
    if last is None or last.enqueued <= 0:
        return []
    change = abs(reachable - last.enqueued) / last.enqueued
    if change <= LIST_CHANGE:
        return []
    return [Problem(WARNING, "list_changed",
                    f"la liste a changé de {round(change * 100)} % depuis la dernière campagne "
                    f"({last.id} : {number(last.enqueued)} destinataires, aujourd’hui {number(reachable)})",
                    f"liste « {list_name} »", "vérifiez le dernier import (convier lists show "
                                                f"{list_name}) avant d’envoyer")]


def send_problems(*, now: dt.datetime, send_ends: dt.datetime, event_start, event_end, all_day: bool,
                  event_when: str, event_where: str, newsletter: bool, audience: Audience, list_name: str,
                  sender: str, identity: str, identity_verified: bool | None, identity_detail: str,
                  account: Account, unverified: int, others: list[OtherCampaign],
                  last: OtherCampaign | None) -> list[Problem]:
    problems = [] if newsletter else event_timing_problems(event_start, event_end, all_day, now, send_ends,
                                                          event_when, event_where)
    problems += audience_problems(audience, list_name)
    problems += sender_identity_problems(sender, identity, identity_verified, identity_detail)
    problems += sandbox_problems(account, unverified)
    problems += quota_problems(account, audience.recipients)
    problems += already_sent_problems(others, list_name)
    problems += list_change_problems(audience.reachable, last, list_name)
    return problems


# --- in French, for the CLI and the console --------------------------------------------------------

def headline(problems) -> str:
    """ "Vous devez corriger 3 problèmes" / "Aucun problème bloquant" """
    n = len(blocking(problems))
    if n:
        return f"Vous devez corriger {plural(n, 'problème')} avant l’envoi"
    warnings = len(problems)
    return "Aucun problème bloquant" + (f" ({plural(warnings, 'point')} à vérifier)" if warnings else "")
