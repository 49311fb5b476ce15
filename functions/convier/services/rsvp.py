"""Answers to an invitation: who comes, who does not, who waits for a place.

One call per route of the web function (`answer_page`, `answer`, `calendar`, `unsubscribe_page`, `unsubscribe`),
each returning what its page needs. The item layout is store/answers.py; answers as values, domain/answers.py.

Every change of an answer is one write of the RSVP item conditioned on the version
read (last one wins, none is lost), together with the campaign's counters in one
transaction when a capacity is set: a "yes" takes a place only under the condition
`confirmed < capacity` (and nobody waiting), so two simultaneous "yes" cannot go
past it. A place freed by a "no" goes to the first of the waiting list.

On the web path: standard library, boto3 and light convier modules only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from convier.domain.answers import (  # noqa: F401
    ANSWER_FR,
    ANSWERS,
    CONFIRMED,
    MAYBE,
    NO,
    PROMOTED,
    WAITING,
    YES,
    Rsvp,
    next_answer,
)
from convier.domain.event import Event
from convier.domain.ids import read_token
from convier.domain.mime import calendar_file
from convier.store import records, subscribers
from convier.store.answers import all_rsvps, counters, delete_answer, get_rsvp, waiting_list, write_answer  # noqa: F401
from convier.store.ddb import now_iso

log = logging.getLogger("convier.web")
MAX_ATTEMPTS = 10  # optimistic retries when answers change at the same moment



RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}


class TooManyConflicts(RuntimeError):
    """The same answer kept changing under us (never expected outside a stress test)."""


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
    campaign = records.load_campaign(dynamo, table, campaign_id, parts=False)  # META holds what pages need
    if campaign is None:
        return None
    subscriber = subscribers.get_subscriber(dynamo, table, campaign.list_name, sid)
    if subscriber is None:
        return None
    return Link(token=token, campaign=campaign, subscriber=subscriber)


# --- reading -------------------------------------------------------------------------------------

# --- writing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    rsvp: Rsvp  # as recorded (with its waiting position)
    previous: Rsvp
    promoted: tuple[str, ...] = field(default=())  # sids moved from the waiting list to a place
    promotions: tuple[tuple[str, int], ...] = field(default=())  # (sid, that person's promotion number)

    @property
    def changed(self) -> bool:
        return (self.previous.answer, self.previous.place) != (self.rsvp.answer, self.rsvp.place)


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
        new = next_answer(old, answer, place, stamp)
        result = write_answer(dynamo, table, campaign, old, new)
        if result == "full":
            new = next_answer(old, answer, WAITING, stamp)
            result = write_answer(dynamo, table, campaign, old, new)
        if result == "ok":
            break
    else:
        raise TooManyConflicts(f"réponse de {sid} à {campaign.id} : trop de modifications simultanées")
    promotions: tuple[tuple[str, int], ...] = ()
    if campaign.capacity and (old.place == CONFIRMED or new.place == WAITING):
        promotions = tuple(fill_places_numbered(dynamo, table, campaign))
    promoted = tuple(who for who, _ in promotions)
    if sid in promoted or new.place == WAITING:
        new = get_rsvp(dynamo, table, campaign.id, sid, with_position=True)
    return Outcome(rsvp=new, previous=old, promoted=promoted, promotions=promotions)


def fill_places(dynamo, table: str, campaign: records.Campaign, *, limit: int = 100) -> list[str]:
    """Moves the first of the waiting list into each free place; returns their ids, in order."""
    return [sid for sid, _ in fill_places_numbered(dynamo, table, campaign, limit=limit)]


def fill_places_numbered(dynamo, table: str, campaign: records.Campaign, *,
                         limit: int = 100) -> list[tuple[str, int]]:
    """`fill_places`, each id with that person's promotion number (1 the first time they get a freed place,
    2 if they gave it back and got one again...): tell_promoted tells each promotion once."""
    promoted: list[tuple[str, int]] = []
    if not campaign.capacity or is_cancelled(campaign):
        return promoted
    for _ in range(limit):
        confirmed, waiting = counters(dynamo, table, campaign.id)
        if confirmed >= campaign.capacity or waiting <= 0:
            break
        queue = waiting_list(dynamo, table, campaign.id)
        if not queue:
            break
        head = queue[0]
        new = next_answer(head, YES, CONFIRMED, now_iso(), note=PROMOTED)
        result = write_answer(dynamo, table, campaign, head, new, queue_first=False)
        if result == "ok":
            promoted.append((head.sid, new.promotions))
    return promoted


@dataclass(frozen=True)
class Withdrawn:
    """What erasing one answer did: the record gone, the place it held given back, who got it."""

    deleted: bool = False
    freed: str = ""  # CONFIRMED or WAITING when the answer held a place or a waiting-list spot
    promoted: tuple[str, ...] = ()
    promotions: tuple[tuple[str, int], ...] = ()  # (sid, promotion number): what tell_promoted takes


def withdraw(dynamo, table: str, campaign: records.Campaign, sid: str) -> Withdrawn:
    """Erasure of an answer: the RSVP item is deleted (conditioned on the version read) together with its
    place in the counters, in one transaction; a freed place goes to the first of the waiting list."""
    for _ in range(MAX_ATTEMPTS):
        old = get_rsvp(dynamo, table, campaign.id, sid)
        if old.version == 0:
            return Withdrawn()
        if delete_answer(dynamo, table, campaign, old):
            break
    else:
        raise TooManyConflicts(f"effacement de la réponse de {sid} à {campaign.id} : trop de modifications simultanées")
    freed = old.place if campaign.capacity and old.place in (CONFIRMED, WAITING) else ""
    promotions = tuple(fill_places_numbered(dynamo, table, campaign)) if freed == CONFIRMED else ()
    return Withdrawn(deleted=True, freed=freed, promoted=tuple(who for who, _ in promotions), promotions=promotions)


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
    """`counts` over the recipients the campaign was sent to (reads every send record: exports only)."""
    sent = {sid for sid, rec in records.send_records(clients.dynamodb, settings.table, campaign_id).items()
            if rec.get("state") == records.SENT}
    return counts(clients.dynamodb, settings.table, campaign_id, sent)


PLACE_FR = {CONFIRMED: "confirmée", WAITING: "liste d’attente", "": ""}
ANSWER_CSV = {YES: "oui", NO: "non", MAYBE: "peut-être", "": ""}
EXPORT_HEAD = ["adresse électronique", "prénom", "nom", "abonnement", "réponse", "répondu le", "place",
               "position d’attente",
               "changements"]


def export_rows(dynamo, table: str, campaign: records.Campaign) -> tuple[list[str], list[list[str]]]:
    """One row per subscriber of the campaign's list: the answer (or none), then names and attributes."""
    from convier.domain.dates import sheet_moment

    found = all_rsvps(dynamo, table, campaign.id)
    subs = list(subscribers.iter_subscribers(dynamo, table, campaign.list_name))
    attributes = sorted({k for s in subs for k in s.attributes if k not in EXPORT_HEAD})
    rows = []
    for s in sorted(subs, key=lambda s: s.email.lower()):
        r = found.get(s.sid) or Rsvp(campaign_id=campaign.id, sid=s.sid)
        rows.append([s.email, s.first_name, s.last_name, subscribers.STATUS_FR.get(s.status, s.status),
                     ANSWER_CSV.get(r.answer, r.answer), sheet_moment(r.at),
                     PLACE_FR.get(r.place, r.place), str(r.position or ""), str(max(0, len(r.history) - 1)),
                     *(s.attributes.get(a, "") for a in attributes)])
    return EXPORT_HEAD + attributes, rows


# --- unsubscribing -------------------------------------------------------------------------------

def unsubscribe(dynamo, table: str, link: Link, reason: str) -> bool:
    """Out of the list at once; True when this call changed the status (only a subscribed one changes: the
    condition is in the write, so a bounce recorded meanwhile is never turned into an unsubscription)."""
    return subscribers.set_status(dynamo, table, link.campaign.list_name, link.sid, subscribers.UNSUBSCRIBED,
                                  reason=f"{reason} (campagne {link.campaign.id})",
                                  only_from=(subscribers.SUBSCRIBED,))


def resubscribe(dynamo, table: str, link: Link) -> bool:
    """Undoes an unsubscription made by the link (never a bounce or a complaint, even one recorded meanwhile)."""
    return subscribers.set_status(dynamo, table, link.campaign.list_name, link.sid, subscribers.SUBSCRIBED,
                                  reason=f"réinscription par le lien (campagne {link.campaign.id})",
                                  only_from=(subscribers.UNSUBSCRIBED,))


# --- one call per route ----------------------------------------------------------------------------

class UnknownLink(LookupError):
    """A bad, tampered or foreign token, or one whose campaign or subscriber is gone: a 404, nothing changed."""


class NotAnAnswer(ValueError):
    """The form named no answer this campaign offers: the page again, with a message, nothing changed."""

    def __init__(self, view: AnswerView):
        super().__init__("réponse absente ou inconnue")
        self.view = view


@dataclass(frozen=True)
class AnswerView:
    """What the answer page shows: the link, the recipient's current answer, and what just happened."""

    link: Link
    current: Rsvp
    outcome: Outcome | None = None
    refused: bool = False  # an answer sent to a cancelled event: nothing recorded

    @property
    def cancelled(self) -> bool:
        """The event is cancelled (services.updates.cancel_event): the page says so, with no form."""
        return is_cancelled(self.link.campaign)


def is_cancelled(campaign: records.Campaign) -> bool:
    return bool((campaign.event or {}).get("cancelled_at"))


@dataclass(frozen=True)
class UnsubscribeView:
    link: Link
    state: str  # ask (GET), done, resubscribed, unavailable (bounced or complained: nothing to offer)


def _link(clients, settings, token: str) -> Link:
    link = resolve_link(clients.dynamodb, settings.table, clients.keys.link_keys, token)
    if link is None:
        raise UnknownLink(token[:12])
    return link


def answer_page(clients, settings, token: str) -> AnswerView:
    """GET /rsvp/{token}: reads only (mail scanners follow links)."""
    link = _link(clients, settings, token)
    return AnswerView(link, get_rsvp(clients.dynamodb, settings.table, link.campaign.id, link.sid,
                                     with_position=True))


def answer(clients, settings, token: str, given: str) -> AnswerView:
    """POST /rsvp/{token}: records the answer (last one wins), places and promotions included."""
    link = _link(clients, settings, token)
    if is_cancelled(link.campaign):  # closed: the answer stays as it was, and the page says why
        return AnswerView(link, get_rsvp(clients.dynamodb, settings.table, link.campaign.id, link.sid), refused=True)
    if given not in link.campaign.answers or given not in ANSWERS:
        raise NotAnAnswer(answer_page(clients, settings, token))
    outcome = record_answer(clients.dynamodb, settings.table, link.campaign, link.sid, given)
    log.info("answer of %s to %s: %s (%s)", link.sid, link.campaign.id, given, outcome.rsvp.place or "-")
    tell_promoted(clients, settings, link.campaign, outcome.promotions)
    return AnswerView(link, outcome.rsvp, outcome)


def tell_promoted(clients, settings, campaign: records.Campaign, promoted) -> int:
    """Each guest given a freed place gets « Une place s’est libérée » at once, through the send queue.

    `promoted`: (sid, promotion number) pairs (fill_places_numbered), or sids alone (their number is read).
    The n-th promotion of a person goes to the invitation's n-th promotion campaign (records.promotion_of),
    whose claims are per subscriber: a redelivered message sends nobody twice, and a person promoted again
    after giving the place back is told again, once."""
    from convier.services.sending import message_body

    groups: dict[int, list[str]] = {}
    for entry in promoted:
        sid, number = entry if isinstance(entry, tuple) else (entry, 0)
        if not number:
            number = max(1, get_rsvp(clients.dynamodb, settings.table, campaign.id, sid).promotions)
        log.info("subscriber %s of %s: place from the waiting list (promotion %d)", sid, campaign.id, number)
        groups.setdefault(number, []).append(sid)
    told = 0
    for number, sids in sorted(groups.items()):
        try:
            promotion_id = promotion_campaign(clients, settings, campaign, number)
            clients.sqs.send_message(QueueUrl=settings.queue_url,
                                     MessageBody=message_body(promotion_id, campaign.list_name, sids))
        except Exception:  # the answer is recorded: the answers page shows the promotion with no e-mail yet
            log.exception("promotion e-mails of %s not enqueued for %s", campaign.id, sids)
            continue
        told += len(sids)
    return told


def promotion_campaign(clients, settings, invitation: records.Campaign, number: int) -> str:
    """The id of the promotion campaign for promotion `number`: the first is made with the invitation
    (services.followups.ensure_promotion); the next ones are copies of it, made once, on first need (no
    rendering here: the web function does this)."""
    first = records.promotion_of(invitation.id)
    wanted = records.promotion_of(invitation.id, number)
    if number <= 1:
        return first
    dynamo, table = clients.dynamodb, settings.table
    if records.campaign_status(dynamo, table, wanted) is None:
        records.copy_campaign(dynamo, table, first, wanted)
        if records.campaign_status(dynamo, table, wanted) is None:
            raise LookupError(f"promotion campaign {first} missing")
    return wanted


def calendar(clients, settings, token: str) -> str:
    """GET /rsvp/{token}/event.ics: the recipient's calendar file, the very one the e-mail carries."""
    link = _link(clients, settings, token)
    if not link.campaign.template.ics:
        raise UnknownLink(token[:12])
    return calendar_file(link.campaign.template, token)


def unsubscribe_page(clients, settings, token: str) -> UnsubscribeView:
    link = _link(clients, settings, token)
    status = link.subscriber.status
    return UnsubscribeView(link, "ask" if status == subscribers.SUBSCRIBED else
                           "done" if status == subscribers.UNSUBSCRIBED else "unavailable")


def unsubscribe_by_link(clients, settings, token: str, action: str = "unsubscribe", *,
                        one_click: bool = False) -> UnsubscribeView:
    """POST /unsubscribe/{token}: out of the list at once (or back in, when the link unsubscribed them).

    `action` is "unsubscribe" or "resubscribe"; `one_click` is RFC 8058's `List-Unsubscribe=One-Click`.
    """
    link = _link(clients, settings, token)
    dynamo, table, status = clients.dynamodb, settings.table, link.subscriber.status
    if one_click or action == "unsubscribe":
        how = "désinscription en un clic (RFC 8058)" if one_click else "lien de désinscription"
        if unsubscribe(dynamo, table, link, reason=how):
            log.info("subscriber %s unsubscribed%s from %s", link.sid, " (one-click)" if one_click else "",
                     link.campaign.list_name)
        elif status not in (subscribers.SUBSCRIBED, subscribers.UNSUBSCRIBED):
            return UnsubscribeView(link, "unavailable")
        return UnsubscribeView(link, "done")
    if action != "resubscribe":
        raise ValueError(f"action inconnue : {action!r}")
    if resubscribe(dynamo, table, link):
        log.info("subscriber %s resubscribed to %s", link.sid, link.campaign.list_name)
        return UnsubscribeView(link, "resubscribed")
    return UnsubscribeView(link, "resubscribed" if status == subscribers.SUBSCRIBED else "unavailable")
