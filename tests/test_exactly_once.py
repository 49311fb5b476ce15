"""Exactly once against the faults AWS really has (issue 12), on a moto server with injected faults.

Each scenario ends with 0 duplicates, every recipient of the audience accounted for, and every counter
equal to a recount of the send records (`assert_exactly_once`).
"""

from __future__ import annotations

import datetime
import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError

from convier.domain.ids import subscriber_id
from convier.handlers import campaign as campaign_handler
from convier.handlers import feedback as feedback_handler
from convier.local.worker import drain
from convier.services import campaigns, feedback, rsvp
from convier.settings import Clients
from convier.store import ddb, keys, records
from test_campaigns import LATER, FaultySES, WrappedClients, assert_exactly_once, faulty_sender, prepared_campaign

EVENTS = Path(__file__).resolve().parents[1] / "events"
SAMPLE_ADDRESS = "camille.durand@interieur.gouv.fr"
AGNES = "agnes.faure@justice.gouv.fr"
CAMILLE = "camille.martin@interieur.gouv.fr"


def ses_event(name: str, settings, campaign_id: str, address: str, *, sid_tag: bool = True) -> dict:
    """events/sns-ses-NAME.json for this recipient of this campaign, tagged as convier tags its e-mails."""
    event = json.loads((EVENTS / f"sns-ses-{name}.json").read_text(encoding="utf-8"))
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"].replace(SAMPLE_ADDRESS, address))
        message["mail"]["tags"]["campaign"] = [campaign_id]
        if sid_tag:
            message["mail"]["tags"]["sid"] = [sid_of(settings, address)]
        record["Sns"]["Message"] = json.dumps(message)
    return event


def sid_of(settings, address: str) -> str:
    return subscriber_id(address, settings.clients.keys.id_key)


def record_of(settings, campaign_id: str, address: str) -> dict:
    return records.send_record(settings.clients.dynamodb, settings.settings.table, campaign_id,
                               sid_of(settings, address))


def feed(settings, event: dict) -> dict:
    return feedback_handler.handle(event, settings.settings, settings.clients)


def ses_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "SendEmail")


class AfterAcceptance(FaultySES):
    """SES accepts the message (the real call), then the answer is lost as `error` for the addresses in
    `lose`; `before_answer(address)` runs between SES accepting and the worker hearing about it."""

    def __init__(self, real, lose: dict, before_answer=None):
        super().__init__(real)
        self.lose, self.before_answer = dict(lose), before_answer

    def send_email(self, **kwargs):
        response = super().send_email(**kwargs)
        to = kwargs["Destination"]["ToAddresses"][0].lower()
        if self.before_answer:
            self.before_answer(to, kwargs)
        if to in self.lose:
            raise self.lose.pop(to)
        return response


# --- SES called once per claim --------------------------------------------------------------------

def test_the_ses_client_makes_one_attempt_whatever_the_error(settings):
    """botocore itself never resends: a 503 (or a timeout) reaches the app after one HTTP request."""
    ses = Clients(settings.settings).ses
    calls = []

    class Body:
        def stream(self, **_):
            yield b'{"message": "internal"}'

    def answer_503(request, **_):
        calls.append(request.url)
        return AWSResponse(request.url, 503, {"x-amzn-ErrorType": "InternalFailure"}, Body())

    ses.meta.events.register("before-send.sesv2.SendEmail", answer_503)
    with pytest.raises(ClientError) as caught:
        ses.send_email(FromEmailAddress="a@numerique.gouv.fr", Destination={"ToAddresses": ["b@x.fr"]},
                       Content={"Raw": {"Data": b"x"}})
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert len(calls) == 1  # the default (standard mode) would have made 3


def test_ses_5xx_after_acceptance_is_unknown_then_settled_by_the_send_event(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    ses = AfterAcceptance(settings.clients.ses, {AGNES: ses_error("InternalFailure", 500)})
    drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0)
    assert sum(ses.accepted.values()) == 13 and ses.calls == 13  # never called twice for her
    rec = record_of(settings, campaign_id, AGNES)
    assert rec["state"] == records.UNKNOWN and "InternalFailure" in rec["error"]
    st = campaigns.status(settings.clients, settings.settings, campaign_id)
    assert (st.sent, st.unknown, st.queued, st.campaign.status) == (12, 1, 0, records.DONE)

    assert feed(settings, ses_event("send", settings, campaign_id, AGNES))["outcomes"] == {"accepted": 1}
    rec = record_of(settings, campaign_id, AGNES)
    assert rec["state"] == records.SENT and rec["settled_by"] == "send" and "error" not in rec
    assert_exactly_once(settings, campaign_id, ses, expect_sent=13)
    # the same SNS event again, then its delivery twice: nothing counted twice
    feed(settings, ses_event("send", settings, campaign_id, AGNES))
    feed(settings, ses_event("delivery", settings, campaign_id, AGNES))
    feed(settings, ses_event("delivery", settings, campaign_id, AGNES))
    st = assert_exactly_once(settings, campaign_id, ses, expect_sent=13)
    assert st.counters.delivered == 1


def test_a_read_timeout_is_unknown_never_resent_and_staff_decide_after_the_settle_time(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    timeout = ReadTimeoutError(endpoint_url="https://email.eu-west-3.amazonaws.com")
    ses = AfterAcceptance(settings.clients.ses, {CAMILLE: timeout})
    drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0)
    assert ses.accepted[CAMILLE] == 1
    assert_exactly_once(settings, campaign_id, ses, expect_sent=12, expect_unknown=1)
    status = cli("campaign", "status", campaign_id)
    assert "terminée" in status.out and "retry" in status.out and "--unknown" in status.out

    # no SES event came: within the settle time, nothing is offered for a retry
    assert campaigns.plan_retry(settings.clients, settings.settings, campaign_id, unknown=True).unknown == ()
    plan = campaigns.plan_retry(settings.clients, settings.settings, campaign_id, unknown=True, now=LATER)
    assert plan.unknown == (sid_of(settings, CAMILLE),)
    report = cli("campaign", "report", campaign_id)
    row = next(line for line in report.out.splitlines() if line.startswith(CAMILLE))
    assert "inconnu" in row and "peut-être envoyé" in row

    old = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=20)).isoformat()
    settings.clients.dynamodb.update_item(  # twenty minutes later
        TableName=settings.settings.table, Key=ddb.key(*keys.send_key(campaign_id, sid_of(settings, CAMILLE))),
        UpdateExpression="SET unknown_at = :t", ExpressionAttributeValues={":t": {"S": old}})
    refused = cli("campaign", "retry", campaign_id, "--unknown")  # no terminal: the count must be given
    assert refused.code == 2 and "--yes 1" in refused.err
    wrong = cli("campaign", "retry", campaign_id, "--unknown", "--yes", "2")
    assert wrong.code == 2 and "rien n’est renvoyé" in wrong.err
    assert record_of(settings, campaign_id, CAMILLE)["state"] == records.UNKNOWN
    done = cli("campaign", "retry", campaign_id, "--unknown", "--yes", "1")
    assert done.code == 0, done.err
    rec = record_of(settings, campaign_id, CAMILLE)
    assert rec["state"] == records.SENT and rec["attempts"] == 2
    assert_exactly_once(settings, campaign_id, FaultySES(None), expect_sent=13)


def test_a_feedback_event_before_the_result_mark_is_kept(cli, settings):
    """SNS can deliver the delivery (and the send event) before the worker marks the record: the mark adds
    its fields beside the event's, and an unknown that SES had already reported sent is sent."""
    campaign_id = prepared_campaign(cli, settings)

    def events_first(address, kwargs):
        feed(settings, ses_event("delivery", settings, campaign_id, address))
        if address == AGNES:
            feed(settings, ses_event("send", settings, campaign_id, address))

    ses = AfterAcceptance(settings.clients.ses, {AGNES: ses_error("ServiceUnavailable", 503)},
                          before_answer=events_first)
    drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0)
    for address in (AGNES, CAMILLE):
        rec = record_of(settings, campaign_id, address)
        assert rec["state"] == records.SENT and rec["delivered_at"] and rec["outcome"] == "delivered"
    assert record_of(settings, campaign_id, CAMILLE)["message_id"]
    st = assert_exactly_once(settings, campaign_id, ses, expect_sent=13)
    assert st.counters.delivered == 13


# --- transactions: conflicts, throttling, real errors -------------------------------------------

class FaultyDynamo:
    """The real DynamoDB client, with faults: transactions cancelled (`cancel`: reasons per call, in
    order), counters items throttled every `throttle_every` writes."""

    def __init__(self, real, cancel=(), throttle_every: int = 0):
        self.real, self.cancel, self.throttle_every = real, list(cancel), throttle_every
        self.counter_writes = 0
        self.throttled = 0
        self.lock = threading.Lock()

    def transact_write_items(self, **kwargs):
        with self.lock:
            reasons = self.cancel.pop(0) if self.cancel else None
        if reasons:
            raise self.real.exceptions.TransactionCanceledException(
                {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                 "CancellationReasons": [{"Code": r} for r in reasons]}, "TransactWriteItems")
        return self.real.transact_write_items(**kwargs)

    def update_item(self, **kwargs):
        if kwargs["Key"]["SK"]["S"].startswith(keys.COUNTERS) and self.throttle_every:
            with self.lock:
                self.counter_writes += 1
                hit = self.counter_writes % self.throttle_every == 0
                self.throttled += hit
            if hit:
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"},
                                   "ResponseMetadata": {"HTTPStatusCode": 400}}, "UpdateItem")
        return self.real.update_item(**kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def with_dynamo(settings, dynamo) -> WrappedClients:
    clients = WrappedClients(settings.clients, settings.clients.ses)
    clients.dynamodb = dynamo
    return clients


def test_counters_item_throttled_loses_nothing(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    dynamo = FaultyDynamo(settings.clients.dynamodb, throttle_every=2)
    ses = FaultySES(settings.clients.ses)
    sender = faulty_sender(settings, ses)
    sender.clients = WrappedClients(with_dynamo(settings, dynamo), ses)
    drain(sender, campaign_id=campaign_id, retry_visibility=0)
    assert dynamo.throttled >= 1
    assert_exactly_once(settings, campaign_id, ses, expect_sent=13)


def test_feedback_transactions_retry_conflicts_and_raise_real_errors(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    ses = FaultySES(settings.clients.ses)
    drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0)
    dynamo = FaultyDynamo(settings.clients.dynamodb, cancel=[["None", "TransactionConflict"],
                                                              ["None", "ThrottlingError"]])
    fb = feedback.parse_sns_event(ses_event("delivery", settings, campaign_id, AGNES))[0]
    assert feedback.apply(dynamo, settings.settings.table, fb, settings.clients.keys.id_key)[0].counted
    assert dynamo.cancel == []  # both cancellations were tried again
    # a condition that failed because it is already recorded: a duplicate, proven by reading again
    again = feedback.apply(dynamo, settings.settings.table, fb, settings.clients.keys.id_key)[0]
    assert not again.counted
    # anything else is raised: Lambda retries the event, nothing is dropped in silence
    broken = FaultyDynamo(settings.clients.dynamodb, cancel=[["None", "ValidationError"]])
    other = feedback.parse_sns_event(ses_event("complaint", settings, campaign_id, CAMILLE))[0]
    with pytest.raises(ClientError):
        feedback.apply(broken, settings.settings.table, other, settings.clients.keys.id_key)
    assert "complained_at" not in record_of(settings, campaign_id, CAMILLE)
    feed(settings, ses_event("complaint", settings, campaign_id, CAMILLE))  # the retry
    st = assert_exactly_once(settings, campaign_id, ses, expect_sent=13)
    assert (st.counters.delivered, st.counters.complained) == (1, 1)


def test_two_simultaneous_answers_at_capacity_are_both_recorded(cli, settings):
    """A conflict on the counters item (another answer at the same moment) is retried, never an error page.

    The moment is made deterministic: the first answer's transaction meets DynamoDB's TransactionConflict
    while the second answer is being written (moto's threaded server is not atomic enough to race for real)."""
    from dataclasses import replace

    campaign_id = prepared_campaign(cli, settings)
    s, c = settings.settings, settings.clients
    campaign = replace(records.load_campaign(c.dynamodb, s.table, campaign_id, parts=False), capacity=1)
    first, second = sid_of(settings, AGNES), sid_of(settings, CAMILLE)

    class Concurrent(FaultyDynamo):
        def transact_write_items(self, **kwargs):
            if self.cancel:  # meanwhile, the other answer goes through
                self.cancel = []
                rsvp.record_answer(self.real, s.table, campaign, second, rsvp.YES)
                raise self.real.exceptions.TransactionCanceledException(
                    {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                     "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}]}, "TransactWriteItems")
            return self.real.transact_write_items(**kwargs)

    dynamo = Concurrent(c.dynamodb, cancel=[["conflict"]])
    outcome = rsvp.record_answer(dynamo, s.table, campaign, first, rsvp.YES)  # no exception: no 500
    assert outcome.rsvp.place == rsvp.WAITING and dynamo.cancel == []
    assert rsvp.get_rsvp(c.dynamodb, s.table, campaign_id, second).place == rsvp.CONFIRMED
    assert rsvp.counters(c.dynamodb, s.table, campaign_id) == (1, 1)
    counters = records.read_counters(c.dynamodb, s.table, campaign_id)
    assert (counters.confirmed, counters.waiting) == (1, 1)
    assert Counter(r.place for r in rsvp.all_rsvps(c.dynamodb, s.table, campaign_id).values()) == {
        rsvp.CONFIRMED: 1, rsvp.WAITING: 1}


# --- lifecycle ----------------------------------------------------------------------------------

def test_lifecycle_done_paused_refused_in_the_service_and_figures_add_up(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    s, c = settings.settings, settings.clients
    assert campaigns.pause(c, s, campaign_id)
    refused = campaign_handler.run({"action": "send", "campaign": campaign_id}, s, c)  # the campaign function
    assert refused["ok"] is False and "resume" in refused["error"]
    cli_refused = cli("campaign", "send", campaign_id)
    assert cli_refused.code == 2 and f"convier campaign resume {campaign_id}" in cli_refused.err
    assert records.campaign_status(c.dynamodb, s.table, campaign_id) == records.PAUSED
    assert campaigns.resume(c, s, campaign_id)
    drain(faulty_sender(settings, FaultySES(c.ses)), campaign_id=campaign_id, retry_visibility=0)
    assert records.campaign_status(c.dynamodb, s.table, campaign_id) == records.DONE  # written by the worker
    for _ in range(2):  # sending again (a second `make demo`) never inflates the figures
        assert campaigns.fan_out(c, s, campaign_id) == 0
    st = campaigns.status(c, s, campaign_id)
    assert (st.audience, st.done, st.queued, st.sent) == (13, 13, 0, 13)
    assert st.sent + st.skipped + st.failed + st.unknown + st.queued == st.audience
    status = cli("campaign", "status", campaign_id)
    assert "terminée" in status.out
    watch = cli("campaign", "status", campaign_id, "--watch", "--interval", "0.1")
    assert watch.code == 0 and "13/13" in watch.out
    listing = cli("campaign", "list")
    assert "terminée" in listing.out
    answer = campaign_handler.run({"action": "status", "campaign": campaign_id}, s, c)
    assert answer["ok"] and answer["label"] == "terminée" and answer["queued"] == 0


# --- status in constant time --------------------------------------------------------------------

def count_requests(client) -> Counter:
    """Every request the client sends from now on, by operation (botocore's event hooks)."""
    seen = Counter()
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: seen.update([model.name]))
    return seen


def seeded_campaign(settings, size: int) -> str:
    """A campaign whose `size` recipients have all been sent to, written directly with batch writes."""
    s, c = settings.settings, settings.clients
    from convier.domain.mime import MessageTemplate

    campaign_id = f"20990101-{size:06x}"
    template = MessageTemplate.from_parts(campaign_id=campaign_id, sender="É <a@numerique.gouv.fr>", subject="x",
                                          html="<p>x</p>", text="x", ics="", public_url="http://127.0.0.1")
    records.put_campaign(c.dynamodb, s.table, records.Campaign(
        id=campaign_id, list_name="invites", status=records.SENDING, template=template, audience=size))
    now = records.now_iso()
    ddb.batch_write(c.dynamodb, s.table, [
        {"PK": keys.campaign_pk(campaign_id), "SK": keys.send_sk(f"{i:032x}"), "state": records.SENT, "sent_at": now}
        for i in range(size)])
    records.add_counts(c.dynamodb, s.table, campaign_id, {"sent": size - 1}, shard=1)
    records.add_counts(c.dynamodb, s.table, campaign_id, {"sent": 1}, shard=2)
    return campaign_id


def test_status_reads_the_counters_in_a_handful_of_requests_whatever_the_size(settings):
    s = settings.settings
    figures = {}
    for size in (10, 10_000):
        campaign_id = seeded_campaign(settings, size)
        clients = Clients(s)
        campaigns.status(clients, s, campaign_id)  # the first one finds it complete: recount once, then done
        seen = count_requests(clients.dynamodb)
        st = campaigns.status(clients, s, campaign_id)
        assert (st.sent, st.queued, st.campaign.status) == (size, 0, records.DONE)
        figures[size] = sum(seen.values())
        assert "Query" not in seen and "Scan" not in seen
    assert figures[10] == figures[10_000] <= 3, figures
