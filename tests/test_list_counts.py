"""A list's counts by status are kept in the write of each change, never drift, and spare the pages reading the list.

Every path that changes a subscriber (import, re-import, staff unsubscribe, one-click link, SES hard bounce and
complaint, erasure), some of them twice (SNS and browsers repeat themselves, a transaction is retried), then the
counts kept must equal a count of the items. And the console's Listes and Vérifier et envoyer pages make the same
DynamoDB requests for a list of 5 as for a list of 300 (a product property, counted on the real client).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from consolekit import Browser
from convier.aws.resources import ensure_sender_identity
from convier.domain.ids import subscriber_id
from convier.handlers import web
from convier.handlers.console import ConsoleConfig, Hooks, handle
from convier.inputs import listfile
from convier.services import checks, feedback, lists
from convier.services.staff import open_signin
from convier.store import ddb, keys, records, subscribers
from samples import SEED
from webkit import SEED_CAMPAIGN, event, form, links_of, messages, people, sent_campaign, write_list

EVENTS = Path(__file__).resolve().parents[1] / "events"
SAMPLE_ADDRESS = "camille.durand@interieur.gouv.fr"


def kept(settings, name: str) -> dict[str, int]:
    return subscribers.list_counts(settings.clients.dynamodb, settings.settings.table, name)


def counted(settings, name: str) -> dict[str, int]:
    return subscribers.count_by_status(settings.clients.dynamodb, settings.settings.table, name)


def ses(name: str, address: str) -> feedback.Feedback:
    data = json.loads((EVENTS / f"sns-ses-{name}.json").read_text(encoding="utf-8"))
    message = data["Records"][0]["Sns"]["Message"].replace(SAMPLE_ADDRESS, address)
    return feedback.parse_notification(message)


def test_counts_follow_every_change_and_equal_the_items(cli, settings, tmp_path):
    s, c = settings
    dynamo, table, id_key = c.dynamodb, s.table, c.keys.id_key
    rows = people(6)
    campaign_id = sent_campaign(cli, tmp_path, rows)  # import of 6 into « invites », sent
    assert cli("lists", "import", "autres", write_list(tmp_path, rows[:3], "autres.csv")).code == 0
    assert kept(settings, "invites") == {"subscribed": 6, "unsubscribed": 0, "bounced": 0, "complained": 0}

    mails = messages(settings, campaign_id)
    sid = {address: subscriber_id(address, id_key) for address, _, _ in rows}
    one_click = links_of(mails[sid[rows[0][0]]])["token"]
    for _ in range(2):  # one-click, twice (a mail client retries)
        web.handle(form("List-Unsubscribe=One-Click", event("web-unsubscribe-one-click.json", one_click)),
                   None, s, c)
    for _ in range(2):  # staff unsubscribe, twice
        lists.unsubscribe_address(c, s, rows[1][0])
    for name in ("bounce-permanent", "bounce-permanent", "complaint"):  # SNS delivers at least once
        feedback.apply(dynamo, table, ses(name, rows[2][0]), id_key)  # in both lists
    feedback.apply(dynamo, table, ses("complaint", rows[3][0]), id_key)
    # a re-import: one new address, one changed name, an unsubscribed one not re-subscribed
    again = rows[:5] + [("nouveau@exemple.gouv.fr", "Nouveau", "Venu")]
    again[4] = (again[4][0], "Renommé", "Martin")
    assert cli("lists", "import", "invites", write_list(tmp_path, again, "encore.csv")).code == 0
    # a retried write that had succeeded: the subscribers are there, not counted again
    item = subscribers.get_subscriber(dynamo, table, "invites", sid[rows[5][0]]).to_item()
    assert subscribers.add_new(dynamo, table, "invites", [item], shard=3) == [sid[rows[5][0]]]
    assert cli("subscribers", "forget", rows[5][0]).code == 0
    assert cli("subscribers", "forget", rows[5][0]).code == 0  # twice: nothing more to remove

    expected = {"subscribed": 2, "unsubscribed": 2, "bounced": 0, "complained": 2}  # complaint after the bounce
    assert kept(settings, "invites") == counted(settings, "invites") == expected
    assert kept(settings, "autres") == counted(settings, "autres") == {
        "subscribed": 1, "unsubscribed": 1, "bounced": 0, "complained": 1}
    shown = {summary.name: summary.counts for summary in lists.show_lists(c, s)}
    assert shown == {"invites": expected, "autres": kept(settings, "autres")}
    assert subscribers.recount(dynamo, table, "invites") == expected and kept(settings, "invites") == expected


def test_recount_repairs_counts_that_drifted(cli, settings):
    s, c = settings
    dynamo, table = c.dynamodb, s.table
    parsed = listfile.parse(b"email\na@exemple.gouv.fr\nb@exemple.gouv.fr\nc@exemple.gouv.fr\n", "l.csv")
    lists.import_list(c, s, "l", parsed, source="test")
    dynamo.update_item(**subscribers.count_update(table, "l", 2, {"subscribed": 5, "bounced": -1}))  # a bug
    assert kept(settings, "l")["subscribed"] == 8
    result = cli("lists", "recount")
    assert result.code == 0 and "l : inscrit 3" in result.out and "inscrit -5, en échec (rebond) +1" in result.out
    assert kept(settings, "l") == counted(settings, "l") == {"subscribed": 3, "unsubscribed": 0, "bounced": 0,
                                                             "complained": 0}
    assert "effectifs exacts" in cli("lists", "recount", "l").out
    assert cli("lists", "recount", "inconnue").code != 0


def test_a_list_made_before_the_counts_is_recounted_and_indexed_at_first_reading(settings):
    s, c = settings
    dynamo, table = c.dynamodb, s.table
    subs = [subscribers.Subscriber(sid=subscriber_id(a, c.keys.id_key), email=a, list_name="ancienne",
                                   status=st) for a, st in (("a@exemple.gouv.fr", "subscribed"),
                                                            ("b@exemple.gouv.fr", "unsubscribed"))]
    ddb.batch_write(dynamo, table, [{"PK": "LIST#ancienne", "SK": "META", "name": "ancienne"}]
                    + [sub.to_item() for sub in subs])  # as an earlier version wrote it: no counts, no index
    (summary,) = lists.show_lists(c, s)
    assert summary.name == "ancienne" and summary.counts["subscribed"] == 1 and summary.counts["unsubscribed"] == 1
    assert subscribers.list_meta(dynamo, table, "ancienne")[subscribers.COUNTED] is True
    assert [i["SK"] for i in ddb.query(dynamo, table, keys.LISTS)] == [keys.LISTS_INDEXED, "LIST#ancienne"]


def test_the_audience_from_the_counts_is_the_audience_read_from_the_list(cli, settings, tmp_path):
    s, c = settings
    dynamo, table = c.dynamodb, s.table
    rows = people(5)
    assert cli("lists", "import", "invites", write_list(tmp_path, rows)).code == 0
    lists.unsubscribe_address(c, s, rows[0][0])
    subscribers.suppress(dynamo, table, rows[1][0], "bounce", id_key=c.keys.id_key)  # suppressed, still subscribed
    subscribers.suppress(dynamo, table, rows[2][0], subscribers.COMPLAINED, id_key=c.keys.id_key)
    subscribers.suppress(dynamo, table, "ailleurs@exemple.gouv.fr", subscribers.BOUNCED, id_key=c.keys.id_key)
    result = cli("campaign", "create", "--post", SEED, "--list", "invites")
    campaign = records.load_campaign(dynamo, table, result.out.strip().splitlines()[-1])
    read, _ = checks.audience_read(dynamo, table, campaign)
    assert checks.audience_of(dynamo, table, campaign)[0] == checks.audience_counted(dynamo, table, campaign) == read
    assert checks.audience_of(dynamo, table, campaign, addresses=True)[0] == read  # the sandbox's way reads the list
    assert (read.listed, read.unsubscribed, read.complained, read.suppressed, read.recipients) == (5, 1, 1, 1, 2)


# --- the pages' requests do not grow with the list ------------------------------------------------

class Requests:
    """The DynamoDB requests a client makes, by operation, and the items they return (botocore's events: moto
    pages a Query only past 1 MB, so the items read are what shows a list being read on it)."""

    def __init__(self, client):
        self.seen: Counter = Counter()
        client.meta.events.register("before-call.dynamodb.*", self._count)
        client.meta.events.register("after-call.dynamodb.*", self._items)

    def _count(self, model=None, **kwargs):
        self.seen[model.name] += 1

    def _items(self, parsed=None, **kwargs):
        parsed = parsed or {}
        self.seen["items read"] += (len(parsed.get("Items", ())) + ("Item" in parsed)
                                    + sum(len(v) for v in parsed.get("Responses", {}).values()))

    def during(self, call) -> Counter:
        self.seen.clear()
        call()
        return Counter(self.seen)


def page_requests(settings, tmp_path, requests: Requests, size: int) -> dict[str, Counter]:
    """The requests (and items read) of the Listes page and of a draft campaign's Vérifier et envoyer, for a list
    of `size`."""
    s, c = settings
    rows = [(f"agent{i:04d}@exemple.gouv.fr", f"Agent{i}", "Martin") for i in range(size)]
    lists.import_list(c, s, "invites", listfile.parse(write_list(tmp_path, rows).read_bytes(), "liste.csv"),
                      source="test")
    lists.unsubscribe_address(c, s, rows[0][0])
    subscribers.suppress(c.dynamodb, s.table, rows[1][0], subscribers.BOUNCED, id_key=c.keys.id_key)
    from convier.services import campaigns

    campaign, _ = campaigns.create_campaign(c, s, post_path=str(SEED), list_name="invites",
                                            campaign_file=str(SEED_CAMPAIGN), prepare_sender=ensure_sender_identity)
    browser = Browser(lambda ev: handle(ev, None, s, c, ConsoleConfig(secure=False),
                                        Hooks(prepare_sender=ensure_sender_identity)))
    browser.get(f"/console/connexion/{open_signin(c, s)}")
    found = {}
    for label, path in (("Listes", "/console/listes"), ("Vérifier", f"/console/campagnes/{campaign.id}/envoi")):
        answers: list = []
        found[label] = requests.during(lambda path=path, answers=answers: answers.append(browser.get(path)))
        assert answers[0].status == 200, answers[0].body[:500]
        assert f"{size - 2}" in answers[0].body.replace("\u202f", "").replace(" ", "")
    return found


def test_listes_and_verifier_pages_make_the_same_requests_for_5_or_300_subscribers(settings, tmp_path):
    s, c = settings
    requests = Requests(c.dynamodb)
    small = page_requests(settings, tmp_path, requests, 5)
    c.dynamodb.delete_table(TableName=s.table)  # a fresh table for the large list
    from convier.aws.resources import ensure_resources

    ensure_resources(s, c)
    large = page_requests(settings, tmp_path, requests, 300)
    for label, seen in large.items():
        read, read_small = seen.pop("items read"), small[label].pop("items read")
        assert seen == small[label], label  # the same requests, one by one
        assert "Scan" not in seen and sum(seen.values()) <= 10, (label, seen)
        # the same items read, but for the counts' shards that exist (a larger import spreads over more of them)
        assert read_small <= read <= read_small + subscribers.COUNT_SHARDS < 30, label


class ChangedBeforeCounting:
    """The real client, where a subscriber is unsubscribed just before the first Query (a recount has read the
    counts, not yet the list: the change is in the items it counts and in the counts it read before)."""

    def __init__(self, client, change):
        self._client, self._change = client, change

    def __getattr__(self, name):
        return getattr(self._client, name)

    def query(self, **kwargs):
        if self._change:
            self._change, change = None, self._change
            change()
        return self._client.query(**kwargs)


def test_a_recount_does_not_undo_a_change_made_while_it_counts(settings):
    s, c = settings
    dynamo, table = c.dynamodb, s.table
    parsed = listfile.parse(b"email\na@exemple.gouv.fr\nb@exemple.gouv.fr\n", "l.csv")
    lists.import_list(c, s, "l", parsed, source="test")
    dynamo.update_item(**subscribers.count_update(table, "l", 1, {"subscribed": 3}))  # to be repaired
    sid = subscriber_id("a@exemple.gouv.fr", c.keys.id_key)
    racing = ChangedBeforeCounting(dynamo, lambda: subscribers.set_status(dynamo, table, "l", sid, "unsubscribed"))
    assert subscribers.recount(racing, table, "l") == {"subscribed": 1, "unsubscribed": 1, "bounced": 0,
                                                       "complained": 0}  # not 0 and 2: counted again
    assert kept(settings, "l") == counted(settings, "l")
