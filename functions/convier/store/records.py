"""Campaign records in the table: the campaign (META, PARTS), its counters, one send record per recipient.

Every write here is conditional or additive: nothing replaces what another path wrote.

- META is small (pages and status read it); the rendered HTML and text sit on PARTS, read once per worker.
- Counters: `COUNTERS` holds the answers' (confirmed, waiting: the capacity condition reads one item);
  `COUNTERS#0..n` hold the send and feedback counters, a writer picking its shard by subscriber id, so
  that feedback transactions rarely meet on one item. `read_counters` reads them all in one request.
- A send record moves `claimed → sent | failed | unknown` (why: `error`; a skip's: `reason`) by conditional
  UpdateItem (the claim id proves the worker still owns it); `skipped` is final at once; `failed` (and,
  on explicit request, `unknown`) can be claimed again by a retry. Feedback adds its fields and never
  touches `state`, except to settle an `unknown` (services/feedback.py).
- Counters are moved by the writer of a transition right after it (ADD, retried on throttling). The one
  gap, a process dying between a record's write and its counter's, is closed by `recount`, which the
  campaign's end (and the settling of lost claims) runs once: `done` is written only after it.

On the send path: standard library and the ddb helpers only. Keys: store/keys.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
import zlib
from dataclasses import dataclass, field, fields

from botocore.exceptions import ClientError

from convier.domain.mime import MessageTemplate
from convier.errors import Notice
from convier.store import ddb, keys
from convier.store.ddb import now_iso

log = logging.getLogger("convier.records")

# What a campaign is: the invitation itself, or a message about it sent to some of its recipients (its `parent`).
INVITATION, FOLLOWUP, PROMOTION, UPDATE, CANCELLATION = "invitation", "followup", "promotion", "update", "cancellation"
KINDS = (INVITATION, FOLLOWUP, PROMOTION, UPDATE, CANCELLATION)
CALENDAR_TO_CONFIRMED = (FOLLOWUP, PROMOTION)  # the .ics goes only to confirmed guests; the others' to everyone

DRAFT, SENDING, PAUSED, CANCELLED, DONE = "draft", "sending", "paused", "cancelled", "done"
STATUS_FR = {DRAFT: "brouillon", SENDING: "en cours d’envoi", PAUSED: "en pause", CANCELLED: "annulée",
             DONE: "terminée"}
CLAIMED, SENT, FAILED, UNKNOWN, SKIPPED = "claimed", "sent", "failed", "unknown", "skipped"
FINAL = (SENT, SKIPPED, FAILED, UNKNOWN)
UNKNOWN_AFTER = 120  # seconds: a claim older than this, with no write since, was lost with its worker
SETTLE_AFTER = 15 * 60  # seconds: an `unknown` with no SES event after this is for staff to decide
COUNTER_SHARDS = 4
THROTTLED_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                   "TransactionConflictException", "InternalServerError"}

STATE_COUNTERS = ("sent", "skipped", "failed", "unknown")
FEEDBACK_COUNTERS = ("delivered", "bounced", "soft_bounced", "complained", "rejected")
ANSWER_COUNTERS = ("confirmed", "waiting")
_HEAD = ("campaign_id", "sender", "subject", "ics", "public_url", "reply_to", "list_id",
         "unsubscribe_mailbox")  # META; html, text: PARTS


@dataclass(frozen=True)
class Campaign:
    id: str
    list_name: str
    status: str
    template: MessageTemplate  # without `html` and `text` when loaded with parts=False
    title: str = ""
    post: str = ""
    event: dict = field(default_factory=dict)  # start, end (ISO), all_day, place, address, online_url, when
    capacity: int | None = None
    answers: tuple[str, ...] = ("yes", "no", "maybe")
    created_at: str = ""
    audience: int = 0  # distinct recipients enqueued (a retry never adds to it)
    warnings: tuple[Notice, ...] = ()  # what the renderer said (kind, message, line): `campaign check` shows them
    preheader: str = ""
    kind: str = INVITATION
    parent: str = ""  # a follow-up's invitation: its answers choose the audience, its links take the answers
    segments: tuple[str, ...] = ()  # a follow-up's audience (domain.segments), computed at fan-out
    checks: dict = field(default_factory=dict)  # content findings, allow, event_where (services.checks)
    wave: int = 0  # the first wave's size (0: none); the rest waits for its SES feedback
    wave_until: str = ""  # ISO: the rest is released then at the latest
    wave_state: str = ""  # WAVE_WAITING until the rest is released (once: release_wave), then WAVE_RELEASED
    pause_reason: str = ""  # why the campaign paused itself (bounces, complaints), shown by `status`
    rate_base: dict = field(default_factory=dict)  # feedback counters at the last resume (rates judged from there)
    retention_days: int | None = None  # its send records and answers expire then after the event (domain.retention)

    @property
    def answers_campaign(self) -> str:
        """The campaign whose answer pages this one's links open (tokens are signed over its id)."""
        return self.parent or self.id
    finished_at: str = ""
    scheduled_at: str = ""  # ISO (UTC): a scheduled send not fired yet (services/schedules.py)
    schedule_error: str = ""  # why a scheduled send did not go out when it fired

    @property
    def enqueued(self) -> int:
        """Round 1's name for the audience (the console reads it)."""
        return self.audience

    def to_items(self) -> tuple[dict, dict]:
        """(META, PARTS)."""
        whole = self.template.to_dict()
        meta = {"PK": keys.campaign_pk(self.id), "SK": keys.META, "id": self.id, "list": self.list_name,
                "status": self.status, "template": {k: whole[k] for k in _HEAD}, "title": self.title,
                "post": self.post, "event": self.event, "capacity": self.capacity, "answers": list(self.answers),
                "created_at": self.created_at, "audience": self.audience,
                "warnings": [Notice.from_value(w).to_dict() for w in self.warnings],
                "subject": self.template.subject,
                "preheader": self.preheader, "kind": self.kind, "parent": self.parent,
                "segments": list(self.segments), "checks": self.checks}
        if self.retention_days:
            meta["retention_days"] = self.retention_days
        parts = {"PK": keys.campaign_pk(self.id), "SK": keys.PARTS, "html": whole["html"], "text": whole["text"]}
        return meta, parts

    @classmethod
    def from_item(cls, item: dict, parts: dict | None = None) -> Campaign:
        head = dict(item["template"])
        head.setdefault("html", (parts or {}).get("html", ""))  # a META of round 1 holds everything
        head.setdefault("text", (parts or {}).get("text", ""))
        return cls(id=item["id"], list_name=item["list"], status=item["status"],
                   template=MessageTemplate.from_dict(head), title=item.get("title", ""),
                   post=item.get("post", ""), event=item.get("event") or {}, capacity=item.get("capacity"),
                   answers=tuple(item.get("answers") or ("yes", "no", "maybe")),
                   created_at=item.get("created_at", ""), audience=int(item.get("audience") or 0),
                   warnings=tuple(Notice.from_value(w) for w in item.get("warnings") or ()),
                   finished_at=item.get("finished_at", ""),
                   preheader=item.get("preheader", ""), kind=item.get("kind") or INVITATION,
                   parent=item.get("parent") or "", segments=tuple(item.get("segments") or ()),
                   checks=item.get("checks") or {}, wave=int(item.get("wave_size") or 0),
                   wave_until=item.get("wave_until", ""), wave_state=item.get("wave_state", ""),
                   pause_reason=item.get("pause_reason", ""), scheduled_at=item.get("scheduled_at", ""),
                   schedule_error=item.get("schedule_error", ""),
                   rate_base={k: int(v) for k, v in (item.get("rate_base") or {}).items()},
                   retention_days=int(item["retention_days"]) if item.get("retention_days") else None)


def promotion_of(campaign_id: str, number: int = 1) -> str:
    """The id of an invitation's « place libérée » campaign for a person's `number`-th promotion: claims are per
    subscriber and campaign, so a person promoted, who gives the place back and is promoted again, is told again
    (by the second one), and each promotion exactly once."""
    return f"{campaign_id}-place" if number <= 1 else f"{campaign_id}-place-{number}"


def copy_campaign(client, table: str, source_id: str, new_id: str) -> bool:
    """A copy of campaign `source_id` under `new_id` (its parts and status, no send record), listed in the
    index like it; False when the source is missing or the copy exists already (made meanwhile).
    GetItem and PutItem only: the web function makes these (its role has no batch actions)."""
    from dataclasses import replace

    meta = ddb.get(client, table, *keys.campaign_key(source_id))
    if meta is None:
        return False
    source = Campaign.from_item(meta, ddb.get(client, table, *keys.parts_key(source_id)))
    copy = replace(source, id=new_id, template=replace(source.template, campaign_id=new_id), audience=0)
    try:
        put_campaign(client, table, copy)
    except client.exceptions.ConditionalCheckFailedException:
        return False
    client.put_item(TableName=table, Item=ddb.to_item({
        "PK": keys.CAMPAIGNS, "SK": new_id, "list": copy.list_name, "created_at": copy.created_at,
        "subject": copy.template.subject, "kind": copy.kind, "parent": copy.parent}))
    return True


def put_source(client, table: str, campaign_id: str, source: dict) -> None:
    """What the campaign was rendered from (services.updates renders it again from there)."""
    client.put_item(TableName=table, Item=ddb.to_item({"PK": keys.campaign_pk(campaign_id), "SK": keys.SOURCE,
                                                       **source, "updated_at": now_iso()}))


def get_source(client, table: str, campaign_id: str) -> dict | None:
    item = ddb.get(client, table, *keys.source_key(campaign_id), consistent=True)
    return {k: v for k, v in item.items() if k not in ("PK", "SK")} if item else None


RENDERED = ("template", "title", "event", "capacity", "answers", "warnings", "subject", "preheader", "checks")


def replace_rendering(client, table: str, campaign: Campaign) -> int:
    """An edited campaign's new rendering: PARTS, then what META says of it (status, audience, counters and
    everything the sending wrote are untouched); `revision` rises so that workers holding the old parts
    read them again (services.sending). Returns the new revision."""
    meta, parts = campaign.to_items()
    client.put_item(TableName=table, Item=ddb.to_item(parts))
    names = {f"#a{i}": name for i, name in enumerate(RENDERED)}
    values = {f":a{i}": ddb.to_value(meta[name]) for i, name in enumerate(RENDERED)}
    sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(RENDERED)))
    answer = client.update_item(
        TableName=table, Key=ddb.key(*keys.campaign_key(campaign.id)),
        UpdateExpression=f"SET {sets}, updated_at = :t ADD revision :one", ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames=names, ReturnValues="UPDATED_NEW",
        ExpressionAttributeValues={**values, ":t": {"S": now_iso()}, ":one": {"N": "1"}})
    return int(answer["Attributes"]["revision"]["N"])


def mark_event_cancelled(client, table: str, campaign_id: str, *, ics: str, at: str) -> bool:
    """The invitation's event is cancelled (once: False when it already was); its calendar becomes `ics`
    (the cancellation, which the .ics route then serves)."""
    try:
        client.update_item(
            TableName=table, Key=ddb.key(*keys.campaign_key(campaign_id)),
            UpdateExpression="SET #ev.#c = :at, #tpl.#ics = :ics, updated_at = :at ADD revision :one",
            ConditionExpression="attribute_exists(PK) AND attribute_not_exists(#ev.#c)",
            ExpressionAttributeNames={"#ev": "event", "#c": "cancelled_at", "#tpl": "template", "#ics": "ics"},
            ExpressionAttributeValues={":at": {"S": at}, ":ics": {"S": ics}, ":one": {"N": "1"}})
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


def campaign_revision(client, table: str, campaign_id: str) -> tuple[str | None, int]:
    """(status, revision): what the send path reads per message (one small read)."""
    item = ddb.get(client, table, *keys.campaign_key(campaign_id), projection="status, revision")
    return (item["status"], int(item.get("revision") or 0)) if item else (None, 0)


def put_campaign(client, table: str, campaign: Campaign) -> None:
    """PARTS first, then META only if absent: a campaign is readable once both are there."""
    meta, parts = campaign.to_items()
    client.put_item(TableName=table, Item=ddb.to_item(parts))
    client.put_item(TableName=table, Item=ddb.to_item(meta), ConditionExpression="attribute_not_exists(PK)")


def claim_create(client, table: str, request: str, campaign_id: str) -> str:
    """The id of the campaign a create request makes: `campaign_id` the first time (conditional write), the
    first attempt's own when the same request comes again (a retried invoke)."""
    pk, sk = keys.create_request_key(request)
    try:
        client.put_item(TableName=table, Item=ddb.to_item({"PK": pk, "SK": sk, "campaign": campaign_id,
                                                           "at": now_iso()}),
                        ConditionExpression="attribute_not_exists(PK)")
        return campaign_id
    except client.exceptions.ConditionalCheckFailedException:
        return ddb.get(client, table, pk, sk, projection="campaign")["campaign"]


def create_claimed(client, table: str, request: str) -> bool:
    """True when this create request came before (claim_create made its id)."""
    return ddb.get(client, table, *keys.create_request_key(request), projection="campaign") is not None


def claim_request(client, table: str, request: str) -> tuple[bool, str | None]:
    """(True, None) when this request is new (claimed now); (False, answer) when it came before: its answer
    as stored by `answer_request` (JSON text), or None while the first attempt has not answered yet."""
    pk, sk = keys.request_key(request)
    try:
        client.put_item(TableName=table, Item=ddb.to_item({"PK": pk, "SK": sk, "at": now_iso()}),
                        ConditionExpression="attribute_not_exists(PK)")
        return True, None
    except client.exceptions.ConditionalCheckFailedException:
        found = ddb.get(client, table, pk, sk) or {}
        return False, found.get("answer")


def answer_request(client, table: str, request: str, answer: str) -> None:
    client.update_item(TableName=table, Key=ddb.key(*keys.request_key(request)), UpdateExpression="SET answer = :a",
                       ExpressionAttributeValues={":a": {"S": answer}})


def load_campaign(client, table: str, campaign_id: str, *, parts: bool = True) -> Campaign | None:
    """The campaign; with parts=False only META is read (pages, status: the template has no HTML or text)."""
    if not parts:
        item = ddb.get(client, table, *keys.campaign_key(campaign_id))
        return Campaign.from_item(item) if item else None
    found = ddb.batch_get(client, table, [keys.campaign_key(campaign_id), keys.parts_key(campaign_id)])
    item = found.get(keys.campaign_key(campaign_id))
    return Campaign.from_item(item, found.get(keys.parts_key(campaign_id))) if item else None


def campaign_statuses(client, table: str, campaign_ids: list[str]) -> dict[str, str]:
    found = ddb.batch_get(client, table, [keys.campaign_key(i) for i in campaign_ids])
    return {item["id"]: item["status"] for item in found.values()}


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
    if status == DONE:
        kwargs["UpdateExpression"] += ", finished_at = :t"
    if status == SENDING:  # a resume: the reason of a pause is gone, the rates are judged from here
        kwargs["UpdateExpression"] += " REMOVE pause_reason"
    if only_from:
        names = {f":f{i}": {"S": s} for i, s in enumerate(only_from)}
        kwargs["ConditionExpression"] += f" AND #s IN ({', '.join(names)})"
        kwargs["ExpressionAttributeValues"].update(names)
    try:
        client.update_item(**kwargs)
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


WAVE_WAITING, WAVE_RELEASED = "waiting", "released"


def start_sending(client, table: str, campaign_id: str, audience: int, *, only_from: tuple[str, ...],
                  wave: int = 0, wave_until: str = "", request: str = "") -> bool:
    """`sending`, with the audience (distinct recipients) it now has; False if the status was not in only_from,
    or if `request` (the invoke's id) already started it (a retried invoke enqueues nothing twice).
    With `wave`, the first wave's state: the rest waits until `wave_until` (release_wave)."""
    names = {f":f{i}": {"S": s} for i, s in enumerate(only_from)}
    values = {":s": {"S": SENDING}, ":a": {"N": str(audience)}, ":t": {"S": now_iso()}, **names}
    update = "SET #s = :s, audience = :a, updated_at = :t, started_at = if_not_exists(started_at, :t)"
    condition = f"attribute_exists(PK) AND #s IN ({', '.join(names)})"
    if wave:
        update += ", wave_size = :w, wave_until = :u, wave_state = :ws"
        values.update({":w": {"N": str(wave)}, ":u": {"S": wave_until}, ":ws": {"S": WAVE_WAITING}})
    if request:
        update += ", start_request = :r"
        condition += " AND (attribute_not_exists(start_request) OR start_request <> :r)"
        values[":r"] = {"S": request}
    try:
        client.update_item(
            TableName=table, Key=ddb.key(*keys.campaign_key(campaign_id)),
            UpdateExpression=update + " REMOVE finished_at",
            ConditionExpression=condition, ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values)
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


def release_wave(client, table: str, campaign_id: str) -> bool:
    """The first wave's wait is over: True for the one caller that moved it (it enqueues the rest)."""
    try:
        client.update_item(
            TableName=table, Key=ddb.key(*keys.campaign_key(campaign_id)),
            UpdateExpression="SET wave_state = :r, wave_released_at = :t",
            ConditionExpression="wave_state = :w AND #s = :s", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":r": {"S": WAVE_RELEASED}, ":w": {"S": WAVE_WAITING},
                                       ":s": {"S": SENDING}, ":t": {"S": now_iso()}})
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


def pause_for(client, table: str, campaign_id: str, reason: str) -> bool:
    """sending → paused by the campaign itself (bounces, complaints), with the reason `status` shows."""
    try:
        client.update_item(
            TableName=table, Key=ddb.key(*keys.campaign_key(campaign_id)),
            UpdateExpression="SET #s = :p, pause_reason = :why, updated_at = :t",
            ConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":p": {"S": PAUSED}, ":why": {"S": reason}, ":s": {"S": SENDING},
                                       ":t": {"S": now_iso()}})
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


def set_rate_base(client, table: str, campaign_id: str, base: dict[str, int]) -> None:
    """The feedback counters at a resume: the rates that paused the campaign are judged from there on."""
    client.update_item(TableName=table, Key=ddb.key(*keys.campaign_key(campaign_id)),
                       UpdateExpression="SET rate_base = :b", ConditionExpression="attribute_exists(PK)",
                       ExpressionAttributeValues={":b": {"M": {k: {"N": str(v)} for k, v in base.items()}}})


# --- counters ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counters:
    """A campaign's counters, summed over their items. Other services (pacing by bounce rate, the
    console) read these: `read_counters` costs one request whatever the list size."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unknown: int = 0
    delivered: int = 0
    bounced: int = 0
    soft_bounced: int = 0
    complained: int = 0
    rejected: int = 0
    confirmed: int = 0
    waiting: int = 0
    last_at: str = ""  # the latest write to a send counter (lost claims are looked for when it is old)

    @property
    def final(self) -> int:
        """Recipients with a final send record."""
        return self.sent + self.skipped + self.failed + self.unknown

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "last_at"}


def shard_of(sid: str) -> int:
    return zlib.crc32(sid.encode()) % COUNTER_SHARDS


def counter_keys(campaign_id: str) -> list[tuple[str, str]]:
    return [keys.counters_key(campaign_id)] + [keys.counters_key(campaign_id, n) for n in range(COUNTER_SHARDS)]


def read_counters(client, table: str, campaign_id: str) -> Counters:
    found = ddb.batch_get(client, table, counter_keys(campaign_id))
    totals = dict.fromkeys(Counters().as_dict(), 0)
    last = ""
    for item in found.values():
        for name in totals:
            totals[name] += int(item.get(name) or 0)
        last = max(last, item.get("last_at") or "")
    return Counters(**totals, last_at=last)


def throttled(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in THROTTLED_CODES


def retry_throttled(call, attempts: int = 8, sleep=time.sleep):
    """`call()`, again with backoff while DynamoDB throttles (or reports a conflict or an internal error)."""
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as exc:
            if not throttled(exc) or attempt == attempts - 1:
                raise
            ddb._backoff(attempt, sleep)


def counter_update(table: str, campaign_id: str, shard: int | None, deltas: dict[str, int]) -> dict:
    """The UpdateItem (or transaction Update) that adds `deltas` to one counters item."""
    deltas = {k: v for k, v in deltas.items() if v}
    names = {f"#c{i}": k for i, k in enumerate(deltas)}
    values = {f":c{i}": {"N": str(v)} for i, v in enumerate(deltas.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(deltas)))
    if shard is not None:
        expression = f"SET last_at = :now {expression}"
        values[":now"] = {"S": now_iso()}
    return {"TableName": table, "Key": ddb.key(*keys.counters_key(campaign_id, shard)),
            "UpdateExpression": expression, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def add_counts(client, table: str, campaign_id: str, deltas: dict[str, int], *, shard: int = 0) -> None:
    if any(deltas.values()):
        retry_throttled(lambda: client.update_item(**counter_update(table, campaign_id, shard, deltas)))


def touch_counters(client, table: str, campaign_id: str) -> None:
    """Moves `last_at` to now without changing a count."""
    client.update_item(TableName=table, Key=ddb.key(*keys.counters_key(campaign_id, 0)),
                       UpdateExpression="SET last_at = :now", ExpressionAttributeValues={":now": {"S": now_iso()}})


def transition(deltas: dict[str, int], old: str, new: str) -> None:
    """Counts a record moving from `old` ("" for none) to `new` into `deltas`."""
    if old in FINAL:
        deltas[old] = deltas.get(old, 0) - 1
    if new in FINAL:
        deltas[new] = deltas.get(new, 0) + 1


# --- send records --------------------------------------------------------------------------------

def send_records(client, table: str, campaign_id: str) -> dict[str, dict]:
    """sid → send record, every page."""
    return {keys.after(keys.SEND, item["SK"]): item for item in
            ddb.query(client, table, keys.campaign_pk(campaign_id), keys.SEND, consistent=True)}


def send_states(client, table: str, campaign_id: str) -> dict[str, str]:
    """sid → state of each send record (the state only: a fraction of the bytes of send_records)."""
    return {keys.after(keys.SEND, item["SK"]): item.get("state", "") for item in
            ddb.query(client, table, keys.campaign_pk(campaign_id), keys.SEND, projection="SK, state",
                      consistent=True)}


def send_record(client, table: str, campaign_id: str, sid: str) -> dict | None:
    return ddb.get(client, table, *keys.send_key(campaign_id, sid))


def _claimable(states: tuple[str, ...]) -> tuple[str, dict]:
    values = {f":r{i}": {"S": s} for i, s in enumerate(states)}
    condition = "attribute_not_exists(SK)" + (f" OR #st IN ({', '.join(values)})" if states else "")
    return condition, values


@dataclass(frozen=True)
class Claim:
    sid: str
    claim_id: str
    previous: str  # the state before the claim ("" when the recipient had no record)


def _expiry(expires_at: int | None) -> tuple[str, dict]:
    """(", expires_at = :x", its value) to add to an update's SET, or nothing when no retention is set."""
    return (f", {keys.EXPIRES} = :x", {":x": {"N": str(expires_at)}}) if expires_at else ("", {})


def claim(client, table: str, campaign_id: str, sid: str, *, again: tuple[str, ...] = (),
          expires_at: int | None = None) -> Claim | None:
    """The conditional write made before SES is called: a Claim when this worker now owns the recipient,
    None when a record exists that is not in `again` (sent, skipped, claimed by someone else...).
    `expires_at`: the record's TTL (domain.retention), written with it."""
    claim_id = secrets.token_hex(6)
    condition, values = _claimable(again)
    expiry, expiry_value = _expiry(expires_at)
    try:
        out = retry_throttled(lambda: client.update_item(
            TableName=table, Key=ddb.key(*keys.send_key(campaign_id, sid)),
            UpdateExpression=f"SET #st = :claimed, claimed_at = :t, claim_id = :c{expiry} ADD attempts :one",
            ConditionExpression=condition, ExpressionAttributeNames={"#st": "state"},
            ExpressionAttributeValues={":claimed": {"S": CLAIMED}, ":t": {"S": now_iso()}, ":c": {"S": claim_id},
                                       ":one": {"N": "1"}, **values, **expiry_value},
            ReturnValues="UPDATED_OLD"))
    except client.exceptions.ConditionalCheckFailedException:
        return None
    previous = ddb.from_item(out.get("Attributes") or {}).get("state", "")
    return Claim(sid=sid, claim_id=claim_id, previous=previous)


def skip(client, table: str, campaign_id: str, sid: str, reason: str, *,
         again: tuple[str, ...] = (), expires_at: int | None = None) -> str | None:
    """A final `skipped` record (unsubscribed, suppressed, absent); the previous state, or None if not ours."""
    condition, values = _claimable(again)
    expiry, expiry_value = _expiry(expires_at)
    try:
        out = retry_throttled(lambda: client.update_item(
            TableName=table, Key=ddb.key(*keys.send_key(campaign_id, sid)),
            UpdateExpression=f"SET #st = :s, reason = :r, skipped_at = :t{expiry}",
            ConditionExpression=condition, ExpressionAttributeNames={"#st": "state"},
            ExpressionAttributeValues={":s": {"S": SKIPPED}, ":r": {"S": reason}, ":t": {"S": now_iso()}, **values,
                                       **expiry_value},
            ReturnValues="UPDATED_OLD"))
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return ddb.from_item(out.get("Attributes") or {}).get("state", "")


def mark(client, table: str, campaign_id: str, owned: Claim, state: str, *, expires_at: int | None = None,
         **values) -> dict | None:
    """claimed → sent | failed | unknown, only while the claim is ours (a lost claim settled as `unknown`
    meanwhile is ours too). Returns the record as it was (its `state`, and any SES event already recorded
    on it), or None when the claim was no longer ours. `expires_at` (the TTL) is written again with it."""
    extra = {f"{state}_at": now_iso(), **{k: v for k, v in values.items() if v not in (None, "")}}
    if expires_at:
        extra[keys.EXPIRES] = int(expires_at)
    names = {"#st": "state", **{f"#a{i}": k for i, k in enumerate(extra)}}
    attr_values = {":st": {"S": state}, **{f":a{i}": ddb.to_value(v) for i, v in enumerate(extra.values())}}
    expression = "SET #st = :st, " + ", ".join(f"#a{i} = :a{i}" for i in range(len(extra)))
    if state == SENT:
        expression += " REMOVE #err"
        names["#err"] = "error"
    try:
        out = retry_throttled(lambda: client.update_item(
            TableName=table, Key=ddb.key(*keys.send_key(campaign_id, owned.sid)), UpdateExpression=expression,
            ConditionExpression="#st IN (:claimed, :unknown) AND claim_id = :c",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={**attr_values, ":claimed": {"S": CLAIMED}, ":unknown": {"S": UNKNOWN},
                                       ":c": {"S": owned.claim_id}},
            ReturnValues="ALL_OLD"))
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return ddb.from_item(out.get("Attributes") or {}) or {"state": CLAIMED}


EVIDENCE = ("accepted_at", "delivered_at", "bounced_at", "soft_bounced_at", "complained_at", "delayed_at")


def seen_by_ses(record: dict) -> bool:
    """An SES event (send, delivery, bounce...) is recorded: SES accepted the message."""
    return any(record.get(name) for name in EVIDENCE)


def release(client, table: str, campaign_id: str, owned: Claim) -> bool:
    """Undoes a claim that never reached SES (throttled, out of time): the recipient is as before it."""
    key = ddb.key(*keys.send_key(campaign_id, owned.sid))
    condition = {"ConditionExpression": "#st = :claimed AND claim_id = :c",
                 "ExpressionAttributeNames": {"#st": "state"}}
    values = {":claimed": {"S": CLAIMED}, ":c": {"S": owned.claim_id}}
    try:
        if owned.previous:
            retry_throttled(lambda: client.update_item(
                TableName=table, Key=key, UpdateExpression="SET #st = :old", **condition,
                ExpressionAttributeValues={**values, ":old": {"S": owned.previous}}))
        else:
            retry_throttled(lambda: client.delete_item(TableName=table, Key=key, **condition,
                                                       ExpressionAttributeValues=values))
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


def _age(stamp: str, now: dt.datetime) -> float:
    try:
        return (now - dt.datetime.fromisoformat(stamp)).total_seconds()
    except (TypeError, ValueError):
        return float("inf")


def settle_lost_claims(client, table: str, campaign_id: str, *, now: dt.datetime | None = None,
                       older_than: float = UNKNOWN_AFTER) -> int:
    """Claims older than `older_than` with no result: their worker died past SES, maybe. They become
    `unknown` (error `worker_lost`), never sent again silently. Reads the partition: run it only when
    the counters say something is stuck."""
    now = now or dt.datetime.now(dt.UTC)
    settled = 0
    for sid, rec in send_records(client, table, campaign_id).items():
        if rec.get("state") != CLAIMED or _age(rec.get("claimed_at", ""), now) <= older_than:
            continue
        owned = Claim(sid=sid, claim_id=rec.get("claim_id", ""), previous="")
        old = mark(client, table, campaign_id, owned, UNKNOWN, error="worker_lost")
        if old is not None and old.get("state") == CLAIMED:
            add_counts(client, table, campaign_id, {UNKNOWN: 1}, shard=shard_of(sid))
            settled += 1
    return settled


def recount(client, table: str, campaign_id: str) -> Counters:
    """The send and feedback counters as the records say (answers' counters as they are)."""
    totals = dict.fromkeys(STATE_COUNTERS + FEEDBACK_COUNTERS, 0)
    for rec in send_records(client, table, campaign_id).values():
        if rec.get("state") in FINAL:
            totals[rec["state"]] += 1
        for name in FEEDBACK_COUNTERS:
            totals[name] += bool(rec.get(f"{name}_at"))
    current = read_counters(client, table, campaign_id)
    return Counters(**totals, confirmed=current.confirmed, waiting=current.waiting, last_at=current.last_at)


def correct_counters(client, table: str, campaign_id: str, recounted: Counters) -> dict[str, int]:
    """Brings the send-state counters to a recount, by adding the difference (shard 0); returns it.

    Only the states: the feedback counters move in transactions with their records, exact already, and
    may be moving right now.
    """
    current = read_counters(client, table, campaign_id)
    deltas = {name: getattr(recounted, name) - getattr(current, name) for name in STATE_COUNTERS}
    deltas = {k: v for k, v in deltas.items() if v}
    if deltas:
        log.warning("campaign %s: counters corrected by %s after a recount", campaign_id, deltas)
        add_counts(client, table, campaign_id, deltas, shard=0)
    return deltas


def unknowns(client, table: str, campaign_id: str, *, now: dt.datetime | None = None,
             older_than: float = SETTLE_AFTER) -> list[str]:
    """Recipients `unknown` for longer than `older_than` with no SES event: for staff to decide."""
    now = now or dt.datetime.now(dt.UTC)
    return sorted(sid for sid, rec in send_records(client, table, campaign_id).items()
                  if rec.get("state") == UNKNOWN and _age(rec.get("unknown_at", ""), now) > older_than)


# --- feedback on a send record -------------------------------------------------------------------

class AlreadyChanged(Exception):
    """The record is no longer as read (another event, the mark): read it again."""


class Contention(RuntimeError):
    """DynamoDB kept cancelling for a conflict or throttling."""


RETRY_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}


def apply_feedback(client, table: str, campaign_id: str, sid: str, values: dict, new_state: str,
                   deltas: dict[str, int], *, state: str) -> None:
    """Adds `values` to the send record (and `new_state`, settling an unknown) while its state is still
    `state` and none of the `*_at` values exists yet, with `deltas` added to the counters in the same
    transaction. Raises AlreadyChanged (read again) or Contention (try later)."""
    names = {"#st": "state", **{f"#f{i}": k for i, k in enumerate(values)}}
    if new_state == SENT:
        names["#err"] = "error"
    attr = {":seen": {"S": state}, **{f":f{i}": ddb.to_value(v) for i, v in enumerate(values.values())}}
    sets = [f"#f{i} = :f{i}" for i in range(len(values))]
    if new_state:
        sets.append("#st = :new")
        attr[":new"] = {"S": new_state}
    fresh = [f"attribute_not_exists(#f{i})" for i, k in enumerate(values) if k.endswith("_at")]
    update = {"TableName": table, "Key": ddb.key(*keys.send_key(campaign_id, sid)),
              "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE #err" if new_state == SENT else ""),
              "ConditionExpression": " AND ".join(["attribute_exists(PK)", "#st = :seen", *fresh]),
              "ExpressionAttributeNames": names, "ExpressionAttributeValues": attr}
    try:
        if not any(deltas.values()):
            client.update_item(**update)
        else:
            client.transact_write_items(TransactItems=[
                {"Update": update}, {"Update": counter_update(table, campaign_id, shard_of(sid), deltas)}])
    except client.exceptions.ConditionalCheckFailedException:
        raise AlreadyChanged() from None
    except client.exceptions.TransactionCanceledException as exc:
        reasons = [r.get("Code") or "None" for r in exc.response.get("CancellationReasons") or ()]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise AlreadyChanged() from None
        if not reasons or set(reasons) & RETRY_REASONS:
            raise Contention(", ".join(reasons) or "cancelled") from None
        raise
    except ClientError as exc:
        if throttled(exc) or exc.response.get("Error", {}).get("Code") == "TransactionInProgressException":
            raise Contention(exc.response["Error"].get("Code", "")) from None
        raise


def raise_outcome(client, table: str, campaign_id: str, sid: str, outcome: str, rank: int) -> None:
    """`outcome` on the record, unless a worse one (higher rank) is there already."""
    try:
        retry_throttled(lambda: client.update_item(
            TableName=table, Key=ddb.key(*keys.send_key(campaign_id, sid)),
            UpdateExpression="SET outcome = :o, outcome_rank = :r",
            ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(outcome_rank) OR outcome_rank < :r)",
            ExpressionAttributeValues={":o": {"S": outcome}, ":r": {"N": str(rank)}}))
    except client.exceptions.ConditionalCheckFailedException:
        pass
