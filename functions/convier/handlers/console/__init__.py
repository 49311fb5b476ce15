"""Console function: the staff console under /console/ (API Gateway HTTP API, payload v2), routed by Powertools.

Thin: each route checks who is asking (web.auth), reads the form, makes one service call, records the action
in the audit log and answers with one page (web.console). GET changes nothing, except the one-time sign-in
address, which is used up by opening it. Without a session, a page redirects to the sign-in page and a POST
gets 401; a `redaction` member gets 403 on every send route; a POST without its CSRF token gets 403.

One module per page group, each with `register(kit)`; `kit` holds what they share. Powertools tries routes in
the order they were registered, so the catch-all `<campaign_id>/<word>` of `controls` comes last.
"""

from __future__ import annotations

import threading

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from convier.handlers.console import (
    answers,
    campaigns,
    controls,
    errors,
    followups,
    journal,
    lists,
    schedules,
    signin,
    static,
    updates,
)
from convier.handlers.console.kit import ConsoleConfig, Hooks, Kit
from convier.settings import Clients, Settings

__all__ = ["ConsoleConfig", "Hooks", "handle", "handler", "make_app"]

# Powertools tries routes in this order: controls' catch-all `<campaign_id>/<word>` after every other page.
GROUPS = (signin, static, campaigns, answers, followups, schedules, updates, lists, journal, controls, errors)


def make_app(settings: Settings, clients: Clients, config: ConsoleConfig, hooks: Hooks | None = None
             ) -> APIGatewayHttpResolver:
    if config.cognito is None and not settings.endpoint_url:
        raise RuntimeError("console sans Cognito hors du mode local : CONVIER_COGNITO_POOL_ID manque")
    app = APIGatewayHttpResolver(strip_prefixes=[])
    kit = Kit(app, settings, clients, config, hooks or Hooks())
    for group in GROUPS:
        group.register(kit)
    return app


_local = threading.local()


def handle(event: dict, context, settings: Settings, clients: Clients, config: ConsoleConfig,
           hooks: Hooks | None = None) -> dict:
    """One request (one resolver per thread and configuration: Powertools keeps the request on it)."""
    apps = getattr(_local, "apps", None)
    if apps is None:
        apps = _local.apps = {}
    ident = (id(clients), id(config))
    app = apps.get(ident)
    if app is None or app[0] is not clients or app[1] is not config:
        app = apps[ident] = (clients, config, make_app(settings, clients, config, hooks))
    return app[2].resolve(event, context)


_process: tuple | None = None


def handler(event, context):
    """Lambda entry: settings, clients and sign-in configuration made once per process from the environment."""
    global _process
    if _process is None:
        settings = Settings.from_env()
        clients = Clients(settings)
        _process = (settings, clients, ConsoleConfig.from_env(settings, clients=clients))
    return handle(event, context, *_process)
