"""Mailing lists in the table: lists, subscribers, their status and consent, suppressions.

Counts by status are kept, per list, on a few shard items (`LIST#{list}/COUNTS#{n}`), moved in the same
transaction as each change of a subscriber (added, status changed, removed): pages read the counts, never the
list. `recount` reads the list and repairs them (a list made before the counts were kept is recounted at its
first reading: its META has no `counted` yet). Keys: store/keys.py (the schema table is there, once).
Standard library and the ddb helpers only: the send and web paths import this.
Logs name subscribers by id only, never by address.
"""

from __future__ import annotations

import logging
import zlib
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
COUNT_SHARDS = 4  # counts items per list: the import's parallel writers rarely meet on one
COUNTED = "counted"  # on a list's META: its counts are kept (set at creation, or by the first recount)
CHANGES = "changes"  # on a counts shard: how many writes moved it (the recount's optimistic check)
# a transaction cancelled for these is tried again (DynamoDB's reasons; moto names its exceptions)
_RETRY_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                  "RequestLimitExceeded", "TransactionConflictException"}
ATTEMPTS = 8


class Contention(RuntimeError):
    """DynamoDB kept cancelling a list's write (conflicts, throttling): nothing of it was written."""


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
    """Creates the list's META item unless it exists (its counts kept from the start), and its index entry
    (a table's first list also builds the index: a table from before it is scanned then, once)."""
    try:
        ddb_client.put_item(TableName=table, Item=ddb.to_item(
            {"PK": keys.list_pk(list_name), "SK": keys.META, "name": list_name, "created_at": now_iso(),
             COUNTED: True}), ConditionExpression="attribute_not_exists(PK)")
        created = True
    except ddb_client.exceptions.ConditionalCheckFailedException:
        created = False
    index_pk, index_sk = keys.list_index_key(list_name)  # again each time: an interrupted creation is completed
    ddb_client.put_item(TableName=table, Item=ddb.to_item({"PK": index_pk, "SK": index_sk, "name": list_name}))
    if created:
        list_names(ddb_client, table)


def update_list_meta(ddb_client, table: str, list_name: str, **values) -> None:
    names = {f"#k{i}": k for i, k in enumerate(values)}
    ddb_client.update_item(
        TableName=table, Key=ddb.key(keys.list_pk(list_name), keys.META),
        UpdateExpression="SET " + ", ".join(f"#k{i} = :v{i}" for i in range(len(values))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={f":v{i}": ddb.to_value(v) for i, v in enumerate(values.values())})


def list_names(ddb_client, table: str) -> list[str]:
    """Every list, by name: one Query of the index. A table from before the index is scanned once for its
    lists' META items, and the index written (then marked `INDEXED`)."""
    names, indexed = [], False
    for item in ddb.query(ddb_client, table, keys.LISTS, consistent=True, projection="SK"):
        if item["SK"] == keys.LISTS_INDEXED:
            indexed = True
        elif item["SK"].startswith(keys.LIST):
            names.append(keys.after(keys.LIST, item["SK"]))
    if indexed:
        return sorted(names)
    found = _scan_list_names(ddb_client, table)
    ddb.batch_write(ddb_client, table, [{"PK": keys.LISTS, "SK": keys.list_pk(n), "name": n} for n in found]
                    + [{"PK": keys.LISTS, "SK": keys.LISTS_INDEXED, "at": now_iso()}])
    return sorted(set(names) | set(found))


def _scan_list_names(ddb_client, table: str) -> list[str]:
    names, kwargs = [], {"TableName": table, "FilterExpression": "SK = :meta AND begins_with(PK, :list)",
                         "ExpressionAttributeValues": {":meta": {"S": keys.META}, ":list": {"S": keys.LIST}},
                         "ProjectionExpression": "PK", "ConsistentRead": True}
    while True:
        page = ddb_client.scan(**kwargs)
        names += [keys.after(keys.LIST, item["PK"]["S"]) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return names
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def count_by_status(ddb_client, table: str, list_name: str) -> dict[str, int]:
    """{status: count} for every status (zeros included), counted from the items themselves (reads the list:
    `recount` and an interrupted import's message; pages read `list_counts`)."""
    counts = dict.fromkeys(STATUSES, 0)
    for item in ddb.query(ddb_client, table, keys.list_pk(list_name), keys.SUB, projection="status",
                          consistent=True):
        status = item.get("status", SUBSCRIBED)
        counts[status] = counts.get(status, 0) + 1
    return counts


# --- counts by status ----------------------------------------------------------------------------

def count_shard(sid: str) -> int:
    return zlib.crc32(sid.encode()) % COUNT_SHARDS


def count_update(table: str, list_name: str, shard: int, deltas: dict[str, int]) -> dict:
    """The transaction Update that adds `deltas` ({status: ±n}) to one counts shard (and counts the write)."""
    deltas = {k: v for k, v in deltas.items() if v}
    names = {"#n": CHANGES, **{f"#c{i}": k for i, k in enumerate(deltas)}}
    values = {":one": {"N": "1"}, **{f":c{i}": {"N": str(v)} for i, v in enumerate(deltas.values())}}
    return {"TableName": table, "Key": ddb.key(*keys.list_counts_key(list_name, shard)),
            "UpdateExpression": "ADD " + ", ".join(["#n :one"] + [f"#c{i} :c{i}" for i in range(len(deltas))]),
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def _sum_shards(found: dict, list_name: str) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for shard in range(COUNT_SHARDS):
        for status, n in (found.get(keys.list_counts_key(list_name, shard)) or {}).items():
            if status not in ("PK", "SK", CHANGES):
                counts[status] = counts.get(status, 0) + int(n)
    return counts


def list_states(ddb_client, table: str, names: list[str]) -> dict[str, tuple[dict, dict[str, int]]]:
    """{list: (META, {status: count})} for the lists that exist, in one batch read whatever their size (a
    list whose counts were never kept is recounted first, once)."""
    wanted = [(keys.list_pk(n), keys.META) for n in names]
    wanted += [keys.list_counts_key(n, shard) for n in names for shard in range(COUNT_SHARDS)]
    found = ddb.batch_get(ddb_client, table, wanted) if names else {}
    states = {}
    for name in names:
        meta = found.get((keys.list_pk(name), keys.META))
        if meta is None:
            continue
        counts = _sum_shards(found, name) if meta.get(COUNTED) else recount(ddb_client, table, name)
        states[name] = (meta, counts)
    return states


def list_counts(ddb_client, table: str, list_name: str) -> dict[str, int]:
    """{status: count}, zeros included (a list that does not exist counts nothing)."""
    state = list_states(ddb_client, table, [list_name]).get(list_name)
    return state[1] if state else dict.fromkeys(STATUSES, 0)


def recount(ddb_client, table: str, list_name: str) -> dict[str, int]:
    """Counts the list's items and repairs its counts to match (the difference added to shard 0); returns the
    counts. Optimistic: the correction is written only if no shard moved since it was read before counting (a
    change made meanwhile moves one in its own transaction), else it reads again."""
    for attempt in range(ATTEMPTS):
        shard_keys = [keys.list_counts_key(list_name, shard) for shard in range(COUNT_SHARDS)]
        found = ddb.batch_get(ddb_client, table, shard_keys)
        kept = _sum_shards(found, list_name)
        counted = count_by_status(ddb_client, table, list_name)
        deltas = {s: counted.get(s, 0) - kept.get(s, 0) for s in set(counted) | set(kept)}
        actions = []
        for shard, key in enumerate(shard_keys):
            seen = (found.get(key) or {}).get(CHANGES)
            condition = ({"ConditionExpression": "attribute_not_exists(#n)"} if seen is None else
                         {"ConditionExpression": "#n = :seen",
                          "ExpressionAttributeValues": {":seen": {"N": str(seen)}}})
            if shard == 0:
                update = count_update(table, list_name, 0, deltas)
                update["ConditionExpression"] = condition["ConditionExpression"]
                update["ExpressionAttributeValues"].update(condition.get("ExpressionAttributeValues", {}))
                actions.append({"Update": update})
            else:  # an Update adding nothing, not a ConditionCheck: the functions' roles allow UpdateItem
                values = {":zero": {"N": "0"}, **condition.get("ExpressionAttributeValues", {})}
                actions.append({"Update": {"TableName": table, "Key": ddb.key(*key), "UpdateExpression": "ADD #n :zero",
                                           "ConditionExpression": condition["ConditionExpression"],
                                           "ExpressionAttributeNames": {"#n": CHANGES},
                                           "ExpressionAttributeValues": values}})
        actions.append({"Update": {"TableName": table, "Key": ddb.key(keys.list_pk(list_name), keys.META),
                                   "UpdateExpression": "SET #c = :t", "ConditionExpression": "attribute_exists(PK)",
                                   "ExpressionAttributeNames": {"#c": COUNTED},
                                   "ExpressionAttributeValues": {":t": {"BOOL": True}}}})
        try:
            ddb_client.transact_write_items(TransactItems=actions)
        except ddb_client.exceptions.TransactionCanceledException as exc:
            reasons = _reasons(exc)
            if reasons and reasons[-1] == "ConditionalCheckFailed":  # the list has no META: nothing to keep
                return {s: n for s, n in counted.items()}
            ddb._backoff(attempt)
            continue
        if any(deltas.values()):
            log.warning("list %s: counts repaired by %s", list_name, {s: d for s, d in deltas.items() if d})
        return counted
    raise Contention(f"liste « {list_name} » : les effectifs n’ont pas pu être recomptés (écritures en cours)")


def _reasons(exc) -> list[str]:
    return [r.get("Code") or "None" for r in exc.response.get("CancellationReasons") or ()]


def _transact(ddb_client, actions: list[dict]) -> list[str]:
    """Writes `actions` in one transaction; [] when written, else the cancellation reasons (a conflict or
    throttling is tried again first, with backoff; Contention when it lasts)."""
    for attempt in range(ATTEMPTS):
        try:
            ddb_client.transact_write_items(TransactItems=actions)
            return []
        except ddb_client.exceptions.TransactionCanceledException as exc:
            reasons = _reasons(exc)
            if "ConditionalCheckFailed" in reasons:
                return reasons
            if reasons and not set(reasons) & _RETRY_REASONS:
                raise
        except ddb_client.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in ("ThrottlingException", "ProvisionedThroughputExceededException",
                            "TransactionInProgressException", "RequestLimitExceeded"):
                raise
        ddb._backoff(attempt)
    raise Contention("DynamoDB a refusé l’écriture (conflits ou limitation de débit) après plusieurs essais")


# --- subscribers ---------------------------------------------------------------------------------

def iter_subscribers(ddb_client, table: str, list_name: str):
    """Every subscriber of a list, page after page (a paginated Query)."""
    for item in ddb.query(ddb_client, table, keys.list_pk(list_name), keys.SUB):
        yield Subscriber.from_item(item)


def contacts(ddb_client, table: str, list_name: str) -> dict[str, Subscriber]:
    """sid → the subscriber's address, names and status only (no attributes, consent or history): what a
    page of people shows, a fraction of the bytes to page through and decode."""
    found = ddb.query(ddb_client, table, keys.list_pk(list_name), keys.SUB,
                      projection="PK, SK, email, first_name, last_name, status")
    return {s.sid: s for s in map(Subscriber.from_item, found)}


def subscriber_ids(ddb_client, table: str, list_name: str):
    """The ids of a list's subscribers only: what the fan-out needs, a fraction of the bytes to page through."""
    for item in ddb.query(ddb_client, table, keys.list_pk(list_name), keys.SUB, projection="SK"):
        yield keys.after(keys.SUB, item["SK"])


def get_subscriber(ddb_client, table: str, list_name: str, sid: str) -> Subscriber | None:
    item = ddb.get(ddb_client, table, *keys.subscriber_key(list_name, sid))
    return Subscriber.from_item(item) if item else None


def _status_condition(old: str | None) -> tuple[str, dict]:
    """The condition that the item still has the status read (`None`: an item without one, read as subscribed)."""
    if old is None:
        return "attribute_exists(PK) AND attribute_not_exists(#s)", {}
    return "attribute_exists(PK) AND #s = :old", {":old": {"S": old}}


def set_status(ddb_client, table: str, list_name: str, sid: str, status: str, reason: str = "", *,
               only_from: tuple[str, ...] | None = None) -> bool:
    """Changes a subscriber's status, keeping the time and a history of changes, and moves the list's counts
    in the same transaction (conditional on the status read: a concurrent change is read again, never undone).

    Returns False when the subscriber is not in the list, already has that status, or (with `only_from`) has
    a status not in it.
    """
    if status not in STATUSES:
        raise ValueError(f"statut inconnu : {status}")
    for _ in range(ATTEMPTS):
        item = ddb.get(ddb_client, table, *keys.subscriber_key(list_name, sid), projection="PK, status")
        if item is None:
            return False
        old = item.get("status")
        current = old or SUBSCRIBED
        if current == status or (only_from is not None and current not in only_from):
            return False
        stamp = now_iso()
        condition, values = _status_condition(old)
        change = {"status": status, "at": stamp, "reason": reason}
        update = {"TableName": table, "Key": ddb.key(*keys.subscriber_key(list_name, sid)),
                  "UpdateExpression": "SET #s = :s, status_at = :t, status_reason = :r, "
                                      "history = list_append(if_not_exists(history, :empty), :change)",
                  "ConditionExpression": condition, "ExpressionAttributeNames": {"#s": "status"},
                  "ExpressionAttributeValues": {":s": {"S": status}, ":t": {"S": stamp}, ":r": {"S": reason},
                                                ":empty": {"L": []}, ":change": ddb.to_value([change]), **values}}
        counts = count_update(table, list_name, count_shard(sid), {current: -1, status: 1})
        if not _transact(ddb_client, [{"Update": update}, {"Update": counts}]):
            log.info("subscriber %s of list %s: %s (%s)", sid, list_name, status, reason)
            return True
    raise Contention(f"liste « {list_name} » : le statut change sans cesse, réessayez")


def remove(ddb_client, table: str, list_name: str, sid: str) -> dict | None:
    """Deletes a subscriber from a list with its membership entry, the list's counts moved in the same
    transaction; returns what the item held (None when there was none: the membership entry is deleted all
    the same)."""
    for _ in range(ATTEMPTS):
        old = ddb.get(ddb_client, table, *keys.subscriber_key(list_name, sid))
        member = {"Delete": {"TableName": table, "Key": ddb.key(keys.member_pk(sid), keys.list_pk(list_name))}}
        if old is None:
            ddb_client.delete_item(**member["Delete"])
            return None
        condition, values = _status_condition(old.get("status"))
        delete = {"TableName": table, "Key": ddb.key(*keys.subscriber_key(list_name, sid)),
                  "ConditionExpression": condition, "ExpressionAttributeNames": {"#s": "status"},
                  **({"ExpressionAttributeValues": values} if values else {})}
        counts = count_update(table, list_name, count_shard(sid), {old.get("status") or SUBSCRIBED: -1})
        if not _transact(ddb_client, [{"Delete": delete}, member, {"Update": counts}]):
            return old
    raise Contention(f"liste « {list_name} » : l’abonné change sans cesse, réessayez")


TRANSACTION_ITEMS = 100  # DynamoDB's most actions in one transaction
TRANSACTION_BYTES = 4_000_000  # and most bytes


def add_new(ddb_client, table: str, list_name: str, items: list[dict], *, shard: int = 0) -> list[str]:
    """Puts new subscribers (items of `Subscriber.to_item`, at most 49, under 4 MB with their membership
    entries) with their membership entries, and adds them to the list's counts (shard `shard`), all in one
    transaction; a subscriber that exists already is left as it is, not counted again. Returns the sids left
    out that way (a concurrent import, a retried write that had succeeded)."""
    pending, present = list(items), []
    while pending:
        actions = []
        for item in pending:
            actions.append({"Put": {"TableName": table, "Item": ddb.to_item(item),
                                    "ConditionExpression": "attribute_not_exists(PK)"}})
            actions.append({"Put": {"TableName": table,
                                    "Item": ddb.to_item(membership_item(list_name, item["sid"]))}})
        deltas: dict[str, int] = {}
        for item in pending:
            deltas[item.get("status") or SUBSCRIBED] = deltas.get(item.get("status") or SUBSCRIBED, 0) + 1
        actions.append({"Update": count_update(table, list_name, shard, deltas)})
        reasons = _transact(ddb_client, actions)
        if not reasons:
            return present
        there = {i // 2 for i, code in enumerate(reasons[:2 * len(pending)]) if code == "ConditionalCheckFailed"}
        if not there:
            raise Contention(f"liste « {list_name} » : écriture refusée ({', '.join(reasons)})")
        present += [item["sid"] for i, item in enumerate(pending) if i in there]
        pending = [item for i, item in enumerate(pending) if i not in there]
    return present


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
