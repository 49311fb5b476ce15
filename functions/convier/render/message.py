"""Invitation → MJML (Jinja2) → HTML (mjml-python), its text twin and its calendar: once per campaign."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr
from importlib import resources

import jinja2
from mjml import mjml2html

from convier.domain import typography
from convier.domain.event import google_link, outlook_link
from convier.domain.mime import TOKEN, MessageTemplate
from convier.domain.mime import links as recipient_links
from convier.errors import Notice
from convier.render import style
from convier.render.body import absolute_url
from convier.render.calendar import event_calendar, event_uid
from convier.render.invitation import Invitation
from convier.render.plaintext import html_to_text

LABELS = {"yes": "Je participe", "no": "Je ne participe pas", "maybe": "Peut-être"}
SIZE_LIMIT = 100 * 1024  # Gmail clips a message's HTML past about 102 KB
PREVIEW_PUBLIC_URL = "https://invitations.exemple.gouv.fr"


@dataclass(frozen=True)
class RenderedInvitation:
    mjml: str
    html: str
    text: str
    ics: str
    message: MessageTemplate
    warnings: tuple[Notice, ...]  # kind, message, line: what `render` prints and `campaign check` shows


def _environment() -> jinja2.Environment:
    folder = resources.files("convier.templates")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=lambda name: bool(name) and name.endswith(".mjml.j2"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["de"] = typography.of  # « de l’Équipe Cloud DINUM », « du Ministère »
    env.filters["par"] = lambda name: typography.of(name, "par")
    return env


_ENV: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV


def compile_mjml(source: str) -> str:
    """mjml-python, with no web fonts: State e-mails load nothing from outside."""
    return mjml2html(source, fonts={})


@dataclass(frozen=True)
class _Info:
    label: str
    content: str
    url: str | None
    url_label: str


def _info(inv: Invitation) -> list[_Info]:
    rows = []
    for field in inv.info_fields:
        url = absolute_url(field.link, inv.site_url) if field.link else None
        label = (url[len("mailto:"):] if url and url.startswith("mailto:")
                 else (field.content if not url else "En savoir plus"))
        if url and not field.content:
            label = url[len("mailto:"):] if url.startswith("mailto:") else "Lien"
        rows.append(_Info(label=field.label, content=field.content, url=url, url_label=label))
    return rows


def _images(inv: Invitation) -> list[dict]:
    out = []
    for image in inv.images:
        url = absolute_url(image.src, inv.site_url, "src")
        if url:
            out.append({"url": url, "alt": image.alt or ""})
    return out


def _tidy_text(text: str) -> str:
    """One blank line between sections, whatever the template's conditionals left."""
    text = "\n".join(line if line == "-- " else line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def calendar_uid(inv: Invitation) -> str:
    """The .ics UID of the invitation's event (stable across campaigns; see render.calendar)."""
    return event_uid(inv.source, inv.event, parseaddr(inv.sender)[1].rpartition("@")[2].lower())


_PREVIEW_DIV = re.compile(r'<div style="display:none;font-size:1px;color:#ffffff;[^"]*">')
PREHEADER_STYLE = "display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all"


def hide_preheader(html: str) -> str:
    """mj-preview hides the preheader with white 1 px text, which spam filters score as hidden text
    (SpamAssassin's HTML_FONT_LOW_CONTRAST); hidden without a colour, it is the same for readers."""
    return _PREVIEW_DIV.sub(f'<div style="{PREHEADER_STYLE}">', html, count=1)


def render_invitation(inv: Invitation, campaign_id: str = "apercu", list_id: str = "",
                      sequence: int = 0, uid: str = "") -> RenderedInvitation:
    """`uid` pins the .ics UID (an edited invitation already sent keeps its agenda entry); else calendar_uid."""
    public_url = (inv.public_url or PREVIEW_PUBLIC_URL).rstrip("/")
    links = recipient_links(public_url, TOKEN)  # the send path fills the token
    rsvp = links["rsvp"]
    details = inv.preheader
    links.update({answer: f"{rsvp}?answer={answer}" for answer in LABELS}, google="", outlook="")
    if inv.event and inv.event.start:
        links["google"] = google_link(inv.event, inv.title, details)
        links["outlook"] = outlook_link(inv.event, inv.title, details)
    sender_name, sender_address = parseaddr(inv.sender)
    context = {
        "inv": inv, "images": _images(inv), "s": style, "links": links, "labels": LABELS, "info": _info(inv),
        "sender_name": sender_name or sender_address, "reply_address": parseaddr(inv.reply_to)[1],
    }
    env = environment()
    mjml_source = env.get_template("invitation.mjml.j2").render(context)
    html = typography.html(hide_preheader(compile_mjml(mjml_source)))
    text = env.get_template("invitation.txt.j2").render(
        context, chapeau_text=html_to_text(inv.chapeau_html), body_text=html_to_text(inv.body_html),
        box_text=html_to_text(inv.box_html))
    text = typography.text(_tidy_text(text))
    ics = ""
    if inv.event and inv.event.start and inv.answers:  # `answers: []`: a newsletter, no calendar
        ics = event_calendar(inv.event, uid=uid or calendar_uid(inv), title=inv.title, description=details, url=rsvp,
                             sequence=sequence)
    warnings = list(inv.warnings)
    size = len(html.encode())
    if size > SIZE_LIMIT:
        warnings.append(Notice("size", f"HTML de {size // 1024} Ko : au-delà de 100 Ko, Gmail coupe le message"))
    if not (inv.event and inv.event.start) and inv.answers:  # a newsletter has no date to give
        warnings.append(Notice("no_calendar", "pas de date d’événement : ni fichier .ics ni liens d’agenda"))
    message = MessageTemplate.from_parts(
        campaign_id=campaign_id, sender=inv.sender, subject=inv.subject, html=html, text=text, ics=ics,
        public_url=public_url, reply_to=inv.reply_to, list_id=list_id, unsubscribe_mailbox=inv.unsubscribe_mailbox)
    return RenderedInvitation(mjml=mjml_source, html=html, text=text, ics=ics, message=message,
                              warnings=tuple(dict.fromkeys(warnings)))

