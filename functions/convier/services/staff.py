"""Staff sign-in on the embedded default: a one-time address (random token, valid once, for 10 minutes).

The table keeps only a hash of the token and its expiry; using it deletes it (a conditional delete), so a
replayed or expired address signs nobody in. On AWS staff sign in through Cognito instead (web.auth).
"""

from __future__ import annotations

import time

from convier.store import staff
from convier.web.auth import SIGNIN_SECONDS, new_signin_token, signin_digest


def open_signin(clients, settings, *, now: float | None = None) -> str:
    token = new_signin_token()
    expires = int((time.time() if now is None else now) + SIGNIN_SECONDS)
    staff.put_signin(clients.dynamodb, settings.table, signin_digest(token), expires)
    return token


def use_signin(clients, settings, token: str, *, now: float | None = None) -> bool:
    if not token or len(token) > 100:
        return False
    return staff.take_signin(clients.dynamodb, settings.table, signin_digest(token),
                             int(time.time() if now is None else now))
