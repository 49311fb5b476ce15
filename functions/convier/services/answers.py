"""The answers to an invitation, for staff (CLI `convier rsvps ...` and the console): who is in each segment,
the waiting list in order, each person's history, the « place libérée » e-mails, and the capacity.

One call per action: `show`, `set_capacity`. The answers themselves are written by services/rsvp.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from convier.domain.answers import PROMOTED, WAITING, Rsvp
from convier.domain.segments import SEGMENTS, segment_of
from convier.errors import InputError
from convier.services import campaigns
from convier.services.rsvp import fill_places_numbered, tell_promoted
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


def show(clients, settings, campaign_id: str) -> Answers:
    """Everything `convier rsvps show` and the console's answers page show (a follow-up's id shows its
    invitation's answers)."""
    from convier.services.followups import invitation_of

    campaign = invitation_of(clients, settings, campaign_id)
    dynamo, table = clients.dynamodb, settings.table
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
        sub = members.get(sid)
        promoted = next((h.get("at", "") for h in reversed(r.history) if h.get("note") == PROMOTED), "")
        people.append(Person(sid=sid, email=sub.email if sub else "", first_name=sub.first_name if sub else "",
                             last_name=sub.last_name if sub else "", status=sub.status if sub else "",
                             segment=segment_of(r.answer, r.place), rsvp=r, promoted_at=promoted,
                             told_at=told.get((r.promotions, sid), "")))
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
