"""Helpers for the console tests: requests through the console handler as API Gateway v2 events."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from convier.local.linkserver import from_response, to_event


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "----convier" + secrets.token_hex(8)
    out = b""
    for name, value in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    for name, (filename, content) in files.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


@dataclass
class Answer:
    status: int
    headers: dict
    body: str
    cookies: list = field(default_factory=list)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.body)
        assert found, "pas de jeton CSRF dans la page"
        return found.group(1)


class Browser:
    """Keeps the session cookie like a browser would (one cookie jar for the console)."""

    def __init__(self, call):
        self.call = call
        self.jar: dict[str, str] = {}

    def request(self, method: str, target: str, *, form: dict | None = None, files: dict | None = None) -> Answer:
        headers = [("host", "127.0.0.1:8026"), ("user-agent", "test")]
        body = b""
        if files is not None:
            body, kind = multipart(form or {}, files)
            headers.append(("content-type", kind))
        elif form is not None:
            body = urlencode(form).encode()
            headers.append(("content-type", "application/x-www-form-urlencoded"))
        if self.jar:
            headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in self.jar.items())))
        status, raw_headers, raw = from_response(self.call(to_event(method, target, headers, body, "127.0.0.1")))
        cookies = [v for k, v in raw_headers if k.lower() == "set-cookie"]
        for cookie in cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return Answer(status, {k.lower(): v for k, v in raw_headers}, raw.decode("utf-8", "replace"), cookies)

    def get(self, target: str) -> Answer:
        return self.request("GET", target)

    def post(self, target: str, form: dict | None = None, files: dict | None = None) -> Answer:
        return self.request("POST", target, form=form or {}, files=files)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def local_console(settings, email: str = "agent.test@exemple.gouv.fr", scheduler=None) -> Browser:
    """A browser on the embedded default's console (both roles once signed in), as `convier console` wires it:
    test copies into the outbox, the sender identity created; `sent` lists what the worker was asked to drain."""
    from convier.aws.resources import ensure_sender_identity
    from convier.handlers.console import ConsoleConfig, Hooks, handle
    from convier.local.outbox import sent_hook
    from convier.services.staff import open_signin

    s, c = settings
    config = ConsoleConfig(secure=False, local_email=email, scheduler=scheduler)
    sent: list[str] = []
    hooks = Hooks(after_send=sent.append, prepare_sender=ensure_sender_identity, on_sent=sent_hook(s.outbox))
    browser = Browser(lambda event: handle(event, None, s, c, config, hooks))
    browser.sent = sent
    browser.signin = lambda: f"/console/connexion/{open_signin(c, s)}"
    answer = browser.get(browser.signin())
    assert answer.status == 303, answer.body
    return browser


def as_redaction(browser: Browser, settings, email: str = "redac@exemple.gouv.fr") -> Browser:
    """The same console, for a member of `redaction` only (a session cookie of its own)."""
    from convier.web import auth

    key = auth.local_key(settings.clients.keys.link_keys[0])
    other = Browser(browser.call)
    other.jar["convier-session"] = auth.issue_local(key, email=email, groups=(auth.REDACTION,))
    return other


def drain_campaign(settings, campaign_id: str) -> None:
    """What the embedded default's worker does after a send: the queue emptied, e-mails into the outbox."""
    from convier.local.outbox import sent_hook
    from convier.local.worker import drain
    from convier.services.sending import sender_for

    s, c = settings
    drain(sender_for(s, c, on_sent=sent_hook(s.outbox)), campaign_id=campaign_id, idle_timeout=5)
