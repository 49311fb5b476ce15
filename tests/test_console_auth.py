"""Sign-in on a deployed stack: Cognito ID tokens from moto's cognito-idp (real RS256 JWTs, real JWKS), checked
by the console on every request; and the pure rules (expiry, working day, CSRF)."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from consolekit import Browser
from convier.aws import cognito
from convier.handlers.console import ConsoleConfig, handle
from convier.web import auth
from convier.web.auth import AuthError

PASSWORD = "Un-mot-de-passe-solide-2026!"


class Pool:
    def __init__(self, settings):
        self.idp = settings.clients.client("cognito-idp")
        self.pool_id = self.idp.create_user_pool(PoolName=f"p{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
        self.client_id = self.idp.create_user_pool_client(
            UserPoolId=self.pool_id, ClientName="console",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        for group in auth.GROUPS:
            self.idp.create_group(UserPoolId=self.pool_id, GroupName=group)
        self.config = auth.CognitoConfig(region=settings.settings.region, pool_id=self.pool_id,
                                         client_id=self.client_id,
                                         domain="https://convier-test.auth.eu-west-3.amazoncognito.com")
        self.endpoint = settings.settings.endpoint_url

    def tokens(self, email: str, groups=()) -> dict:
        self.idp.admin_create_user(UserPoolId=self.pool_id, Username=email,
                                   UserAttributes=[{"Name": "email", "Value": email}], MessageAction="SUPPRESS")
        self.idp.admin_set_user_password(UserPoolId=self.pool_id, Username=email, Password=PASSWORD, Permanent=True)
        for group in groups:
            self.idp.admin_add_user_to_group(UserPoolId=self.pool_id, Username=email, GroupName=group)
        return self.idp.admin_initiate_auth(UserPoolId=self.pool_id, ClientId=self.client_id,
                                            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
                                            )["AuthenticationResult"]

    def jwks(self) -> dict:
        return cognito.jwks(self.config, self.endpoint, refresh=True)


@pytest.fixture
def pool(settings):
    return Pool(settings)


@pytest.fixture
def stack_console(settings, pool):
    exchanged = {}
    config = ConsoleConfig(cognito=pool.config, secure=True, jwks=lambda refresh: pool.jwks(),
                           exchange=lambda code, uri, verifier: exchanged[code])
    browser = Browser(lambda event: handle(event, None, settings.settings, settings.clients, config))
    browser.exchanged = exchanged
    return browser


def test_a_pool_member_of_envoi_signs_in_through_the_hosted_page(stack_console, pool, settings):
    from convier.services import audit

    token = pool.tokens("envoi@exemple.gouv.fr", ["redaction", "envoi"])["IdToken"]
    start = stack_console.get("/console/connexion")
    assert start.status == 303 and "/oauth2/authorize?" in start.location and "code_challenge=" in start.location
    state = start.location.split("state=")[1].split("&")[0]
    stack_console.exchanged["le-code"] = token
    assert stack_console.get("/console/connexion/retour?code=le-code&state=autre").status == 303  # → sign-in again
    back = stack_console.get(f"/console/connexion/retour?code=le-code&state={state}")
    assert back.status == 303 and back.location == "/console/campagnes"
    session = next(c for c in back.cookies if c.startswith("__Host-convier-session="))
    for part in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax", f"Max-Age={auth.SESSION_SECONDS}"):
        assert part in session
    assert "Domain" not in session
    page = stack_console.get("/console/campagnes")
    assert page.status == 200 and "envoi@exemple.gouv.fr" in page.body and "rédaction et envoi" in page.body
    assert stack_console.get("/console/connexion/n-importe-quoi").status == 404  # no one-time address on AWS
    assert [e["who"] for e in audit.recent(settings.clients, settings.settings)] == ["envoi@exemple.gouv.fr"]


def _forged(token: str) -> str:
    """The same claims signed by a key that is not the pool's, under the pool's key id."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": header["kid"]})


def test_bad_tokens_get_401_and_change_nothing(stack_console, pool, settings):
    from convier.store import subscribers

    good = pool.tokens("agent@exemple.gouv.fr", ["envoi", "redaction"])
    other = Pool(settings)
    elsewhere = other.tokens("agent@exemple.gouv.fr", ["envoi"])["IdToken"]
    head, body, signature = good["IdToken"].split(".")
    tampered = ".".join((head, body, signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")))
    stack_console.jar["__Host-convier-session"] = good["IdToken"]
    csrf = stack_console.get("/console/listes").csrf()
    for bad in (tampered, _forged(good["IdToken"]), elsewhere, good["AccessToken"], "pas-un-jeton"):
        stack_console.jar["__Host-convier-session"] = bad
        assert stack_console.get("/console/campagnes").status == 303  # back to sign-in
        answer = stack_console.post("/console/listes", {"csrf": csrf, "list": "x"},
                                    files={"file": ("a.csv", b"email\na@exemple.gouv.fr\n")})
        assert answer.status == 401
    assert not subscribers.list_exists(settings.clients.dynamodb, settings.settings.table, "x")


def test_a_member_of_no_console_group_gets_403(stack_console, pool):
    stack_console.jar["__Host-convier-session"] = pool.tokens("personne@exemple.gouv.fr")["IdToken"]
    assert stack_console.get("/console/campagnes").status == 403


def test_a_redaction_member_cannot_send(stack_console, pool):
    stack_console.jar["__Host-convier-session"] = pool.tokens("redac@exemple.gouv.fr", ["redaction"])["IdToken"]
    page = stack_console.get("/console/campagnes")
    assert page.status == 200
    csrf = page.csrf()
    assert stack_console.get("/console/campagnes/x/envoi").status == 403
    assert stack_console.post("/console/campagnes/x/envoi", {"csrf": csrf, "count": "1"}).status == 403


def test_expiry_and_the_working_day_are_checked(pool):
    token = pool.tokens("agent@exemple.gouv.fr", ["envoi"])["IdToken"]
    keys = pool.jwks()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert auth.verify_cognito(token, keys, pool.config, now=claims["exp"] - 1).can_send
    with pytest.raises(AuthError) as expired:
        auth.verify_cognito(token, keys, pool.config, now=claims["exp"])
    assert expired.value.status == 401
    with pytest.raises(AuthError):  # another app client of the same pool
        auth.verify_cognito(token, keys, auth.CognitoConfig(pool.config.region, pool.pool_id, "autre-client"))


def test_local_sessions_expire_and_csrf_is_bound_to_the_session():
    key, other_key = b"k" * 32, b"o" * 32
    now = time.time()
    token = auth.issue_local(key, email="vous@exemple.gouv.fr", now=now)
    staff = auth.verify_local(token, key, now=now + 60)
    assert staff.groups == {"redaction", "envoi"}
    with pytest.raises(AuthError):
        auth.verify_local(token, key, now=now + auth.SESSION_SECONDS)
    with pytest.raises(AuthError):
        auth.verify_local(token, other_key, now=now)
    auth.check_csrf(key, staff, auth.csrf_token(key, staff))
    second = auth.verify_local(auth.issue_local(key, email="vous@exemple.gouv.fr", now=now), key, now=now)
    with pytest.raises(AuthError) as refused:
        auth.check_csrf(key, second, auth.csrf_token(key, staff))
    assert refused.value.status == 403


def test_the_function_finds_its_app_client_by_name(settings, pool):
    env = {"CONVIER_COGNITO_POOL_ID": pool.pool_id, "CONVIER_COGNITO_CLIENT_NAME": "console",
           "CONVIER_COGNITO_DOMAIN": "https://x.auth.eu-west-3.amazoncognito.com"}
    config = ConsoleConfig.from_env(settings.settings, env, clients=settings.clients)
    assert config.cognito.client_id == pool.client_id and config.secure
