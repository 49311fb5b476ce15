"""The answers to an invitation, for staff (CLI `convier rsvps ...` and the console): who is in each segment,
the waiting list in order, each person's history, the « place libérée » e-mails, and the capacity.

One call per action: `page` (the console's page: one page of one segment, read through the answers' index and
the counts, whatever the audience), `show` (everyone: `convier rsvps show` and the exports, which may read it
all), `set_capacity`. The answers themselves are written by services/rsvp.py.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace

from convier.domain.answers import PROMOTED, WAITING, Rsvp
from convier.domain.segments import NONE, SEGMENTS, segment_of
from convier.errors import InputError
from convier.services import campaigns
from convier.services.rsvp import fill_places_numbered, tell_promoted
from convier.store import answers as store
from convier.store import ddb, keys, records, subscribers
from convier.store.answers import all_rsvps, counters


@dataclass(frozen=True)
class Person:
    sid: str
    email: str
    first_name: str
    last_name: str
    status: str  # subscribed, unsubscribed, bounced... ("" when no longer in the list)
    segment: str  # domain.segments.SEGMENTS
    rsvp: Rsvp
    promoted_at: str = ""  # when a freed place was given to them ("" if never)
    told_at: str = ""  # when the « place libérée » e-mail went out ("" if not, or not yet)

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class Answers:
    campaign: records.Campaign
    people: tuple[Person, ...]  # every recipient of the invitation, by segment then name
    confirmed: int  # the capacity counter (places taken)

    def segment(self, name: str) -> list[Person]:
        found = [p for p in self.people if p.segment == name]
        if name == WAITING:
            found.sort(key=lambda p: p.rsvp.position or 0)
        return found

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(self.segment(name)) for name in SEGMENTS}

    @property
    def waiting(self) -> list[Person]:
        return self.segment(WAITING)


@dataclass(frozen=True)
class Page:
    """One page of the console's answers page: the counts (every segment), and up to a page of people."""

    campaign: records.Campaign
    counts: dict[str, int]  # domain.segments.SEGMENTS → how many (« sans réponse »: reached − answered)
    invited: int  # recipients reached (or answered, if more)
    confirmed: int  # places taken
    segment: str  # "" for everyone, segment after segment
    people: tuple[Person, ...]
    first: int  # how many come before this page
    after: str  # the next page's cursor ("" on the last page)

    @property
    def total(self) -> int:
        return sum(self.counts[s] for s in ((self.segment,) if self.segment else SEGMENTS))


class BadCursor(InputError):
    """A « page suivante » address that was not ours (or is from another segment): a 400, nothing read."""


def _cursor(segment: str, sk: str, first: int, within: int) -> str:
    text = json.dumps([segment, sk, first, within], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _read_cursor(cursor: str, order: tuple[str, ...]) -> tuple[str, str, int, int]:
    """(segment, SK after which it goes on, people before the page, people of that segment before it)."""
    if not cursor:
        return order[0], "", 0, 0
    try:
        segment, sk, first, within = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        prefix = keys.SEND if segment == NONE else keys.answer_prefix(segment)
        if segment in order and isinstance(sk, str) and sk.startswith(prefix) and min(first, within) >= 0 \
                and isinstance(first, int) and isinstance(within, int):
            return segment, sk, first, within
    except (ValueError, TypeError):
        pass
    raise BadCursor("adresse de page invalide : revenez à la première page des réponses")


def page(clients, settings, campaign_id: str, segment: str = "", after: str = "", size: int = 100) -> Page:
    """One page of an invitation's answers (a follow-up's id: its invitation's): the counts from COUNTERS and
    the send counters, then `size` people of the segment ("" = every segment in turn) from its index, their
    answers, names and « place libérée » e-mails by batch reads. Reads O(size) items, whatever the audience."""
    from convier.services.followups import invitation_of

    campaign = invitation_of(clients, settings, campaign_id)
    dynamo, table = clients.dynamodb, settings.table
    found = store.kept_counts(dynamo, table, campaign.id)
    counts = found.segments
    order = (segment,) if segment else SEGMENTS
    current, sk, first, within = _read_cursor(after, order)
    taken: list[tuple[str, str, int]] = []  # (segment, sid, rank in its segment)
    next_cursor = ""
    for name in order[order.index(current):]:
        if name != current:
            sk, within = "", 0
        if not counts[name] and name != NONE:
            continue
        want = size - len(taken)
        if name == NONE:
            rows, last = store.unanswered_page(dynamo, table, campaign.id, sk, want)
        else:
            rows, last = store.index_page(dynamo, table, campaign.id, name, sk, want)
        taken += [(name, sid, within + rank) for rank, (_, sid) in enumerate(rows, 1)]
        within += len(rows)
        if last:
            next_cursor = _cursor(name, last, first + len(taken), within)
            break
    total = sum(counts[s] for s in order)
    if next_cursor and first + len(taken) >= total:
        next_cursor = ""  # the page ended exactly with the last one
    people = _people(dynamo, table, campaign, taken)
    return Page(campaign=campaign, counts=counts, invited=max(found.reached, found.answered),
                confirmed=counts[store.CONFIRMED], segment=segment, people=tuple(people), first=first,
                after=next_cursor)


def _people(dynamo, table: str, campaign: records.Campaign, taken: list[tuple[str, str, int]]) -> list[Person]:
    """The people of a page: their answers and names in one batch read, then their « place libérée »
    e-mails (the send record of their last promotion) in another."""
    pk = keys.campaign_pk(campaign.id)
    wanted = [(pk, keys.rsvp_sk(sid)) for _, sid, _ in taken]
    wanted += [keys.subscriber_key(campaign.list_name, sid) for _, sid, _ in taken]
    items = ddb.batch_get(dynamo, table, wanted)
    rsvps = {sid: store.rsvp_from_item(items[(pk, keys.rsvp_sk(sid))]) if (pk, keys.rsvp_sk(sid)) in items
             else Rsvp(campaign_id=campaign.id, sid=sid) for _, sid, _ in taken}
    promoted = {sid: r.promotions for sid, r in rsvps.items() if r.promotions}
    sends = ddb.batch_get(dynamo, table, [keys.send_key(records.promotion_of(campaign.id, n), sid)
                                          for sid, n in promoted.items()], projection="state, sent_at")
    people = []
    for segment, sid, rank in taken:
        r = rsvps[sid]
        if segment != NONE and segment_of(r.answer, r.place) != segment:
            continue  # moved since the index was read (or gone): shown where it is now
        sub = subscribers.Subscriber.from_item(items[keys.subscriber_key(campaign.list_name, sid)]) \
            if keys.subscriber_key(campaign.list_name, sid) in items else None
        send = sends.get(keys.send_key(records.promotion_of(campaign.id, r.promotions), sid)) or {} \
            if r.promotions else {}
        people.append(_person(replace(r, position=rank) if segment == WAITING else r, sub,
                              send.get("sent_at", "") if send.get("state") == records.SENT else ""))
    return people


def _person(r: Rsvp, sub, told_at: str) -> Person:
    promoted = next((h.get("at", "") for h in reversed(r.history) if h.get("note") == PROMOTED), "")
    return Person(sid=r.sid, email=sub.email if sub else "", first_name=sub.first_name if sub else "",
                  last_name=sub.last_name if sub else "", status=sub.status if sub else "",
                  segment=segment_of(r.answer, r.place), rsvp=r, promoted_at=promoted, told_at=told_at)


def show(clients, settings, campaign_id: str, *, repair: bool = False) -> Answers:
    """Everyone, read in full: `convier rsvps show` (which also repairs the index and counts the console's
    page reads: `repair`) and the exports (a follow-up's id shows its invitation's answers)."""
    from convier.services.followups import invitation_of

    campaign = invitation_of(clients, settings, campaign_id)
    dynamo, table = clients.dynamodb, settings.table
    if repair:
        store.repair(dynamo, table, campaign.id)
    found = all_rsvps(dynamo, table, campaign.id)
    members = subscribers.contacts(dynamo, table, campaign.list_name)
    told: dict[tuple[int, str], str] = {}  # (promotion number, sid) → when its e-mail went
    for number in sorted({r.promotions for r in found.values() if r.promotions}) if campaign.capacity else ():
        told.update({(number, sid): rec.get("sent_at", "") for sid, rec in
                     records.send_records(dynamo, table, records.promotion_of(campaign.id, number)).items()
                     if rec.get("state") == records.SENT})
    people = []
    sent = {sid for sid, state in records.send_states(dynamo, table, campaign.id).items() if state == records.SENT}
    for sid in sorted(sent | set(found)):  # services.audience.invited, with the answers read once
        r = found.get(sid) or Rsvp(campaign_id=campaign.id, sid=sid)
        people.append(_person(r, members.get(sid), told.get((r.promotions, sid), "")))
    people.sort(key=lambda p: (SEGMENTS.index(p.segment), p.rsvp.position or 0, p.email.lower()))
    return Answers(campaign=campaign, people=tuple(people), confirmed=counters(dynamo, table, campaign.id)[0])


def set_capacity(clients, settings, campaign_id: str, capacity: int) -> list[str]:
    """Changes the number of places; raising it gives the new places to the waiting list in order and tells
    each person at once. Returns the promoted ids. Never takes a confirmed place away."""
    from convier.services.followups import ensure_promotion

    campaign = campaigns.require(clients, settings, campaign_id)
    if campaign.kind != records.INVITATION:
        raise InputError(f"la campagne {campaign_id} est un suivi : changez la capacité de l’invitation "
                         f"{campaign.parent}")
    if capacity < 1:
        raise InputError(f"capacité {capacity} : un nombre de places d’au moins 1 est attendu")
    dynamo, table = clients.dynamodb, settings.table
    confirmed, _ = counters(dynamo, table, campaign.id)
    if capacity < confirmed:
        raise InputError(f"capacité {capacity} : {confirmed} places sont déjà confirmées ; on ne retire pas "
                         "une place confirmée (demandez aux personnes concernées de se désinscrire)")
    dynamo.update_item(TableName=table, Key=ddb.key(*keys.campaign_key(campaign.id)),
                       UpdateExpression="SET #cap = :c, updated_at = :t",
                       ConditionExpression="attribute_exists(PK)", ExpressionAttributeNames={"#cap": "capacity"},
                       ExpressionAttributeValues={":c": {"N": str(capacity)}, ":t": {"S": records.now_iso()}})
    campaign = campaigns.require(clients, settings, campaign.id)
    ensure_promotion(clients, settings, campaign)
    promotions = fill_places_numbered(dynamo, table, campaign)
    tell_promoted(clients, settings, campaign, promotions)
    promoted = [sid for sid, _ in promotions]
    return promoted


EXPORT_HEAD = ["Segment", "Rang", "Adresse e-mail", "Prénom", "Nom", "Statut dans la liste", "Réponse",
               "Répondu le", "Place libérée le", "E-mail « place libérée » envoyé le", "Changements"]


def export_rows(view: Answers, segment: str = "") -> tuple[list[str], list[list[str]]]:
    """The answers page as a sheet (one segment, or everyone): what staff see, in the French Excel format's
    cells (Paris time). Pure: the page's `show` already read everything."""
    from convier.domain.answers import ANSWER_FR
    from convier.domain.dates import sheet_moment
    from convier.domain.segments import SEGMENT_FR
    from convier.store.subscribers import STATUS_FR

    people = view.segment(segment) if segment else view.people
    rows = [[SEGMENT_FR[p.segment], str(p.rsvp.position or "") if p.segment == WAITING else "", p.email,
             p.first_name, p.last_name, STATUS_FR.get(p.status, p.status), ANSWER_FR.get(p.rsvp.answer, ""),
             sheet_moment(p.rsvp.at), sheet_moment(p.promoted_at), sheet_moment(p.told_at),
             str(max(0, len(p.rsvp.history) - 1))] for p in people]
    return EXPORT_HEAD, rows
