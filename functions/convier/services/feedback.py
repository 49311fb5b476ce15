"""SES feedback: what happened to a sent message (delivered, bounced, complained about, rejected).

SES publishes the events of our configuration set to an SNS topic; the feedback function gets them
as `Records[].Sns.Message`, a JSON string in the SES *event publishing* format (`eventType`, `mail`
with our EmailTags in `mail.tags`, then `bounce` / `complaint` / `delivery` / `reject`). The older
identity-notification format (`notificationType`) is read the same way.

- `parse_notification(text)` → `Feedback` (pure) or None for events we do not act on (send, open...);
- `apply(ddb, table, feedback, id_key)` → the send record of each recipient (`SEND#{sid}` of the
  campaign, found by our `sid` tag, else by the address's id) gets the outcome and its time, and the
  campaign's counters (a `COUNTERS#n` shard) are incremented once per recipient and kind, in one
  transaction with the record (SNS delivers at least once). The record's `state` is never touched,
  except an `unknown` one (SES 5xx or timeout at send time), which any event settles: `sent` (send,
  delivery, bounce, complaint, delay) or `failed` (reject). A transaction cancelled for a conflict or
  throttling is tried again; a failed condition means the event is already recorded (read again to
  be sure); anything else raises, so Lambda retries the event. A permanent bounce or a complaint
  suppresses the address in every list. Transient (and undetermined) bounces are counted, never
  suppressed.

Standard library and the ddb helpers only. Logs name subscribers by id, never by address.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from email.utils import parseaddr

from convier.domain.ids import subscriber_id
from convier.store import ddb, records, subscribers

log = logging.getLogger("convier.feedback")

DELIVERY, BOUNCE, COMPLAINT, REJECT = "delivery", "bounce", "complaint", "reject"
SEND, DELAY = "send", "deliverydelay"
KINDS = (SEND, DELIVERY, BOUNCE, COMPLAINT, REJECT, DELAY)
BODY = {DELAY: "deliveryDelay"}  # the event's own part, when not named as its type
PERMANENT = "Permanent"
ATTEMPTS = 8  # a transaction cancelled by a conflict or throttling is tried this many times

# The outcomes with a counter (records.FEEDBACK_COUNTERS); `accepted` and `delayed` only settle.
COUNTERS = {name: name for name in records.FEEDBACK_COUNTERS}
# When several outcomes reach one recipient (SNS keeps no order), the send record shows the worst.
RANK = {"delivered": 1, "soft_bounced": 2, "rejected": 3, "bounced": 4, "complained": 5}


class FeedbackError(ValueError):
    """A notification we cannot read: the handler logs it and lets Lambda retry, then drop it."""


@dataclass(frozen=True)
class Feedback:
    kind: str  # delivery, bounce, complaint, reject
    recipients: tuple[str, ...]  # the addresses concerned (plain, as SES gives them)
    campaign: str = ""  # our `campaign` EmailTag; empty for mail convier did not tag
    message_id: str = ""  # SES message id
    sid: str = ""  # our `sid` EmailTag (the subscriber id)
    at: str = ""  # when it happened (the event's own timestamp, else the mail's)
    bounce_type: str = ""  # Permanent, Transient, Undetermined
    bounce_subtype: str = ""
    detail: str = ""  # diagnostic code, complaint feedback type or reject reason (no address)
    test: bool = False  # a `campaign test` copy: no send record to update

    @property
    def outcome(self) -> str:
        """What the send record says: accepted, delivered, bounced, soft_bounced, complained, rejected, delayed."""
        if self.kind == BOUNCE:
            return "bounced" if self.bounce_type == PERMANENT else "soft_bounced"
        return {SEND: "accepted", DELIVERY: "delivered", COMPLAINT: "complained", REJECT: "rejected",
                DELAY: "delayed"}[self.kind]

    @property
    def suppression(self) -> str:
        """The suppression reason (subscribers.BOUNCED / subscribers.COMPLAINED), or "" when the address stays."""
        if self.kind == COMPLAINT:
            return subscribers.COMPLAINED
        if self.kind == BOUNCE and self.bounce_type == PERMANENT:
            return subscribers.BOUNCED
        return ""


def _address(text: str) -> str:
    return (parseaddr(text)[1] or text or "").strip()


def _tag(tags: dict, name: str) -> str:
    value = (tags or {}).get(name) or []
    return (value[0] if isinstance(value, list) and value else value if isinstance(value, str) else "") or ""


def parse_notification(text: str | dict) -> Feedback | None:
    """An SES event (the SNS message, as text or parsed) → Feedback; None for kinds we ignore."""
    try:
        data = json.loads(text) if isinstance(text, (str, bytes)) else text
    except json.JSONDecodeError as exc:
        raise FeedbackError(f"message SNS illisible : {exc}") from None
    if not isinstance(data, dict):
        raise FeedbackError("message SNS : objet JSON attendu")
    kind = str(data.get("eventType") or data.get("notificationType") or "").lower()
    if kind not in KINDS:
        return None
    mail = data.get("mail") or {}
    body = data.get(BODY.get(kind, kind)) or {}
    tags = mail.get("tags") or {}
    if kind == BOUNCE:
        recipients = [r.get("emailAddress", "") for r in body.get("bouncedRecipients") or ()]
        codes = [r.get("diagnosticCode") or r.get("status") or "" for r in body.get("bouncedRecipients") or ()]
        detail = next((c for c in codes if c), "")
    elif kind == COMPLAINT:
        recipients = [r.get("emailAddress", "") for r in body.get("complainedRecipients") or ()]
        detail = body.get("complaintFeedbackType", "")
    elif kind == DELIVERY:
        recipients = list(body.get("recipients") or ())
        detail = ""
    elif kind == DELAY:
        recipients = [r.get("emailAddress", "") for r in body.get("delayedRecipients") or ()]
        detail = body.get("delayType", "")
    elif kind == SEND:
        recipients, detail = [], ""
    else:  # reject: SES refused the whole message (virus, bad content)
        recipients, detail = [], body.get("reason", "")
    if not recipients:
        recipients = list(mail.get("destination") or ())
    addresses = tuple(dict.fromkeys(a for a in (_address(r) for r in recipients) if "@" in a))
    if not addresses:
        raise FeedbackError(f"événement SES {kind} sans destinataire")
    detail = str(detail)
    for address in addresses:  # diagnostic codes often quote the address: the record keeps none
        detail = re.sub(re.escape(address), "<destinataire>", detail, flags=re.IGNORECASE)
    return Feedback(kind=kind, recipients=addresses, campaign=_tag(tags, "campaign"), sid=_tag(tags, "sid"),
                    message_id=mail.get("messageId", ""), at=body.get("timestamp") or mail.get("timestamp", ""),
                    bounce_type=body.get("bounceType", "") if kind == BOUNCE else "",
                    bounce_subtype=body.get("bounceSubType", "") if kind == BOUNCE else "",
                    detail=detail[:300], test=_tag(tags, "test") == "oui")


def parse_sns_event(event: dict) -> list[Feedback]:
    """A Lambda SNS event → the feedback it carries (records we ignore are left out)."""
    found = []
    for record in event.get("Records") or ():
        message = (record.get("Sns") or {}).get("Message")
        if message is None:
            raise FeedbackError("enregistrement sans Sns.Message")
        feedback = parse_notification(message)
        if feedback is not None:
            found.append(feedback)
    return found


@dataclass(frozen=True)
class Applied:
    sid: str
    outcome: str
    counted: bool  # False: a repeated notification, or no send record (a test copy, an erased one)
    suppressed: str  # the suppression reason, or ""


def apply(dynamo, table: str, feedback: Feedback, id_key: bytes) -> list[Applied]:
    """The feedback into the table, for each recipient; safe to repeat (SNS delivers at least once)."""
    results = []
    for address in feedback.recipients:
        sid = subscriber_id(address, id_key)
        if feedback.sid and len(feedback.recipients) == 1 and feedback.sid != sid:
            log.warning("feedback for campaign %s: sid tag %s is not the recipient's", feedback.campaign, feedback.sid)
        counted = False
        if feedback.campaign and not feedback.test:
            counted = record_outcome(dynamo, table, feedback, sid)
        reason = feedback.suppression
        if reason:
            subscribers.suppress(dynamo, table, sid, reason)
        log.info("feedback %s for subscriber %s of campaign %s%s", feedback.outcome, sid,
                 feedback.campaign or "-", f" (suppressed: {reason})" if reason else "")
        results.append(Applied(sid=sid, outcome=feedback.outcome, counted=counted, suppressed=reason))
    return results


def _settles_to(feedback: Feedback) -> str:
    """What an `unknown` becomes with this event: SES rejected it (failed), else SES accepted it (sent)."""
    return records.FAILED if feedback.kind == REJECT else records.SENT


def plan(feedback: Feedback, record: dict) -> tuple[dict, str, dict[str, int]]:
    """(fields to set, new state or "", counter deltas) for this event on this record; nothing when known.

    Pure: the record as read, the event, what changes."""
    outcome = feedback.outcome
    stamp = feedback.at or records.now_iso()
    state = record.get("state", "")
    fields: dict = {}
    deltas: dict[str, int] = {}
    if not record.get(f"{outcome}_at"):
        fields = {f"{outcome}_at": stamp, "bounce_type": feedback.bounce_type,
                  "bounce_subtype": feedback.bounce_subtype, f"{outcome}_detail": feedback.detail}
        if outcome in COUNTERS:
            deltas[COUNTERS[outcome]] = 1
    new_state = ""
    if state == records.UNKNOWN:
        new_state = _settles_to(feedback)
        records.transition(deltas, records.UNKNOWN, new_state)
        fields.setdefault(f"{outcome}_at", stamp)
        fields["settled_by"] = feedback.kind
    if fields and feedback.message_id and not record.get("message_id"):
        fields["message_id"] = feedback.message_id
    if outcome == "accepted" and state not in (records.CLAIMED, records.UNKNOWN):
        return {}, "", {}  # a send event for a known record: nothing to learn
    return {k: v for k, v in fields.items() if v}, new_state, deltas


def record_outcome(dynamo, table: str, feedback: Feedback, sid: str) -> bool:
    """Marks the send record and increments the counters, together and once (see the module's text).

    Returns False when the send record is absent or already has this outcome."""
    for attempt in range(ATTEMPTS):
        record = records.send_record(dynamo, table, feedback.campaign, sid)
        if record is None:
            return False
        fields, new_state, deltas = plan(feedback, record)
        if not fields:
            return False
        try:
            records.apply_feedback(dynamo, table, feedback.campaign, sid, fields, new_state, deltas,
                                   state=record.get("state", ""))
        except records.AlreadyChanged:
            continue  # another event (or the mark) moved it: read again and decide
        except records.Contention:
            ddb._backoff(attempt)
            continue
        if feedback.outcome in RANK:
            _set_worst_outcome(dynamo, table, feedback.campaign, sid, feedback.outcome)
        return True
    raise records.Contention(f"feedback {feedback.kind} for {sid} of {feedback.campaign}: {ATTEMPTS} attempts")


def _set_worst_outcome(dynamo, table: str, campaign_id: str, sid: str, outcome: str) -> None:
    records.raise_outcome(dynamo, table, campaign_id, sid, outcome, RANK[outcome])


def counters(meta: dict) -> dict[str, int]:
    """The feedback counters of an item holding them (zeros included)."""
    return {name: int(meta.get(attr) or 0) for name, attr in COUNTERS.items()}
