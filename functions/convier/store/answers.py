"""Answers in the table (`CAMPAIGN#{id} / RSVP#{sid}`), their index by segment (`ANSWER#{segment}#{order}#{sid}`:
the console's page of 100 is one Query, whatever the audience) and the counts by segment on the campaign's
small `COUNTERS` item (never on META).

Every change is one transaction: the RSVP item conditioned on the version read, its index entry moved, the
counts moved; with a capacity, its conditions keep `confirmed <= capacity` and the waiting list first come,
first served. Answers recorded before the index existed are indexed and counted by `repair` (once).
A transaction cancelled for a conflict (another answer at the same moment) or throttling is read again and
retried by the caller, never an error page.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace

from convier.domain.answers import CONFIRMED, MAYBE, NO, PROMOTED, WAITING, Rsvp
from convier.domain.retention import expires_at
from convier.domain.segments import NONE, segment_of
from convier.store import ddb, keys, records
from convier.store.records import RETRY_REASONS, Campaign, retry_throttled

log = logging.getLogger("convier.answers")


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


# --- the answers page's index and counts ---------------------------------------------------------

COUNTED = (CONFIRMED, WAITING, MAYBE, NO)  # the segments with an answer (« sans réponse »: reached − these)
CHANGES = "changes"  # on COUNTERS: how many answer writes moved it (the repair's optimistic check)
INDEXED = "indexed"  # on COUNTERS: the ANSWER# index and the counts hold every answer (set by `repair`)
ATTEMPTS = 8


def index_sk(r: Rsvp) -> str | None:
    """The answer's entry in the index of its segment (None without an answer): the waiting list by its
    first come, first served order (as `all_rsvps` ranks it), the others by the time of the answer."""
    segment = segment_of(r.answer, r.place) if r.answer else NONE
    if segment == NONE:
        return None
    return keys.answer_sk(segment, r.waiting_since if segment == WAITING else r.at, r.sid)


def _segment_deltas(old: Rsvp, new: Rsvp | None) -> dict[str, int]:
    deltas = dict.fromkeys(COUNTED, 0)
    for r, sign in ((old, -1), (new, 1)):
        segment = segment_of(r.answer, r.place) if r is not None and r.answer else NONE
        if segment in deltas:
            deltas[segment] += sign
    return deltas


GONE = "gone"  # on an index entry its answer has left: skipped by the pages, deleted by DynamoDB's TTL


def _index_moves(table: str, old: Rsvp, new: Rsvp | None, expires: int | None) -> list[dict]:
    """The transaction actions that move the answer's index entry from `old`'s to `new`'s. The old entry
    is marked GONE (an Update, expiring now), not deleted: the web function that records answers may not
    delete (template.yaml); erasure deletes every entry the answer ever had (`_every_entry`)."""
    pk = keys.campaign_pk(old.campaign_id)
    before, after = index_sk(old), index_sk(new) if new is not None else None
    if before == after:
        return []
    moves = []
    if before:
        now = str(int(dt.datetime.now(dt.UTC).timestamp()))
        moves.append({"Update": {"TableName": table, "Key": ddb.key(pk, before),
                                 "UpdateExpression": "SET #g = :t, #e = :now",
                                 "ExpressionAttributeNames": {"#g": GONE, "#e": keys.EXPIRES},
                                 "ExpressionAttributeValues": {":t": {"BOOL": True}, ":now": {"N": now}}}})
    if after:
        entry = {"PK": pk, "SK": after, "sid": new.sid}
        if expires:
            entry[keys.EXPIRES] = expires
        moves.append({"Put": {"TableName": table, "Item": ddb.to_item(entry)}})
    return moves


def _every_entry(r: Rsvp) -> set[str]:
    """Every index entry the answer may have had (one per change in its history, and the current one)."""
    found = {keys.answer_sk(segment_of(h.get("answer", ""), h.get("place", "")), h.get("at", ""), r.sid)
             for h in r.history if h.get("answer")}
    current = index_sk(r)
    return found | ({current} if current else set())


@dataclass(frozen=True)
class AnswerCounts:
    """The page's figures, from the counters items alone (one batch read): answers by segment, the
    recipients reached (the send counters), and whether the index is complete."""

    by_segment: dict[str, int]
    reached: int
    indexed: bool

    @property
    def answered(self) -> int:
        return sum(self.by_segment.values())

    @property
    def segments(self) -> dict[str, int]:
        """Every segment of domain.segments, « sans réponse » included (reached − answered, never below 0)."""
        return {**self.by_segment, NONE: max(0, self.reached - self.answered)}


def answer_counts(dynamo, table: str, campaign_id: str) -> AnswerCounts:
    found = ddb.batch_get(dynamo, table, records.counter_keys(campaign_id))
    head = found.get(keys.counters_key(campaign_id)) or {}
    reached = sum(int(item.get(records.SENT) or 0) for key, item in found.items()
                  if key != keys.counters_key(campaign_id))
    return AnswerCounts(by_segment={s: int(head.get(s) or 0) for s in COUNTED}, reached=reached,
                        indexed=bool(head.get(INDEXED)))


def kept_counts(dynamo, table: str, campaign_id: str) -> AnswerCounts:
    """`answer_counts`, once the index is complete (answers older than it are indexed here, the first time)."""
    found = answer_counts(dynamo, table, campaign_id)
    if not found.indexed:
        repair(dynamo, table, campaign_id)
        found = answer_counts(dynamo, table, campaign_id)
    return found


def index_page(dynamo, table: str, campaign_id: str, segment: str, after: str,
               limit: int) -> tuple[list[tuple[str, str]], str]:
    """Up to `limit` (SK, sid) of one segment's index after the SK `after` ("" from the start), entries
    marked GONE left out, and where the next page starts ("" when the segment ended): one Query, another
    only if GONE ones were met (at most UNANSWERED_ROUNDS)."""
    pk, found, start = keys.campaign_pk(campaign_id), [], after
    for _ in range(UNANSWERED_ROUNDS):
        kwargs = {"TableName": table, "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
                  "ExpressionAttributeValues": {":pk": {"S": pk}, ":sk": {"S": keys.answer_prefix(segment)}},
                  "ConsistentRead": True, "Limit": limit - len(found), "ProjectionExpression": "SK, sid, #g",
                  "ExpressionAttributeNames": {"#g": GONE}}
        if start:
            kwargs["ExclusiveStartKey"] = ddb.key(pk, start)
        answer = dynamo.query(**kwargs)
        items = [ddb.from_item(i) for i in answer.get("Items", ())]
        found += [(i["SK"], i["sid"]) for i in items if not i.get(GONE)]
        if "LastEvaluatedKey" not in answer:
            return found, ""
        start = items[-1]["SK"]
        if len(found) >= limit:
            break
    return found, start


UNANSWERED_ROUNDS = 5  # send records read per « sans réponse » page: at most this many times the page size


def unanswered_page(dynamo, table: str, campaign_id: str, after: str, limit: int) -> tuple[list[tuple[str, str]], str]:
    """Up to `limit` (SK, sid) of the recipients reached (send record `sent`) who have not answered, in the
    send records' order after the SK `after`, and where the next page starts ("" at the end). Bounded: at
    most UNANSWERED_ROUNDS Queries of `limit` send records, each with one batch read of their answers; a
    page may hold fewer than `limit` when most have answered."""
    pk, found, start = keys.campaign_pk(campaign_id), [], after
    for _ in range(UNANSWERED_ROUNDS):
        kwargs = {"TableName": table, "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
                  "ExpressionAttributeValues": {":pk": {"S": pk}, ":sk": {"S": keys.SEND}},
                  "ConsistentRead": True, "Limit": limit, "ProjectionExpression": "SK, #s",
                  "ExpressionAttributeNames": {"#s": "state"}}
        if start:
            kwargs["ExclusiveStartKey"] = ddb.key(pk, start)
        answer = dynamo.query(**kwargs)
        batch = [ddb.from_item(i) for i in answer.get("Items", ())]
        sent = [(i["SK"], keys.after(keys.SEND, i["SK"])) for i in batch if i.get("state") == records.SENT]
        answered = ddb.batch_get(dynamo, table, [(pk, keys.rsvp_sk(sid)) for _, sid in sent], projection="SK")
        for sk, sid in sent:
            if (pk, keys.rsvp_sk(sid)) not in answered:
                found.append((sk, sid))
                if len(found) == limit:
                    return found, sk
        if "LastEvaluatedKey" not in answer:
            return found, ""
        start = batch[-1]["SK"]
    return found, start


def repair(dynamo, table: str, campaign_id: str) -> dict[str, int]:
    """Builds or mends the answers' index and counts from the RSVP items (answers recorded before they were
    kept, or counts gone wrong); returns the counts. Optimistic, as subscribers.recount: the counts are
    written only if no answer moved COUNTERS since it was read first, else everything is read again (an
    index entry written meanwhile by an answer is then put right)."""
    pk = keys.campaign_pk(campaign_id)
    for attempt in range(ATTEMPTS):
        head = ddb.get(dynamo, table, *keys.counters_key(campaign_id)) or {}
        items = list(ddb.query(dynamo, table, pk, keys.RSVP, consistent=True))
        rsvps = [rsvp_from_item(i) for i in items]
        expiry = {r.sid: i[keys.EXPIRES] for r, i in zip(rsvps, items, strict=True) if i.get(keys.EXPIRES)}
        index = list(ddb.query(dynamo, table, pk, keys.ANSWER, projection=f"SK, {GONE}", consistent=True))
        have = {i["SK"] for i in index if not i.get(GONE)}
        want = {sk: r for r in rsvps if (sk := index_sk(r))}
        entries = [{"PK": pk, "SK": sk, "sid": r.sid, **({keys.EXPIRES: expiry[r.sid]} if r.sid in expiry else {})}
                   for sk, r in want.items() if sk not in have]
        ddb.batch_write(dynamo, table, entries, [(pk, i["SK"]) for i in index if i["SK"] not in want])
        counted = dict.fromkeys(COUNTED, 0)
        for r in rsvps:
            segment = segment_of(r.answer, r.place) if r.answer else NONE
            if segment in counted:
                counted[segment] += 1
        deltas = {s: counted[s] - int(head.get(s) or 0) for s in COUNTED}
        update = records.counter_update(table, campaign_id, None, deltas) if any(deltas.values()) else {
            "TableName": table, "Key": ddb.key(*keys.counters_key(campaign_id)), "UpdateExpression": "",
            "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}}
        update["UpdateExpression"] = f"SET #i = :t {update['UpdateExpression']}".strip()
        update["ExpressionAttributeNames"].update({"#i": INDEXED, "#n": CHANGES})
        update["ExpressionAttributeValues"][":t"] = {"BOOL": True}
        if CHANGES in head:
            update["ConditionExpression"] = "#n = :seen"
            update["ExpressionAttributeValues"][":seen"] = {"N": str(head[CHANGES])}
        else:
            update["ConditionExpression"] = "attribute_not_exists(#n)"
        try:
            retry_throttled(lambda update=update: dynamo.update_item(**update))
        except dynamo.exceptions.ConditionalCheckFailedException:
            ddb._backoff(attempt)
            continue
        if any(deltas.values()):
            log.warning("campaign %s: answer counts repaired by %s", campaign_id,
                        {s: d for s, d in deltas.items() if d})
        return counted
    raise RuntimeError(f"campagne {campaign_id} : les réponses n’ont pas pu être recomptées (réponses en cours)")


def _version_condition(old: Rsvp) -> dict:
    if old.version == 0:
        return {"ConditionExpression": "attribute_not_exists(SK)"}
    return {"ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":v": {"N": str(old.version)}}}


def _counter_update(table: str, campaign: Campaign, deltas: dict[str, int]) -> dict:
    """The COUNTERS Update of one answer change: the segments' counts (and CHANGES, the repair's check)."""
    update = records.counter_update(table, campaign.id, None, {**deltas, CHANGES: 1})
    if campaign.capacity and deltas.get(CONFIRMED, 0) > 0:  # taking a place: only while one is free
        update["ConditionExpression"] = "attribute_not_exists(confirmed) OR confirmed < :cap"
        update["ExpressionAttributeValues"][":cap"] = {"N": str(campaign.capacity)}
    return update


def write_answer(dynamo, table: str, campaign: Campaign, old: Rsvp, new: Rsvp, *,
           queue_first: bool = True) -> str:
    """'ok', 'conflict' (the item changed since read) or 'full' (no place left). One transaction: the RSVP
    item (conditioned on the version read), its index entry moved, the counts by segment. The item and its
    entry carry their TTL when the campaign has a retention (domain.retention)."""
    item = rsvp_item(new)
    expires = expires_at(campaign.event, campaign.retention_days, dt.datetime.now(dt.UTC))
    if expires:
        item[keys.EXPIRES] = expires
    put = {"TableName": table, "Item": ddb.to_item(item), **_version_condition(old)}
    deltas = _segment_deltas(old, new)
    update = _counter_update(table, campaign, deltas)
    if campaign.capacity and deltas[CONFIRMED] > 0 and queue_first:  # nobody jumps the waiting list
        update["ConditionExpression"] = (f"({update['ConditionExpression']}) AND "
                                         "(attribute_not_exists(waiting) OR waiting <= :zero)")
        update["ExpressionAttributeValues"][":zero"] = {"N": "0"}
    actions = [{"Put": put}, *_index_moves(table, old, new, expires), {"Update": update}]
    try:
        retry_throttled(lambda: dynamo.transact_write_items(TransactItems=actions))
        return "ok"
    except dynamo.exceptions.TransactionCanceledException as exc:
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or ()]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return "conflict"
        if len(reasons) > 1 and reasons[-1] == "ConditionalCheckFailed":
            return "full"
        if not reasons or set(reasons) & RETRY_REASONS:  # another answer (or none given): read again, decide
            ddb._backoff(0)
            return "conflict"
        raise


def delete_answer(dynamo, table: str, campaign: Campaign, old: Rsvp) -> bool:
    """Erasure of an answer read as `old`: the item deleted with its index entry and its count (and place),
    in one transaction; False when the answer changed since it was read (read again and retry)."""
    delete = {"TableName": table, "Key": ddb.key(keys.campaign_pk(old.campaign_id), keys.rsvp_sk(old.sid)),
              **_version_condition(old)}
    pk = keys.campaign_pk(old.campaign_id)
    entries = [{"Delete": {"TableName": table, "Key": ddb.key(pk, sk)}} for sk in sorted(_every_entry(old))]
    actions = [{"Delete": delete}, *entries, {"Update": _counter_update(table, campaign, _segment_deltas(old, None))}]
    try:
        retry_throttled(lambda: dynamo.transact_write_items(TransactItems=actions))
        return True
    except dynamo.exceptions.TransactionCanceledException as exc:
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or ()]
        if not reasons or reasons[0] == "ConditionalCheckFailed" or set(reasons) & RETRY_REASONS:
            ddb._backoff(0)
            return False
        raise
