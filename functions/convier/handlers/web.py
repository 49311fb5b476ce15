"""Web function: the links of the e-mail (API Gateway HTTP API, payload v2), routed by Powertools.

Thin: a route reads the token and the form, calls `rsvp` (state) and `pages` (HTML), and answers.
Nothing changes on GET (mail scanners follow links). A bad token, a missing answer, a wrong method
or an oversized body gets a French page with a 4xx status; an unexpected error a French 500 page,
never a traceback. Logs name subscribers by id only.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from convier.web import pages
from convier.services import rsvp
from convier.domain.mime import calendar_file
from convier.settings import Clients, Settings

log = logging.getLogger("convier.web")
MAX_BODY = 4096  # bytes: the forms hold one short field
HTML = "text/html; charset=utf-8"
ROUTES = {  # path pattern → allowed methods (for 405 answers)
    re.compile(r"^/rsvp/[^/]+$"): ("GET", "POST"),
    re.compile(r"^/rsvp/[^/]+/event\.ics$"): ("GET",),
    re.compile(r"^/unsubscribe/[^/]+$"): ("GET", "POST"),
}
ONE_CLICK = "One-Click"


class BadRequest(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def page(status: int, body: str, **headers) -> Response:
    return Response(status_code=status, content_type=HTML, body=body,
                    headers={**pages.SECURITY_HEADERS, **headers})


def error(status: int, **headers) -> Response:
    return page(status, pages.error_page(status), **headers)


def raw_body(event: dict) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=False)
        except (ValueError, TypeError):
            raise BadRequest(400) from None
    return body.encode("utf-8", "surrogateescape")


def form_fields(event: dict) -> dict[str, str]:
    """The form's fields (urlencoded, or multipart as some mail clients send the one-click POST)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BadRequest(413)
    body = raw_body(event)
    if len(body) > MAX_BODY:
        raise BadRequest(413)
    content_type = headers.get("content-type", "application/x-www-form-urlencoded").lower()
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {headers['content-type']}\r\n\r\n".encode("latin-1", "replace") + body)
        fields = {}
        for part in message.iter_parts() if message.is_multipart() else ():
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[str(name)] = part.get_payload(decode=True).decode("utf-8", "replace").strip()
        return fields
    text = body.decode("utf-8", "replace")
    return {k: v[-1].strip() for k, v in parse_qs(text, keep_blank_values=True, max_num_fields=20).items()}


def make_app(settings: Settings, clients: Clients) -> APIGatewayHttpResolver:
    """The routes, bound to one settings object and its clients."""
    app = APIGatewayHttpResolver()
    table = settings.table

    def link_for(token: str) -> rsvp.Link:
        link = rsvp.resolve_link(clients.dynamodb, table, clients.keys.link_keys, token)
        if link is None:
            raise BadRequest(404)
        return link

    @app.get("/rsvp/<token>")
    def rsvp_form(token: str):
        link = link_for(token)
        current = rsvp.get_rsvp(clients.dynamodb, table, link.campaign.id, link.sid, with_position=True)
        preselect = app.current_event.get_query_string_value("answer") or ""
        return page(200, pages.rsvp_page(link, current, preselect=preselect))

    @app.post("/rsvp/<token>")
    def rsvp_answer(token: str):
        fields = form_fields(app.current_event.raw_event)
        link = link_for(token)
        answer = fields.get("answer", "")
        if answer not in link.campaign.answers or answer not in rsvp.ANSWERS:
            current = rsvp.get_rsvp(clients.dynamodb, table, link.campaign.id, link.sid, with_position=True)
            return page(400, pages.rsvp_page(link, current, error="Choisissez une réponse parmi celles proposées."))
        outcome = rsvp.record_answer(clients.dynamodb, table, link.campaign, link.sid, answer)
        log.info("answer of %s to %s: %s (%s)", link.sid, link.campaign.id, answer, outcome.rsvp.place or "-")
        for promoted in outcome.promoted:
            log.info("subscriber %s of %s: place from the waiting list", promoted, link.campaign.id)
        return page(200, pages.rsvp_page(link, outcome.rsvp, outcome=outcome))

    @app.get("/rsvp/<token>/event.ics")
    def calendar(token: str):
        link = link_for(token)
        if not link.campaign.template.ics:
            raise BadRequest(404)
        text = calendar_file(link.campaign.template, token)
        return Response(status_code=200, content_type="text/calendar; charset=utf-8", body=text,
                        headers={"Content-Disposition": 'attachment; filename="invitation.ics"',
                                 "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                 "X-Content-Type-Options": "nosniff"})

    @app.get("/unsubscribe/<token>")
    def unsubscribe_form(token: str):
        link = link_for(token)
        state = "ask" if link.subscriber.status == "subscribed" else (
            "done" if link.subscriber.status == "unsubscribed" else "unavailable")
        return page(200, pages.unsubscribe_page(link, state))

    @app.post("/unsubscribe/<token>")
    def unsubscribe(token: str):
        fields = form_fields(app.current_event.raw_event)
        link = link_for(token)
        dynamo = clients.dynamodb
        if fields.get("List-Unsubscribe") == ONE_CLICK:
            rsvp.unsubscribe(dynamo, table, link, reason="désinscription en un clic (RFC 8058)")
            log.info("subscriber %s unsubscribed (one-click) from %s", link.sid, link.campaign.list_name)
            return Response(status_code=200, content_type="text/plain; charset=utf-8",
                            body="Vous êtes désinscrit(e) de cette liste.\n",
                            headers={"Cache-Control": "no-store"})
        action = fields.get("action", "unsubscribe")
        if action == "resubscribe":
            if rsvp.resubscribe(dynamo, table, link):
                log.info("subscriber %s resubscribed to %s", link.sid, link.campaign.list_name)
                return page(200, pages.unsubscribe_page(link, "resubscribed"))
            status = link.subscriber.status
            return page(200, pages.unsubscribe_page(link, "resubscribed" if status == "subscribed" else "unavailable"))
        if action != "unsubscribe":
            raise BadRequest(400)
        if rsvp.unsubscribe(dynamo, table, link, reason="lien de désinscription"):
            log.info("subscriber %s unsubscribed from %s", link.sid, link.campaign.list_name)
        elif link.subscriber.status not in ("subscribed", "unsubscribed"):
            return page(200, pages.unsubscribe_page(link, "unavailable"))
        return page(200, pages.unsubscribe_page(link, "done"))

    @app.exception_handler(BadRequest)
    def bad_request(exc: BadRequest):
        return error(exc.status)

    @app.not_found
    def not_found(exc: NotFoundError):
        path = app.current_event.path
        for pattern, methods in ROUTES.items():
            if pattern.match(path):
                return error(405, Allow=", ".join(methods))
        return error(404)

    @app.exception_handler(Exception)
    def unexpected(exc: Exception):
        log.exception("web request failed: %s", type(exc).__name__)
        return error(500)

    return app


_local = threading.local()


def handle(event: dict, context, settings: Settings, clients: Clients) -> dict:
    """One request through the routes (one resolver per thread: Powertools keeps the request on it)."""
    apps = getattr(_local, "apps", None)
    if apps is None:
        apps = _local.apps = {}
    app = apps.get(id(clients))
    if app is None or app[0] is not clients:
        app = apps[id(clients)] = (clients, make_app(settings, clients))
    return app[1].resolve(event, context)


_process: tuple[Settings, Clients] | None = None


def handler(event, context):
    """Lambda entry: settings and clients made once per process from the environment."""
    global _process
    if _process is None:
        settings = Settings.from_env()
        _process = (settings, Clients(settings))
    return handle(event, context, *_process)
