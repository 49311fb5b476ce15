"""Event updates and cancellations (issue 17, item 4), through the CLI, the real web handler and the outbox:
moving the event keeps the .ics UID and raises SEQUENCE; cancelling sends METHOD:CANCEL and closes the pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from convier.errors import InputError
from convier.handlers import web
from convier.inputs.campaignfile import read_campaign
from convier.services import campaigns, followups, rsvp, schedules, updates
from convier.store import records, subscribers
from test_followups import EVENT_YAML, answer_all, ics_of, invitation, outbox, sid, uid
from webkit import event, form, links_of
from webkit import send as send_all

MOVED_YAML = EVENT_YAML.replace("09:00:00", "10:00:00").replace("17:30:00", "18:30:00")


def sequence(ics: str) -> int:
    return int(re.search(r"^SEQUENCE:(\d+)\r?$", ics, re.M).group(1))


def get(path_event: str, token: str) -> dict:
    return web.handle(event(path_event, token), None, *_target)


_target = None


@pytest.fixture(autouse=True)
def _web(settings):
    global _target
    _target = settings
    yield
    _target = None


def test_moving_the_event_by_one_hour_keeps_the_uid_raises_sequence_and_sends_the_change_notice(
        cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=5)
    answer_all(settings, parent, {0: "yes", 1: "maybe", 2: "no"})  # 3 and 4: no answer
    sent = outbox(settings, parent)
    first_ics = ics_of(sent[sid(settings, 0)])
    token = links_of(sent[sid(settings, 0)])["token"]
    rappel = followups.create_followup(c, s, parent, kind="rappel")  # a draft made before the change
    schedules.schedule(c, s, rappel.id, dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC), now=dt.datetime(2029, 1, 1,
                                                                                                    tzinfo=dt.UTC))
    (tmp_path / "moved.yaml").write_text(MOVED_YAML, encoding="utf-8")

    result = cli("campaign", "edit", parent, "--campaign", tmp_path / "moved.yaml")
    assert result.code == 0, result.err
    assert "Date et horaire" in result.out and "au lieu de" in result.out
    assert f"convier followup create {parent} --kind changement" in result.out
    assert rappel.id in result.err  # its scheduled time may need moving
    campaign = campaigns.require(c, s, parent)
    assert campaign.event["start"] == "2023-01-24T10:00:00+01:00"
    new_ics = campaign.template.to_dict()["ics"]
    assert uid(new_ics) == uid(first_ics) and sequence(new_ics) > sequence(first_ics)
    # the answer page and the .ics route carry the new event
    page = get("web-rsvp-get.json", token)
    assert page["statusCode"] == 200 and re.search(r"de 10\W+h à 18\W+h\W+30", page["body"]), page["body"]
    served = get("web-ics-get.json", token)["body"]
    assert uid(served) == uid(first_ics) and sequence(served) == sequence(new_ics) and "T100000" in served
    # the draft Rappel made before the change now carries the new .ics too
    assert sequence(campaigns.require(c, s, rappel.id).template.to_dict()["ics"]) == sequence(new_ics)

    result = cli("followup", "create", parent, "--kind", "changement")
    assert result.code == 0, result.err
    notice_id = result.out.strip().splitlines()[-1]
    notice = campaigns.require(c, s, notice_id)
    assert notice.kind == records.UPDATE and notice.segments == ("confirmed", "waiting", "maybe")
    assert send_all(cli, notice_id).code == 0
    told = outbox(settings, notice_id)
    assert set(told) == {sid(settings, 0), sid(settings, 1)}  # confirmed and maybe, not « non » nor no answer
    for message in told.values():
        ics = ics_of(message)
        assert uid(ics) == uid(first_ics) and sequence(ics) == sequence(new_ics) > sequence(first_ics)
        assert "METHOD:PUBLISH" in ics  # as the invitation: the same entry, published again
        text = message.get_body(("plain",)).get_content()
        assert "Date et horaire" in text and "au lieu de" in text and "@@" not in text


def test_edit_with_notice_prints_the_notice_id_last_and_everyone_with_to_tous(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=3)
    (tmp_path / "moved.yaml").write_text(EVENT_YAML.replace("Station F", "Ground Control"), encoding="utf-8")
    result = cli("campaign", "edit", parent, "--campaign", tmp_path / "moved.yaml", "--notice", "--to", "tous")
    assert result.code == 0, result.err
    assert "Lieu : Ground Control (au lieu de : Station F)" in result.out
    notice = campaigns.require(c, s, result.out.strip().splitlines()[-1])
    assert notice.kind == records.UPDATE and len(notice.segments) == 5
    assert followups.audience_size(c, s, notice) == 3


def test_editing_a_draft_renders_it_again_and_offers_no_notice(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=2, send=False)
    (tmp_path / "e.yaml").write_text(EVENT_YAML + 'subject: "Nouvel objet"\ncapacity: 3\n', encoding="utf-8")
    from convier.cli.target import sender_preparer

    edited = updates.edit(c, s, parent, read_campaign(tmp_path / "e.yaml"), prepare_sender=sender_preparer(s))
    assert {ch.key for ch in edited.changes} == {"subject", "capacity"} and not edited.notice
    campaign = campaigns.require(c, s, parent)
    assert campaign.template.subject == "Nouvel objet" and campaign.capacity == 3
    assert campaigns.require(c, s, records.promotion_of(parent)).kind == records.PROMOTION  # a waiting list now
    assert any(item["SK"] == parent and item["subject"] == "Nouvel objet"
               for item in campaigns.list_campaigns(c, s))
    bad = cli("campaign", "edit", records.promotion_of(parent), "--campaign", tmp_path / "e.yaml")
    assert bad.code == 2 and "suivi" in bad.err
    with pytest.raises(InputError, match="campaign cancel"):  # nobody was invited: nobody to tell
        updates.cancel_event(c, s, parent)


def test_a_waiting_list_is_not_added_after_the_send_nor_a_confirmed_place_taken_away(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=4, extra_yaml="capacity: 2\n")
    answer_all(settings, parent, {0: "yes", 1: "yes", 2: "yes"})
    (tmp_path / "e.yaml").write_text(EVENT_YAML + "capacity: 1\n", encoding="utf-8")
    bad = cli("campaign", "edit", parent, "--campaign", tmp_path / "e.yaml")
    assert bad.code == 2 and "confirmées" in bad.err
    (tmp_path / "e.yaml").write_text(EVENT_YAML, encoding="utf-8")
    bad = cli("campaign", "edit", parent, "--campaign", tmp_path / "e.yaml")
    assert bad.code == 2 and "liste d’attente" in bad.err
    (tmp_path / "e.yaml").write_text(EVENT_YAML + "capacity: 3\n", encoding="utf-8")
    result = cli("campaign", "edit", parent, "--campaign", tmp_path / "e.yaml")
    assert result.code == 0 and "Capacité : 3 (au lieu de : 2)" in result.out
    assert set(outbox(settings, records.promotion_of(parent))) == {sid(settings, 2)}  # promoted and told


def test_cancelling_the_event_closes_the_pages_stops_the_schedules_and_sends_method_cancel(
        cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=5, extra_yaml="capacity: 1\n")
    answer_all(settings, parent, {0: "yes", 1: "yes", 2: "maybe", 3: "no"})  # 1 waits; 4: no answer
    sent = outbox(settings, parent)
    first_ics = ics_of(sent[sid(settings, 0)])
    links = links_of(sent[sid(settings, 0)])
    rappel = followups.create_followup(c, s, parent, kind="rappel")
    schedules.schedule(c, s, rappel.id, dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC),
                       now=dt.datetime(2029, 1, 1, tzinfo=dt.UTC))
    (tmp_path / "annulation.md").write_text("L’événement **{{ titre }}** est annulé, pardon.\n", encoding="utf-8")

    result = cli("campaign", "cancel-event", parent, "--message", tmp_path / "annulation.md")
    assert result.code == 0, result.err
    assert "annulé" in result.out and rappel.id in result.out
    annulation_id = result.out.strip().splitlines()[-1]
    assert schedules.scheduled(c, s) == {}
    assert campaigns.require(c, s, rappel.id).status == records.CANCELLED
    assert campaigns.require(c, s, annulation_id).kind == records.CANCELLATION
    # nothing else about this event may be made or sent
    again = cli("followup", "create", parent, "--kind", "rappel")
    assert again.code == 2 and "annulé" in again.err
    assert cli("campaign", "edit", parent, "--campaign", tmp_path / "campagne.yaml").code == 2
    assert cli("campaign", "cancel-event", parent).code == 2
    refused = cli("campaign", "send", rappel.id, "--yes", "1")
    assert refused.code != 0 and "annulé" in refused.err

    assert send_all(cli, annulation_id).code == 0
    told = outbox(settings, annulation_id)
    assert set(told) == {sid(settings, i) for i in (0, 1, 2)}  # confirmed, waiting, maybe
    for message in told.values():
        ics = ics_of(message)
        assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics
        assert uid(ics) == uid(first_ics) and sequence(ics) > sequence(first_ics)
        part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        assert part.get_param("method") == "CANCEL"
        assert "est annulé, pardon" in message.get_body(("plain",)).get_content()

    page = get("web-rsvp-get.json", links["token"])
    assert page["statusCode"] == 200 and "Cet événement est annulé" in page["body"]
    assert 'method="post"' not in page["body"]
    before = rsvp.get_rsvp(c.dynamodb, s.table, parent, sid(settings, 0))
    posted = web.handle(form({"answer": "no"}, event("web-rsvp-post.json", links["token"])), None, *settings)
    assert posted["statusCode"] == 200 and "n’a pas été enregistrée" in posted["body"]
    assert rsvp.get_rsvp(c.dynamodb, s.table, parent, sid(settings, 0)) == before  # nothing changed
    assert rsvp.waiting_list(c.dynamodb, s.table, parent)[0].sid == sid(settings, 1)  # nobody promoted
    assert "METHOD:CANCEL" in get("web-ics-get.json", links["token"])["body"]
    unsubscribe = get("web-unsubscribe-get.json", links["token"])
    assert unsubscribe["statusCode"] == 200 and "Ne plus recevoir" in unsubscribe["body"]


def test_a_recipient_who_unsubscribed_after_the_invitation_gets_no_annulation(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=3)
    answer_all(settings, parent, {0: "yes", 1: "yes", 2: "yes"})
    subscribers.set_status(c.dynamodb, s.table, "invites", sid(settings, 1), subscribers.UNSUBSCRIBED, "test")
    done = updates.cancel_event(c, s, parent, to="tous")
    assert send_all(cli, done.annulation.id).code == 0
    assert set(outbox(settings, done.annulation.id)) == {sid(settings, 0), sid(settings, 2)}


def test_moving_the_event_to_another_day_keeps_the_uid_and_an_old_campaign_needs_its_post(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=2)
    first_ics = ics_of(outbox(settings, parent)[sid(settings, 0)])
    c.dynamodb.delete_item(TableName=s.table, Key={"PK": {"S": f"CAMPAIGN#{parent}"}, "SK": {"S": "SOURCE"}})
    (tmp_path / "moved.yaml").write_text(EVENT_YAML.replace("2023-01-24", "2023-02-07"), encoding="utf-8")
    bad = cli("campaign", "edit", parent, "--campaign", tmp_path / "moved.yaml")
    assert bad.code == 2 and "--post" in bad.err  # made before convier kept the post: give it again
    from test_followups import POST

    result = cli("campaign", "edit", parent, "--campaign", tmp_path / "moved.yaml", "--post", POST)
    assert result.code == 0, result.err
    ics = campaigns.require(c, s, parent).template.to_dict()["ics"]
    assert "20230207" in ics and uid(ics) == uid(first_ics) and sequence(ics) == sequence(first_ics) + 1
    again = cli("campaign", "edit", parent, "--campaign", tmp_path / "moved.yaml")  # the post is kept now
    assert again.code == 0 and "aucun changement" in again.out
    assert sequence(campaigns.require(c, s, parent).template.to_dict()["ics"]) == sequence(ics)  # same event


def test_cancelling_while_the_invitation_is_still_sending_stops_it(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=3, send=False)
    assert campaigns.start_send(c, s, parent, no_wave=True).enqueued == 3  # queued, not sent yet
    done = updates.cancel_event(c, s, parent)
    assert parent in done.stopped and campaigns.require(c, s, parent).status == records.CANCELLED
    shown = cli("campaign", "status", parent)
    assert "événement annulé" in shown.out


def test_a_worker_that_sent_before_the_edit_sends_the_new_event_after_it(cli, settings, tmp_path):
    """The send path caches a campaign's parts per worker: an edit raises META's revision and it reads again."""
    from convier.local.outbox import sent_hook
    from convier.local.worker import drain
    from convier.services.sending import sender_for

    s, c = settings
    parent = invitation(cli, tmp_path, n=4, extra_yaml="capacity: 1\n")
    answer_all(settings, parent, {0: "yes", 1: "yes", 2: "yes"})  # 1 and 2 wait
    sender = sender_for(s, c, on_sent=sent_hook(s.outbox))  # one warm worker for the whole test
    campaign = campaigns.require(c, s, parent)
    rsvp.tell_promoted(c, s, campaign, rsvp.record_answer(c.dynamodb, s.table, campaign, sid(settings, 0),
                                                          "no").promotions)
    drain(sender, idle_timeout=5)
    promotion = records.promotion_of(parent)
    before = ics_of(outbox(settings, promotion)[sid(settings, 1)])
    (tmp_path / "moved.yaml").write_text(MOVED_YAML.replace("Station F", "Ground Control") + "capacity: 1\n",
                                         encoding="utf-8")
    assert cli("campaign", "edit", parent, "--campaign", tmp_path / "moved.yaml").code == 0
    rsvp.tell_promoted(c, s, campaign, rsvp.record_answer(c.dynamodb, s.table, campaign, sid(settings, 1),
                                                          "no").promotions)
    drain(sender, idle_timeout=5)
    message = outbox(settings, promotion)[sid(settings, 2)]
    after = ics_of(message)
    assert "Ground Control" in message.get_body(("plain",)).get_content() and "Ground Control" in after
    assert uid(after) == uid(before) and sequence(after) > sequence(before)
