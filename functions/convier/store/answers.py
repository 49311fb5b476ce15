"""Answers in the table (`CAMPAIGN#{id} / RSVP#{sid}`) and the capacity counters on the campaign's small
`COUNTERS` item (never on META).

Every change is one write conditioned on the version read; with a capacity, the answer and the counters move
in one transaction whose conditions keep `confirmed <= capacity` and the waiting list first come, first served.
A transaction cancelled for a conflict (another answer at the same moment) or throttling is read again and
retried by the caller, never an error page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from convier.domain.answers import CONFIRMED, PROMOTED, WAITING, Rsvp
from convier.domain.retention import expires_at
from convier.store import ddb, keys
from convier.store.records import RETRY_REASONS, Campaign, retry_throttled


def rsvp_item(r: Rsvp) -> dict:
    return {"PK": keys.campaign_pk(r.campaign_id), "SK": keys.rsvp_sk(r.sid), "sid": r.sid,
            "answer": r.answer, "at": r.at, "place": r.place, "waiting_since": r.waiting_since,
            "history": list(r.history), "version": r.version, "promotions": r.promotions}

def rsvp_from_item(item: dict) -> Rsvp:
    return Rsvp(campaign_id=keys.after(keys.CAMPAIGN, item["PK"]),
                sid=item.get("sid") or keys.after(keys.RSVP, item["SK"]),
                answer=item.get("answer", ""), at=item.get("at", ""), place=item.get("place", ""),
                waiting_since=item.get("waiting_since", ""), history=tuple(item.get("history") or ()),
                version=int(item.get("version", 1)),
                promotions=int(item["promotions"]) if "promotions" in item else  # older items: their history
                sum(1 for h in item.get("history") or () if h.get("note") == PROMOTED))


def get_rsvp(dynamo, table: str, campaign_id: str, sid: str, *, with_position: bool = False) -> Rsvp:
    item = ddb.get(dynamo, table, keys.campaign_pk(campaign_id), keys.rsvp_sk(sid))
    rsvp = rsvp_from_item(item) if item else Rsvp(campaign_id=campaign_id, sid=sid)
    if with_position and rsvp.place == WAITING:
        queue = [r.sid for r in waiting_list(dynamo, table, campaign_id)]
        rsvp = replace(rsvp, position=queue.index(sid) + 1 if sid in queue else None)
    return rsvp


def all_rsvps(dynamo, table: str, campaign_id: str) -> dict[str, Rsvp]:
    """sid → answer, waiting positions filled in."""
    found = {item["sid"]: rsvp_from_item(item) for item in
             ddb.query(dynamo, table, keys.campaign_pk(campaign_id), keys.RSVP, consistent=True)}
    queue = sorted((r for r in found.values() if r.place == WAITING), key=lambda r: (r.waiting_since, r.sid))
    for rank, r in enumerate(queue, 1):
        found[r.sid] = replace(r, position=rank)
    return found


def waiting_list(dynamo, table: str, campaign_id: str) -> list[Rsvp]:
    """The waiting list, first come first served (time of the "yes", then id)."""
    return sorted((r for r in all_rsvps(dynamo, table, campaign_id).values() if r.place == WAITING),
                  key=lambda r: r.position or 0)


def counters(dynamo, table: str, campaign_id: str) -> tuple[int, int]:
    meta = ddb.get(dynamo, table, *keys.counters_key(campaign_id), projection="confirmed, waiting") or {}
    return int(meta.get("confirmed") or 0), int(meta.get("waiting") or 0)


def _version_condition(old: Rsvp) -> dict:
    if old.version == 0:
        return {"ConditionExpression": "attribute_not_exists(SK)"}
    return {"ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":v": {"N": str(old.version)}}}


def _counter_update(table: str, campaign: Campaign, confirmed: int, waiting: int) -> dict:
    update = {"TableName": table, "Key": ddb.key(*keys.counters_key(campaign.id)),
              "UpdateExpression": "ADD confirmed :dc, waiting :dw",
              "ExpressionAttributeValues": {":dc": {"N": str(confirmed)}, ":dw": {"N": str(waiting)}}}
    if confirmed > 0:  # taking a place: only while one is free
        update["ConditionExpression"] = "attribute_not_exists(confirmed) OR confirmed < :cap"
        update["ExpressionAttributeValues"][":cap"] = {"N": str(campaign.capacity)}
    return update


def write_answer(dynamo, table: str, campaign: Campaign, old: Rsvp, new: Rsvp, *,
           queue_first: bool = True) -> str:
    """'ok', 'conflict' (the item changed since read) or 'full' (no place left). The item carries its TTL
    when the campaign has a retention (domain.retention)."""
    item = rsvp_item(new)
    expires = expires_at(campaign.event, campaign.retention_days, dt.datetime.now(dt.UTC))
    if expires:
        item[keys.EXPIRES] = expires
    put = {"TableName": table, "Item": ddb.to_item(item), **_version_condition(old)}
    d_confirmed = (new.place == CONFIRMED) - (old.place == CONFIRMED)
    d_waiting = (new.place == WAITING) - (old.place == WAITING)
    if not campaign.capacity or not (d_confirmed or d_waiting):
        try:
            retry_throttled(lambda: dynamo.put_item(**put))
            return "ok"
        except dynamo.exceptions.ConditionalCheckFailedException:
            return "conflict"
    update = _counter_update(table, campaign, d_confirmed, d_waiting)
    if d_confirmed > 0 and queue_first:  # nobody jumps the waiting list
        update["ConditionExpression"] = (f"({update['ConditionExpression']}) AND "
                                         "(attribute_not_exists(waiting) OR waiting <= :zero)")
        update["ExpressionAttributeValues"][":zero"] = {"N": "0"}
    try:
        retry_throttled(lambda: dynamo.transact_write_items(TransactItems=[{"Put": put}, {"Update": update}]))
        return "ok"
    except dynamo.exceptions.TransactionCanceledException as exc:
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or ()]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return "conflict"
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            return "full"
        if not reasons or set(reasons) & RETRY_REASONS:  # another answer (or none given): read again, decide
            ddb._backoff(0)
            return "conflict"
        raise


def delete_answer(dynamo, table: str, campaign: Campaign, old: Rsvp) -> bool:
    """Erasure of an answer read as `old`: the item deleted with its place in the counters (one transaction
    with a capacity); False when the answer changed since it was read (read again and retry)."""
    delete = {"TableName": table, "Key": ddb.key(keys.campaign_pk(old.campaign_id), keys.rsvp_sk(old.sid)),
              **_version_condition(old)}
    d_confirmed, d_waiting = -(old.place == CONFIRMED), -(old.place == WAITING)
    try:
        if campaign.capacity and (d_confirmed or d_waiting):
            update = _counter_update(table, campaign, d_confirmed, d_waiting)
            dynamo.transact_write_items(TransactItems=[{"Delete": delete}, {"Update": update}])
        else:
            dynamo.delete_item(**delete)
        return True
    except (dynamo.exceptions.ConditionalCheckFailedException, dynamo.exceptions.TransactionCanceledException):
        return False
