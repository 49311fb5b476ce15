"""The answers page reads an index and counters, not the audience: the counts kept by each answer's
transaction equal a recount after a mixed sequence (yes, change to no, maybe, the waiting list promoted,
erasure), answers recorded before the index are indexed once, and a page's DynamoDB requests and items read
are the same for 200 and 2,000 guests (counted, not timed)."""

from __future__ import annotations

from collections import Counter

import pytest

from consolekit import invitation_with_answers, local_console
from convier.domain.segments import NONE, SEGMENTS, segment_of
from convier.services import answers, rsvp
from convier.store import answers as store
from convier.store import ddb, keys, records
from motokit import running_moto
from webkit import people, sent_campaign


@pytest.fixture(scope="module")
def moto_server():
    """One request at a time (moto's transactions are not atomic across threads; see test_rsvp.py)."""
    with running_moto(threaded=False) as url:
        yield url


def recounted(settings, campaign_id: str) -> tuple[dict[str, int], set[str]]:
    """The counts by segment and the index entries the RSVP items call for, from every item."""
    s, c = settings
    found = rsvp.all_rsvps(c.dynamodb, s.table, campaign_id).values()
    counts = Counter(segment_of(r.answer, r.place) for r in found if r.answer)
    return {seg: counts.get(seg, 0) for seg in store.COUNTED}, {store.index_sk(r) for r in found if r.answer}


def kept(settings, campaign_id: str) -> tuple[dict[str, int], set[str]]:
    s, c = settings
    entries = {i["SK"] for i in ddb.query(c.dynamodb, s.table, keys.campaign_pk(campaign_id), keys.ANSWER)
               if not i.get(store.GONE)}  # an entry its answer left is marked (the web function may not delete)
    return store.answer_counts(c.dynamodb, s.table, campaign_id).by_segment, entries


@pytest.mark.parametrize("capacity", [2, 0])
def test_counts_and_index_follow_every_change_and_equal_a_recount(cli, settings, tmp_path, capacity):
    s, c = settings
    invitation = sent_campaign(cli, tmp_path, people(7), campaign_yaml=f"capacity: {capacity}\n" if capacity else "")
    campaign = records.load_campaign(c.dynamodb, s.table, invitation)
    sids = sorted(records.send_states(c.dynamodb, s.table, invitation))
    written = []  # what the answers' transactions do: the web function's role has no DeleteItem

    def note(params, **kwargs):
        written.extend(next(iter(action)) for action in params["TransactItems"])

    c.dynamodb.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", note)
    for sid in sids[:4]:
        rsvp.record_answer(c.dynamodb, s.table, campaign, sid, "yes")  # with a capacity: 2 wait
    rsvp.record_answer(c.dynamodb, s.table, campaign, sids[4], "maybe")
    rsvp.record_answer(c.dynamodb, s.table, campaign, sids[0], "no")  # a place freed: the first waiting promoted
    rsvp.record_answer(c.dynamodb, s.table, campaign, sids[4], "no")  # maybe, then no
    rsvp.record_answer(c.dynamodb, s.table, campaign, sids[5], "maybe")
    assert written and "Delete" not in written  # an entry left is marked GONE, never deleted here
    rsvp.withdraw(c.dynamodb, s.table, campaign, sids[1])  # erasure: a confirmed place given back
    rsvp.record_answer(c.dynamodb, s.table, campaign, sids[2], "yes")  # yes again: nothing moves
    c.dynamodb.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", note)
    assert kept(settings, invitation) == recounted(settings, invitation)
    entries = list(ddb.query(c.dynamodb, s.table, keys.campaign_pk(invitation), keys.ANSWER))
    assert not [e for e in entries if e["SK"].endswith(sids[1])]  # erasure: every entry it had, gone ones too
    assert any(e.get(store.GONE) for e in entries)  # the ones others left, marked
    counts = store.answer_counts(c.dynamodb, s.table, invitation)
    assert counts.by_segment == {"confirmed": 2, "waiting": 0, "maybe": 1, "no": 2}  # 2 and 3 have the places
    assert counts.segments[NONE] == 7 - 5  # reached 7, answered 5 (one erased)

    # the page: each segment from its index, in order, and the counts with « sans réponse »
    view = answers.page(c, s, invitation)
    assert view.counts == {**counts.by_segment, NONE: 2} and len(view.people) == 7  # the erased one: silent
    assert [p.segment for p in view.people] == sorted((p.segment for p in view.people), key=SEGMENTS.index)
    everyone = answers.show(c, s, invitation)
    assert {p.sid: p.segment for p in view.people} == {p.sid: p.segment for p in everyone.people}

    # counts gone wrong and an entry lost: the repair (run by `convier rsvps show`) puts them right
    c.dynamodb.update_item(TableName=s.table, Key=ddb.key(*keys.counters_key(invitation)),
                           UpdateExpression="ADD maybe :x", ExpressionAttributeValues={":x": {"N": "5"}})
    lost = sorted(kept(settings, invitation)[1])[0]
    c.dynamodb.delete_item(TableName=s.table, Key=ddb.key(keys.campaign_pk(invitation), lost))
    assert cli("rsvps", "show", invitation).code == 0
    assert kept(settings, invitation) == recounted(settings, invitation)


def test_answers_from_before_the_index_are_indexed_once_by_the_page(settings):
    s, c = settings
    invitation = invitation_with_answers(settings, 200, "avant")
    head = ddb.get(c.dynamodb, s.table, *keys.counters_key(invitation)) or {}
    assert not head.get(store.INDEXED)
    console = local_console(settings)
    page = console.get(f"/console/campagnes/{invitation}/reponses?segment=waiting")
    assert page.status == 200, page.body
    # 200 guests: 40 confirmed, 10 waiting, 20 maybe, 40 no, 90 silent (consolekit's mix)
    for label, n in (("Confirmés", 40), ("Liste d’attente", 10), ("Peut-être", 20), ("Non", 40),
                     ("Sans réponse", 90)):
        assert f"{label} ({n})" in page.body, label
    assert kept(settings, invitation) == recounted(settings, invitation)
    ranks = [int(r) for r in __import__("re").findall(r"<tr>\s*<td>(\d+)</td>", page.body)]
    assert ranks == list(range(1, 11))  # the waiting list in its order, ranked
    queue = [r.sid for r in rsvp.waiting_list(c.dynamodb, s.table, invitation)]
    view = answers.page(c, s, invitation, "waiting")
    assert [p.sid for p in view.people] == queue


class Meter:
    """DynamoDB requests and the items they returned (botocore events on the client)."""

    def __init__(self, client):
        self.calls = self.items = 0
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _after(self, parsed=None, **kwargs):
        parsed = parsed or {}
        self.calls += 1
        self.items += len(parsed.get("Items", ())) + sum(len(v) for v in parsed.get("Responses", {}).values())
        self.items += 1 if "Item" in parsed else 0


def page_reads(settings, campaign_id: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(requests, items read) of each page view: every segment and everyone, the first page and the next."""
    import re

    s, c = settings
    console = local_console(settings)
    meter = Meter(c.dynamodb)
    found = {}
    for segment in ("",) + SEGMENTS:
        path = f"/console/campagnes/{campaign_id}/reponses" + (f"?segment={segment}" if segment else "")
        for which in ("première", "suivante"):
            meter.calls = meter.items = 0
            answer = console.get(path)
            assert answer.status == 200, answer.body
            found[(segment, which)] = (meter.calls, meter.items)
            following = re.search(r'href="([^"]*apres=[^"]*)">Page suivante', answer.body)
            assert following or which == "suivante", (segment, answer.body)
            path = following.group(1).replace("&amp;", "&") if following else ""
    return found


def test_a_page_reads_the_same_for_200_and_2000_guests(settings, monkeypatch):
    from convier.handlers.console import answers as answers_pages

    size = 5  # pages of 5: every segment of 200 guests has two (10 waiting); the figures scale with it
    monkeypatch.setattr(answers_pages, "PER_PAGE", size)
    small = invitation_with_answers(settings, 200, "petite")
    large = invitation_with_answers(settings, 2000, "grande")
    s, c = settings
    for campaign_id in (small, large):
        store.repair(c.dynamodb, s.table, campaign_id)  # the one-time backfill, not a page view
    few, many = page_reads(settings, small), page_reads(settings, large)
    for view, (calls, items) in many.items():
        if view[0] == NONE:  # « sans réponse » reads send records until a page of silent ones: bounded
            assert calls <= 2 * store.UNANSWERED_ROUNDS + 8 and few[view][0] <= 2 * store.UNANSWERED_ROUNDS + 8
            assert items <= (2 * store.UNANSWERED_ROUNDS + 3) * size + 10, view
        else:
            assert (calls, items) == few[view], (view, few[view], many[view])
            assert items <= 3 * size + 10, view  # the page's people (answers, names), counters, session
