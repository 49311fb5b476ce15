"""A follow-up's e-mail, rendered once: a short markdown message, the event block, the recipient's current
answer (the ANSWER marker, filled per recipient by the send path) with links to change it, and the invitation's
own calendar file (same UID: agendas update the entry they have instead of adding a second one)."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

import jinja2

from convier.domain.event import Event, google_link, outlook_link
from convier.domain.mime import TOKEN, MessageTemplate
from convier.domain.mime import links as recipient_links
from convier.render import style
from convier.render.body import render_body
from convier.render.message import LABELS, _tidy_text, compile_mjml, environment
from convier.render.plaintext import html_to_text
from convier.store.records import CANCELLATION, Campaign


@dataclass(frozen=True)
class FollowupView:
    """What the follow-up templates read (`inv`, as the invitation's partials expect)."""

    title: str
    subject: str
    preheader: str
    heading: str
    message_html: str
    event: Event | None
    answers: tuple[str, ...]
    reply_to: str
    show_answers: bool
    cancelled: bool


@dataclass(frozen=True)
class RenderedFollowup:
    mjml: str
    html: str
    text: str
    message: MessageTemplate
    warnings: tuple[str, ...]


def fill_text(source: str, parent: Campaign, *, where: str = "message") -> str:
    """The message's placeholders (`{{ titre }}`, `{{ quand }}`, `{{ lieu }}`, `{{ adresse }}`, `{{ en_ligne }}`,
    and `{{ changements }}`: the last edit of the invitation as a markdown list, services.updates)."""
    event = Event.from_record(parent.event)
    changes = (parent.event or {}).get("changes") or ()
    values = {"titre": parent.title or parent.template.subject, "quand": event.when, "lieu": event.place,
              "adresse": " ".join(event.address.split()), "en_ligne": event.online_url,
              "changements": "\n".join(f"- {line}" for line in changes) or "- (aucun changement enregistré)"}
    try:
        return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                                  keep_trailing_newline=True).from_string(source).render(values)
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"{where}, ligne {exc.lineno} : {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise ValueError(f"{where} : {exc.message} (connus : {', '.join(sorted(values))})") from None


def render_followup(parent: Campaign, *, campaign_id: str, kind: str, subject: str, message: str,
                    ics: str | None = None, preheader: str = "") -> RenderedFollowup:
    """`message` is markdown (placeholders already filled); `ics` defaults to the invitation's calendar."""
    tpl = parent.template
    event = Event.from_record(parent.event) if parent.event else None
    body = render_body(message, "")
    cancelled = kind == CANCELLATION
    view = FollowupView(
        title=parent.title or tpl.subject, subject=subject, heading=parent.title or tpl.subject,
        preheader=preheader or " ".join(html_to_text(body.html).split())[:140], message_html=body.html,
        event=event if event and (event.start or event.place or event.address) else None,
        answers=tuple(a for a in parent.answers if a in LABELS), reply_to=tpl.reply_to,
        show_answers=not cancelled and bool(parent.answers), cancelled=cancelled)
    links = recipient_links(tpl.public_url, TOKEN)
    links.update({a: f"{links['rsvp']}?answer={a}" for a in LABELS}, google="", outlook="")
    if event and event.start and not cancelled:
        links["google"] = google_link(event, view.title, view.preheader)
        links["outlook"] = outlook_link(event, view.title, view.preheader)
    sender_name, sender_address = parseaddr(tpl.sender)
    context = {"inv": view, "s": style, "links": links, "labels": LABELS, "info": [],
               "sender_name": sender_name or sender_address, "reply_address": parseaddr(tpl.reply_to)[1],
               "has_calendar": bool(ics if ics is not None else tpl.ics) and not cancelled}
    env = environment()
    mjml_source = env.get_template("followup.mjml.j2").render(context)
    html = compile_mjml(mjml_source)
    text = _tidy_text(env.get_template("followup.txt.j2").render(context, message_text=html_to_text(body.html)))
    calendar = ics if ics is not None else tpl.to_dict()["ics"]
    rendered = MessageTemplate.from_parts(
        campaign_id=campaign_id, sender=tpl.sender, subject=subject, html=html, text=text, ics=calendar,
        public_url=tpl.public_url, reply_to=tpl.reply_to, list_id=tpl.list_id)
    return RenderedFollowup(mjml=mjml_source, html=html, text=text, message=rendered,
                            warnings=tuple(dict.fromkeys(body.warnings)))
