"""The per-recipient path: check, build, claim, send, mark. Exactly once, paced.

Imports only the standard library, botocore (through the clients passed in)
and light convier modules: no Jinja2, MJML or markdown at cold start.

An SQS message carries a campaign id, a list name and up to 50 subscriber
ids (never an address). For each message:
1. the campaign's status is read: paused → the message is put back with a
   delay, cancelled → dropped;
2. subscribers and suppressions are read in batches;
3. skipped recipients get a final `skipped` record (conditional writes);
4. each recipient still to do gets their message built, then is claimed
   (conditional UpdateItem) just before SES is called once, paced; the record
   then moves `claimed → sent | failed | unknown` (conditional UpdateItem,
   only while the claim is ours):
   - SES accepted: `sent` with its message id;
   - SES refused for good (MessageRejected, MailFromDomainNotVerified, any
     other 4xx): `failed` with the reason (a retry may claim it again);
   - a 5xx, a timeout or a lost connection: `unknown`, never retried by
     itself (SES may have sent it): SES events settle it, or staff do;
   - throttled (after the backoff), or out of time: the claim is released,
     the rest of the message goes back to SQS (partial batch response).
5. counters (the shard of the message) are added to every MARK_WINDOW
   transitions and at the end; when they reach the audience the lifecycle
   checks the records and writes `done`.
The SES client makes one attempt (settings.CLIENT_CONFIGS): no library retry
can send a second copy. A worker that dies between SES and the mark leaves
one `claimed` record, settled as `unknown` (services/lifecycle.py).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from convier.domain.answers import CONFIRMED, WAITING, answer_line
from convier.domain.ids import make_token
from convier.domain.mime import Prepared, ascii_address, build_message, prepare
from convier.domain.pacing import Pacer, backoff, worker_ceiling, worker_rate
from convier.services import lifecycle
from convier.store import ddb, keys, records

log = logging.getLogger("convier.send")

THROTTLING = {"TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException"}
THROTTLE_RETRIES = 6
PAUSE_DELAY = 30  # seconds before a paused campaign's message is looked at again
BATCH_SIZE = 50  # recipients per SQS message at most (fewer when the send rate is low: pacing.recipients_per_message)
# Each result is marked at once (a conditional UpdateItem): a worker that dies leaves at most one claim
# without a result. Counters are added a window at a time (one UpdateItem per MARK_WINDOW transitions).
MARK_WINDOW = 10
MESSAGE_MARGIN = 10.0  # seconds: do not start a message with less time left than this
RECIPIENT_MARGIN = 3.0  # seconds: do not claim a recipient with less time left than this (SES call, mark)


@dataclass
class Counts:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unknown: int = 0
    duplicates_avoided: int = 0
    requeued: int = 0
    unfinished: int = 0  # recipients left for a redelivery (out of time, or SES throttling past the backoff)

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# on_sent(campaign, sid, raw, token, first_name, test=False, answer=""): told of each message SES accepted (the
# embedded default's outbox copy is such a hook, handed in by the CLI's composition root).
OnSent = Callable[..., None]


@dataclass
class Sender:
    """What a worker keeps between batches: clients, keys, pacer, and each campaign's prepared headers."""

    clients: object
    settings: object
    pacer: Pacer
    pause_delay: int = PAUSE_DELAY  # the local worker uses a shorter one, so that `resume` takes effect at once
    time_left: Callable[[], float] = lambda: math.inf  # seconds this invocation may still run (Lambda context)
    on_sent: OnSent | None = None
    sleep: Callable[[float], None] = time.sleep
    _campaigns: dict = field(default_factory=dict)
    revisions: dict = field(default_factory=dict)  # campaign id → the META revision its cached parts are from

    def forget(self, campaign_id: str) -> None:
        self._campaigns.pop(campaign_id, None)

    def campaign(self, campaign_id: str) -> tuple[records.Campaign, Prepared] | None:
        if campaign_id not in self._campaigns:
            campaign = records.load_campaign(self.clients.dynamodb, self.settings.table, campaign_id)
            if campaign is None:
                return None
            self._campaigns[campaign_id] = (campaign, prepare(campaign.template))
        return self._campaigns[campaign_id]


def sender_for(settings, clients, *, on_sent: OnSent | None = None) -> Sender:
    """A worker's sender, paced at its share of the account's send rate (the send function and the CLI)."""
    total = send_rate(settings, clients)
    pacer = Pacer(worker_rate(total, settings.workers), ceiling=worker_ceiling(total, settings.workers))
    return Sender(clients=clients, settings=settings, pacer=pacer, on_sent=on_sent,
                  pause_delay=settings.pause_delay if settings.pause_delay is not None else PAUSE_DELAY)


def send_rate(settings, clients, default: float = 14.0) -> float:
    """E-mails per second for all workers together: the setting, else the account's SES quota."""
    if settings.send_rate:
        return settings.send_rate
    try:
        return float(clients.ses.get_account()["SendQuota"]["MaxSendRate"])
    except Exception:  # the quota is a ceiling we read when we can; the setting overrides it
        return default


def message_body(campaign_id: str, list_name: str, sids: list[str], *, again: tuple[str, ...] = ()) -> str:
    """An SQS message; `again`: the final states a retry may claim again (failed, unknown); none otherwise."""
    body = {"campaign": campaign_id, "list": list_name, "sids": sids}
    if again:
        body["again"] = list(again)
    return json.dumps(body, separators=(",", ":"))


def process_event(event: dict, sender: Sender) -> tuple[dict, Counts]:
    """An SQS event in, a `ReportBatchItemFailures` response out."""
    failures, total = [], Counts()
    for record in event.get("Records", ()):
        if sender.time_left() < MESSAGE_MARGIN:  # not started: SQS delivers it again, nobody is half-done
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        try:
            counts = process_message(json.loads(record["body"]), sender)
            ok = counts.unfinished == 0  # `failed` and `unknown` are results: only a retry claims them again
        except Exception:  # one bad message must not sink the others: SQS retries it, then dead-letters it
            log.exception("message %s failed", record.get("messageId"))
            counts, ok = Counts(), False
        if not ok:
            failures.append({"itemIdentifier": record["messageId"]})
        total.add(counts)
    return {"batchItemFailures": failures}, total


class _Tally:
    """Counter deltas of one message, added to its shard every MARK_WINDOW transitions."""

    def __init__(self, sender: Sender, campaign_id: str, shard: int):
        self.sender, self.campaign_id, self.shard = sender, campaign_id, shard
        self.deltas: dict[str, int] = {}
        self.pending = 0
        self.moved = False

    def move(self, old: str | None, new: str) -> None:
        if old is None:
            return
        records.transition(self.deltas, old, new)
        self.pending += 1
        if self.pending >= MARK_WINDOW:
            self.flush()

    def flush(self) -> None:
        if any(self.deltas.values()):
            records.add_counts(self.sender.clients.dynamodb, self.sender.settings.table, self.campaign_id,
                               self.deltas, shard=self.shard)
            self.moved = True
        self.deltas, self.pending = {}, 0


def process_message(body: dict, sender: Sender) -> Counts:
    settings, dynamo = sender.settings, sender.clients.dynamodb
    if body.get("review"):  # the first wave's deadline (services.campaigns.review_later): decide, or look again
        from convier.services.campaigns import review, review_later

        decision = review(sender.clients, settings, body["campaign"])
        if decision is not None and decision.wait:
            review_later(sender.clients, settings, body["campaign"], decision.wait)
        return Counts()
    campaign_id, list_name, sids = body["campaign"], body["list"], list(dict.fromkeys(body["sids"]))
    again = tuple(s for s in body.get("again") or () if s in (records.FAILED, records.UNKNOWN))
    counts = Counts()
    found = sender.campaign(campaign_id)
    if found is None:
        log.warning("campaign %s not found: message dropped", campaign_id)
        return counts
    campaign, prepared = found
    status, revision = records.campaign_revision(dynamo, settings.table, campaign_id)
    if revision != sender.revisions.get(campaign_id, 0):  # edited since this worker read it: read again
        sender.forget(campaign_id)
        found = sender.campaign(campaign_id)
        if found is None:
            return counts
        campaign, prepared = found
        sender.revisions[campaign_id] = revision
    if status == records.CANCELLED:
        return counts
    if status == records.PAUSED:
        sender.clients.sqs.send_message(QueueUrl=settings.queue_url, MessageBody=json.dumps(body),
                                        DelaySeconds=sender.pause_delay)
        counts.requeued = len(sids)
        return counts

    # Existing send records are not read: the conditional claim finds them (sent, skipped, or claimed by a
    # worker that died: never again), and on a first delivery, which is nearly every one, there are none.
    wanted = [keys.subscriber_key(list_name, sid) for sid in sids] + [keys.suppression_key(sid) for sid in sids]
    if campaign.parent:  # a follow-up tells each recipient their current answer to the invitation
        wanted += [(keys.campaign_pk(campaign.parent), keys.rsvp_sk(sid)) for sid in sids]
    found_items = ddb.batch_get(dynamo, settings.table, wanted)
    replies = current_answers(dynamo, settings.table, campaign, sids, found_items)
    tally = _Tally(sender, campaign_id, records.shard_of(sids[0]) if sids else 0)
    try:
        to_send = []
        for sid in sids:
            sub = found_items.get(keys.subscriber_key(list_name, sid))
            reason = ""
            if sub is None:
                reason = "absent"
            elif sub.get("status", "subscribed") != "subscribed":
                reason = sub["status"]
            elif keys.suppression_key(sid) in found_items:
                reason = "suppressed"
            if not reason:
                to_send.append((sid, sub))
                continue
            old = records.skip(dynamo, settings.table, campaign_id, sid, reason, again=again,
                               expires_at=record_expiry(campaign, settings))
            if old is None:
                counts.duplicates_avoided += 1
            else:
                counts.skipped += 1
                tally.move(old, records.SKIPPED)
        for done, (sid, sub) in enumerate(to_send):
            if sender.time_left() < RECIPIENT_MARGIN:  # stop cleanly before Lambda's timeout: the rest,
                counts.unfinished = len(to_send) - done  # unclaimed, comes back with the message
                break
            if not send_recipient(sender, campaign, prepared, sid, sub, counts, tally, again,
                                  replies.get(sid)):
                counts.unfinished = len(to_send) - done
                break
    except Exception:
        tally.flush()
        raise
    tally.flush()
    if tally.moved:
        counters = records.read_counters(dynamo, settings.table, campaign_id)
        if counters.final >= campaign.audience:
            lifecycle.finish_if_complete(dynamo, settings.table, campaign_id)
    return counts


def record_expiry(campaign: records.Campaign, settings) -> int | None:
    """The TTL of a send record written now: the campaign's retention (stamped at create), else the setting's."""
    import datetime as dt

    from convier.domain.retention import expires_at

    return expires_at(campaign.event, campaign.retention_days or settings.retention_days, dt.datetime.now(dt.UTC))


def send_recipient(sender: Sender, campaign: records.Campaign, prepared: Prepared, sid: str, sub: dict,
                   counts: Counts, tally: _Tally, again: tuple[str, ...], reply=None) -> bool:
    """One recipient: build, claim, SES once, mark. False when the message must go back to SQS from here."""
    dynamo, table = sender.clients.dynamodb, sender.settings.table
    first_name = sub.get("first_name", "")
    try:  # built before the claim: a message that cannot be built is `failed` with its reason, never a
        (token, raw, answer), error = build_for(sender, campaign, prepared, sub, sid, reply), ""  # burnt claim
    except Exception as exc:  # noqa: BLE001 - any building error is this recipient's failure, reported
        log.warning("message for %s of campaign %s cannot be built: %s", sid, campaign.id, type(exc).__name__)
        token, raw, answer = "", b"", ""
        error = f"message impossible à construire : {type(exc).__name__}: {exc}"[:500]
    expires = record_expiry(campaign, sender.settings)
    owned = records.claim(dynamo, table, campaign.id, sid, again=again, expires_at=expires)
    if owned is None:
        counts.duplicates_avoided += 1  # sent, skipped, or another worker has it
        return True
    tally.move(owned.previous, records.CLAIMED)
    if error:
        state, message_id, reason = records.FAILED, "", error
    else:
        state, message_id, reason = send_once(sender, campaign, sub["email"], raw, sid)
    if state == LATER:
        if records.release(dynamo, table, campaign.id, owned):
            tally.move(records.CLAIMED, owned.previous)
        return False
    old = records.mark(dynamo, table, campaign.id, owned, state, expires_at=expires, message_id=message_id,
                       error=reason)
    if old is None:
        log.warning("subscriber %s of campaign %s: claim taken over before its mark (%s)", sid, campaign.id, state)
        return True
    tally.move(old.get("state", records.CLAIMED), state)
    if state == records.UNKNOWN and records.seen_by_ses(old):  # an SES event came before the mark: it was sent
        if records.mark(dynamo, table, campaign.id, owned, records.SENT, settled_by="ses"):
            tally.move(records.UNKNOWN, records.SENT)
            state = records.SENT
    setattr(counts, state, getattr(counts, state) + 1)
    if state == records.SENT and sender.on_sent:
        sender.on_sent(campaign, sid, raw, token, first_name, answer=answer)
    return True


def current_answers(dynamo, table: str, campaign: records.Campaign, sids: list[str],
                    found_items: dict) -> dict[str, tuple[str, str, int | None]]:
    """A follow-up's recipients' answers to its invitation: sid → (answer, place, waiting position)."""
    if not campaign.parent:
        return {}
    from convier.store.answers import waiting_list

    pk = keys.campaign_pk(campaign.parent)
    replies = {sid: (item.get("answer", ""), item.get("place", ""), None)
               for sid in sids if (item := found_items.get((pk, keys.rsvp_sk(sid))))}
    if any(place == WAITING for _, place, _ in replies.values()):
        ranks = {r.sid: rank for rank, r in enumerate(waiting_list(dynamo, table, campaign.parent), 1)}
        replies = {sid: (a, p, ranks.get(sid) if p == WAITING else None) for sid, (a, p, _) in replies.items()}
    return replies


def with_calendar(campaign: records.Campaign, reply: tuple[str, str, int | None] | None) -> bool:
    """Invitations, updates and cancellations carry the .ics to all; other follow-ups only to confirmed guests."""
    if campaign.kind not in records.CALENDAR_TO_CONFIRMED:
        return True
    return bool(reply) and reply[1] == CONFIRMED


def build_for(sender: Sender, campaign: records.Campaign, prepared: Prepared, sub: dict, sid: str,
              reply: tuple[str, str, int | None] | None = None) -> tuple[str, bytes, str]:
    """The recipient's token, raw message and answer sentence (raises when the message cannot be built).

    A follow-up's links open its invitation's answer page: its tokens are signed over the invitation."""
    token = make_token(campaign.answers_campaign, sid, sender.clients.keys.link_keys)
    full_name = " ".join(p for p in (sub.get("first_name", ""), sub.get("last_name", "")) if p)
    answer = answer_line(*(reply or ("", "", None))) if campaign.parent else ""
    raw = build_message(campaign.template, prepared, to_address=sub["email"], to_name=full_name,
                        first_name=sub.get("first_name", ""), token=token, subscriber_id=sid, answer=answer,
                        calendar=with_calendar(campaign, reply))
    return token, raw, answer


def ses_send(ses, settings, campaign: records.Campaign, address: str, raw: bytes, *, sid: str = "",
             test: bool = False) -> str:
    """SES v2 `SendEmail`, Raw content, through the configuration set, tagged with the campaign and the
    subscriber id (never the address), so that SES events find the record: the message id."""
    tags = [{"Name": "campaign", "Value": campaign.id}]
    if sid:
        tags.append({"Name": "sid", "Value": sid})
    if test:
        tags.append({"Name": "test", "Value": "oui"})
    return ses.send_email(FromEmailAddress=campaign.template.sender_address,
                          Destination={"ToAddresses": [ascii_address(address)]},
                          Content={"Raw": {"Data": raw}}, ConfigurationSetName=settings.configuration_set,
                          EmailTags=tags)["MessageId"]


LATER = "later"  # not sent: the claim is released and the message handed back


def classify(exc: Exception) -> tuple[str, str]:
    """What an SES error means for the recipient: (THROTTLED | records.FAILED | records.UNKNOWN, reason)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "ClientError"
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in THROTTLING or status == 429:
            return THROTTLED, code
        if status >= 500 or code in SERVER_ERRORS:
            return records.UNKNOWN, f"SES {status or ''} {code}".replace("  ", " ")
        return records.FAILED, code
    return records.UNKNOWN, type(exc).__name__  # read timeout, connection lost or refused


THROTTLED = "throttled"
SERVER_ERRORS = {"InternalFailure", "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException"}


def send_once(sender: Sender, campaign: records.Campaign, address: str, raw: bytes, sid: str) -> tuple[str, str, str]:
    """SES called for one claim: (state, message id, reason); state LATER when throttled past the backoff
    or when time runs short between attempts (the time guard is checked before each new attempt)."""
    for attempt in range(THROTTLE_RETRIES):
        if attempt and sender.time_left() < RECIPIENT_MARGIN:
            return LATER, "", "time"
        sender.pacer.wait()
        try:
            message_id = ses_send(sender.clients.ses, sender.settings, campaign, address, raw, sid=sid)
        except (ClientError, HTTPClientError, BotoConnectionError) as exc:
            kind, reason = classify(exc)
            if kind == THROTTLED:
                sender.pacer.throttled()
                sender.sleep(min(backoff(attempt), max(0.0, sender.time_left() - RECIPIENT_MARGIN)))
                continue
            log.warning("SES %s for %s of campaign %s: %s", kind, sid, campaign.id, reason)
            return kind, "", reason
        sender.pacer.succeeded()
        return records.SENT, message_id, ""
    return LATER, "", "throttled"
