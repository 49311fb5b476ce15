"""A post plus campaign settings becomes an `Invitation`: everything the e-mail says, decided once."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from convier.domain import dates
from convier.domain.event import Event
from convier.errors import Notice
from convier.inputs.campaignfile import DEFAULT_SENDER, CampaignSettings
from convier.inputs.post import Image, InfoField, Post
from convier.render.body import render_body, render_inline

PREHEADER_LENGTH = 140


@dataclass(frozen=True)
class Invitation:
    title: str
    subject: str
    sender: str
    reply_to: str
    preheader: str
    chapeau_html: str
    body_html: str
    box_title: str
    box_html: str
    event: Event | None
    info_fields: tuple[InfoField, ...]
    images: tuple[Image, ...]
    site_url: str
    public_url: str
    capacity: int | None
    answers: tuple[str, ...]
    source: str
    unsubscribe_mailbox: str = ""
    warnings: tuple[Notice, ...] = field(default=(), compare=False)  # kind, message, line: `campaign check` shows them


def _all_day(start: dt.datetime, end: dt.datetime | None) -> bool:
    times = [dates.paris(m).time() for m in (start, end) if m]
    return all(t == dt.time(0, 0) for t in times)


def _plain(markdown: str) -> str:
    """Markdown/HTML reduced to words, for the preheader."""
    text = re.sub(r"<[^>]+>", " ", markdown)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\{:[^}]*\}|[*_`#>]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def preheader(chapeau: str, fallback: str) -> str:
    text = _plain(chapeau) or fallback
    if len(text) <= PREHEADER_LENGTH:
        return text
    return text[:PREHEADER_LENGTH].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _event(post: Post, settings: CampaignSettings, warnings: list[Notice]) -> Event | None:
    ev = settings.event
    start = ev.start or post.event_start
    end = ev.end if ev.start or ev.end else post.event_end
    inferred = ""
    all_day = False
    if start is None:
        found = dates.find_dates(post.title) or dates.find_dates(_plain(post.chapeau))
        if found:
            first, last, inferred = found
            start = dt.datetime.combine(first, dt.time(0, 0), tzinfo=dates.PARIS)
            end = dt.datetime.combine(last, dt.time(0, 0), tzinfo=dates.PARIS) if last != first else None
            all_day = True
            warnings.append(Notice("date_inferred", f"date de l’événement déduite du texte « {inferred} » : "
                                   f"{dates.date_range(first, last)}, sans horaire (précisez event.start dans le "
                                   "fichier de campagne)", post.lines.get("title")))
    else:
        all_day = _all_day(start, end)
    place = ev.place or post.place
    address = ev.address or post.address
    if start is None and not (place or address or ev.online_url):
        return None
    start_line = None if ev.start else post.lines.get("event_start_date", post.lines.get("event_date"))
    if start is None:
        warnings.append(Notice("no_date", "aucune date d’événement : ni dans le billet, ni dans le fichier de "
                                          "campagne"))
    elif end is None and not all_day:
        warnings.append(Notice("no_end", f"pas d’heure de fin : le fichier d’agenda (.ics) ne porte que le début "
                               f"({dates.clock(dates.paris(start))}), sans durée inventée ; précisez event.end dans "
                               "le fichier de campagne ou event_end_date dans le billet", start_line))
    elif end is not None and dates.paris(end).date() > dates.paris(start).date():
        span = dates.date_range(dates.paris(start).date(), dates.paris(end).date())
        warnings.append(Notice("multi_day", f"événement sur plusieurs jours ({span}) : le fichier d’agenda le montre "
                               "en journées entières, sans bloquer les agendas", start_line))
    if start is not None and not all_day and dates.paris(start).hour < 7:
        warnings.append(Notice("odd_hour", f"heure de début inhabituelle : {dates.clock(dates.paris(start))} "
                               "(heure de Paris) ; vérifiez event_start_date", start_line))
    return Event(start=start, end=end, all_day=all_day, place=place, address=address, access=post.access,
                 online_url=ev.online_url or "", inferred_from=inferred)


def build_invitation(post: Post, settings: CampaignSettings | None = None, public_url: str = "") -> Invitation:
    settings = settings or CampaignSettings()
    warnings = list(post.warnings)
    body = render_body(post.body, settings.site_url, first_line=post.body_line)
    warnings += body.warnings
    event = _event(post, settings, warnings)
    for image in post.images:
        if not image.alt:
            warnings.append(Notice("image_alt", f"image sans texte alternatif : {image.src} (elle sera décrite "
                                   "comme décorative ; ajoutez alternative-textuelle)",
                                   post.lines.get("une-ou-diaporama")))
    if not post.published:
        warnings.append(Notice("unpublished", "le billet n’est pas publié (published: false) sur le site",
                               post.lines.get("published")))
    subject = settings.subject or post.title
    return Invitation(
        title=post.title,
        subject=subject,
        sender=settings.sender or DEFAULT_SENDER,
        reply_to=settings.reply_to or "",
        preheader=preheader(post.chapeau, post.title),
        chapeau_html=render_inline(post.chapeau, settings.site_url) if post.chapeau else "",
        body_html=body.html,
        box_title=body.box_title,
        box_html=body.box_html,
        event=event,
        info_fields=post.info_fields,
        images=post.images,
        site_url=settings.site_url,
        public_url=settings.public_url or public_url,
        capacity=settings.capacity,
        answers=settings.answers,
        source=post.source,
        unsubscribe_mailbox=settings.unsubscribe_mailbox or "",
        warnings=tuple(dict.fromkeys(warnings)),
    )
