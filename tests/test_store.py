"""The store's public API on a moto server over HTTP, and the paging and retry it relies on."""

from __future__ import annotations

from convier.domain.ids import subscriber_id
from convier.store import ddb, subscribers
from convier.store.subscribers import Subscriber


def add(settings, list_name, *addresses):
    s, c = settings
    subs = [Subscriber(sid=subscriber_id(a, c.keys.id_key), email=a, first_name="Anne", last_name="Petit",
                       attributes={"service": "SG"}, consent_source="test", consent_at="2026-01-01T00:00:00+00:00",
                       list_name=list_name) for a in addresses]
    subscribers.ensure_list(c.dynamodb, s.table, list_name)
    items = [sub.to_item() for sub in subs] + [subscribers.membership_item(list_name, sub.sid) for sub in subs]
    ddb.batch_write(c.dynamodb, s.table, items)
    return subs


def test_subscribers_round_trip(settings):
    s, c = settings
    [anne] = add(settings, "l", "anne.petit@a.fr")
    assert subscribers.list_exists(c.dynamodb, s.table, "l") and not subscribers.list_exists(c.dynamodb, s.table, "m")
    assert subscribers.get_subscriber(c.dynamodb, s.table, "l", anne.sid) == anne
    assert subscribers.get_subscriber(c.dynamodb, s.table, "m", anne.sid) is None
    assert list(subscribers.iter_subscribers(c.dynamodb, s.table, "l")) == [anne]
    assert subscribers.list_names(c.dynamodb, s.table) == ["l"]


class SmallPages:
    """A client whose queries return at most two items a page (moto pages only past 1 MB)."""

    def __init__(self, client):
        self.client, self.queries = client, 0

    def query(self, **kwargs):
        self.queries += 1
        return self.client.query(**{**kwargs, "Limit": 2})

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_iteration_and_counts_page_through_the_results(settings):
    s, c = settings
    add(settings, "l", *(f"p{i}@a.fr" for i in range(7)))
    paged = SmallPages(c.dynamodb)
    assert len(list(subscribers.iter_subscribers(paged, s.table, "l"))) == 7
    assert paged.queries == 4
    assert subscribers.count_by_status(paged, s.table, "l") == {"subscribed": 7, "unsubscribed": 0, "bounced": 0,
                                                         "complained": 0}


def test_set_status_keeps_the_time_and_history(settings):
    s, c = settings
    [anne] = add(settings, "l", "anne@a.fr")
    assert subscribers.set_status(c.dynamodb, s.table, "l", anne.sid, subscribers.UNSUBSCRIBED, reason="lien")
    assert not subscribers.set_status(c.dynamodb, s.table, "l", anne.sid, subscribers.UNSUBSCRIBED)  # already
    assert not subscribers.set_status(c.dynamodb, s.table, "l", "0" * 32, subscribers.UNSUBSCRIBED)  # absent
    assert subscribers.set_status(c.dynamodb, s.table, "l", anne.sid, subscribers.SUBSCRIBED, reason="formulaire")
    item = ddb.get(c.dynamodb, s.table, "LIST#l", f"SUB#{anne.sid}")
    assert [(h["status"], h["reason"]) for h in item["history"]] == [("unsubscribed", "lien"),
                                                                     ("subscribed", "formulaire")]
    assert item["status_at"] and item["status_reason"] == "formulaire"
    assert subscribers.count_by_status(c.dynamodb, s.table, "l")["subscribed"] == 1


def test_suppress_reaches_every_list(settings):
    s, c = settings
    [a1] = add(settings, "l1", "zoe@a.fr")
    add(settings, "l2", "zoe@a.fr", "yves@a.fr")
    assert not subscribers.is_suppressed(c.dynamodb, s.table, a1.sid)
    sid = subscribers.suppress(c.dynamodb, s.table, "Zoe@A.fr", subscribers.COMPLAINED, id_key=c.keys.id_key)
    assert sid == a1.sid and subscribers.is_suppressed(c.dynamodb, s.table, sid)
    assert subscribers.get_subscriber(c.dynamodb, s.table, "l1", sid).status == subscribers.COMPLAINED
    assert subscribers.get_subscriber(c.dynamodb, s.table, "l2", sid).status == subscribers.COMPLAINED
    assert subscribers.count_by_status(c.dynamodb, s.table, "l2") == {"subscribed": 1, "unsubscribed": 0, "bounced": 0,
                                                               "complained": 1}
    assert subscribers.suppressions(c.dynamodb, s.table) == {sid: subscribers.COMPLAINED}
    assert subscribers.suppress(c.dynamodb, s.table, "0" * 32, subscribers.BOUNCED) == "0" * 32  # by sid, no key needed


class Unprocessed:
    """batch_write_item leaves the last item of each call unprocessed, twice."""

    def __init__(self, client):
        self.client, self.calls, self.left = client, 0, 2

    def batch_write_item(self, RequestItems):
        self.calls += 1
        (table, requests), = RequestItems.items()
        if self.left and len(requests) > 1:
            self.left -= 1
            self.client.batch_write_item(RequestItems={table: requests[:-1]})
            return {"UnprocessedItems": {table: requests[-1:]}}
        return self.client.batch_write_item(RequestItems=RequestItems)


def test_batch_writes_retry_unprocessed_items(settings):
    s, c = settings
    flaky = Unprocessed(c.dynamodb)
    sleeps = []
    written = ddb.batch_write(flaky, s.table, [{"PK": "X", "SK": str(i)} for i in range(30)], sleep=sleeps.append)
    assert written == 30 and len(sleeps) == 2 and flaky.calls == 4  # one retry per batch of 25
    assert len(list(ddb.query(c.dynamodb, s.table, "X"))) == 30
