"""Follow-ups of an invitation: a segment by answer, the parent's links and list, the .ics to confirmed only."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest

from convier.domain.ids import read_token, subscriber_id
from convier.domain.segments import parse_segments
from convier.services import campaigns, followups, rsvp
from convier.store import records, subscribers
from webkit import people, write_list
from webkit import send as send_all

ROOT = Path(__file__).resolve().parents[1]
POST = ROOT / "examples" / "seed-journee-cloud-2023.md"
EVENT_YAML = """\
sender: "Équipe Cloud DINUM <cloud@numerique.gouv.fr>"
event:
  start: 2023-01-24 09:00:00 +01:00
  end: 2023-01-24 17:30:00 +01:00
  place: Station F
  address: 5 parvis Alan Turing, 75013 Paris
allow: [past_event]  # the seed's own date, January 2023
"""


def invitation(cli, tmp_path, n=6, extra_yaml="", send=True) -> str:
    assert cli("lists", "import", "invites", write_list(tmp_path, people(n))).code == 0
    (tmp_path / "campagne.yaml").write_text(EVENT_YAML + extra_yaml, encoding="utf-8")
    result = cli("campaign", "create", "--post", POST, "--list", "invites", "--campaign", tmp_path / "campagne.yaml")
    assert result.code == 0, result.err
    campaign_id = result.out.strip().splitlines()[-1]
    if send:
        assert send_all(cli, campaign_id).code == 0
    return campaign_id


def outbox(settings, campaign_id) -> dict[str, email.message.EmailMessage]:
    folder = Path(settings.settings.outbox) / campaign_id
    return {p.stem: email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(folder.glob("*.eml"))}


def sid(settings, i: int) -> str:
    return subscriber_id(f"agent{i:02d}@exemple.gouv.fr", settings.clients.keys.id_key)


def answer_all(settings, campaign_id, answers: dict[int, str]):
    s, c = settings
    campaign = records.load_campaign(c.dynamodb, s.table, campaign_id)
    for i, value in answers.items():
        rsvp.record_answer(c.dynamodb, s.table, campaign, sid(settings, i), value)


def ics_of(message) -> str | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_content()
    return None


def uid(ics: str) -> str:
    return re.search(r"^UID:(.+?)\r?$", ics, re.M).group(1)


def test_segments_parse_french_names_and_unions():
    assert parse_segments("confirmés,peut-être") == ("confirmed", "maybe")
    assert parse_segments("Liste d’attente, sans réponse") == ("waiting", "none")
    assert parse_segments("tous") == ("confirmed", "waiting", "maybe", "no", "none")
    with pytest.raises(ValueError, match="« peutetre »"):
        parse_segments("peutetre")


def test_a_followup_goes_to_its_segment_with_the_invitations_links_and_calendar(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path)
    answer_all(settings, parent, {0: "yes", 1: "yes", 2: "maybe", 3: "no", 4: "yes"})  # 5: no answer
    # agent04 said yes, then unsubscribed after the invitation: no follow-up for them
    subscribers.set_status(c.dynamodb, s.table, "invites", sid(settings, 4), subscribers.UNSUBSCRIBED, "test")
    (tmp_path / "rappel.md").write_text("Rendez-vous à **{{ lieu }}**, {{ quand }}.\n", encoding="utf-8")
    result = cli("followup", "create", parent, "--to", "confirmés,peut-être", "--message", tmp_path / "rappel.md",
                 "--subject", "Rappel : {{ titre }}")
    assert result.code == 0, result.err
    followup_id = result.out.strip().splitlines()[-1]
    assert re.fullmatch(r"\d{8}-[0-9a-f]{6}", followup_id) and followup_id != parent
    campaign = campaigns.require(c, s, followup_id)
    assert (campaign.kind, campaign.parent, campaign.segments) == ("followup", parent, ("confirmed", "maybe"))
    assert send_all(cli, followup_id).code == 0

    sent = outbox(settings, followup_id)
    assert set(sent) == {sid(settings, i) for i in (0, 1, 2)}  # confirmed + maybe, minus the unsubscribed
    status = campaigns.status(c, s, followup_id)
    assert (status.sent, status.skipped) == (3, 1)
    invitation_uid = uid(ics_of(outbox(settings, parent)[sid(settings, 0)]))
    for who, message in sent.items():
        assert message["Subject"].startswith("Rappel : ")
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "Station F" in text and "@@" not in text + html
        tokens = set(re.findall(r"/rsvp/([\w.-]+)", text))
        assert tokens and all(read_token(t, c.keys.link_keys) == (parent, who) for t in tokens)
        if who == sid(settings, 2):
            assert "Vous avez répondu « Peut-être »." in text and ics_of(message) is None
        else:
            assert "votre place est confirmée" in text and "votre place est confirmée" in html
            assert uid(ics_of(message)) == invitation_uid  # the same agenda entry
    # sending again sends nobody twice
    assert send_all(cli, followup_id).code == 0
    assert len(outbox(settings, followup_id)) == 3


def test_no_answer_and_waiting_segments_and_the_waiting_position(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=5, extra_yaml="capacity: 1\n")
    answer_all(settings, parent, {0: "yes", 1: "yes", 2: "yes"})  # 1 confirmed, 2 waiting; 3, 4 no answer
    relance = followups.create_followup(c, s, parent, kind="relance")
    assert relance.segments == ("maybe", "none")
    assert followups.audience_size(c, s, relance) == 2
    attente = followups.create_followup(c, s, parent, kind="attente")
    assert campaigns.fan_out(c, s, attente.id) == 2
    from convier.local.outbox import sent_hook
    from convier.local.worker import drain
    from convier.services.sending import sender_for

    drain(sender_for(s, c, on_sent=sent_hook(s.outbox)), campaign_id=attente.id, idle_timeout=5)
    sent = outbox(settings, attente.id)
    second = sent[sid(settings, 2)].get_body(("plain",)).get_content()
    assert "liste d’attente, en 2e position" in second
    assert ics_of(sent[sid(settings, 2)]) is None  # not confirmed: no calendar file


def test_bad_followup_input_is_a_french_error(cli, settings, tmp_path):
    parent = invitation(cli, tmp_path, n=2, send=False)
    bad = cli("followup", "create", parent, "--to", "presque", "--message", tmp_path / "absent.md")
    assert bad.code == 2 and "absent.md" in bad.err and "introuvable" in bad.err
    (tmp_path / "m.md").write_text("Bonjour {{ inconnu }}\n", encoding="utf-8")
    bad = cli("followup", "create", parent, "--to", "presque", "--message", tmp_path / "m.md")
    assert bad.code == 2 and "segment inconnu" in bad.err and "Traceback" not in bad.err
    bad = cli("followup", "create", parent, "--to", "non", "--message", tmp_path / "m.md")
    assert bad.code == 2 and "m.md" in bad.err and "inconnu" in bad.err
    assert cli("followup", "create", "20990101-000000", "--kind", "rappel").code == 2
    shown = cli("followup", "text", "rappel")
    assert shown.code == 0 and "subject:" in shown.out and "{{ titre }}" in shown.out


def test_capacity_5_eight_yes_then_a_no_promotes_the_first_waiting_and_tells_them_once(cli, settings, tmp_path):
    from convier.handlers import web
    from convier.local.outbox import sent_hook
    from convier.local.worker import drain
    from convier.services.sending import sender_for
    from webkit import event, form

    s, c = settings
    parent = invitation(cli, tmp_path, n=8, extra_yaml="capacity: 5\n")
    promotion = records.promotion_of(parent)
    assert campaigns.require(c, s, promotion).kind == records.PROMOTION
    tokens = {who: next(t for t in re.findall(r"/rsvp/([\w.-]+)", m.get_body(("plain",)).get_content()))
              for who, m in outbox(settings, parent).items()}
    order = [sid(settings, i) for i in range(8)]

    def post(who, value):
        response = web.handle(form({"answer": value}, event("web-rsvp-post.json", tokens[who])), None, *settings)
        assert response["statusCode"] == 200, response

    for who in order:
        post(who, "yes")
    waiting = rsvp.waiting_list(c.dynamodb, s.table, parent)
    assert rsvp.counters(c.dynamodb, s.table, parent) == (5, 3) and len(waiting) == 3
    confirmed = [w for w in order if w not in {r.sid for r in waiting}]
    post(confirmed[0], "no")
    sender = sender_for(s, c, on_sent=sent_hook(s.outbox))  # the outbox copy, as the CLI hands it in
    drain(sender, idle_timeout=5)
    sent = outbox(settings, promotion)
    assert list(sent) == [waiting[0].sid]  # exactly one e-mail, to the first of the waiting list
    message = sent[waiting[0].sid]
    assert "Une place s’est libérée" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "votre place est confirmée" in text and "Je ne participe pas" in text
    assert uid(ics_of(message)) == uid(ics_of(outbox(settings, parent)[waiting[0].sid]))
    # the same message delivered again, or the same person answering "yes" again: nobody told twice
    from convier.services.sending import message_body

    c.sqs.send_message(QueueUrl=s.queue_url, MessageBody=message_body(promotion, "invites", [waiting[0].sid]))
    post(waiting[0].sid, "yes")
    drain(sender, idle_timeout=5)
    assert len(outbox(settings, promotion)) == 1
    assert campaigns.status(c, s, promotion).sent == 1


def test_raising_the_capacity_promotes_in_order_tells_each_and_rsvps_show_says_so(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=5, extra_yaml="capacity: 2\n")
    answer_all(settings, parent, {0: "yes", 1: "yes", 2: "yes", 3: "yes", 4: "maybe"})
    first, second = [r.sid for r in rsvp.waiting_list(c.dynamodb, s.table, parent)]
    shown = cli("rsvps", "show", parent)
    assert shown.code == 0, shown.err
    assert "places : 2 / 2" in shown.out and "liste d’attente : 2" in shown.out and "sans réponse : 0" in shown.out
    assert cli("rsvps", "capacity", parent, "1").code == 2  # never takes a confirmed place away
    result = cli("rsvps", "capacity", parent, "3")
    assert result.code == 0, result.err
    assert set(outbox(settings, records.promotion_of(parent))) == {first}  # the first in line, only
    found = rsvp.all_rsvps(c.dynamodb, s.table, parent)
    assert found[first].place == rsvp.CONFIRMED and found[second].place == rsvp.WAITING
    shown = cli("rsvps", "show", parent).out
    assert "places : 3 / 3" in shown and "Liste d’attente (1)" in shown, shown
    from convier.services import answers

    view = answers.show(c, s, parent)
    promoted = next(p for p in view.people if p.sid == first)
    assert promoted.promoted_at and promoted.told_at and view.counts["waiting"] == 1
    assert "1re" in shown  # agent03 now first of the waiting list


def test_a_person_promoted_again_after_giving_the_place_back_is_told_again_once_per_promotion(
        cli, settings, tmp_path):
    from convier.handlers import web
    from convier.local.outbox import sent_hook
    from convier.local.worker import drain
    from convier.services import answers
    from convier.services.sending import message_body, sender_for
    from webkit import event, form

    s, c = settings
    parent = invitation(cli, tmp_path, n=5, extra_yaml="capacity: 1\n")
    tokens = {who: next(t for t in re.findall(r"/rsvp/([\w.-]+)", m.get_body(("plain",)).get_content()))
              for who, m in outbox(settings, parent).items()}
    a, b, cc, d = (sid(settings, i) for i in range(4))
    sender = sender_for(s, c, on_sent=sent_hook(s.outbox))
    calls = []  # what the web function asks of AWS: its role allows these only (template.yaml)

    def record(model, **kwargs):
        calls.append(f"{model.service_model.service_name}:{model.name}")

    def post(who, value):
        for client in (c.dynamodb, c.sqs):
            client.meta.events.register("before-call", record)
        try:
            response = web.handle(form({"answer": value}, event("web-rsvp-post.json", tokens[who])), None,
                                  *settings)
        finally:
            for client in (c.dynamodb, c.sqs):
                client.meta.events.unregister("before-call", record)
        assert response["statusCode"] == 200, response
        drain(sender, idle_timeout=5)

    for who in (a, b, cc):
        post(who, "yes")  # a confirmed; b, then cc waiting
    post(a, "no")  # b promoted (1st time)
    post(b, "no")  # b gives the place back: cc promoted
    post(b, "yes")  # b waits again
    post(cc, "no")  # b promoted a 2nd time: told again
    first, second = records.promotion_of(parent), records.promotion_of(parent, 2)
    assert set(outbox(settings, first)) == {b, cc} and set(outbox(settings, second)) == {b}
    assert set(calls) <= {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
                          "dynamodb:TransactWriteItems", "sqs:SendMessage"}, set(calls)
    assert rsvp.get_rsvp(c.dynamodb, s.table, parent, b).promotions == 2
    # the same messages delivered again, or b saying yes again: nobody told twice
    for campaign_id in (first, second):
        c.sqs.send_message(QueueUrl=s.queue_url, MessageBody=message_body(campaign_id, "invites", [b]))
    post(b, "yes")
    assert (len(outbox(settings, first)), len(outbox(settings, second))) == (2, 1)
    view = answers.show(c, s, parent)
    told = {p.sid: p.told_at for p in view.people}
    assert told[b] and told[b] == records.send_record(c.dynamodb, s.table, second, b)["sent_at"]
    # raising the capacity promotes the waiting list in order and tells each: a, then d
    post(a, "yes")
    post(d, "yes")
    assert [r.sid for r in rsvp.waiting_list(c.dynamodb, s.table, parent)] == [a, d]
    assert answers.set_capacity(c, s, parent, 3) == [a, d]
    drain(sender, idle_timeout=5)
    assert set(outbox(settings, first)) == {b, cc, a, d}


def test_erasing_a_confirmed_guest_tells_the_first_waiting_at_once(cli, settings, tmp_path):
    from convier.local.outbox import sent_hook
    from convier.local.worker import drain
    from convier.services.sending import sender_for

    s, c = settings
    parent = invitation(cli, tmp_path, n=3, extra_yaml="capacity: 1\n")
    answer_all(settings, parent, {0: "yes", 1: "yes"})
    result = cli("subscribers", "forget", "agent00@exemple.gouv.fr")
    assert result.code == 0, result.err
    drain(sender_for(s, c, on_sent=sent_hook(s.outbox)), idle_timeout=5)
    assert set(outbox(settings, records.promotion_of(parent))) == {sid(settings, 1)}
