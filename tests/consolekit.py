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


def invitation_with_answers(target, n: int, list_name: str = "bench") -> str:
    """A sent invitation of the seed post to `n` subscribers (capacity n/5), with a realistic mix of answers:
    20 % confirmed, 5 % waiting, 10 % maybe, 20 % no (some changed their mind, some got a freed place), the
    rest silent. Items written directly, as answers recorded before the answers' index existed (the page
    indexes and counts them once: store.answers.repair); the send counters as the send path keeps them.
    Shared by bench/console.py and the tests that the page's reads do not grow with the audience."""
    import datetime as dt
    import tempfile
    from pathlib import Path

    from convier.aws.resources import ensure_sender_identity
    from convier.domain.answers import CONFIRMED, MAYBE, NO, PROMOTED, WAITING, YES, Rsvp
    from convier.domain.ids import subscriber_id
    from convier.services import campaigns
    from convier.store import ddb, keys, records, subscribers
    from convier.store.answers import rsvp_item

    settings, clients = target
    examples = Path(__file__).resolve().parents[1] / "examples"
    dynamo, table = clients.dynamodb, settings.table
    subscribers.ensure_list(dynamo, table, list_name)
    stamp, items, sids = ddb.now_iso(), [], []
    for i in range(n):
        address = f"agent{i:05d}@exemple.gouv.fr"
        sid = subscriber_id(address, clients.keys.id_key)
        sub = subscribers.Subscriber(sid=sid, email=address, first_name=f"Agent{i}", last_name="Martin",
                                     attributes={}, status=subscribers.SUBSCRIBED, consent_source="bench",
                                     consent_at=stamp, list_name=list_name)
        items += [sub.to_item(created_at=stamp, updated_at=stamp, history=[]),
                  subscribers.membership_item(list_name, sid)]
        sids.append(sid)
    ddb.batch_write(dynamo, table, items)
    subscribers.recount(dynamo, table, list_name)  # the counts, from the items written directly
    with tempfile.TemporaryDirectory() as tmp:
        settings_file = Path(tmp) / "campagne.yaml"
        settings_file.write_text((examples / "campagne-journee-cloud.yaml").read_text(encoding="utf-8")
                                 + f"capacity: {max(1, n // 5)}\n", encoding="utf-8")
        post = str(examples / "seed-journee-cloud-2023.md")
        campaign, _ = campaigns.create_campaign(clients, settings, post_path=post, list_name=list_name,
                                                campaign_file=str(settings_file),
                                                prepare_sender=ensure_sender_identity)
    ddb.batch_write(dynamo, table, [{"PK": keys.campaign_pk(campaign.id), "SK": keys.send_sk(sid),
                                     "state": records.SENT, "sent_at": stamp} for sid in sids])
    answers, start = [], dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    for i, sid in enumerate(sids):
        kind = i % 20  # 0-3 confirmed, 4 waiting, 5-6 maybe, 7-10 no, 11-19 silent
        if kind > 10:
            continue
        answer, place = ((YES, CONFIRMED) if kind < 4 else (YES, WAITING) if kind == 4 else
                         (MAYBE, "") if kind < 7 else (NO, ""))
        history = [{"answer": answer, "at": stamp, "place": place}]
        if kind == 0 and i % 40 == 0:  # said yes, was on the waiting list, got a freed place
            history = [{"answer": YES, "at": stamp, "place": WAITING},
                       {"answer": YES, "at": stamp, "place": CONFIRMED, "note": PROMOTED}]
        elif kind == 8:  # said maybe, then no
            history = [{"answer": MAYBE, "at": stamp, "place": ""}] + history
        at = (start + dt.timedelta(seconds=i)).isoformat(timespec="milliseconds")  # one answer a second
        r = Rsvp(campaign_id=campaign.id, sid=sid, answer=answer, at=at, place=place,
                 waiting_since=at if place == WAITING else "", history=tuple(history),
                 version=len(history), promotions=sum(h.get("note") == PROMOTED for h in history))
        answers.append(rsvp_item(r))
    ddb.batch_write(dynamo, table, answers)
    records.start_sending(dynamo, table, campaign.id, n, only_from=(records.DRAFT,))
    for shard in range(records.COUNTER_SHARDS):  # as the send path counts them (bench/campaign.py does the same)
        share = n // records.COUNTER_SHARDS + (shard < n % records.COUNTER_SHARDS)
        records.add_counts(dynamo, table, campaign.id, {"sent": share}, shard=shard)
    return campaign.id
