"""Mailing lists in the table: lists, subscribers, their status and consent, suppressions.

Keys: store/keys.py (the schema table is there, once).
Standard library and the ddb helpers only: the send and web paths import this.
Logs name subscribers by id only, never by address.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from convier.domain.ids import subscriber_id
from convier.store import ddb, keys
from convier.store.ddb import now_iso

log = logging.getLogger(__name__)

SUBSCRIBED, UNSUBSCRIBED, BOUNCED, COMPLAINED = "subscribed", "unsubscribed", "bounced", "complained"
STATUSES = (SUBSCRIBED, UNSUBSCRIBED, BOUNCED, COMPLAINED)
STATUS_FR = {SUBSCRIBED: "inscrit", UNSUBSCRIBED: "désinscrit", BOUNCED: "en échec (rebond)",
             COMPLAINED: "plainte"}
MAX_HISTORY = 20  # status changes kept per subscriber



@dataclass(frozen=True)
class Subscriber:
    sid: str
    email: str
    first_name: str = ""
    last_name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    status: str = SUBSCRIBED
    consent_source: str = ""
    consent_at: str = ""
    list_name: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def to_item(self, **extra) -> dict:
        return {"PK": keys.list_pk(self.list_name), "SK": keys.sub_sk(self.sid), "sid": self.sid, "email": self.email,
                "first_name": self.first_name, "last_name": self.last_name, "attributes": dict(self.attributes),
                "status": self.status, "consent_source": self.consent_source, "consent_at": self.consent_at,
                "list": self.list_name, **extra}

    @classmethod
    def from_item(cls, item: dict) -> Subscriber:
        return cls(sid=item.get("sid") or keys.after(keys.SUB, item["SK"]), email=item["email"],
                   first_name=item.get("first_name", ""), last_name=item.get("last_name", ""),
                   attributes={k: str(v) for k, v in (item.get("attributes") or {}).items()},
                   status=item.get("status", SUBSCRIBED), consent_source=item.get("consent_source", ""),
                   consent_at=item.get("consent_at", ""),
                   list_name=item.get("list") or keys.after(keys.LIST, item["PK"]))


def membership_item(list_name: str, sid: str) -> dict:
    return {"PK": keys.member_pk(sid), "SK": keys.list_pk(list_name), "list": list_name}


# --- lists ---------------------------------------------------------------------------------------

def list_exists(ddb_client, table: str, list_name: str) -> bool:
    return ddb.get(ddb_client, table, keys.list_pk(list_name), keys.META, projection="PK") is not None


def list_meta(ddb_client, table: str, list_name: str) -> dict | None:
    return ddb.get(ddb_client, table, keys.list_pk(list_name), keys.META)


def ensure_list(ddb_client, table: str, list_name: str) -> None:
    """Creates the list's META item unless it exists."""
    try:
        ddb_client.put_item(TableName=table, Item=ddb.to_item(
            {"PK": keys.list_pk(list_name), "SK": keys.META, "name": list_name, "created_at": now_iso(), "counts": {}}),
            ConditionExpression="attribute_not_exists(PK)")
    except ddb_client.exceptions.ConditionalCheckFailedException:
        pass


def update_list_meta(ddb_client, table: str, list_name: str, **values) -> None:
    names = {f"#k{i}": k for i, k in enumerate(values)}
    ddb_client.update_item(
        TableName=table, Key=ddb.key(keys.list_pk(list_name), keys.META),
        UpdateExpression="SET " + ", ".join(f"#k{i} = :v{i}" for i in range(len(values))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={f":v{i}": ddb.to_value(v) for i, v in enumerate(values.values())})


def list_names(ddb_client, table: str) -> list[str]:
    """Every list, by name (a Scan for META items: lists are few, this is for `lists show`)."""
    names, kwargs = [], {"TableName": table, "FilterExpression": "SK = :meta AND begins_with(PK, :list)",
                         "ExpressionAttributeValues": {":meta": {"S": keys.META}, ":list": {"S": keys.LIST}},
                         "ProjectionExpression": "PK"}
    while True:
        page = ddb_client.scan(**kwargs)
        names += [keys.after(keys.LIST, item["PK"]["S"]) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return sorted(names)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def count_by_status(ddb_client, table: str, list_name: str) -> dict[str, int]:
    """{status: count} for every status (zeros included), counted from the items themselves."""
    counts = dict.fromkeys(STATUSES, 0)
    for item in ddb.query(ddb_client, table, keys.list_pk(list_name), keys.SUB, projection="status"):
        status = item.get("status", SUBSCRIBED)
        counts[status] = counts.get(status, 0) + 1
    return counts


# --- subscribers ---------------------------------------------------------------------------------

def iter_subscribers(ddb_client, table: str, list_name: str):
    """Every subscriber of a list, page after page (a paginated Query)."""
    for item in ddb.query(ddb_client, table, keys.list_pk(list_name), keys.SUB):
        yield Subscriber.from_item(item)


def subscriber_ids(ddb_client, table: str, list_name: str):
    """The ids of a list's subscribers only: what the fan-out needs, a fraction of the bytes to page through."""
    for item in ddb.query(ddb_client, table, keys.list_pk(list_name), keys.SUB, projection="SK"):
        yield keys.after(keys.SUB, item["SK"])


def get_subscriber(ddb_client, table: str, list_name: str, sid: str) -> Subscriber | None:
    item = ddb.get(ddb_client, table, *keys.subscriber_key(list_name, sid))
    return Subscriber.from_item(item) if item else None


def set_status(ddb_client, table: str, list_name: str, sid: str, status: str, reason: str = "") -> bool:
    """Changes a subscriber's status, keeping the time and a history of changes.

    Returns False when the subscriber is not in the list or already has that status.
    """
    if status not in STATUSES:
        raise ValueError(f"statut inconnu : {status}")
    stamp = now_iso()
    change = {"status": status, "at": stamp, "reason": reason}
    try:
        ddb_client.update_item(
            TableName=table, Key=ddb.key(*keys.subscriber_key(list_name, sid)),
            UpdateExpression="SET #s = :s, status_at = :t, status_reason = :r, "
                             "history = list_append(if_not_exists(history, :empty), :change)",
            ConditionExpression="attribute_exists(PK) AND #s <> :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}, ":t": {"S": stamp}, ":r": {"S": reason},
                                       ":empty": {"L": []}, ":change": ddb.to_value([change])})
    except ddb_client.exceptions.ConditionalCheckFailedException:
        return False
    log.info("subscriber %s of list %s: %s (%s)", sid, list_name, status, reason)
    return True


def lists_of(ddb_client, table: str, sid: str) -> list[str]:
    """Every list the subscriber belongs to (the membership index)."""
    return [item["list"] for item in ddb.query(ddb_client, table, keys.member_pk(sid), keys.LIST, consistent=True)]


# --- suppression ---------------------------------------------------------------------------------

def _sid_of(address_or_sid: str, id_key: bytes | None) -> str:
    if "@" not in address_or_sid:
        return address_or_sid
    if id_key is None:
        raise ValueError("une adresse ne peut être supprimée qu'avec la clé des identifiants (id_key)")
    return subscriber_id(address_or_sid, id_key)


def suppress(ddb_client, table: str, address_or_sid: str, reason: str, *, id_key: bytes | None = None) -> str:
    """No more e-mail to this address, from any list: the suppression item, and `bounced`/`complained`
    status in every list it belongs to. Pass `id_key` when giving an address. Returns the sid."""
    sid = _sid_of(address_or_sid, id_key)
    ddb_client.put_item(TableName=table, Item=ddb.to_item(
        {"PK": keys.SUPPRESSED, "SK": sid, "reason": reason, "at": now_iso()}))
    if reason in (BOUNCED, COMPLAINED):
        for list_name in lists_of(ddb_client, table, sid):
            set_status(ddb_client, table, list_name, sid, reason, reason="suppression")
    log.info("subscriber %s suppressed: %s", sid, reason)
    return sid


FORGOTTEN = "forgotten"  # flag on a suppression kept when its person was erased (it holds no address)


def keep_opt_out(ddb_client, table: str, sid: str, reason: str) -> None:
    """After an erasure: the opt-out stays as a suppression keyed by the id alone (no address, no name), so
    that a re-import of the same address does not re-subscribe it."""
    ddb_client.put_item(TableName=table, Item=ddb.to_item(
        {"PK": keys.SUPPRESSED, "SK": sid, "reason": reason, "at": now_iso(), FORGOTTEN: True}))
    log.info("subscriber %s forgotten, opt-out kept: %s", sid, reason)


def is_suppressed(ddb_client, table: str, sid: str) -> bool:
    return ddb.get(ddb_client, table, keys.SUPPRESSED, sid, projection="PK") is not None


def suppressions(ddb_client, table: str) -> dict[str, str]:
    """sid → reason, for every suppressed address."""
    return {item["SK"]: item.get("reason", "") for item in ddb.query(ddb_client, table, keys.SUPPRESSED)}
