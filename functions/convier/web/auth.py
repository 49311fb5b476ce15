"""Who is asking, and what they may do: the console's sign-in, session and CSRF rules, as pure functions.

On AWS the session cookie holds the Cognito ID token itself; every request verifies it (RS256 signature
against the pool's JWKS, issuer, audience = the app client, expiry, `token_use` = id) and reads the groups.
The token lives at most a working day (the app client's IdTokenValidity, and `auth_time` checked here).

On the embedded default there is no Cognito: `convier console` prints a one-time sign-in address; using it
gives a session token of the same shape, signed HS256 with a key derived from the local keys, for a local
user who has both roles.

Cookies: `__Host-convier-session` (Secure, HttpOnly, SameSite=Lax, Path=/) over HTTPS. A browser refuses a
`__Host-` or Secure cookie from http://127.0.0.1, so locally the cookie is `convier-session`, HttpOnly and
SameSite=Lax, without Secure. Every POST carries a CSRF token bound to the session (HMAC of its id).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt

REDACTION, ENVOI = "redaction", "envoi"
GROUPS = (REDACTION, ENVOI)
SESSION_SECONDS = 10 * 3600  # a working day
SIGNIN_SECONDS = 10 * 60  # a one-time sign-in address
COOKIE_SECURE = "__Host-convier-session"
COOKIE_LOCAL = "convier-session"
LOCAL_ISSUER = "convier-local"
LOCAL_AUDIENCE = "convier-console"


class AuthError(Exception):
    """401: no valid session (sign in again). 403: signed in, but not allowed."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Staff:
    sub: str
    email: str
    name: str
    groups: frozenset[str]
    session_id: str  # the token's jti: what the CSRF token is bound to
    expires: int  # epoch seconds

    @property
    def can_send(self) -> bool:
        return ENVOI in self.groups

    @property
    def who(self) -> str:
        """How the audit log names them."""
        return self.email or self.name or self.sub

    def require(self, group: str) -> None:
        if group not in self.groups:
            raise AuthError(403, f"réservé au groupe « {group} »")


@dataclass(frozen=True)
class CognitoConfig:
    region: str
    pool_id: str
    client_id: str
    domain: str = ""  # the hosted sign-in domain (https://…auth.REGION.amazoncognito.com)

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"


def _staff(claims: dict) -> Staff:
    groups = frozenset(g for g in claims.get("cognito:groups") or () if g in GROUPS)
    if not groups:
        raise AuthError(403, "ce compte n’appartient à aucun groupe de la console (redaction, envoi)")
    return Staff(sub=str(claims["sub"]), email=str(claims.get("email") or ""),
                 name=str(claims.get("name") or claims.get("email") or claims.get("cognito:username") or ""),
                 groups=groups, session_id=str(claims.get("jti") or claims.get("origin_jti") or claims["sub"]),
                 expires=int(claims["exp"]))


def verify_cognito(token: str, jwks: dict, config: CognitoConfig, *, now: float | None = None) -> Staff:
    """A Cognito ID token → the staff member; AuthError(401) for anything not exactly right."""
    now = time.time() if now is None else now
    try:
        header = jwt.get_unverified_header(token)
        keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(jwks).keys}
        key = keys.get(header.get("kid"))
        if key is None or header.get("alg") != "RS256":
            raise AuthError(401, "clé de signature inconnue")
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=config.client_id, issuer=config.issuer,
                            options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"],
                                     "verify_exp": False, "verify_iat": False})
    except AuthError:
        raise
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise AuthError(401, f"jeton refusé ({type(exc).__name__})") from None
    if claims["exp"] <= now:  # checked here against `now` (PyJWT would read the clock)
        raise AuthError(401, "session expirée")
    if claims.get("token_use") != "id":
        raise AuthError(401, "jeton d’un autre usage que l’identification")
    if now - int(claims.get("auth_time") or claims["iat"]) > SESSION_SECONDS:
        raise AuthError(401, "session de plus d’une journée de travail")
    return _staff(claims)


def local_key(link_key: bytes) -> bytes:
    """The local session key, derived from the embedded default's link key (never the key itself)."""
    return hmac.new(link_key, b"convier-console-session", hashlib.sha256).digest()


def issue_local(key: bytes, *, email: str, name: str = "", now: float | None = None,
                groups: tuple[str, ...] = GROUPS) -> str:
    now = int(time.time() if now is None else now)
    claims = {"iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "sub": "local", "email": email, "name": name or email,
              "cognito:groups": list(groups), "token_use": "id", "iat": now, "auth_time": now,
              "exp": now + SESSION_SECONDS, "jti": secrets.token_urlsafe(12)}
    return jwt.encode(claims, key, algorithm="HS256")


def verify_local(token: str, key: bytes, *, now: float | None = None) -> Staff:
    now = time.time() if now is None else now
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], audience=LOCAL_AUDIENCE, issuer=LOCAL_ISSUER,
                            options={"require": ["exp", "iss", "aud", "sub", "token_use", "jti"],
                                     "verify_exp": False, "verify_iat": False})
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise AuthError(401, f"jeton refusé ({type(exc).__name__})") from None
    if claims["exp"] <= now:
        raise AuthError(401, "session expirée")
    if claims.get("token_use") != "id":
        raise AuthError(401, "jeton d’un autre usage que l’identification")
    return _staff(claims)


def csrf_token(key: bytes, staff: Staff) -> str:
    return hmac.new(key, b"csrf\x00" + staff.session_id.encode(), hashlib.sha256).hexdigest()


def check_csrf(key: bytes, staff: Staff, given: str) -> None:
    if not given or not hmac.compare_digest(csrf_token(key, staff), given):
        raise AuthError(403, "jeton CSRF absent ou faux : rechargez la page et recommencez")


def cookie_name(secure: bool) -> str:
    return COOKIE_SECURE if secure else COOKIE_LOCAL


def read_cookie(cookies: list[str] | None, name: str) -> str:
    for cookie in cookies or ():
        key, _, value = cookie.strip().partition("=")
        if key == name:
            return value
    return ""


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)


def signin_digest(token: str) -> str:
    """What the table keeps of a one-time sign-in token (never the token)."""
    return hashlib.sha256(b"convier-signin\x00" + token.encode()).hexdigest()
