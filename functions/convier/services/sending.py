"""The per-recipient path: check, claim, personalise, build, send, mark. Exactly once, paced.

Imports only the standard library, botocore (through the clients passed in)
and light convier modules: no Jinja2, MJML or markdown at cold start.

An SQS message carries a campaign id, a list name and up to 50 subscriber
ids (never an address). For each message:
1. the campaign's status is read: paused → the message is put back with a
   delay, cancelled → dropped;
2. subscribers and suppressions are read in batches;
3. skipped recipients get a `skipped` record (conditional writes, in one
   transaction);
4. each recipient still to do is claimed by a conditional write just before
   SES is called, personalised and sent (paced, backing off on throttling);
   results are marked `sent` with the SES message ids 10 at a time.
A recipient whose claim exists without a result is never sent again: it is
`unknown` in the status. A message with a failure is reported in the
partial batch response, so SQS redelivers it (and, after 5 receives, moves it
to the dead-letter queue); its `failed` recipients are retried, its `sent`
ones are not.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from convier.domain.answers import CONFIRMED, WAITING, answer_line
from convier.domain.ids import make_token
from convier.domain.mime import Prepared, ascii_address, build_message, personalise, prepare
from convier.domain.pacing import Pacer, backoff
from convier.store import ddb, keys, records

log = logging.getLogger("convier.send")

THROTTLING = {"TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException"}
THROTTLE_RETRIES = 6
PAUSE_DELAY = 30  # seconds before a paused campaign's message is looked at again
BATCH_SIZE = 50  # recipients per SQS message at most (fewer when the send rate is low: pacing.recipients_per_message)
# Results are marked a window at a time (one batch write): two requests per recipient instead of three
# (bench/campaign.py measures it). A worker that dies mid-window leaves at most this many `unknown`,
# all of them past SES already: unsent recipients are not claimed yet.
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
    unfinished: int = 0  # recipients left for a redelivery because the function was running out of time

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Sender:
    """What a worker keeps between batches: clients, keys, pacer, and each campaign's prepared headers."""

    clients: object
    settings: object
    pacer: Pacer
    pause_delay: int = PAUSE_DELAY  # the local worker uses a shorter one, so that `resume` takes effect at once
    time_left: Callable[[], float] = lambda: math.inf  # seconds this invocation may still run (Lambda context)
    _campaigns: dict = field(default_factory=dict)

    def campaign(self, campaign_id: str) -> tuple[records.Campaign, Prepared] | None:
        if campaign_id not in self._campaigns:
            campaign = records.load_campaign(self.clients.dynamodb, self.settings.table, campaign_id)
            if campaign is None:
                return None
            self._campaigns[campaign_id] = (campaign, prepare(campaign.template))
        return self._campaigns[campaign_id]


def send_rate(settings, clients, default: float = 14.0) -> float:
    """E-mails per second for all workers together: the setting, else the account's SES quota."""
    if settings.send_rate:
        return settings.send_rate
    try:
        return float(clients.ses.get_account()["SendQuota"]["MaxSendRate"])
    except Exception:  # the quota is a ceiling we read when we can; the setting overrides it
        return default


def message_body(campaign_id: str, list_name: str, sids: list[str]) -> str:
    return json.dumps({"campaign": campaign_id, "list": list_name, "sids": sids}, separators=(",", ":"))


def process_event(event: dict, sender: Sender) -> tuple[dict, Counts]:
    """An SQS event in, a `ReportBatchItemFailures` response out."""
    failures, total = [], Counts()
    for record in event.get("Records", ()):
        if sender.time_left() < MESSAGE_MARGIN:  # not started: SQS delivers it again, nobody is half-done
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        try:
            counts = process_message(json.loads(record["body"]), sender)
            ok = counts.failed == 0 and counts.unfinished == 0
        except Exception:  # one bad message must not sink the others: SQS retries it, then dead-letters it
            log.exception("message %s failed", record.get("messageId"))
            counts, ok = Counts(), False
        if not ok:
            failures.append({"itemIdentifier": record["messageId"]})
        total.add(counts)
    return {"batchItemFailures": failures}, total


def process_message(body: dict, sender: Sender) -> Counts:
    settings, dynamo = sender.settings, sender.clients.dynamodb
    campaign_id, list_name, sids = body["campaign"], body["list"], list(dict.fromkeys(body["sids"]))
    counts = Counts()
    found = sender.campaign(campaign_id)
    if found is None:
        log.warning("campaign %s not found: message dropped", campaign_id)
        return counts
    campaign, prepared = found
    status = records.campaign_status(dynamo, settings.table, campaign_id)
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

    to_send, skipped = [], []
    stamp = records.now_iso()
    for sid in sids:
        sub = found_items.get(keys.subscriber_key(list_name, sid))
        reason = ""
        if sub is None:
            reason = "absent"
        elif sub.get("status", "subscribed") != "subscribed":
            reason = sub["status"]
        elif keys.suppression_key(sid) in found_items:
            reason = "suppressed"
        if reason:
            skipped.append(records.send_item(campaign_id, sid, records.SKIPPED, reason=reason, at=stamp))
        else:
            to_send.append(sub)
    owned = records.claim(dynamo, settings.table, skipped)
    counts.skipped += len(owned)
    counts.duplicates_avoided += len(skipped) - len(owned)

    marks: list[dict] = []
    for done, sub in enumerate(to_send):
        if sender.time_left() < RECIPIENT_MARGIN:  # stop cleanly before Lambda's timeout: the rest, unclaimed,
            counts.unfinished = len(to_send) - done  # comes back with the message
            break
        sid = keys.after(keys.SUB, sub["SK"])
        try:  # built before the claim: a message that cannot be built is `failed` with its reason, never a
            built = build_for(sender, campaign, prepared, sub, sid, replies.get(sid))  # burnt claim
        except Exception as exc:  # noqa: BLE001 - any building error is this recipient's failure, reported
            log.warning("message for %s of campaign %s cannot be built: %s", sid, campaign.id, type(exc).__name__)
            failed = records.send_item(campaign_id, sid, records.FAILED, failed_at=records.now_iso(),
                                       error=f"message impossible à construire : {type(exc).__name__}: {exc}"[:500])
            if records.claim_one(dynamo, settings.table, failed):
                counts.failed += 1
            else:
                counts.duplicates_avoided += 1
            continue
        claim = records.send_item(campaign_id, sid, records.CLAIMED, claimed_at=records.now_iso())
        if not records.claim_one(dynamo, settings.table, claim):
            counts.duplicates_avoided += 1  # another worker has it
            continue
        outcome = send_one(sender, campaign, prepared, sub, sid, built=built)
        if outcome.get("state") == records.SENT:
            counts.sent += 1
        else:
            counts.failed += 1
        marks.append(records.send_item(campaign_id, sid, **outcome))
        if len(marks) >= MARK_WINDOW:
            ddb.batch_write(dynamo, settings.table, marks)
            marks = []
    ddb.batch_write(dynamo, settings.table, marks)
    return counts


def ses_send(ses, settings, campaign: records.Campaign, address: str, raw: bytes, test: bool = False) -> str:
    """SES v2 `SendEmail`, Raw content, through the configuration set, tagged with the campaign: the message id."""
    tags = [{"Name": "campaign", "Value": campaign.id}] + ([{"Name": "test", "Value": "oui"}] if test else [])
    return ses.send_email(FromEmailAddress=campaign.template.sender_address,
                          Destination={"ToAddresses": [ascii_address(address)]},
                          Content={"Raw": {"Data": raw}}, ConfigurationSetName=settings.configuration_set,
                          EmailTags=tags)["MessageId"]


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


def send_one(sender: Sender, campaign: records.Campaign, prepared: Prepared, sub: dict, sid: str,
             built: tuple[str, bytes, str] | None = None) -> dict:
    """One recipient through SES (its message built by `build_for` unless given); the fields of its send record."""
    settings = sender.settings
    token, raw, answer = built or build_for(sender, campaign, prepared, sub, sid)
    error = ""
    for attempt in range(THROTTLE_RETRIES):
        sender.pacer.wait()
        try:
            message_id = ses_send(sender.clients.ses, settings, campaign, sub["email"], raw)
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code", "ClientError")
            if error in THROTTLING:
                sender.pacer.throttled()
                time.sleep(backoff(attempt))
                continue
            log.warning("SES refused %s for campaign %s: %s", sid, campaign.id, error)
            return {"state": records.FAILED, "error": error, "failed_at": records.now_iso()}
        sender.pacer.succeeded()
        if settings.outbox:
            html, _, _ = personalise(campaign.template, token, sub.get("first_name", ""), answer)
            write_outbox(Path(settings.outbox) / campaign.id, sid, raw, html)
        return {"state": records.SENT, "message_id": message_id, "sent_at": records.now_iso()}
    return {"state": records.FAILED, "error": error or "throttled", "failed_at": records.now_iso()}


def write_outbox(folder: Path, sid: str, raw: bytes, html: str) -> None:
    """Embedded default: a copy of each sent message and its HTML, named by subscriber id (erasure finds them)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{sid}.eml").write_bytes(raw)
    (folder / f"{sid}.html").write_text(html, encoding="utf-8")
