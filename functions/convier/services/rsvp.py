"""Answers to an invitation: who comes, who does not, who waits for a place.

Keys and the item layout: store/keys.py. `confirmed` and `waiting` counters sit on the campaign (only with a capacity).

Every change of an answer is one write of the RSVP item conditioned on the version
read (last one wins, none is lost), together with the campaign's counters in one
transaction when a capacity is set: a "yes" takes a place only under the condition
`confirmed < capacity` (and nobody waiting), so two simultaneous "yes" cannot go
past it. A place freed by a "no" goes to the first of the waiting list.

On the web path: standard library, boto3 and light convier modules only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from convier.store import ddb
from convier.store import records
from convier.store import subscribers
from convier.store.ddb import now_iso
from convier.domain.event import Event
from convier.domain.ids import read_token
from convier.store import keys

YES, NO, MAYBE = "yes", "no", "maybe"
ANSWERS = (YES, NO, MAYBE)
ANSWER_FR = {YES: "Je participe", NO: "Je ne participe pas", MAYBE: "Peut-être"}
CONFIRMED, WAITING = "confirmed", "waiting"
MAX_HISTORY = 50  # changes kept per answer
MAX_ATTEMPTS = 10  # optimistic retries when answers change at the same moment



class TooManyConflicts(RuntimeError):
    """The same answer kept changing under us (never expected outside a stress test)."""


@dataclass(frozen=True)
class Rsvp:
    campaign_id: str
    sid: str
    answer: str = ""  # yes / no / maybe; "" when the subscriber has not answered
    at: str = ""
    place: str = ""  # confirmed / waiting for a "yes"; "" otherwise
    waiting_since: str = ""
    history: tuple[dict, ...] = ()  # {answer, at, place[, note]}, oldest first
    version: int = 0  # 0: no item yet
    position: int | None = None  # rank in the waiting list (computed, not stored)

    @property
    def answered(self) -> bool:
        return bool(self.answer)

    def to_item(self) -> dict:
        return {"PK": keys.campaign_pk(self.campaign_id), "SK": keys.rsvp_sk(self.sid), "sid": self.sid,
                "answer": self.answer, "at": self.at, "place": self.place, "waiting_since": self.waiting_since,
                "history": list(self.history), "version": self.version}

    @classmethod
    def from_item(cls, item: dict) -> "Rsvp":
        return cls(campaign_id=keys.after(keys.CAMPAIGN, item["PK"]), sid=item.get("sid") or keys.after(keys.RSVP, item["SK"]),
                   answer=item.get("answer", ""), at=item.get("at", ""), place=item.get("place", ""),
                   waiting_since=item.get("waiting_since", ""), history=tuple(item.get("history") or ()),
                   version=int(item.get("version", 1)))


@dataclass(frozen=True)
class Link:
    """What a valid token leads to: the campaign and the subscriber (still in the list)."""

    token: str
    campaign: records.Campaign
    subscriber: subscribers.Subscriber

    @property
    def sid(self) -> str:
        return self.subscriber.sid

    @property
    def event(self) -> Event:
        return Event.from_record(self.campaign.event)


def resolve_link(dynamo, table: str, link_keys: tuple[bytes, ...], token: str) -> Link | None:
    """None for a bad, tampered or foreign token, an unknown campaign, or a subscriber no longer in the list."""
    if not token or len(token) > 200:
        return None
    found = read_token(token, link_keys)
    if found is None:
        return None
    campaign_id, sid = found
    campaign = records.load_campaign(dynamo, table, campaign_id)
    if campaign is None:
        return None
    subscriber = subscribers.get_subscriber(dynamo, table, campaign.list_name, sid)
    if subscriber is None:
        return None
    return Link(token=token, campaign=campaign, subscriber=subscriber)


# --- reading -------------------------------------------------------------------------------------

def get_rsvp(dynamo, table: str, campaign_id: str, sid: str, *, with_position: bool = False) -> Rsvp:
    item = ddb.get(dynamo, table, keys.campaign_pk(campaign_id), keys.rsvp_sk(sid))
    rsvp = Rsvp.from_item(item) if item else Rsvp(campaign_id=campaign_id, sid=sid)
    if with_position and rsvp.place == WAITING:
        queue = [r.sid for r in waiting_list(dynamo, table, campaign_id)]
        rsvp = replace(rsvp, position=queue.index(sid) + 1 if sid in queue else None)
    return rsvp


def all_rsvps(dynamo, table: str, campaign_id: str) -> dict[str, Rsvp]:
    """sid → answer, waiting positions filled in."""
    found = {item["sid"]: Rsvp.from_item(item) for item in
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
    meta = ddb.get(dynamo, table, *keys.campaign_key(campaign_id), projection="confirmed, waiting") or {}
    return int(meta.get("confirmed") or 0), int(meta.get("waiting") or 0)


# --- writing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    rsvp: Rsvp  # as recorded (with its waiting position)
    previous: Rsvp
    promoted: tuple[str, ...] = field(default=())  # sids moved from the waiting list to a place

    @property
    def changed(self) -> bool:
        return (self.previous.answer, self.previous.place) != (self.rsvp.answer, self.rsvp.place)


def _version_condition(old: Rsvp) -> dict:
    if old.version == 0:
        return {"ConditionExpression": "attribute_not_exists(SK)"}
    return {"ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":v": {"N": str(old.version)}}}


def _counter_update(table: str, campaign: records.Campaign, confirmed: int, waiting: int) -> dict:
    update = {"TableName": table, "Key": ddb.key(*keys.campaign_key(campaign.id)),
              "UpdateExpression": "ADD confirmed :dc, waiting :dw",
              "ExpressionAttributeValues": {":dc": {"N": str(confirmed)}, ":dw": {"N": str(waiting)}}}
    if confirmed > 0:  # taking a place: only while one is free
        update["ConditionExpression"] = "attribute_not_exists(confirmed) OR confirmed < :cap"
        update["ExpressionAttributeValues"][":cap"] = {"N": str(campaign.capacity)}
    return update


def _write(dynamo, table: str, campaign: records.Campaign, old: Rsvp, new: Rsvp, *,
           queue_first: bool = True) -> str:
    """'ok', 'conflict' (the item changed since read) or 'full' (no place left)."""
    put = {"TableName": table, "Item": ddb.to_item(new.to_item()), **_version_condition(old)}
    d_confirmed = (new.place == CONFIRMED) - (old.place == CONFIRMED)
    d_waiting = (new.place == WAITING) - (old.place == WAITING)
    if not campaign.capacity or not (d_confirmed or d_waiting):
        try:
            dynamo.put_item(**put)
            return "ok"
        except dynamo.exceptions.ConditionalCheckFailedException:
            return "conflict"
    update = _counter_update(table, campaign, d_confirmed, d_waiting)
    if d_confirmed > 0 and queue_first:  # nobody jumps the waiting list
        update["ConditionExpression"] = (f"({update['ConditionExpression']}) AND "
                                         "(attribute_not_exists(waiting) OR waiting <= :zero)")
        update["ExpressionAttributeValues"][":zero"] = {"N": "0"}
    try:
        dynamo.transact_write_items(TransactItems=[{"Put": put}, {"Update": update}])
        return "ok"
    except dynamo.exceptions.TransactionCanceledException as exc:
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or ()]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return "conflict"
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            return "full"
        if not reasons:  # a server that gives no reasons: read again and decide
            return "conflict"
        raise


def record_answer(dynamo, table: str, campaign: records.Campaign, sid: str, answer: str,
                  now: str | None = None) -> Outcome:
    """Records an answer (last one wins, every change kept with its time); returns what was recorded."""
    if answer not in campaign.answers or answer not in ANSWERS:
        raise ValueError(f"réponse inconnue : {answer!r}")
    for _ in range(MAX_ATTEMPTS):
        old = get_rsvp(dynamo, table, campaign.id, sid)
        stamp = now or now_iso()
        if answer == YES:
            place = old.place if old.place in (CONFIRMED, WAITING) else CONFIRMED
        else:
            place = ""
        new = _next(old, answer, place, stamp)
        result = _write(dynamo, table, campaign, old, new)
        if result == "full":
            new = _next(old, answer, WAITING, stamp)
            result = _write(dynamo, table, campaign, old, new)
        if result == "ok":
            break
    else:
        raise TooManyConflicts(f"réponse de {sid} à {campaign.id} : trop de modifications simultanées")
    promoted: tuple[str, ...] = ()
    if campaign.capacity and (old.place == CONFIRMED or new.place == WAITING):
        promoted = tuple(fill_places(dynamo, table, campaign))
    if sid in promoted or new.place == WAITING:
        new = get_rsvp(dynamo, table, campaign.id, sid, with_position=True)
    return Outcome(rsvp=new, previous=old, promoted=promoted)


def _next(old: Rsvp, answer: str, place: str, stamp: str, note: str = "") -> Rsvp:
    change = {"answer": answer, "at": stamp, "place": place}
    if note:
        change["note"] = note
    waiting_since = old.waiting_since if (place == WAITING and old.place == WAITING) else (
        stamp if place == WAITING else "")
    return replace(old, answer=answer, at=stamp, place=place, waiting_since=waiting_since,
                   history=(old.history + (change,))[-MAX_HISTORY:], version=old.version + 1, position=None)


def fill_places(dynamo, table: str, campaign: records.Campaign, *, limit: int = 100) -> list[str]:
    """Moves the first of the waiting list into each free place; returns their ids, in order."""
    promoted: list[str] = []
    if not campaign.capacity:
        return promoted
    for _ in range(limit):
        confirmed, waiting = counters(dynamo, table, campaign.id)
        if confirmed >= campaign.capacity or waiting <= 0:
            break
        queue = waiting_list(dynamo, table, campaign.id)
        if not queue:
            break
        head = queue[0]
        new = _next(head, YES, CONFIRMED, now_iso(), note="place libérée")
        result = _write(dynamo, table, campaign, head, new, queue_first=False)
        if result == "ok":
            promoted.append(head.sid)
    return promoted


# --- reports -------------------------------------------------------------------------------------

def counts(dynamo, table: str, campaign_id: str, recipients: set[str] | None = None) -> dict[str, int]:
    """yes (with a place), no, maybe, waiting, and none (recipients who have not answered)."""
    found = all_rsvps(dynamo, table, campaign_id)
    result = {YES: 0, NO: 0, MAYBE: 0, WAITING: 0, "none": 0}
    for r in found.values():
        if r.place == WAITING:
            result[WAITING] += 1
        elif r.answer in result:
            result[r.answer] += 1
    if recipients is not None:
        result["none"] = len(recipients - set(found))
    return result


def rsvp_counts(clients, settings, campaign_id: str) -> dict[str, int]:
    """`counts` over the recipients the campaign was sent to."""
    sent = {sid for sid, rec in records.send_records(clients.dynamodb, settings.table, campaign_id).items()
            if rec.get("state") == records.SENT}
    return counts(clients.dynamodb, settings.table, campaign_id, sent)


PLACE_FR = {CONFIRMED: "confirmée", WAITING: "liste d’attente", "": ""}
ANSWER_CSV = {YES: "oui", NO: "non", MAYBE: "peut-être", "": ""}
EXPORT_HEAD = ["email", "prénom", "nom", "abonnement", "réponse", "répondu le", "place", "position d’attente",
               "changements"]


def export_rows(dynamo, table: str, campaign: records.Campaign) -> tuple[list[str], list[list[str]]]:
    """One row per subscriber of the campaign's list: the answer (or none), then names and attributes."""
    found = all_rsvps(dynamo, table, campaign.id)
    subs = list(subscribers.iter_subscribers(dynamo, table, campaign.list_name))
    attributes = sorted({k for s in subs for k in s.attributes if k not in EXPORT_HEAD})
    rows = []
    for s in sorted(subs, key=lambda s: s.email.lower()):
        r = found.get(s.sid) or Rsvp(campaign_id=campaign.id, sid=s.sid)
        rows.append([s.email, s.first_name, s.last_name, s.status, ANSWER_CSV.get(r.answer, r.answer), r.at,
                     PLACE_FR.get(r.place, r.place), str(r.position or ""), str(max(0, len(r.history) - 1)),
                     *(s.attributes.get(a, "") for a in attributes)])
    return EXPORT_HEAD + attributes, rows


# --- unsubscribing -------------------------------------------------------------------------------

def unsubscribe(dynamo, table: str, link: Link, reason: str) -> bool:
    """Out of the list at once; True when this call changed the status (only a subscribed one changes)."""
    current = subscribers.get_subscriber(dynamo, table, link.campaign.list_name, link.sid)
    if current is None or current.status != subscribers.SUBSCRIBED:
        return False
    return subscribers.set_status(dynamo, table, link.campaign.list_name, link.sid, subscribers.UNSUBSCRIBED,
                            reason=f"{reason} (campagne {link.campaign.id})")


def resubscribe(dynamo, table: str, link: Link) -> bool:
    """Undoes an unsubscription made by the link (never a bounce or a complaint)."""
    current = subscribers.get_subscriber(dynamo, table, link.campaign.list_name, link.sid)
    if current is None or current.status != subscribers.UNSUBSCRIBED:
        return False
    return subscribers.set_status(dynamo, table, link.campaign.list_name, link.sid, subscribers.SUBSCRIBED,
                            reason=f"réinscription par le lien (campagne {link.campaign.id})")
