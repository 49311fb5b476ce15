"""SES feedback: what happened to a sent message (delivered, bounced, complained about, rejected).

SES publishes the events of our configuration set to an SNS topic; the feedback function gets them
as `Records[].Sns.Message`, a JSON string in the SES *event publishing* format (`eventType`, `mail`
with our EmailTags in `mail.tags`, then `bounce` / `complaint` / `delivery` / `reject`). The older
identity-notification format (`notificationType`) is read the same way.

- `parse_notification(text)` → `Feedback` (pure) or None for events we do not act on (send, open...);
- `apply(ddb, table, feedback, id_key)` → the send record of each recipient (`SEND#{sid}` of the
  campaign) gets the outcome and its time, the campaign's counters are incremented once per
  recipient and kind (SNS delivers at least once), and a permanent bounce or a complaint suppresses
  the address in every list. Transient (and undetermined) bounces are counted, never suppressed.

Standard library and the ddb helpers only. Logs name subscribers by id, never by address.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from email.utils import parseaddr

from botocore.exceptions import ClientError

from convier.domain.ids import subscriber_id
from convier.store import ddb, keys, records, subscribers

log = logging.getLogger("convier.feedback")

DELIVERY, BOUNCE, COMPLAINT, REJECT = "delivery", "bounce", "complaint", "reject"
KINDS = (DELIVERY, BOUNCE, COMPLAINT, REJECT)
PERMANENT = "Permanent"

# The campaign counter (META) each outcome increments.
COUNTERS = {"delivered": "delivered", "bounced": "bounced", "soft_bounced": "soft_bounced",
            "complained": "complained", "rejected": "rejected"}
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
    at: str = ""  # when it happened (the event's own timestamp, else the mail's)
    bounce_type: str = ""  # Permanent, Transient, Undetermined
    bounce_subtype: str = ""
    detail: str = ""  # diagnostic code, complaint feedback type or reject reason (no address)
    test: bool = False  # a `campaign test` copy: no send record to update

    @property
    def outcome(self) -> str:
        """What the send record says: delivered, bounced, soft_bounced, complained, rejected."""
        if self.kind == BOUNCE:
            return "bounced" if self.bounce_type == PERMANENT else "soft_bounced"
        return {DELIVERY: "delivered", COMPLAINT: "complained", REJECT: "rejected"}[self.kind]

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
    body = data.get(kind) or {}
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
    return Feedback(kind=kind, recipients=addresses, campaign=_tag(tags, "campaign"),
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


def record_outcome(dynamo, table: str, feedback: Feedback, sid: str) -> bool:
    """Marks the send record and increments the campaign counter, together and once.

    Returns False when the send record is absent or already has this outcome.
    """
    outcome = feedback.outcome
    stamp = feedback.at or records.now_iso()
    pk = keys.campaign_pk(feedback.campaign)
    fields = {f"{outcome}_at": stamp, "bounce_type": feedback.bounce_type, "bounce_subtype": feedback.bounce_subtype,
              f"{outcome}_detail": feedback.detail}
    fields = {k: v for k, v in fields.items() if v}
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    values = {f":f{i}": {"S": v} for i, v in enumerate(fields.values())}
    sets = [f"#f{i} = :f{i}" for i in range(len(fields))]
    try:
        dynamo.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": ddb.key(pk, keys.send_sk(sid)),
                        "UpdateExpression": "SET " + ", ".join(sets),
                        "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(#f0)",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values}},
            {"Update": {"TableName": table, "Key": ddb.key(pk, keys.META),
                        "UpdateExpression": "ADD #n :one",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeNames": {"#n": COUNTERS[outcome]},
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        return False
    _set_worst_outcome(dynamo, table, pk, sid, outcome)
    return True


def _set_worst_outcome(dynamo, table: str, pk: str, sid: str, outcome: str) -> None:
    try:
        dynamo.update_item(
            TableName=table, Key=ddb.key(pk, keys.send_sk(sid)),
            UpdateExpression="SET outcome = :o, outcome_rank = :r",
            ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(outcome_rank) OR outcome_rank < :r)",
            ExpressionAttributeValues={":o": {"S": outcome}, ":r": {"N": str(RANK[outcome])}})
    except dynamo.exceptions.ConditionalCheckFailedException:
        pass


def counters(meta: dict) -> dict[str, int]:
    """The feedback counters of a campaign's META item (zeros included)."""
    return {name: int(meta.get(attr) or 0) for name, attr in COUNTERS.items()}
