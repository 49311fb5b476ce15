"""Refusals and failures as French pages: 401 (a GET goes to sign-in), 403, 404, and 500 without a traceback."""

from __future__ import annotations

import logging

from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from convier.handlers.console.kit import Kit
from convier.web import auth
from convier.web.auth import AuthError

log = logging.getLogger("convier.console")


def register(kit: Kit) -> None:
    app, base = kit.app, kit.base

    @app.exception_handler(AuthError)
    def refused(exc: AuthError):
        if exc.status == 401 and app.current_event.http_method in ("GET", "HEAD"):
            return kit.redirect(f"{base}/connexion?expiree=1" if auth.read_cookie(
                app.current_event.get("cookies"), kit.cookie) else f"{base}/connexion")
        who = None
        if exc.status == 403:
            try:
                who = kit.current()
            except AuthError:
                pass
        return kit.page("error.html.j2", who, status=exc.status, code=exc.status, reason=exc.reason)

    @app.not_found
    def not_found(exc: NotFoundError):
        return kit.page("error.html.j2", None, status=404, code=404, reason="")

    @app.exception_handler(Exception)
    def unexpected(exc: Exception):
        log.exception("console request failed: %s", type(exc).__name__)
        return kit.page("error.html.j2", None, status=500, code=500, reason="")
