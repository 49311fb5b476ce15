"""The safe start (issue 14, item 4), end to end on a moto server over HTTP: the real send path (local
worker's drain), a fault-injecting wrapper around the real SES client, SES notifications through the real
feedback handler (events/ samples, as test_feedback.py), the pause on rates, the release of the rest once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from convier.domain import waves
from convier.handlers import feedback as feedback_handler
from convier.local.worker import drain, review_sending
from convier.services import campaigns
from convier.services.sending import process_message, sender_for
from convier.settings import Clients
from convier.store import ddb, keys, records
from samples import SEED
from test_feedback import sample
from webkit import SEED_CAMPAIGN

T0 = dt.datetime.now(dt.UTC).replace(microsecond=0)  # the feedback handler reviews at the real time
PARIS = ZoneInfo("Europe/Paris")


class RecordingSes:
    """The real SES client, wrapped: every accepted message is noted (address, campaign), so that a test can
    make some of them bounce (its notifications then go through the real feedback handler)."""

    def __init__(self, real):
        self.real, self.sent = real, []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def send_email(self, **kwargs):
        answer = self.real.send_email(**kwargs)
        self.sent.append(kwargs["Destination"]["ToAddresses"][0])
        return answer


@pytest.fixture
def waving(cli, settings, tmp_path):
    """A list of `size` people and a draft campaign to it; returns (campaign id, addresses, sender, ses)."""
    def make(size: int):
        people = [f"personne{i:03d}@interieur.gouv.fr" for i in range(size)]
        path = tmp_path / "people.csv"
        path.write_text("email\n" + "".join(f"{a}\n" for a in people), encoding="utf-8")
        assert cli("lists", "import", "invites", path).code == 0
        result = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN)
        assert result.code == 0, result.err
        clients = Clients(settings.settings)
        ses = RecordingSes(clients.ses)
        clients._cache["sesv2"] = ses
        sender = sender_for(settings.settings, clients)
        sender.pause_delay = 1
        return result.out.strip().splitlines()[-1], people, sender, ses
    return make


def notify(settings, campaign_id: str, address: str, name: str) -> None:
    feedback_handler.handle(sample(name, address=address, campaign=campaign_id), settings.settings,
                            settings.clients)


def meta(settings, campaign_id: str) -> records.Campaign:
    return records.load_campaign(settings.clients.dynamodb, settings.settings.table, campaign_id, parts=False)


def send_records(settings, campaign_id: str) -> dict:
    return records.send_records(settings.clients.dynamodb, settings.settings.table, campaign_id)


def test_bounces_in_the_first_wave_pause_it_and_resume_finishes_exactly_once(cli, settings, waving):
    campaign_id, people, sender, ses = waving(100)
    started = campaigns.start_send(sender.clients, settings.settings, campaign_id, now=T0)
    assert started.enqueued == 20  # 2 % of 100 is 2: at least 20
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    assert len(ses.sent) == 20 and len(send_records(settings, campaign_id)) == 20
    assert meta(settings, campaign_id).audience == 100  # the campaign is not done after its wave
    until = f"{(T0 + dt.timedelta(minutes=10)).astimezone(PARIS):%H:%M}"
    assert f"première vague : en attente des retours SES jusqu’à {until}" in cli("campaign", "status", campaign_id).out

    wave = list(ses.sent)
    for address in wave[2:]:  # 18 delivered, then 2 (10 %) bounce for good: the rates pass 5 %
        notify(settings, campaign_id, address, "delivery")
    assert meta(settings, campaign_id).status == records.SENDING  # 18 outcomes of 20: still waiting
    for address in wave[:2]:
        notify(settings, campaign_id, address, "bounce-permanent")
    paused = meta(settings, campaign_id)
    assert paused.status == records.PAUSED and paused.wave_state == records.WAVE_WAITING
    assert "rebonds définitifs" in paused.pause_reason
    out = cli("campaign", "status", campaign_id).out
    assert "mise en pause automatique : rebonds définitifs" in out and "vérifiez la liste" in out

    review_sending(sender, now=T0 + dt.timedelta(hours=1))  # the deadline passes: a paused campaign stays
    drain(sender, idle_timeout=3)
    assert len(ses.sent) == 20 and len(send_records(settings, campaign_id)) == 20  # nothing past the wave

    assert campaigns.resume(sender.clients, settings.settings, campaign_id)
    assert not campaigns.resume(sender.clients, settings.settings, campaign_id)  # once
    assert meta(settings, campaign_id).pause_reason == ""
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    for address in ses.sent[20:25]:  # later feedback is judged from the resume on
        notify(settings, campaign_id, address, "delivery")
    st = campaigns.status(sender.clients, settings.settings, campaign_id)
    assert st.campaign.status == records.DONE and st.sent == 100
    assert Counter(ses.sent) == Counter(people)  # every recipient has exactly one e-mail
    assert st.note == ""


def test_the_rest_goes_at_the_deadline_with_no_feedback(cli, settings, waving):
    campaign_id, people, sender, ses = waving(60)
    assert campaigns.start_send(sender.clients, settings.settings, campaign_id, now=T0).enqueued == 20
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    review_sending(sender, now=T0 + dt.timedelta(minutes=9))
    assert meta(settings, campaign_id).wave_state == records.WAVE_WAITING
    decision = campaigns.review(sender.clients, settings.settings, campaign_id, now=T0 + dt.timedelta(minutes=9))
    assert decision.action == waves.WAIT and decision.wait == 60
    review_sending(sender, now=T0 + dt.timedelta(minutes=10))
    assert meta(settings, campaign_id).wave_state == records.WAVE_RELEASED
    campaign = meta(settings, campaign_id)
    assert campaigns.release_rest(sender.clients, settings.settings, campaign) == 0  # a second releaser: nothing
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    assert Counter(ses.sent) == Counter(people)
    assert meta(settings, campaign_id).status == records.DONE


def test_the_delayed_review_message_releases_the_rest(cli, settings, waving):
    """On AWS the send function gets one delayed message at the wave's deadline (no poller)."""
    campaign_id, people, sender, ses = waving(40)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)
    campaigns.start_send(sender.clients, settings.settings, campaign_id, now=past)
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    assert len(ses.sent) == 20
    process_message({"campaign": campaign_id, "review": 1}, sender)
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    assert Counter(ses.sent) == Counter(people)


def test_early_release_when_every_outcome_of_the_wave_is_in(cli, settings, waving):
    campaign_id, people, sender, ses = waving(50)
    campaigns.start_send(sender.clients, settings.settings, campaign_id, now=dt.datetime.now(dt.UTC))
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    for address in list(ses.sent):
        notify(settings, campaign_id, address, "delivery")
    assert meta(settings, campaign_id).wave_state == records.WAVE_RELEASED  # well before the 10 minutes
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    assert Counter(ses.sent) == Counter(people)


def test_complaints_past_the_limit_pause_at_any_time(cli, settings, waving):
    campaign_id, people, sender, ses = waving(30)
    campaigns.start_send(sender.clients, settings.settings, campaign_id, no_wave=True)
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    for address in ses.sent[:29]:
        notify(settings, campaign_id, address, "delivery")
    assert meta(settings, campaign_id).status in (records.SENDING, records.DONE)
    ddb_status = records.set_campaign_status(settings.clients.dynamodb, settings.settings.table, campaign_id,
                                             records.SENDING, only_from=(records.DONE,))
    assert ddb_status  # a retry or a send again sets it sending: the rates apply then too
    notify(settings, campaign_id, ses.sent[29], "complaint")  # 1 for 29 delivered: past 0,1 %
    paused = meta(settings, campaign_id)
    assert paused.status == records.PAUSED and paused.pause_reason.startswith("plaintes 3,4 %")


def test_a_small_list_has_no_wave_and_a_retried_invoke_enqueues_nothing(cli, settings, waving):
    campaign_id, people, sender, ses = waving(20)
    first = campaigns._enqueue_campaign(sender.clients, settings.settings, campaign_id, request="req-1")
    again = campaigns._enqueue_campaign(sender.clients, settings.settings, campaign_id, request="req-1")
    assert (first, again) == (20, 0)
    item = ddb.get(settings.clients.dynamodb, settings.settings.table, *keys.campaign_key(campaign_id))
    assert not item.get("wave_state")
    drain(sender, campaign_id=campaign_id, idle_timeout=5)
    assert Counter(ses.sent) == Counter(people)


def test_campaign_send_waits_for_the_wave_then_carries_on(cli, settings, tmp_path, monkeypatch):
    """The CLI's local send: the wave, the wait for its feedback (progress), then the rest, in one command."""
    monkeypatch.setenv("CONVIER_WAVE_WAIT", "1")  # one second of wait: no feedback comes on moto
    people = [f"agent{i:02d}@culture.gouv.fr" for i in range(30)]
    path = tmp_path / "people.csv"
    path.write_text("email\n" + "".join(f"{a}\n" for a in people), encoding="utf-8")
    assert cli("lists", "import", "invites", path).code == 0
    result = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN)
    campaign_id = result.out.strip().splitlines()[-1]
    result = cli("campaign", "send", campaign_id, "--yes", "30")
    assert result.code == 0, result.err
    assert "Envoyés : 30" in result.out and "terminée" in result.out
    item = ddb.get(settings.clients.dynamodb, settings.settings.table, *keys.campaign_key(campaign_id))
    assert (item["wave_size"], item["wave_state"]) == (20, records.WAVE_RELEASED)
