"""What every console page shares: who is asking, the form of a POST, the answer (page, redirect, download),
the audit note and the campaign a path names. One `Kit` per resolver, handed to each page group's `register`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from convier.errors import InputError
from convier.services import audit, campaigns
from convier.settings import Clients, Settings
from convier.store import records
from convier.web import auth, forms
from convier.web import console as pages
from convier.web.auth import AuthError, Staff

HTML = "text/html; charset=utf-8"
MAX_BODY = 5 * 1024 * 1024  # a post or a list file (Lambda takes 6 MB)
LOCAL_EMAIL = "vous@exemple.gouv.fr"


@dataclass
class ConsoleConfig:
    """How staff sign in: Cognito (a deployed stack) or, on the embedded default, a one-time address."""

    cognito: auth.CognitoConfig | None = None
    secure: bool = True  # __Host- cookie (HTTPS); False only for http://127.0.0.1
    local_email: str = LOCAL_EMAIL
    jwks: Callable[[bool], dict] | None = None  # refresh → the pool's keys
    exchange: Callable[[str, str, str], str] | None = None  # (code, redirect_uri, verifier) → ID token
    scheduler: object | None = None  # on AWS, services.schedules.AwsScheduler (EventBridge Scheduler)

    @classmethod
    def from_env(cls, settings: Settings, env: dict | None = None, clients: Clients | None = None) -> ConsoleConfig:
        env = os.environ if env is None else env
        pool, client = env.get("CONVIER_COGNITO_POOL_ID", ""), env.get("CONVIER_COGNITO_CLIENT_ID", "")
        if not pool:
            return cls(secure=False, local_email=env.get("CONVIER_CONSOLE_EMAIL") or LOCAL_EMAIL)
        from convier.aws import cognito

        if not client:  # the stack names the client: its id cannot be handed in without a cycle
            clients = clients or Clients(settings)
            client = cognito.client_id_by_name(clients.client("cognito-idp"), pool,
                                               env.get("CONVIER_COGNITO_CLIENT_NAME", "convier-console"))
        config = auth.CognitoConfig(region=settings.region, pool_id=pool, client_id=client,
                                    domain=env.get("CONVIER_COGNITO_DOMAIN", ""))
        return cls(cognito=config, secure=not env.get("CONVIER_CONSOLE_INSECURE_COOKIE"),
                   jwks=lambda refresh: cognito.jwks(config, settings.endpoint_url, refresh=refresh),
                   exchange=lambda code, uri, verifier: cognito.exchange_code(config, code, uri, verifier),
                   scheduler=aws_scheduler(env, clients or Clients(settings)))


@dataclass
class Hooks:
    """What the composition root adds: locally, a worker that drains the queue after a send or a resume."""

    after_send: Callable[[str], None] = field(default=lambda campaign_id: None)
    erasers: dict = field(default_factory=dict)  # what erasure also reaches locally (services.lists.Eraser)
    prepare_sender: Callable | None = None  # locally, the sender identity is created (cli.target.sender_preparer)
    on_sent: Callable | None = None  # locally, each test copy into the outbox (services.sending.OnSent)


def aws_scheduler(env, clients: Clients):
    """Where scheduled sends go on a stack: the schedule group, the role it invokes with, the campaign function
    (CONVIER_SCHEDULE_GROUP, CONVIER_SCHEDULER_ROLE_ARN, CONVIER_CAMPAIGN_FUNCTION_ARN); None without them."""
    group, role, target = (env.get(k, "") for k in ("CONVIER_SCHEDULE_GROUP", "CONVIER_SCHEDULER_ROLE_ARN",
                                                    "CONVIER_CAMPAIGN_FUNCTION_ARN"))
    if not (group and role and target):
        return None
    from convier.services.schedules import AwsScheduler

    return AwsScheduler(client=clients.client("scheduler"), group=group, role_arn=role, target_arn=target)


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response:
    return Response(status_code=303, headers={"Location": location, "Cache-Control": "no-store"},
                    cookies=cookies or [])


def download(name: str, text: str) -> Response:
    """A CSV for French Excel: the BOM first (the text is already `;`-separated by lists.export_text)."""
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body="\ufeff" + text,
                    headers={"Content-Disposition": f"attachment; filename=\"{name}\"",
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@dataclass
class Kit:
    app: APIGatewayHttpResolver
    settings: Settings
    clients: Clients
    config: ConsoleConfig
    hooks: Hooks
    base: str = pages.BASE
    key: bytes = field(init=False)
    cookie: str = field(init=False)

    def __post_init__(self):
        self.key = auth.local_key(self.clients.keys.link_keys[0])
        self.cookie = auth.cookie_name(self.config.secure)

    # --- who is asking ---------------------------------------------------------------------------

    def verify(self, token: str) -> Staff:
        config = self.config
        if config.cognito is None:
            return auth.verify_local(token, self.key)
        try:
            return auth.verify_cognito(token, config.jwks(False), config.cognito)
        except AuthError as exc:
            if exc.reason == "clé de signature inconnue":  # the pool rotated its keys
                return auth.verify_cognito(token, config.jwks(True), config.cognito)
            raise

    def current(self) -> Staff:
        token = auth.read_cookie(self.app.current_event.get("cookies"), self.cookie)
        if not token:
            raise AuthError(401, "pas de session")
        return self.verify(token)

    def post_form(self, max_body: int = 64 * 1024) -> tuple[Staff, forms.Form]:
        """A POST: the session, then the form, then its CSRF token."""
        who = self.current()
        try:
            form = forms.parse(self.app.current_event.raw_event, max_body, max_fields=40)
        except forms.BadRequest as exc:
            raise AuthError(exc.status, "formulaire illisible ou trop volumineux") from None
        auth.check_csrf(self.key, who, form.get("csrf"))
        return who, form

    def query(self, name: str) -> str:
        return self.app.current_event.get_query_string_value(name) or ""

    # --- answers -----------------------------------------------------------------------------------

    def session_cookie(self, value: str, max_age: int) -> Cookie:
        return Cookie(name=self.cookie, value=value, path="/", secure=self.config.secure, http_only=True,
                      max_age=max_age, same_site=SameSite.LAX_MODE)

    def page(self, template: str, who: Staff | None, status: int = 200, **context) -> Response:
        html = pages.render(template, staff=who, csrf=auth.csrf_token(self.key, who) if who else "", **context)
        return Response(status_code=status, content_type=HTML, body=html, headers=dict(pages.SECURITY_HEADERS))

    redirect = staticmethod(redirect)
    download = staticmethod(download)

    # --- what the path names, what the journal keeps -----------------------------------------------

    def campaign_of(self, campaign_id: str) -> records.Campaign:
        try:
            return campaigns.require(self.clients, self.settings, campaign_id)
        except InputError:
            raise NotFoundError() from None

    def note(self, who: Staff, action: str, **where) -> None:
        audit.record(self.clients, self.settings, who.who, action, **where)
