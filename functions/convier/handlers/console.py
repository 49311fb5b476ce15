"""Console function: the staff console under /console/ (API Gateway HTTP API, payload v2), routed by Powertools.

Thin: each route checks who is asking (web.auth), reads the form, makes one service call, records the action
in the audit log and answers with one page (web.console). GET changes nothing, except the one-time sign-in
address, which is used up by opening it. Without a session, a page redirects to the sign-in page and a POST
gets 401; a `redaction` member gets 403 on every send route; a POST without its CSRF token gets 403.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from convier.errors import InputError
from convier.services import audit, campaigns, lists, rsvp
from convier.services import staff as signin
from convier.settings import Clients, Settings
from convier.store import records
from convier.web import auth, forms
from convier.web import console as pages
from convier.web.auth import ENVOI, AuthError, Staff

log = logging.getLogger("convier.console")
HTML = "text/html; charset=utf-8"
MAX_BODY = 5 * 1024 * 1024  # a post or a list file (Lambda takes 6 MB)
STATE_COOKIE = "convier-signin-state"
LOCAL_EMAIL = "vous@exemple.gouv.fr"
CONTROLS = {  # path word → (service call, audit action, title, what it does, refused because)
    "suspendre": ("pause", "Suspendre l’envoi", "Les e-mails pas encore partis attendront la reprise.",
                  "elle n’est pas en cours d’envoi"),
    "reprendre": ("resume", "Reprendre l’envoi", "L’envoi reprend là où il s’était arrêté, sans doublon.",
                  "elle n’est pas en pause"),
    "annuler": ("cancel", "Annuler l’envoi", "Définitif : les e-mails pas encore partis ne partiront jamais.",
                "elle est déjà terminée ou annulée"),
}


@dataclass
class ConsoleConfig:
    """How staff sign in: Cognito (a deployed stack) or, on the embedded default, a one-time address."""

    cognito: auth.CognitoConfig | None = None
    secure: bool = True  # __Host- cookie (HTTPS); False only for http://127.0.0.1
    local_email: str = LOCAL_EMAIL
    jwks: Callable[[bool], dict] | None = None  # refresh → the pool's keys
    exchange: Callable[[str, str, str], str] | None = None  # (code, redirect_uri, verifier) → ID token

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
                   exchange=lambda code, uri, verifier: cognito.exchange_code(config, code, uri, verifier))


@dataclass
class Hooks:
    """What the composition root adds: locally, a worker that drains the queue after a send or a resume."""

    after_send: Callable[[str], None] = field(default=lambda campaign_id: None)
    erasers: dict = field(default_factory=dict)  # what erasure also reaches locally (services.lists.Eraser)
    prepare_sender: Callable | None = None  # locally, the sender identity is created (cli.target.sender_preparer)
    on_sent: Callable | None = None  # locally, each test copy into the outbox (services.sending.OnSent)


class Redirect(Exception):
    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


def make_app(settings: Settings, clients: Clients, config: ConsoleConfig, hooks: Hooks | None = None
             ) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(strip_prefixes=[])
    hooks = hooks or Hooks()
    base = pages.BASE
    key = auth.local_key(clients.keys.link_keys[0])
    cookie = auth.cookie_name(config.secure)

    if config.cognito is None and not settings.endpoint_url:
        raise RuntimeError("console sans Cognito hors du mode local : CONVIER_COGNITO_POOL_ID manque")

    # --- who is asking ---------------------------------------------------------------------------

    def verify(token: str) -> Staff:
        if config.cognito is None:
            return auth.verify_local(token, key)
        try:
            return auth.verify_cognito(token, config.jwks(False), config.cognito)
        except AuthError as exc:
            if exc.reason == "clé de signature inconnue":  # the pool rotated its keys
                return auth.verify_cognito(token, config.jwks(True), config.cognito)
            raise

    def current() -> Staff:
        token = auth.read_cookie(app.current_event.get("cookies"), cookie)
        if not token:
            raise AuthError(401, "pas de session")
        return verify(token)

    def post_form(max_body: int = 64 * 1024) -> tuple[Staff, forms.Form]:
        """A POST: the session, then the form, then its CSRF token."""
        who = current()
        try:
            form = forms.parse(app.current_event.raw_event, max_body, max_fields=40)
        except forms.BadRequest as exc:
            raise AuthError(exc.status, "formulaire illisible ou trop volumineux") from None
        auth.check_csrf(key, who, form.get("csrf"))
        return who, form

    def session_cookie(value: str, max_age: int) -> Cookie:
        return Cookie(name=cookie, value=value, path="/", secure=config.secure, http_only=True, max_age=max_age,
                      same_site=SameSite.LAX_MODE)

    def page(template: str, who: Staff | None, status: int = 200, **context) -> Response:
        html = pages.render(template, staff=who, csrf=auth.csrf_token(key, who) if who else "", **context)
        return Response(status_code=status, content_type=HTML, body=html, headers=dict(pages.SECURITY_HEADERS))

    def redirect(location: str, cookies: list[Cookie] | None = None) -> Response:
        return Response(status_code=303, headers={"Location": location, "Cache-Control": "no-store"},
                        cookies=cookies or [])

    def download(name: str, text: str) -> Response:
        return Response(status_code=200, content_type="text/csv; charset=utf-8", body="\ufeff" + text,
                        headers={"Content-Disposition": f"attachment; filename=\"{name}\"",
                                 "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    def campaign_of(campaign_id: str) -> records.Campaign:
        try:
            return campaigns.require(clients, settings, campaign_id)
        except InputError:
            raise NotFoundError() from None

    def note(who: Staff, action: str, **where) -> None:
        audit.record(clients, settings, who.who, action, **where)

    # --- sign-in -------------------------------------------------------------------------------------

    @app.get(base)
    @app.get(f"{base}/")
    def home():
        return redirect(f"{base}/campagnes")

    @app.get(f"{base}/connexion")
    def signin_page():
        if config.cognito is not None and config.cognito.domain:
            state, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            from convier.aws.cognito import authorize_url

            target = authorize_url(config.cognito, callback_url(), state, challenge)
            return redirect(target, [Cookie(name=STATE_COOKIE, value=f"{state}.{verifier}", path=f"{base}/connexion",
                                            secure=config.secure, http_only=True, max_age=600,
                                            same_site=SameSite.LAX_MODE)])
        return page("signin.html.j2", None, status=401 if app.current_event.get_query_string_value("expiree") else 200,
                    local=config.cognito is None,
                    expired=bool(app.current_event.get_query_string_value("expiree")))

    def callback_url() -> str:
        headers = app.current_event.headers
        return f"https://{headers.get('host', '')}{base}/connexion/retour"

    @app.get(f"{base}/connexion/retour")
    def signin_callback():
        if config.cognito is None or config.exchange is None:
            raise NotFoundError()
        event = app.current_event
        state, _, verifier = auth.read_cookie(event.get("cookies"), STATE_COOKIE).partition(".")
        given = event.get_query_string_value("state") or ""
        code = event.get_query_string_value("code") or ""
        if not state or not code or not secrets.compare_digest(state, given):
            raise AuthError(401, "retour de connexion sans état valable")
        token = config.exchange(code, callback_url(), verifier)
        who = verify(token)
        note(who, "signin")
        return redirect(f"{base}/campagnes", [session_cookie(token, auth.SESSION_SECONDS),
                                              Cookie(name=STATE_COOKIE, value="", path=f"{base}/connexion",
                                                     secure=config.secure, http_only=True, max_age=0)])

    @app.get(f"{base}/connexion/<token>")
    def signin_once(token: str):
        if config.cognito is not None or token == "retour":
            raise NotFoundError()
        if not signin.use_signin(clients, settings, token):
            return page("signin.html.j2", None, status=401, local=True, expired=True)
        value = auth.issue_local(key, email=config.local_email, name="Vous (console locale)")
        who = auth.verify_local(value, key)
        note(who, "signin")
        return redirect(f"{base}/campagnes", [session_cookie(value, auth.SESSION_SECONDS)])

    @app.post(f"{base}/deconnexion")
    def signout():
        who, _ = post_form()
        note(who, "signout")
        return redirect(f"{base}/connexion", [session_cookie("", 0)])

    # --- static files -------------------------------------------------------------------------------

    def static(path: str) -> Response:
        found = pages.static_file(path)
        if found is None:
            raise NotFoundError()
        content, kind = found
        text = kind.startswith("text/") or kind == "image/svg+xml"
        return Response(status_code=200, content_type=kind,
                        body=content.decode("utf-8") if text else content,
                        headers={"Cache-Control": "public, max-age=31536000, immutable",
                                 "X-Content-Type-Options": "nosniff"}, compress=text)

    @app.get(f"{base}/static/<version>/<name>")
    def static_top(version: str, name: str):
        return static(name)

    @app.get(f"{base}/static/<version>/fonts/<name>")
    def static_font(version: str, name: str):
        return static(f"fonts/{name}")

    @app.get(f"{base}/static/<version>/icons/<folder>/<name>")
    def static_icon(version: str, folder: str, name: str):
        return static(f"icons/{folder}/{name}")

    # --- campaigns ------------------------------------------------------------------------------------

    @app.get(f"{base}/campagnes")
    def campaign_list():
        who = current()
        return page("campaigns.html.j2", who, section="campagnes", rows=campaigns.overview(clients, settings))

    def new_form(who: Staff, status: int = 200, error: str = "", values: dict | None = None) -> Response:
        from convier.aws.ses import sender_identities

        return page("new.html.j2", who, status=status, section="campagnes", error=error,
                    lists=lists.list_names(clients, settings), senders=sender_identities(clients, settings),
                    values=values or {"answer_yes": "1", "answer_no": "1", "answer_maybe": "1"})

    @app.get(f"{base}/campagnes/nouvelle")
    def campaign_new():
        return new_form(current())

    @app.post(f"{base}/campagnes")
    def campaign_create():
        from convier.inputs.campaignform import settings_from_form
        from convier.inputs.post import decode_post

        who, form = post_form(MAX_BODY)
        values = dict(form.fields)
        try:
            name, text = "billet.md", form.get("post_text")
            upload = form.files.get("post_file")
            if upload and upload[1]:
                name, text = upload[0] or name, decode_post(upload[1], upload[0] or name)
            if not text.strip():
                raise InputError("billet : déposez un fichier .md ou collez le texte du billet")
            campaign, _ = campaigns.create_from_text(clients, settings, post_text=text, post_name=name,
                                                     list_name=form.get("list"),
                                                     campaign_settings=settings_from_form(form.fields),
                                                     prepare_sender=hooks.prepare_sender)
        except InputError as exc:
            return new_form(who, status=400, error=str(exc), values=values)
        note(who, "create", campaign=campaign.id, list_name=campaign.list_name, detail=campaign.post)
        return redirect(f"{base}/campagnes/{quote(campaign.id)}")

    @app.get(f"{base}/campagnes/<campaign_id>")
    def campaign_preview(campaign_id: str):
        who = current()
        campaign = campaign_of(campaign_id)
        sent = app.current_event.get_query_string_value("test") or ""
        return page("preview.html.j2", who, section="campagnes", campaign=campaign, sent_to=sent,
                    text=campaigns.preview(campaign)[1])

    @app.get(f"{base}/campagnes/<campaign_id>/courriel")
    def campaign_email(campaign_id: str):
        current()
        campaign = campaign_of(campaign_id)
        return Response(status_code=200, content_type=HTML, body=campaigns.preview(campaign)[0],
                        headers=dict(pages.PREVIEW_HEADERS))

    @app.post(f"{base}/campagnes/<campaign_id>/test")
    def campaign_test(campaign_id: str):
        who, _ = post_form()
        campaign = campaign_of(campaign_id)
        campaigns.send_test(clients, settings, campaign.id, [who.email], on_sent=hooks.on_sent)
        note(who, "test", campaign=campaign.id, list_name=campaign.list_name)
        return redirect(f"{base}/campagnes/{quote(campaign.id)}?{urlencode({'test': who.email})}")

    def send_page(who: Staff, campaign: records.Campaign, status: int = 200, error: str = "") -> Response:
        from convier.services.checks import check_campaign

        audience = campaigns.audience(clients, settings, campaign.id)
        report = check_campaign(clients, settings, campaign.id)  # the same checks as `convier campaign check`
        audience["subscribed"] = report.audience.recipients  # what the send reaches (suppressions left out)
        blocking = []
        if campaign.status not in (records.DRAFT,):
            blocking.append(f"La campagne est {pages.STATUS_FR.get(campaign.status, campaign.status)} : "
                            "suivez-la depuis la page Suivi.")
        blocking += [f"{p.message} ({p.where}) — {p.fix}" for p in report.blocking]
        return page("send.html.j2", who, status=status, section="campagnes", campaign=campaign, audience=audience,
                    blocking=blocking, error=error)

    @app.get(f"{base}/campagnes/<campaign_id>/envoi")
    def campaign_check(campaign_id: str):
        who = current()
        who.require(ENVOI)
        return send_page(who, campaign_of(campaign_id))

    @app.post(f"{base}/campagnes/<campaign_id>/envoi")
    def campaign_send(campaign_id: str):
        who, form = post_form()
        who.require(ENVOI)
        campaign = campaign_of(campaign_id)
        from convier.services.checks import SendRefused

        stale = send_page(who, campaign, status=409, error="Le nombre de destinataires a changé, la campagne "
                          "n’est plus un brouillon ou un contrôle bloque : vérifiez à nouveau avant d’envoyer.")
        count = form.get("count") or ""
        if campaign.status != records.DRAFT or not count.isdigit():
            return stale
        try:  # the service checks again and refuses a blocked send or a count that is no longer the audience
            enqueued = campaigns.start_send(clients, settings, campaign.id, confirm=int(count)).enqueued
        except SendRefused:
            return stale
        note(who, "send", campaign=campaign.id, list_name=campaign.list_name, detail=f"{enqueued} destinataires")
        hooks.after_send(campaign.id)
        return redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi")

    @app.get(f"{base}/campagnes/<campaign_id>/suivi")
    def campaign_progress(campaign_id: str):
        who = current()
        campaign_of(campaign_id)
        st = campaigns.status(clients, settings, campaign_id, answers=True)
        return page("progress.html.j2", who, section="campagnes", campaign=st.campaign, st=st,
                    progress=pages.progress(st), done=app.current_event.get_query_string_value("fait") or "")

    @app.get(f"{base}/campagnes/<campaign_id>/reponses.csv")
    def campaign_answers(campaign_id: str):
        who = current()
        campaign = campaign_of(campaign_id)
        header, rows = rsvp.export_rows(clients.dynamodb, settings.table, campaign)
        note(who, "export", campaign=campaign.id, list_name=campaign.list_name, detail=f"réponses, {len(rows)} lignes")
        return download(f"reponses-{campaign.id}.csv", lists.export_text(header, rows))

    @app.get(f"{base}/campagnes/<campaign_id>/rapport.csv")
    def campaign_report(campaign_id: str):
        from convier.services.report import report

        who = current()
        campaign = campaign_of(campaign_id)
        found = report(clients, settings, campaign.id)
        note(who, "report", campaign=campaign.id, list_name=campaign.list_name, detail=f"{len(found.rows)} lignes")
        return download(f"rapport-{campaign.id}.csv", lists.export_text(found.header, found.rows))

    @app.get(f"{base}/campagnes/<campaign_id>/renvoyer")
    def retry_confirm(campaign_id: str):
        who = current()
        who.require(ENVOI)
        campaign = campaign_of(campaign_id)
        plan = campaigns.plan_retry(clients, settings, campaign.id)
        n = len(plan.failed)
        return page("confirm.html.j2", who, section="campagnes", title="Renvoyer aux échecs", campaign=campaign,
                    what=(f"{n} destinataire{'s' if n > 1 else ''} en échec recevr{'ont' if n > 1 else 'a'} de nouveau "
                          "l’invitation. Corrigez d’abord la cause (voir le rapport) ; les autres ne reçoivent rien."
                          if n else "Aucun destinataire en échec : rien à renvoyer."),
                    action=f"{base}/campagnes/{quote(campaign.id)}/renvoyer",
                    button=f"Renvoyer à {n} destinataire{'s' if n > 1 else ''}" if n else "Rien à renvoyer",
                    danger=False, back=f"{base}/campagnes/{quote(campaign.id)}/suivi", disabled=not n)

    @app.post(f"{base}/campagnes/<campaign_id>/renvoyer")
    def retry(campaign_id: str):
        who, _ = post_form()
        who.require(ENVOI)
        campaign = campaign_of(campaign_id)
        try:
            plan = campaigns.retry(clients, settings, campaign.id)
        except InputError as exc:
            return redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi?" + urlencode({"fait": str(exc)}))
        if plan.sids:
            note(who, "retry", campaign=campaign.id, list_name=campaign.list_name,
                 detail=f"{len(plan.sids)} destinataires")
            hooks.after_send(campaign.id)
        return redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi?"
                        + urlencode({"fait": f"Renvoi à {len(plan.sids)} destinataires en échec : en cours."
                                     if plan.sids else "Rien à renvoyer : aucun échec."}))

    @app.get(f"{base}/campagnes/<campaign_id>/<word>")
    def control_confirm(campaign_id: str, word: str):
        if word not in CONTROLS:
            raise NotFoundError()
        who = current()
        who.require(ENVOI)
        campaign = campaign_of(campaign_id)
        _, title, what, _ = CONTROLS[word]
        return page("confirm.html.j2", who, section="campagnes", title=title, what=what, campaign=campaign,
                    action=f"{base}/campagnes/{quote(campaign.id)}/{word}", button=title, danger=word == "annuler",
                    back=f"{base}/campagnes/{quote(campaign.id)}/suivi")

    @app.post(f"{base}/campagnes/<campaign_id>/<word>")
    def control(campaign_id: str, word: str):
        if word not in CONTROLS:
            raise NotFoundError()
        who, _ = post_form()
        who.require(ENVOI)
        campaign = campaign_of(campaign_id)
        action, title, _, refused = CONTROLS[word]
        changed = getattr(campaigns, action)(clients, settings, campaign.id)
        if changed:
            note(who, action, campaign=campaign.id, list_name=campaign.list_name)
            if action == "resume":
                hooks.after_send(campaign.id)
        return redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi?"
                        + urlencode({"fait": f"{title} : fait." if changed else f"{title} : impossible, {refused}."}))

    # --- lists ------------------------------------------------------------------------------------------

    @app.get(f"{base}/listes")
    def list_index():
        who = current()
        return page("lists.html.j2", who, section="listes", rows=lists.show_lists(clients, settings))

    def list_page(who: Staff, name: str, status: int = 200, **context) -> Response:
        try:
            summary, = lists.show_lists(clients, settings, name)
        except InputError:
            raise NotFoundError() from None
        return page("list.html.j2", who, status=status, section="listes", name=name, summary=summary, **context)

    @app.get(f"{base}/listes/<name>")
    def list_show(name: str):
        return list_page(current(), name)

    @app.post(f"{base}/listes")
    def list_import():
        from convier.inputs import listfile

        who, form = post_form(MAX_BODY)
        name = form.get("list").strip()
        upload = form.files.get("file")
        try:
            if not name:
                raise InputError("« Nom de la liste » : indiquez le nom de la liste")
            if not upload or not upload[1]:
                raise InputError("« Fichier » : choisissez un fichier CSV")
            parsed = listfile.parse(upload[1], upload[0] or "fichier.csv")
            report = lists.import_list(clients, settings, name, parsed, source=f"console, fichier {upload[0]}")
        except InputError as exc:
            return page("lists.html.j2", who, status=400, section="listes", rows=lists.show_lists(clients, settings),
                        error=str(exc), list_name=name)
        note(who, "import", list_name=name, detail=f"{upload[0]} : {report.added} ajoutés, {report.updated} mis à "
             f"jour, {report.rejected} rejetés")
        return list_page(who, name, report=report)

    @app.get(f"{base}/listes/<name>/export.csv")
    def list_export(name: str):
        who = current()
        try:
            header, rows = lists.export_list(clients, settings, name)
        except InputError:
            raise NotFoundError() from None
        note(who, "export", list_name=name, detail=f"{len(rows)} abonnés")
        return download(f"liste-{name}.csv", lists.export_text(header, rows))

    @app.get(f"{base}/abonnes")
    def subscriber_find():
        who = current()
        address = (app.current_event.get_query_string_value("adresse") or "").strip()
        found = lists.find(clients, settings, address) if address else None
        return page("subscriber.html.j2", who, section="listes", address=address, found=found)

    @app.get(f"{base}/abonnes/effacer")
    def erase_confirm():
        who = current()
        who.require(ENVOI)
        address = (app.current_event.get_query_string_value("adresse") or "").strip()
        return page("confirm.html.j2", who, section="listes", title="Effacer cet abonné partout",
                    what=f"L’adresse {address} sera effacée de toutes les listes, de tous les envois et de toutes "
                         "les réponses. C’est définitif ; le journal garde l’action, pas l’adresse.",
                    action=f"{base}/abonnes/effacer", button="Effacer définitivement", danger=True,
                    fields={"adresse": address}, back=f"{base}/abonnes?{urlencode({'adresse': address})}",
                    campaign=None)

    @app.post(f"{base}/abonnes/effacer")
    def erase():
        who, form = post_form()
        who.require(ENVOI)
        address = form.get("adresse")
        if not address:
            raise AuthError(400, "adresse manquante")
        done = lists.forget_address(clients, settings, address, hooks.erasers)
        note(who, "erase", detail=f"abonné {done.sid[:8]}… : {len(done.lists)} listes, "
             f"{len(done.campaign_records)} enregistrements de campagne")
        return page("erased.html.j2", who, section="listes", done=done)

    # --- journal ----------------------------------------------------------------------------------------

    @app.get(f"{base}/journal")
    def journal():
        who = current()
        return page("journal.html.j2", who, section="journal", entries=audit.recent(clients, settings),
                    actions=audit.ACTIONS)

    # --- errors -----------------------------------------------------------------------------------------

    @app.exception_handler(AuthError)
    def refused(exc: AuthError):
        if exc.status == 401 and app.current_event.http_method in ("GET", "HEAD"):
            return redirect(f"{base}/connexion?expiree=1" if auth.read_cookie(
                app.current_event.get("cookies"), cookie) else f"{base}/connexion")
        who = None
        if exc.status == 403:
            try:
                who = current()
            except AuthError:
                pass
        return page("error.html.j2", who, status=exc.status, code=exc.status, reason=exc.reason)

    @app.not_found
    def not_found(exc: NotFoundError):
        return page("error.html.j2", None, status=404, code=404, reason="")

    @app.exception_handler(Exception)
    def unexpected(exc: Exception):
        log.exception("console request failed: %s", type(exc).__name__)
        return page("error.html.j2", None, status=500, code=500, reason="")

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
