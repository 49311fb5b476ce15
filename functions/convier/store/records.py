"""Campaign records in the table: the campaign itself and one send record per recipient.

On the send path: standard library and the ddb helpers only. Keys: store/keys.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convier.domain.mime import MessageTemplate
from convier.store import ddb, keys
from convier.store.ddb import now_iso

DRAFT, SENDING, PAUSED, CANCELLED, DONE = "draft", "sending", "paused", "cancelled", "sent"
STATUS_FR = {DRAFT: "brouillon", SENDING: "en cours d’envoi", PAUSED: "en pause", CANCELLED: "annulée",
             DONE: "envoyée"}
CLAIMED, SENT, FAILED, SKIPPED = "claimed", "sent", "failed", "skipped"
UNKNOWN_AFTER = 120  # seconds: a claim older than this with no result is `unknown`, never resent
# What a campaign is: the invitation itself, or a message about it sent to some of its recipients (its `parent`).
INVITATION, FOLLOWUP, PROMOTION, UPDATE, CANCELLATION = "invitation", "followup", "promotion", "update", "cancellation"
KINDS = (INVITATION, FOLLOWUP, PROMOTION, UPDATE, CANCELLATION)
CALENDAR_TO_CONFIRMED = (FOLLOWUP, PROMOTION)  # the .ics goes only to confirmed guests; the others' to everyone



@dataclass(frozen=True)
class Campaign:
    id: str
    list_name: str
    status: str
    template: MessageTemplate
    title: str = ""
    post: str = ""
    event: dict = field(default_factory=dict)  # start, end (ISO), all_day, place, address, online_url, when
    capacity: int | None = None
    answers: tuple[str, ...] = ("yes", "no", "maybe")
    created_at: str = ""
    enqueued: int = 0
    warnings: tuple[str, ...] = ()
    preheader: str = ""
    kind: str = INVITATION
    parent: str = ""  # a follow-up's invitation: its answers choose the audience, its links take the answers
    segments: tuple[str, ...] = ()  # a follow-up's audience (domain.segments), computed at fan-out

    @property
    def answers_campaign(self) -> str:
        """The campaign whose answer pages this one's links open (tokens are signed over its id)."""
        return self.parent or self.id

    def to_item(self) -> dict:
        return {"PK": keys.campaign_pk(self.id), "SK": keys.META, "id": self.id, "list": self.list_name,
                "status": self.status, "template": self.template.to_dict(), "title": self.title,
                "post": self.post, "event": self.event, "capacity": self.capacity, "answers": list(self.answers),
                "created_at": self.created_at, "enqueued": self.enqueued, "warnings": list(self.warnings),
                "subject": self.template.subject, "preheader": self.preheader, "kind": self.kind,
                "parent": self.parent, "segments": list(self.segments)}

    @classmethod
    def from_item(cls, item: dict) -> Campaign:
        return cls(id=item["id"], list_name=item["list"], status=item["status"],
                   template=MessageTemplate.from_dict(item["template"]), title=item.get("title", ""),
                   post=item.get("post", ""), event=item.get("event") or {}, capacity=item.get("capacity"),
                   answers=tuple(item.get("answers") or ("yes", "no", "maybe")),
                   created_at=item.get("created_at", ""), enqueued=item.get("enqueued", 0),
                   warnings=tuple(item.get("warnings") or ()), preheader=item.get("preheader", ""),
                   kind=item.get("kind") or INVITATION, parent=item.get("parent") or "",
                   segments=tuple(item.get("segments") or ()))


def promotion_of(campaign_id: str) -> str:
    """The id of an invitation's « place libérée » campaign (one per invitation, its claims per subscriber)."""
    return f"{campaign_id}-place"


def load_campaign(client, table: str, campaign_id: str) -> Campaign | None:
    item = ddb.get(client, table, *keys.campaign_key(campaign_id))
    return Campaign.from_item(item) if item else None


def campaign_status(client, table: str, campaign_id: str) -> str | None:
    item = ddb.get(client, table, *keys.campaign_key(campaign_id), projection="status")
    return item["status"] if item else None


def set_campaign_status(client, table: str, campaign_id: str, status: str, *, only_from: tuple[str, ...] = ()) -> bool:
    """Changes the status; with `only_from`, only from one of those (returns False otherwise)."""
    kwargs = {"TableName": table, "Key": ddb.key(*keys.campaign_key(campaign_id)),
              "UpdateExpression": "SET #s = :s, updated_at = :t",
              "ExpressionAttributeNames": {"#s": "status"},
              "ExpressionAttributeValues": {":s": {"S": status}, ":t": {"S": now_iso()}},
              "ConditionExpression": "attribute_exists(PK)"}
    if only_from:
        names = {f":f{i}": {"S": s} for i, s in enumerate(only_from)}
        kwargs["ConditionExpression"] += f" AND #s IN ({', '.join(names)})"
        kwargs["ExpressionAttributeValues"].update(names)
    try:
        client.update_item(**kwargs)
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


def send_records(client, table: str, campaign_id: str) -> dict[str, dict]:
    """sid → send record, every page."""
    return {keys.after(keys.SEND, item["SK"]): item for item in
            ddb.query(client, table, keys.campaign_pk(campaign_id), keys.SEND, consistent=True)}


def send_item(campaign_id: str, sid: str, state: str, **fields) -> dict:
    return {"PK": keys.campaign_pk(campaign_id), "SK": keys.send_sk(sid), "state": state, **fields}


_CLAIMABLE = {"ConditionExpression": "attribute_not_exists(SK) OR #st = :failed",
              "ExpressionAttributeNames": {"#st": "state"},
              "ExpressionAttributeValues": {":failed": {"S": FAILED}}}


def claim_one(client, table: str, item: dict) -> bool:
    """The conditional write made before SES is called: True when this worker now owns the recipient."""
    try:
        client.put_item(TableName=table, Item=ddb.to_item(item), **_CLAIMABLE)
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


def claim(client, table: str, items: list[dict]) -> set[str]:
    """`claim_one` for each item: the SKs now owned. (Not a transaction: moto copies the table for each one.)"""
    return {item["SK"] for item in items if claim_one(client, table, item)}
