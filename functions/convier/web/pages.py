"""The pages recipients reach from the e-mail: French, accessible, self-contained (no script, font or image
from elsewhere), rendered with Jinja2 and autoescape on, so that names and attributes are always escaped.

Links inside a page are relative to the page's own path (`/rsvp/{token}`, `/unsubscribe/{token}`), so they
work behind any domain or stage, and the token never leaves in a Referer (`no-referrer`).
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr

from convier.domain import dates, typography
from convier.domain.event import google_link, outlook_link
from convier.services.rsvp import ANSWER_FR, Link, Outcome, Rsvp

SITE_NAME = "Invitations"
_ENV = None

# Every page: nothing from elsewhere, no framing, no token in a Referer, never cached (answers change).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    # HTTPS only from the first visit on (browsers ignore it over plain http://, as on the embedded default)
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}


def environment():
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(loader=jinja2.PackageLoader("convier.templates", "pages"), autoescape=True,
                                  trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
        _ENV.filters["de"] = typography.of
        _ENV.filters["par"] = lambda name: typography.of(name, "par")
    return _ENV


def _render(name: str, **context) -> str:
    context.setdefault("site_name", SITE_NAME)
    return typography.html(environment().get_template(name).render(**context))


def french_moment(stamp: str) -> str:
    """'24 janvier 2023 à 10 h 05' in Paris time; the stamp itself when it cannot be read."""
    try:
        moment = dates.paris(dt.datetime.fromisoformat(stamp))
    except (TypeError, ValueError):
        return stamp
    return f"{dates.day_number(moment.day)} {dates.MONTHS[moment.month - 1]} {moment.year} à {moment:%H} h {moment:%M}"


def _common(link: Link) -> dict:
    campaign = link.campaign
    return {"title": campaign.title or campaign.template.subject, "event": link.event,
            "first_name": link.subscriber.first_name, "labels": ANSWER_FR,
            "answers": [a for a in campaign.answers if a in ANSWER_FR], "capacity": campaign.capacity,
            "action": link.token, "unsubscribe": f"../unsubscribe/{link.token}"}


def rsvp_page(link: Link, current: Rsvp, *, preselect: str = "", outcome: Outcome | None = None,
              error: str = "") -> str:
    """The answer form (GET), or the confirmation with the form to change it (POST)."""
    context = _common(link)
    selected = preselect if preselect in context["answers"] else current.answer
    calendar = None
    if outcome is not None and link.event.start:
        details = f"{context['title']} — {link.event.when}".strip(" —")
        calendar = {"ics": f"{link.token}/event.ics", "google": google_link(link.event, context["title"], details),
                    "outlook": outlook_link(link.event, context["title"], details)}
    return _render("rsvp.html.j2", **context, current=current, selected=selected, outcome=outcome,
                   error=error, calendar=calendar, answered_at=french_moment(current.at))


def cancelled_page(link: Link, current: Rsvp, *, refused: bool = False) -> str:
    """« Cet événement est annulé »: no answer form; `refused` when an answer was just sent (not recorded)."""
    cancelled_at = french_moment(str(link.campaign.event.get("cancelled_at") or ""))
    return _render("cancelled.html.j2", **_common(link), current=current, refused=refused,
                   has_calendar=bool(link.campaign.template.ics), cancelled_at=cancelled_at)


def unsubscribe_page(link: Link, state: str) -> str:
    """state: 'ask' (GET), 'done', 'resubscribed', 'unavailable' (bounced or complained: nothing to offer)."""
    name, address = parseaddr(link.campaign.template.sender)
    return _render("unsubscribe.html.j2", **_common(link), state=state, sender_name=name or address)


ERRORS = {
    400: ("Cette demande est incomplète", ["Il manque une information pour enregistrer votre choix.",
                                           "Revenez au lien reçu par e-mail et réessayez."]),
    404: ("Ce lien n’est pas valable", ["Il est peut-être incomplet, ou il a été modifié.",
                                        "Ouvrez à nouveau le lien tel qu’il figure dans l’e-mail reçu ; "
                                        "si cela ne fonctionne pas, répondez simplement à cet e-mail."]),
    405: ("Cette action n’est pas possible ici",
          ["Revenez au lien reçu par e-mail et utilisez les boutons de la page."]),
    413: ("Cette demande est trop volumineuse", ["Revenez au lien reçu par e-mail et réessayez."]),
    500: ("Un problème technique est survenu", ["Votre demande n’a pas pu être traitée. Réessayez dans quelques "
                                                "minutes ; rien n’a été perdu."]),
}


def error_page(status: int) -> str:
    title, lines = ERRORS.get(status, ERRORS[400])
    return _render("error.html.j2", title=title, lines=lines)
