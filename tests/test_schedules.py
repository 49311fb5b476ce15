"""Scheduled sends: a Rappel scheduled two minutes ahead goes out at that time (injected clock), to the confirmed
only, with the invitation's UID; a blocking problem at firing time stops it and says why; move and cancel."""

from __future__ import annotations

import datetime as dt

import pytest

from convier.domain.dates import send_moment
from convier.local.outbox import sent_hook
from convier.local.worker import tick
from convier.services import campaigns, followups, schedules
from convier.services.sending import sender_for
from test_followups import answer_all, ics_of, invitation, outbox, sid, uid

UTC = dt.UTC


def test_send_moments_in_paris_time_absolute_or_relative_to_the_event():
    start = dt.datetime(2023, 1, 24, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert send_moment("J-1 10:00", start).isoformat() == "2023-01-23T10:00:00+01:00"
    assert send_moment("J+1", start).isoformat() == "2023-01-25T09:00:00+01:00"
    assert send_moment("2023-07-01 08:30").isoformat() == "2023-07-01T08:30:00+02:00"  # summer time
    with pytest.raises(ValueError, match="J-1 10:00"):
        send_moment("demain matin")


def test_a_rappel_scheduled_two_minutes_ahead_goes_out_then_to_the_confirmed_only(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=4)
    answer_all(settings, parent, {0: "yes", 1: "maybe", 2: "no"})  # 3: no answer
    rappel = followups.create_followup(c, s, parent, kind="rappel")
    now = dt.datetime.now(UTC).replace(microsecond=0)
    schedules.schedule(c, s, rappel.id, now + dt.timedelta(minutes=2), now=now)
    sender = sender_for(s, c, on_sent=sent_hook(s.outbox))
    assert tick(sender, now=now + dt.timedelta(minutes=1)) == [] and not outbox(settings, rappel.id)
    fired = tick(sender, now=now + dt.timedelta(minutes=2))
    assert [(f.campaign_id, f.enqueued, f.refused) for f in fired] == [(rappel.id, 1, "")]
    sent = outbox(settings, rappel.id)
    assert list(sent) == [sid(settings, 0)]
    assert uid(ics_of(sent[sid(settings, 0)])) == uid(ics_of(outbox(settings, parent)[sid(settings, 0)]))
    assert tick(sender, now=now + dt.timedelta(minutes=3)) == []  # fired once
    assert schedules.scheduled(c, s) == {}


def test_move_cancel_and_a_blocking_problem_at_firing_time(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=2)
    answer_all(settings, parent, {0: "yes"})
    merci = followups.create_followup(c, s, parent, kind="merci")
    relance = followups.create_followup(c, s, parent, kind="relance")
    now = dt.datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(Exception, match="déjà passé"):
        schedules.schedule(c, s, merci.id, now - dt.timedelta(minutes=1), now=now)
    schedules.schedule(c, s, merci.id, now + dt.timedelta(hours=1), now=now)
    schedules.schedule(c, s, merci.id, now + dt.timedelta(hours=3), now=now)  # moved
    assert schedules.scheduled(c, s)[merci.id] == now + dt.timedelta(hours=3)
    assert schedules.fire_due(c, s, now=now + dt.timedelta(hours=2)) == []
    assert schedules.unschedule(c, s, merci.id) and not schedules.unschedule(c, s, merci.id)
    # cancelled meanwhile: the schedule fires, refuses, and the campaign says why
    schedules.schedule(c, s, relance.id, now + dt.timedelta(hours=1), now=now)
    assert campaigns.cancel(c, s, relance.id)
    fired = schedules.fire_due(c, s, now=now + dt.timedelta(hours=1))
    assert fired[0].refused and "annulée" in schedules.schedule_error(c, s, relance.id)
    assert not outbox(settings, relance.id)
    result = cli("campaign", "schedule", merci.id, "--at", "J+1 10:00")
    assert result.code == 2 and "déjà passé" in result.err  # the seed event was in 2023
    bad = cli("campaign", "schedule", merci.id, "--at", "bientôt")
    assert bad.code == 2 and "J-1 10:00" in bad.err


def test_the_campaign_function_fires_a_schedule_as_eventbridge_scheduler_invokes_it(cli, settings, tmp_path):
    from convier.handlers import campaign as campaign_handler

    s, c = settings
    parent = invitation(cli, tmp_path, n=2)
    answer_all(settings, parent, {0: "yes"})
    rappel = followups.create_followup(c, s, parent, kind="rappel")
    c.dynamodb.put_item(TableName=s.table, Item={"PK": {"S": "SCHEDULES"}, "SK": {"S": rappel.id},
                                                 "at": {"S": "2020-01-01T00:00:00+00:00"}})
    answer = campaign_handler.run({"action": "scheduled-send", "campaign": rappel.id}, s, c)
    assert answer == {"ok": True, "fired": True, "enqueued": 1, "error": ""}
    assert campaign_handler.run({"action": "scheduled-send", "campaign": rappel.id}, s, c) == {"ok": True,
                                                                                                 "fired": False}


def test_the_checks_of_any_send_run_at_firing_time_and_the_status_says_why(cli, settings, tmp_path):
    """services.checks.check_campaign at the moment it fires: here the sender's SES identity, gone since."""
    s, c = settings
    parent = invitation(cli, tmp_path, n=2)
    answer_all(settings, parent, {0: "yes"})
    rappel = followups.create_followup(c, s, parent, kind="rappel")
    now = dt.datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    schedules.schedule(c, s, rappel.id, now + dt.timedelta(minutes=2), now=now)
    shown = cli("campaign", "status", rappel.id)
    assert "envoi programmé le 01/01/2030 à 10:02" in shown.out  # Paris time
    c.ses.delete_email_identity(EmailIdentity="numerique.gouv.fr")
    fired = schedules.fire_due(c, s, now=now + dt.timedelta(minutes=2))
    assert len(fired) == 1 and fired[0].enqueued == 0 and "numerique.gouv.fr" in fired[0].refused
    assert campaigns.require(c, s, rappel.id).status == "draft" and not outbox(settings, rappel.id)
    shown = cli("campaign", "status", rappel.id)
    assert "envoi programmé arrêté" in shown.out and "numerique.gouv.fr" in shown.out


def test_staff_move_and_cancel_a_schedule_on_the_cli_until_it_fires(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=2)
    answer_all(settings, parent, {0: "yes"})
    merci = followups.create_followup(c, s, parent, kind="merci")
    result = cli("campaign", "schedule", merci.id, "--at", "2099-03-01 10:00")
    assert result.code == 0 and "01/03/2099 à 10:00" in result.out, result.err
    result = cli("campaign", "schedule", merci.id, "--at", "2099-07-01 08:30")  # moved (summer time)
    assert result.code == 0, result.err
    assert schedules.scheduled(c, s) == {merci.id: dt.datetime(2099, 7, 1, 6, 30, tzinfo=UTC)}
    assert schedules.fire_due(c, s, now=dt.datetime(2099, 3, 1, 10, tzinfo=UTC)) == []  # the old time: nothing
    result = cli("campaign", "schedule", merci.id, "--cancel")
    assert result.code == 0 and "annulé" in result.out
    assert schedules.scheduled(c, s) == {} and "n’avait pas" in cli("campaign", "schedule", merci.id, "--cancel").out
    assert schedules.fire_due(c, s, now=dt.datetime(2099, 7, 1, 7, tzinfo=UTC)) == []
    assert campaigns.require(c, s, merci.id).status == "draft" and not outbox(settings, merci.id)


def test_a_scheduled_send_started_by_hand_before_its_moment_fires_nothing_and_reports_nothing(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=3)
    answer_all(settings, parent, {0: "yes", 1: "yes"})
    rappel = followups.create_followup(c, s, parent, kind="rappel")
    now = dt.datetime.now(UTC).replace(microsecond=0)
    schedules.schedule(c, s, rappel.id, now + dt.timedelta(minutes=5), now=now)
    sender = sender_for(s, c, on_sent=sent_hook(s.outbox))
    assert campaigns.start_send(c, s, rappel.id, confirm=2).enqueued == 2  # « Envoyer maintenant »
    tick(sender, now=now + dt.timedelta(minutes=1))
    assert len(outbox(settings, rappel.id)) == 2
    assert tick(sender, now=now + dt.timedelta(minutes=5)) == []  # its moment: nothing left to fire
    assert len(outbox(settings, rappel.id)) == 2 and schedules.scheduled(c, s) == {}
    assert schedules.schedule_error(c, s, rappel.id) == ""
    assert not campaigns.require(c, s, rappel.id, parts=False).scheduled_at
