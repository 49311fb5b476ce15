"""The console's two calls to Cognito over HTTPS: the pool's public keys (JWKS) and the hosted sign-in's
code exchange. Everything else about tokens is pure (web.auth)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request

from convier.web.auth import CognitoConfig

JWKS_TTL = 3600  # seconds: Cognito rotates keys rarely; an unknown kid refetches at most once a minute
_cache: dict[str, tuple[float, dict]] = {}
_lock = threading.Lock()


def jwks_url(config: CognitoConfig, endpoint_url: str | None = None) -> str:
    """On AWS the issuer's well-known address; on moto, the same path under the endpoint."""
    base = f"{endpoint_url.rstrip('/')}/{config.pool_id}" if endpoint_url else config.issuer
    return f"{base}/.well-known/jwks.json"


def fetch_json(url: str, data: bytes | None = None, headers: dict | None = None, timeout: float = 5) -> dict:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https or the local moto)
        return json.loads(response.read())


def jwks(config: CognitoConfig, endpoint_url: str | None = None, *, refresh: bool = False, fetch=fetch_json) -> dict:
    url = jwks_url(config, endpoint_url)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(url)
        if cached and (now - cached[0] < JWKS_TTL) and not (refresh and now - cached[0] > 60):
            return cached[1]
    keys = fetch(url)
    with _lock:
        _cache[url] = (now, keys)
    return keys


def client_id_by_name(idp, pool_id: str, name: str) -> str:
    """The pool's app client of that name (the stack names it; the function cannot be told its id, see
    template.yaml)."""
    kwargs = {"UserPoolId": pool_id, "MaxResults": 60}
    while True:
        page = idp.list_user_pool_clients(**kwargs)
        for client in page.get("UserPoolClients", ()):
            if client["ClientName"] == name:
                return client["ClientId"]
        if not page.get("NextToken"):
            raise RuntimeError(f"pas de client « {name} » dans le pool {pool_id}")
        kwargs["NextToken"] = page["NextToken"]


def authorize_url(config: CognitoConfig, redirect_uri: str, state: str, challenge: str) -> str:
    query = urllib.parse.urlencode({"response_type": "code", "client_id": config.client_id,
                                    "redirect_uri": redirect_uri, "scope": "openid email profile",
                                    "state": state, "code_challenge": challenge,
                                    "code_challenge_method": "S256"})
    return f"{config.domain.rstrip('/')}/oauth2/authorize?{query}"


def exchange_code(config: CognitoConfig, code: str, redirect_uri: str, verifier: str, *, fetch=fetch_json) -> str:
    """The ID token for an authorization code (public client with PKCE: no client secret)."""
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "client_id": config.client_id,
                                   "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}).encode()
    answer = fetch(f"{config.domain.rstrip('/')}/oauth2/token", data=body,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    return answer["id_token"]
