"""Web function: the links of the e-mail (API Gateway HTTP API, payload v2), routed by Powertools.

Routes only: each reads the token and the form, calls one service of `services.rsvp`, renders one page.
Nothing changes on GET (mail scanners follow links). A bad token, a missing answer, a wrong method or an
oversized body gets a French page with a 4xx status; an unexpected error a French 500 page, never a traceback.
"""

from __future__ import annotations

import logging
import re
import threading

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from convier.services import rsvp
from convier.settings import Clients, Settings
from convier.web import pages
from convier.web.forms import BadRequest, form_fields

log = logging.getLogger("convier.web")
HTML = "text/html; charset=utf-8"
ROUTES = {  # path pattern → allowed methods (for 405 answers)
    re.compile(r"^/rsvp/[^/]+$"): ("GET", "POST"),
    re.compile(r"^/rsvp/[^/]+/event\.ics$"): ("GET",),
    re.compile(r"^/unsubscribe/[^/]+$"): ("GET", "POST"),
}
ONE_CLICK = "One-Click"
CALENDAR_HEADERS = {"Content-Disposition": 'attachment; filename="invitation.ics"', "Cache-Control": "no-store",
                    "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def page(status: int, body: str, **headers) -> Response:
    return Response(status_code=status, content_type=HTML, body=body,
                    headers={**pages.SECURITY_HEADERS, **headers})


def error(status: int, **headers) -> Response:
    return page(status, pages.error_page(status), **headers)


def make_app(settings: Settings, clients: Clients) -> APIGatewayHttpResolver:
    """The routes, bound to one settings object and its clients."""
    app = APIGatewayHttpResolver()

    @app.get("/rsvp/<token>")
    def rsvp_form(token: str):
        view = rsvp.answer_page(clients, settings, token)
        if view.cancelled:
            return page(200, pages.cancelled_page(view.link, view.current))
        preselect = app.current_event.get_query_string_value("answer") or ""
        return page(200, pages.rsvp_page(view.link, view.current, preselect=preselect))

    @app.post("/rsvp/<token>")
    def rsvp_answer(token: str):
        fields = form_fields(app.current_event.raw_event)
        try:
            view = rsvp.answer(clients, settings, token, fields.get("answer", ""))
        except rsvp.NotAnAnswer as exc:
            return page(400, pages.rsvp_page(exc.view.link, exc.view.current,
                                             error="Choisissez une réponse parmi celles proposées."))
        if view.cancelled:
            return page(200, pages.cancelled_page(view.link, view.current, refused=view.refused))
        return page(200, pages.rsvp_page(view.link, view.current, outcome=view.outcome))

    @app.get("/rsvp/<token>/event.ics")
    def calendar(token: str):
        return Response(status_code=200, content_type="text/calendar; charset=utf-8",
                        body=rsvp.calendar(clients, settings, token), headers=CALENDAR_HEADERS)

    @app.get("/unsubscribe/<token>")
    def unsubscribe_form(token: str):
        view = rsvp.unsubscribe_page(clients, settings, token)
        return page(200, pages.unsubscribe_page(view.link, view.state))

    @app.post("/unsubscribe/<token>")
    def unsubscribe(token: str):
        fields = form_fields(app.current_event.raw_event)
        if fields.get("List-Unsubscribe") == ONE_CLICK:
            rsvp.unsubscribe_by_link(clients, settings, token, one_click=True)
            return Response(status_code=200, content_type="text/plain; charset=utf-8",
                            body="Vous êtes désinscrit(e) de cette liste.\n", headers={"Cache-Control": "no-store"})
        try:
            view = rsvp.unsubscribe_by_link(clients, settings, token, fields.get("action", "unsubscribe"))
        except ValueError:
            raise BadRequest(400) from None
        return page(200, pages.unsubscribe_page(view.link, view.state))

    @app.exception_handler(BadRequest)
    def bad_request(exc: BadRequest):
        return error(exc.status)

    @app.exception_handler(rsvp.UnknownLink)
    def unknown_link(exc: rsvp.UnknownLink):
        return error(404)

    @app.not_found
    def not_found(exc: NotFoundError):
        path = app.current_event.path
        for pattern, methods in ROUTES.items():
            if pattern.match(path) and app.current_event.http_method not in methods:
                return error(405, Allow=", ".join(methods + (("HEAD",) if "GET" in methods else ())))
        return error(404)  # a known method on a path no route takes (a token with other characters): not found

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
    http = (event.get("requestContext") or {}).get("http") or {}
    if http.get("method") == "HEAD":  # RFC 9110: HEAD wherever GET is, same status and headers, no body
        event = {**event, "requestContext": {**event["requestContext"], "http": {**http, "method": "GET"}}}
        response = app[1].resolve(event, context)
        return {**response, "body": "", "isBase64Encoded": False}
    return app[1].resolve(event, context)


_process: tuple[Settings, Clients] | None = None


def handler(event, context):
    """Lambda entry: settings and clients made once per process from the environment."""
    global _process
    if _process is None:
        settings = Settings.from_env()
        _process = (settings, Clients(settings))
    return handle(event, context, *_process)
