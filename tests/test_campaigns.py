"""Campaigns end to end on a moto server: exactly once per recipient, every header, faults counted."""

from __future__ import annotations

import datetime
import re
import threading
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from convier.domain.ids import subscriber_id
from convier.domain.pacing import HEADROOM, Pacer, recipients_per_message, worker_ceiling, worker_rate
from convier.local.worker import drain
from convier.services import campaigns
from convier.services.sending import Sender, process_event
from convier.store import records, subscribers
from samples import LISTS, SEED
from webkit import SEED_CAMPAIGN

URL = re.compile(r"""https?://[^\s"'<>)]+""")


def import_sample_list(cli, name="invites"):
    for path in sorted(LISTS.glob("*.csv")):
        assert cli("lists", "import", name, path).code == 0


def create(cli, *extra) -> str:
    result = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN, *extra)
    assert result.code == 0, result.err
    return result.out.strip().splitlines()[-1]


def messages(outbox: Path) -> list:
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]


def test_seed_campaign_sends_13_complete_messages_once(cli, settings):
    import_sample_list(cli)
    campaign_id = create(cli)
    assert re.fullmatch(r"\d{8}-[0-9a-f]{6}", campaign_id)
    result = cli("campaign", "send", campaign_id, "--yes", "13")
    assert result.code == 0, result.err
    outbox = settings.settings.outbox / campaign_id
    sent = messages(outbox)
    assert len(sent) == 13
    addresses = {m["To"].addresses[0].addr_spec.lower() for m in sent}
    assert "francois.riviere@ecologie.gouv.fr" in addresses and len(addresses) == 13
    for msg in sent:
        to = msg["To"].addresses[0].addr_spec.lower()
        assert msg["List-Unsubscribe"].startswith("<http")
        assert "mailto:" not in msg["List-Unsubscribe"]  # no monitored mailbox configured: HTTPS only
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Message-ID"] and msg["Date"] and msg["Feedback-ID"]
        kinds = [p.get_content_type() for p in msg.walk() if not p.is_multipart()]
        assert kinds == ["text/plain", "text/html", "text/calendar"]
        everything = str(msg["List-Unsubscribe"]) + "".join(
            p.get_content() for p in msg.walk() if not p.is_multipart())
        local = to.split("@")[0]
        for url in URL.findall(everything):
            assert local not in unquote(url).lower(), url
        assert "@@" not in everything
    assert (outbox / "index.html").is_file()

    again = cli("campaign", "send", campaign_id)
    assert again.code == 0
    assert "Rien de nouveau" in again.out
    assert len(list(outbox.glob("*.eml"))) == 13
    status = campaigns.status(settings.clients, settings.settings, campaign_id)
    assert (status.sent, status.failed, status.unknown, status.queued) == (13, 0, 0, 0)


def test_a_test_send_does_not_touch_the_campaign(cli, settings):
    import_sample_list(cli)
    campaign_id = create(cli)
    result = cli("campaign", "test", campaign_id, "--to", "moi@numerique.gouv.fr")
    assert result.code == 0, result.err
    tests = list((settings.settings.outbox / campaign_id / "tests").glob("*.eml"))
    assert len(tests) == 1
    msg = message_from_bytes(tests[0].read_bytes(), policy=policy.default)
    assert msg["Subject"].startswith("[TEST] ") and msg["X-Convier-Test"] == "oui"
    status = campaigns.status(settings.clients, settings.settings, campaign_id)
    assert (status.sent, status.queued, status.audience, status.campaign.status) == (0, 0, 0, records.DRAFT)


def test_unknown_campaign_and_list_are_clear_errors(cli):
    assert cli("campaign", "send", "20990101-000000").code == 2
    bad = cli("campaign", "create", "--post", SEED, "--list", "nulle-part")
    assert bad.code == 2 and "nulle-part" in bad.err


# --- fault injection: wrappers around the real SES client -------------------------------------------


class WorkerDied(BaseException):
    """Stands for the Lambda sandbox vanishing: not an Exception, so nothing in the worker catches it."""


@dataclass
class FaultySES:
    real: object
    throttle_every: int = 0
    fail_for: frozenset = frozenset()
    die_after: str = ""
    calls: int = 0
    accepted: Counter = None

    def __post_init__(self):
        self.accepted = Counter()
        self._lock = threading.Lock()

    def send_email(self, **kwargs):
        to = kwargs["Destination"]["ToAddresses"][0].lower()
        with self._lock:
            self.calls += 1
            calls = self.calls
        if self.throttle_every and calls % self.throttle_every == 0:
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "SendEmail")
        if to in self.fail_for:
            raise ClientError({"Error": {"Code": "MessageRejected", "Message": "no"}}, "SendEmail")
        response = self.real.send_email(**kwargs)
        with self._lock:
            self.accepted[to] += 1
        if to == self.die_after:
            self.die_after = ""
            raise WorkerDied()
        return response

    def __getattr__(self, name):
        return getattr(self.real, name)


@dataclass
class WrappedClients:
    real: object
    ses: object

    def __getattr__(self, name):
        return getattr(self.real, name)


def prepared_campaign(cli, settings) -> str:
    import_sample_list(cli)
    campaign_id = create(cli)
    campaigns.fan_out(settings.clients, settings.settings, campaign_id)
    return campaign_id


def faulty_sender(settings, ses) -> Sender:
    return Sender(clients=WrappedClients(settings.clients, ses), settings=settings.settings, pacer=Pacer(1000))


LATER = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)  # every claim is old by then


def assert_exactly_once(settings, campaign_id, ses, expect_sent, expect_failed=0, expect_unknown=0, audience=13):
    """0 duplicates, every recipient accounted for, every counter equal to a recount, the campaign done."""
    assert not [a for a, n in ses.accepted.items() if n > 1], ses.accepted  # 0 duplicates
    st = campaigns.status(settings.clients, settings.settings, campaign_id, now=LATER)
    assert (st.sent, st.failed, st.unknown) == (expect_sent, expect_failed, expect_unknown)
    assert st.sent + st.failed + st.unknown + st.skipped + st.queued == st.audience == audience
    assert st.queued == 0 and st.campaign.status == records.DONE
    recount = records.recount(settings.clients.dynamodb, settings.settings.table, campaign_id)
    assert recount.as_dict() == st.counters.as_dict()
    return st


def test_throttling_slows_down_and_everyone_gets_one(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    ses = FaultySES(settings.clients.ses, throttle_every=3)
    result = drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0)
    assert result.counts.sent == 13
    assert_exactly_once(settings, campaign_id, ses, expect_sent=13)


def test_a_refused_recipient_is_failed_with_its_reason_then_retried_after_a_fix(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    ses = FaultySES(settings.clients.ses, fail_for=frozenset({"agnes.faure@justice.gouv.fr"}))
    drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0, idle_timeout=5)
    assert ses.calls == 13  # a definite refusal is not tried again by itself
    assert_exactly_once(settings, campaign_id, ses, expect_sent=12, expect_failed=1)
    sqs = settings.clients.sqs
    dead = sqs.get_queue_attributes(QueueUrl=settings.settings.dead_letter_queue_url,
                                    AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert int(dead["ApproximateNumberOfMessages"]) == 0  # a result, not a broken message
    report = cli("campaign", "report", campaign_id)
    row = next(line for line in report.out.splitlines() if line.startswith("agnes.faure@"))
    assert "échec" in row and "MessageRejected" in row

    ses.fail_for = frozenset()  # the cause is fixed (say, the identity verified)
    result = cli("campaign", "retry", campaign_id)
    assert result.code == 0, result.err
    assert "Renvoi à 1 échecs" in result.out
    assert ses.accepted["agnes.faure@justice.gouv.fr"] == 0  # the CLI sent it through the real client
    st = campaigns.status(settings.clients, settings.settings, campaign_id)
    assert (st.sent, st.failed, st.queued, st.audience, st.campaign.status) == (13, 0, 0, 13, records.DONE)
    again = cli("campaign", "retry", campaign_id)
    assert again.code == 0 and "Rien à renvoyer" in again.out


def test_a_worker_dying_between_ses_and_the_mark_never_resends(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    ses = FaultySES(settings.clients.ses, die_after="camille.martin@interieur.gouv.fr")
    sqs, queue = settings.clients.sqs, settings.settings.queue_url
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                          "attributes": {}, "eventSource": "aws:sqs"} for m in got]}
    with pytest.raises(WorkerDied):
        process_event(event, faulty_sender(settings, ses))
    # Nothing was deleted: the queue redelivers once the visibility times out; a new worker takes over.
    for message in got:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0)
    unknown = sum(1 for r in records.send_records(settings.clients.dynamodb, settings.settings.table,
                                                  campaign_id).values() if r["state"] == records.CLAIMED)
    assert unknown == 1  # the one claim whose outcome was lost (each result is marked at once); never resent
    assert_exactly_once(settings, campaign_id, ses, expect_sent=12, expect_unknown=1)
    assert sum(ses.accepted.values()) == 13  # unknown ones had all reached SES: nobody lost, nobody twice


def test_sqs_redelivering_the_same_batch_sends_nothing_twice(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    sqs = settings.clients.sqs
    got = sqs.receive_message(QueueUrl=settings.settings.queue_url, MaxNumberOfMessages=10)["Messages"]
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                          "attributes": {}, "eventSource": "aws:sqs"} for m in got]}
    ses = FaultySES(settings.clients.ses)
    sender = faulty_sender(settings, ses)
    first, counts = process_event(event, sender)
    second, again = process_event(event, sender)
    assert first == second == {"batchItemFailures": []}
    assert counts.sent == 13 and again.sent == 0 and again.duplicates_avoided == 13
    assert_exactly_once(settings, campaign_id, ses, expect_sent=13)


def test_unsubscribed_and_suppressed_are_checked_at_send_time(cli, settings):
    campaign_id = prepared_campaign(cli, settings)  # enqueued while everyone was subscribed
    s, c = settings.settings, settings.clients
    gone = subscriber_id("noel.garcia@education.gouv.fr", c.keys.id_key)
    bounced = subscriber_id("agnes.faure@justice.gouv.fr", c.keys.id_key)
    subscribers.set_status(c.dynamodb, s.table, "invites", gone, "unsubscribed", "test")
    subscribers.suppress(c.dynamodb, s.table, bounced, "bounce")
    ses = FaultySES(c.ses)
    drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0)
    assert "noel.garcia@education.gouv.fr" not in ses.accepted
    assert "agnes.faure@justice.gouv.fr" not in ses.accepted
    st = campaigns.status(c, s, campaign_id)
    assert (st.sent, st.skipped) == (11, 2)


def test_pause_holds_the_queue_and_resume_finishes(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    assert cli("campaign", "pause", campaign_id).code == 0
    ses = FaultySES(settings.clients.ses)
    sender = faulty_sender(settings, ses)
    sender.pause_delay = 1
    result = drain(sender, campaign_id=campaign_id, retry_visibility=0)
    assert result.stopped == records.PAUSED and sum(ses.accepted.values()) == 0
    assert campaigns.resume(settings.clients, settings.settings, campaign_id)
    drain(sender, campaign_id=campaign_id, retry_visibility=0)
    assert_exactly_once(settings, campaign_id, ses, expect_sent=13)


def test_cancel_drops_what_is_queued(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    assert cli("campaign", "cancel", campaign_id).code == 0
    ses = FaultySES(settings.clients.ses)
    drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0)
    assert sum(ses.accepted.values()) == 0
    assert cli("campaign", "send", campaign_id).code == 2  # a cancelled campaign stays cancelled


def test_the_send_handler_with_the_sample_event(settings, cli, monkeypatch):
    """The real Lambda entry point with the event shape of events/sqs-send-batch.json."""
    import json

    from convier.handlers import send as send_handler

    campaign_id = prepared_campaign(cli, settings)
    sample = json.loads((Path(__file__).resolve().parents[1] / "events" / "sqs-send-batch.json").read_text())
    got = settings.clients.sqs.receive_message(QueueUrl=settings.settings.queue_url, MaxNumberOfMessages=1)
    template = sample["Records"][0]
    message = got["Messages"][0]
    event = {"Records": [{**template, "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                          "body": message["Body"]}]}
    for key, value in settings.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(send_handler, "_sender", None)
    assert send_handler.handler(event, None) == {"batchItemFailures": []}
    assert campaigns.status(settings.clients, settings.settings, campaign_id).sent == len(
        json.loads(message["Body"])["sids"])


def test_pacer_keeps_the_rate():
    clock = [0.0]
    pacer = Pacer(50, clock=lambda: clock[0], sleep=lambda d: clock.__setitem__(0, clock[0] + d))
    for _ in range(500):
        pacer.wait()
    assert 9.9 <= clock[0] <= 10.0  # 500 e-mails at 50/s take 10 s, never less
    pacer.throttled()
    assert pacer.current == 37.5
    for _ in range(100):
        pacer.succeeded()
    assert pacer.current == 50
    assert worker_rate(50, 2) == 50 * HEADROOM / 2  # two workers together stay under the quota


def test_pacer_catches_up_after_a_stall_without_bursting_past_the_quota():
    clock = [0.0]
    granted = []
    pacer = Pacer(worker_rate(50, 1), ceiling=worker_ceiling(50, 1), clock=lambda: clock[0],
                  sleep=lambda d: clock.__setitem__(0, clock[0] + d))
    for i in range(600):
        if i == 100:
            clock[0] += 0.3  # the server stalls for 300 ms
        pacer.wait()
        granted.append(clock[0])
    steady = 599 / (50 * HEADROOM)
    assert granted[-1] - granted[0] < steady + 0.3 - 0.1  # most of the stall was made up
    for i in range(len(granted) - 50):
        assert granted[i + 50] - granted[i] >= 1.0 - 1e-9  # never 51 in one second


def test_running_out_of_time_hands_back_the_rest_and_loses_no_one(cli, settings):
    """A Lambda close to its timeout stops before claiming more; the redelivery finishes, nobody twice."""
    campaign_id = prepared_campaign(cli, settings)
    sqs, queue = settings.clients.sqs, settings.settings.queue_url
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                          "attributes": {}, "eventSource": "aws:sqs"} for m in got]}
    ses = FaultySES(settings.clients.ses)
    sender = faulty_sender(settings, ses)
    budget = iter([60.0] + [60.0] * 5 + [1.0] * 100)  # the message starts; five recipients, then time is short
    sender.time_left = lambda: next(budget)
    response, counts = process_event(event, sender)
    assert response == {"batchItemFailures": [{"itemIdentifier": got[0]["MessageId"]}]}
    assert counts.sent == 5 and counts.unfinished == 8
    sender.time_left = lambda: 60.0
    again, counts = process_event(event, sender)  # SQS delivers the same message again
    assert again == {"batchItemFailures": []}
    assert counts.sent == 8 and counts.duplicates_avoided == 5
    assert_exactly_once(settings, campaign_id, ses, expect_sent=13)


def test_a_message_not_started_in_time_is_handed_back_whole(cli, settings):
    campaign_id = prepared_campaign(cli, settings)
    got = settings.clients.sqs.receive_message(QueueUrl=settings.settings.queue_url)["Messages"]
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                          "attributes": {}, "eventSource": "aws:sqs"} for m in got]}
    ses = FaultySES(settings.clients.ses)
    sender = faulty_sender(settings, ses)
    sender.time_left = lambda: 5.0
    response, counts = process_event(event, sender)
    assert len(response["batchItemFailures"]) == 1 and counts.sent == 0 and not ses.accepted
    assert campaigns.status(settings.clients, settings.settings, campaign_id).sent == 0


def test_messages_hold_what_a_worker_sends_in_20_seconds():
    assert recipients_per_message(14, 2) == 50  # 135 in 20 s: capped at 50
    assert recipients_per_message(14, 2, most=200) == int(14 * HEADROOM / 2 * 20)
    assert recipients_per_message(1, 2) == 9  # SES sandbox, 1/s shared by two workers
    assert recipients_per_message(0.01, 50) == 1
