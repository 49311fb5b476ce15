"""Sign-in and sign-out: Cognito's hosted page (code + PKCE) on a stack, the one-time address locally."""

from __future__ import annotations

import base64
import hashlib
import secrets

from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from convier.handlers.console.kit import Kit
from convier.services import staff as signin
from convier.web import auth
from convier.web.auth import AuthError

STATE_COOKIE = "convier-signin-state"


def register(kit: Kit) -> None:
    app, base, config = kit.app, kit.base, kit.config

    @app.get(base)
    @app.get(f"{base}/")
    def home():
        return kit.redirect(f"{base}/campagnes")

    @app.get(f"{base}/connexion")
    def signin_page():
        if config.cognito is not None and config.cognito.domain:
            state, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            from convier.aws.cognito import authorize_url

            target = authorize_url(config.cognito, callback_url(), state, challenge)
            return kit.redirect(target, [Cookie(name=STATE_COOKIE, value=f"{state}.{verifier}",
                                                path=f"{base}/connexion", secure=config.secure, http_only=True,
                                                max_age=600, same_site=SameSite.LAX_MODE)])
        return kit.page("signin.html.j2", None, status=401 if kit.query("expiree") else 200,
                        local=config.cognito is None, expired=bool(kit.query("expiree")))

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
        who = kit.verify(token)
        kit.note(who, "signin")
        return kit.redirect(f"{base}/campagnes", [kit.session_cookie(token, auth.SESSION_SECONDS),
                                                  Cookie(name=STATE_COOKIE, value="", path=f"{base}/connexion",
                                                         secure=config.secure, http_only=True, max_age=0)])

    @app.get(f"{base}/connexion/<token>")
    def signin_once(token: str):
        if config.cognito is not None or token == "retour":
            raise NotFoundError()
        if not signin.use_signin(kit.clients, kit.settings, token):
            return kit.page("signin.html.j2", None, status=401, local=True, expired=True)
        value = auth.issue_local(kit.key, email=config.local_email, name="Vous (console locale)")
        who = auth.verify_local(value, kit.key)
        kit.note(who, "signin")
        return kit.redirect(f"{base}/campagnes", [kit.session_cookie(value, auth.SESSION_SECONDS)])

    @app.post(f"{base}/deconnexion")
    def signout():
        who, _ = kit.post_form()
        kit.note(who, "signout")
        return kit.redirect(f"{base}/connexion", [kit.session_cookie("", 0)])
