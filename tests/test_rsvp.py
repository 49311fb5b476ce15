"""Answers with a capacity: the waiting list, places freed by a "no", simultaneous answers, the counts."""

from __future__ import annotations

import threading

import pytest

from convier.handlers import web
from convier.services import rsvp
from convier.store import records, subscribers
from motokit import running_moto
from webkit import event, form, links_of, messages, people, sent_campaign


# moto's TransactWriteItems is not atomic across threads: a cancelled transaction restores a copy of the
# table taken when it began, erasing what other requests wrote meanwhile. DynamoDB makes each transaction
# atomic; to test our side of it, this module's server handles one request at a time (threaded=False).
# The clients' read-decide-write cycles still interleave for real: conditions fail and are retried.
@pytest.fixture(scope="module")
def moto_server():
    """Overrides conftest's for this module: a moto server that serves one request at a time."""
    with running_moto(threaded=False) as url:
        yield url


def answer(settings, token, value):
    response = web.handle(form({"answer": value}, event("web-rsvp-post.json", token)), None, *settings)
    assert response["statusCode"] == 200, response
    return response["body"]


def test_capacity_5_with_8_yes_gives_5_confirmed_3_waiting_and_a_no_moves_the_first_in(cli, settings, tmp_path):
    s, c = settings
    campaign_id = sent_campaign(cli, tmp_path, people(8), campaign_yaml="capacity: 5\n")
    tokens = sorted(links_of(m)["token"] for m in messages(settings, campaign_id).values())
    bodies = [answer(settings, t, "yes") for t in tokens]
    assert all("Votre réponse est enregistrée" in b for b in bodies[:5])
    assert all("liste d’attente" in b for b in bodies[5:])
    assert "position 1" in bodies[5] and "position 3" in bodies[7]
    found = rsvp.all_rsvps(c.dynamodb, s.table, campaign_id)
    assert sum(r.place == rsvp.CONFIRMED for r in found.values()) == 5
    waiting = rsvp.waiting_list(c.dynamodb, s.table, campaign_id)
    assert len(waiting) == 3 and [r.position for r in waiting] == [1, 2, 3]
    assert rsvp.counters(c.dynamodb, s.table, campaign_id) == (5, 3)
    first_waiting = waiting[0].sid
    # status shows the counts
    out = cli("campaign", "status", campaign_id).out
    assert "Réponses : je participe" in out and "liste d’attente" in out and "5 / 5" in out
    # a "no" from a confirmed one frees a place: the first of the waiting list moves in
    answer(settings, tokens[0], "no")
    found = rsvp.all_rsvps(c.dynamodb, s.table, campaign_id)
    promoted = found[first_waiting]
    assert promoted.place == rsvp.CONFIRMED and promoted.history[-1]["note"] == "place libérée"
    assert sum(r.place == rsvp.CONFIRMED for r in found.values()) == 5
    assert [r.position for r in rsvp.waiting_list(c.dynamodb, s.table, campaign_id)] == [1, 2]
    assert rsvp.counters(c.dynamodb, s.table, campaign_id) == (5, 2)
    counts = rsvp.rsvp_counts(c, s, campaign_id)
    assert counts == {"yes": 5, "no": 1, "maybe": 0, "waiting": 2, "none": 0}
    # a waiting one who says "yes" again keeps the place in the queue
    second = rsvp.waiting_list(c.dynamodb, s.table, campaign_id)[0]
    token = next(t for t in tokens if rsvp.read_token(t, c.keys.link_keys)[1] == second.sid)
    assert "position 1" in answer(settings, token, "yes")
    export = cli("rsvps", "export", campaign_id).out
    assert export.count("confirmée") == 5 and export.count("liste d’attente") == 2


def test_simultaneous_yes_never_exceed_capacity(cli, settings, tmp_path):
    s, c = settings
    campaign_id = sent_campaign(cli, tmp_path, people(8), campaign_yaml="capacity: 3\n")
    campaign = records.load_campaign(c.dynamodb, s.table, campaign_id)
    sids = list(messages(settings, campaign_id))
    start = threading.Barrier(len(sids))
    errors = []

    def say_yes(sid):
        from convier.settings import Clients

        own = Clients(s)  # one client per thread, as separate Lambda instances would have
        start.wait()
        try:
            rsvp.record_answer(own.dynamodb, s.table, campaign, sid, "yes")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=say_yes, args=(sid,)) for sid in sids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    found = rsvp.all_rsvps(c.dynamodb, s.table, campaign_id)
    assert sum(r.place == rsvp.CONFIRMED for r in found.values()) == 3
    assert sum(r.place == rsvp.WAITING for r in found.values()) == 5
    assert rsvp.counters(c.dynamodb, s.table, campaign_id) == (3, 5)
    # and three simultaneous "no" from confirmed ones bring in exactly the first three waiting
    confirmed = [sid for sid, r in found.items() if r.place == rsvp.CONFIRMED]
    queue = [r.sid for r in rsvp.waiting_list(c.dynamodb, s.table, campaign_id)]
    go = threading.Barrier(3)

    def say_no(sid):
        from convier.settings import Clients

        own = Clients(s)
        go.wait()
        rsvp.record_answer(own.dynamodb, s.table, campaign, sid, "no")

    threads = [threading.Thread(target=say_no, args=(sid,)) for sid in confirmed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = rsvp.all_rsvps(c.dynamodb, s.table, campaign_id)
    assert sorted(sid for sid, r in found.items() if r.place == rsvp.CONFIRMED) == sorted(queue[:3])
    assert rsvp.counters(c.dynamodb, s.table, campaign_id) == (3, 2)


def test_without_capacity_every_yes_is_confirmed_and_counted(cli, settings, tmp_path):
    s, c = settings
    campaign_id = sent_campaign(cli, tmp_path, people(3))
    for m in messages(settings, campaign_id).values():
        assert "Votre réponse est enregistrée" in answer(settings, links_of(m)["token"], "yes")
    assert rsvp.rsvp_counts(c, s, campaign_id) == {"yes": 3, "no": 0, "maybe": 0, "waiting": 0, "none": 0}
    assert rsvp.counters(c.dynamodb, s.table, campaign_id) == (3, 0)  # the answers page's counts, no condition


class BounceAfterFirstRead:
    """A real DynamoDB client that, right after its first read of the subscriber, lets the feedback function
    record a hard bounce for them (the moment between an unsubscription's read and its write)."""

    def __init__(self, real, table: str, list_name: str, sid: str):
        self.real, self.table, self.list_name, self.sid, self.done = real, table, list_name, sid, False

    def get_item(self, **kwargs):
        found = self.real.get_item(**kwargs)
        if not self.done and kwargs["Key"]["SK"]["S"].endswith(self.sid):
            self.done = True
            subscribers.set_status(self.real, self.table, self.list_name, self.sid, subscribers.BOUNCED, "rebond")
        return found

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_an_unsubscription_never_turns_a_bounce_recorded_meanwhile_into_an_unsubscription(cli, settings, tmp_path):
    s, c = settings
    campaign_id = sent_campaign(cli, tmp_path, people(2), list_name="rebonds")
    token = links_of(next(iter(messages(settings, campaign_id).values())))["token"]
    link = rsvp.resolve_link(c.dynamodb, s.table, c.keys.link_keys, token)
    racing = BounceAfterFirstRead(c.dynamodb, s.table, "rebonds", link.sid)
    assert rsvp.unsubscribe(racing, s.table, link, reason="lien de désinscription") is False
    assert racing.done
    assert subscribers.get_subscriber(c.dynamodb, s.table, "rebonds", link.sid).status == subscribers.BOUNCED
