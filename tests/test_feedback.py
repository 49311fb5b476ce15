"""SES feedback: the samples in events/ (SES event publishing through SNS, as Lambda receives them)
replayed through the real feedback handler against the moto server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convier.domain.ids import subscriber_id
from convier.handlers import feedback as feedback_handler
from convier.services import feedback
from convier.store import ddb, keys, records, subscribers
from samples import SEED
from webkit import SEED_AGAIN, SEED_CAMPAIGN

EVENTS = Path(__file__).resolve().parents[1] / "events"
SAMPLE_ADDRESS = "camille.durand@interieur.gouv.fr"
SAMPLE_CAMPAIGN = "20230110-a1b2c3"
PEOPLE = ["ana.lopez@culture.gouv.fr", "bruno.petit@justice.gouv.fr", "chloe.martin@sante.gouv.fr"]


def sample(name: str, *, address: str = SAMPLE_ADDRESS, campaign: str = SAMPLE_CAMPAIGN) -> dict:
    """events/sns-ses-NAME.json with its recipient and campaign rewritten."""
    event = json.loads((EVENTS / f"sns-ses-{name}.json").read_text(encoding="utf-8"))
    for record in event["Records"]:
        record["Sns"]["Message"] = record["Sns"]["Message"].replace(SAMPLE_ADDRESS, address).replace(
            SAMPLE_CAMPAIGN, campaign)
    return event


# --- parsing (pure) ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, outcome, suppression", [
    ("bounce-permanent", "bounce", "bounced", subscribers.BOUNCED),
    ("bounce-transient", "bounce", "soft_bounced", ""),
    ("complaint", "complaint", "complained", subscribers.COMPLAINED),
    ("delivery", "delivery", "delivered", ""),
    ("reject", "reject", "rejected", ""),
])
def test_every_sample_parses(name, kind, outcome, suppression):
    event = json.loads((EVENTS / f"sns-ses-{name}.json").read_text(encoding="utf-8"))
    assert event["Records"][0]["EventSource"] == "aws:sns"
    assert isinstance(event["Records"][0]["Sns"]["Message"], str)  # a JSON string, as Lambda gets it
    (fb,) = feedback.parse_sns_event(event)
    assert (fb.kind, fb.outcome, fb.suppression) == (kind, outcome, suppression)
    assert fb.recipients == (SAMPLE_ADDRESS,)
    assert fb.campaign == SAMPLE_CAMPAIGN and fb.message_id and fb.at.startswith("2023-01-10T")
    assert not fb.test
    assert SAMPLE_ADDRESS not in fb.detail  # diagnostic codes quote the address: not kept


def test_bounce_details():
    (fb,) = feedback.parse_sns_event(sample("bounce-permanent"))
    assert (fb.bounce_type, fb.bounce_subtype) == ("Permanent", "General")
    assert fb.detail.startswith("smtp; 550 5.1.1 <<destinataire>>")
    (fb,) = feedback.parse_sns_event(sample("bounce-transient"))
    assert (fb.bounce_type, fb.bounce_subtype, fb.suppression) == ("Transient", "MailboxFull", "")


def test_events_we_do_not_act_on_and_bad_ones():
    message = json.loads(sample("delivery")["Records"][0]["Sns"]["Message"])
    assert feedback.parse_notification({**message, "eventType": "Open"}) is None
    assert feedback.parse_notification({**message, "eventType": "Click"}) is None
    send = feedback.parse_sns_event(sample("send"))[0]  # a send event settles an unknown
    assert (send.kind, send.outcome, send.recipients) == ("send", "accepted", (SAMPLE_ADDRESS,))
    delay = feedback.parse_sns_event(sample("delivery-delay"))[0]
    assert (delay.outcome, delay.detail) == ("delayed", "TransientCommunicationFailure")
    # the identity-notification format (notificationType) reads the same
    old = {k: v for k, v in message.items() if k != "eventType"}
    assert feedback.parse_notification({**old, "notificationType": "Delivery"}).outcome == "delivered"
    with pytest.raises(feedback.FeedbackError):
        feedback.parse_notification("not json")
    with pytest.raises(feedback.FeedbackError):
        feedback.parse_sns_event({"Records": [{"EventSource": "aws:sns", "Sns": {}}]})
    no_one = {**message, "mail": {**message["mail"], "destination": []}, "delivery": {"recipients": []}}
    with pytest.raises(feedback.FeedbackError):
        feedback.parse_notification(no_one)


def test_display_names_and_test_copies():
    message = json.loads(sample("complaint")["Records"][0]["Sns"]["Message"])
    message["complaint"]["complainedRecipients"] = []  # some providers leave it empty: the destination counts
    message["mail"]["destination"] = [f"Camille Durand <{SAMPLE_ADDRESS}>"]
    message["mail"]["tags"]["test"] = ["oui"]
    fb = feedback.parse_notification(message)
    assert fb.recipients == (SAMPLE_ADDRESS,) and fb.test


# --- through the handler, on moto ----------------------------------------------------------------

@pytest.fixture
def sent_campaign(cli, settings, tmp_path):
    """A list of three (PEOPLE, also in a second list for the first), and a campaign sent to it."""
    people = tmp_path / "people.csv"
    people.write_text("email;prénom\n" + "".join(f"{a};{a.split('.')[0].title()}\n" for a in PEOPLE),
                      encoding="utf-8")
    assert cli("lists", "import", "invites", people).code == 0
    other = tmp_path / "other.csv"
    other.write_text(f"email\n{PEOPLE[0]}\n", encoding="utf-8")
    assert cli("lists", "import", "autres", other).code == 0
    campaign_id = create_and_send(cli)
    sends = records.send_records(settings.clients.dynamodb, settings.settings.table, campaign_id)
    assert [rec["state"] for rec in sends.values()] == ["sent"] * 3
    return campaign_id


def create_and_send(cli, campaign_file=SEED_CAMPAIGN, count=3) -> str:
    result = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", campaign_file)
    assert result.code == 0, result.err
    campaign_id = result.out.strip().splitlines()[-1]
    result = cli("campaign", "send", campaign_id, "--yes", str(count))
    assert result.code == 0, result.err
    return campaign_id


def sid_of(settings, address: str) -> str:
    return subscriber_id(address, settings.clients.keys.id_key)


def send_record(settings, campaign_id: str, address: str) -> dict:
    return ddb.get(settings.clients.dynamodb, settings.settings.table, keys.campaign_pk(campaign_id),
                   f"SEND#{sid_of(settings, address)}")


def feedback_counts(settings, campaign_id: str) -> dict:
    """The campaign's SES feedback counters (its COUNTERS items), checked against a recount of the records."""
    dynamo, table = settings.clients.dynamodb, settings.settings.table
    counters = records.read_counters(dynamo, table, campaign_id)
    assert counters.as_dict() == records.recount(dynamo, table, campaign_id).as_dict()
    return {name: getattr(counters, name) for name in records.FEEDBACK_COUNTERS}


@pytest.mark.parametrize("name, status", [("bounce-permanent", subscribers.BOUNCED),
                                          ("complaint", subscribers.COMPLAINED)])
def test_a_hard_bounce_or_a_complaint_suppresses_and_the_next_campaign_skips(
        name, status, cli, settings, sent_campaign):
    target = PEOPLE[0]
    dynamo, table = settings.clients.dynamodb, settings.settings.table
    result = feedback_handler.handler(sample(name, address=target, campaign=sent_campaign), None)
    assert result == {"outcomes": {status: 1}, "suppressed": 1}

    rec = send_record(settings, sent_campaign, target)
    assert rec["state"] == "sent" and rec["outcome"] == status and rec[f"{status}_at"].startswith("2023-01-10T")
    assert feedback_counts(settings, sent_campaign)[status] == 1
    sid = sid_of(settings, target)
    assert subscribers.is_suppressed(dynamo, table, sid)
    for list_name in ("invites", "autres"):  # every list of that address
        assert subscribers.get_subscriber(dynamo, table, list_name, sid).status == status
    for other in PEOPLE[1:]:
        assert subscribers.get_subscriber(dynamo, table, "invites", sid_of(settings, other)).status == "subscribed"

    # SNS delivers at least once: the same notification again changes no counter
    feedback_handler.handler(sample(name, address=target, campaign=sent_campaign), None)
    assert feedback_counts(settings, sent_campaign)[status] == 1

    second = create_and_send(cli, SEED_AGAIN, count=2)  # the same post again, allowed; the suppressed not counted
    assert send_record(settings, second, target)["state"] == "skipped"
    outbox = Path(settings.settings.outbox) / second
    assert not (outbox / f"{sid}.eml").exists()
    assert {p.stem for p in outbox.glob("*.eml")} == {sid_of(settings, a) for a in PEOPLE[1:]}


def test_transient_bounces_are_counted_not_suppressed(cli, settings, sent_campaign):
    target = PEOPLE[1]
    dynamo, table = settings.clients.dynamodb, settings.settings.table
    feedback_handler.handler(sample("bounce-transient", address=target, campaign=sent_campaign), None)
    rec = send_record(settings, sent_campaign, target)
    assert rec["outcome"] == "soft_bounced" and rec["bounce_type"] == "Transient"
    assert feedback_counts(settings, sent_campaign)["soft_bounced"] == 1
    sid = sid_of(settings, target)
    assert not subscribers.is_suppressed(dynamo, table, sid)
    assert subscribers.get_subscriber(dynamo, table, "invites", sid).status == "subscribed"


def test_delivery_then_complaint_and_a_reject(cli, settings, sent_campaign):
    a, b = PEOPLE[1], PEOPLE[2]
    feedback_handler.handler(sample("delivery", address=a, campaign=sent_campaign), None)
    assert send_record(settings, sent_campaign, a)["outcome"] == "delivered"
    feedback_handler.handler(sample("complaint", address=a, campaign=sent_campaign), None)
    feedback_handler.handler(sample("delivery", address=a, campaign=sent_campaign), None)  # late, repeated
    rec = send_record(settings, sent_campaign, a)
    assert rec["outcome"] == "complained" and rec["delivered_at"] and rec["complained_at"]
    feedback_handler.handler(sample("reject", address=b, campaign=sent_campaign), None)
    assert send_record(settings, sent_campaign, b)["outcome"] == "rejected"
    counts = feedback_counts(settings, sent_campaign)
    assert counts == {"delivered": 1, "bounced": 0, "soft_bounced": 0, "complained": 1, "rejected": 1}
    status = cli("campaign", "status", sent_campaign)
    assert status.code == 0 and "Retours SES : remis" in status.out and "plaintes" in status.out
    assert not subscribers.is_suppressed(settings.clients.dynamodb, settings.settings.table, sid_of(settings, b))


def test_feedback_on_mail_with_no_send_record(cli, settings, sent_campaign):
    """A test copy (or an address erased since): nothing to count, but a hard bounce still suppresses."""
    stranger = "inconnu@exemple.gouv.fr"
    result = feedback_handler.handler(sample("bounce-permanent", address=stranger, campaign=sent_campaign), None)
    assert result["suppressed"] == 1
    assert send_record(settings, sent_campaign, stranger) is None
    assert feedback_counts(settings, sent_campaign)["bounced"] == 0
    assert subscribers.is_suppressed(settings.clients.dynamodb, settings.settings.table, sid_of(settings, stranger))
    # an event for a campaign that does not exist changes nothing but the suppression
    feedback_handler.handler(sample("delivery", address=PEOPLE[1], campaign="20990101-ffffff"), None)
    assert ddb.get(settings.clients.dynamodb, settings.settings.table, "CAMPAIGN#20990101-ffffff", "META") is None
