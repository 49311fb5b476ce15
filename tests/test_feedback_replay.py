"""`convier feedback replay`: SES events left on the stack's on-failure queue, applied again on moto."""

from __future__ import annotations

import json
import uuid

import pytest

from convier.domain.ids import subscriber_id
from convier.errors import InputError
from convier.services import feedback_replay
from convier.store import ddb, keys
from samples import SEED
from test_feedback import PEOPLE, sample
from webkit import SEED_CAMPAIGN


def on_failure_record(event: dict) -> str:
    """What Lambda puts on an asynchronous invocation's on-failure SQS destination."""
    return json.dumps({"version": "1.0", "timestamp": "2023-01-10T09:00:00.000Z",
                       "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetriesExhausted",
                                          "approximateInvokeCount": 3,
                                          "functionArn": "arn:aws:lambda:eu-west-3:123456789012:function:f"},
                       "requestPayload": event,
                       "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
                       "responsePayload": {"errorMessage": "Task timed out after 30.03 seconds"}})


def test_the_queue_is_found_in_the_stack_outputs():
    assert feedback_replay.failure_queue_url({"FeedbackFailureQueueUrl": " https://q "}, "convier") == "https://q"
    with pytest.raises(InputError, match="--stack"):
        feedback_replay.failure_queue_url({}, "")
    with pytest.raises(InputError, match="FeedbackFailureQueueUrl"):
        feedback_replay.failure_queue_url({"TableName": "t"}, "convier")


def test_event_of_reads_the_on_failure_record_or_the_event_itself():
    event = sample("delivery")
    assert feedback_replay.event_of(on_failure_record(event)) == event
    assert feedback_replay.event_of(json.dumps(event)) == event
    for bad in ("not json", "[]", json.dumps({"requestPayload": {}})):
        with pytest.raises(ValueError):
            feedback_replay.event_of(bad)


def test_replay_applies_deletes_what_it_applied_and_keeps_what_fails(cli, settings, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("email\n" + "".join(f"{a}\n" for a in PEOPLE), encoding="utf-8")
    assert cli("lists", "import", "invites", people).code == 0
    result = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN)
    assert result.code == 0, result.err
    campaign_id = result.out.strip().splitlines()[-1]
    assert cli("campaign", "send", campaign_id, "--yes", str(len(PEOPLE))).code == 0

    sqs = settings.clients.sqs
    queue_url = sqs.create_queue(QueueName=f"feedback-failures-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_record(
        sample("bounce-permanent", address=PEOPLE[0], campaign=campaign_id)))
    bad = sqs.send_message(QueueUrl=queue_url, MessageBody="pas du JSON")["MessageId"]

    result = cli("feedback", "replay", "--queue-url", queue_url)
    assert result.code == 1  # one message could not be applied
    assert "1 retour(s) rejoué(s)" in result.out and "bounced 1" in result.out
    assert "1 adresse(s) supprimée(s)" in result.out
    assert bad in result.err and PEOPLE[0] not in result.out + result.err  # ids, never an address

    sid = subscriber_id(PEOPLE[0], settings.clients.keys.id_key)
    record = ddb.get(settings.clients.dynamodb, settings.settings.table, keys.campaign_pk(campaign_id), f"SEND#{sid}")
    assert record["outcome"] == "bounced"
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert (int(attributes["ApproximateNumberOfMessages"])
            + int(attributes["ApproximateNumberOfMessagesNotVisible"])) == 1


def test_replay_needs_a_stack_or_a_queue(cli):
    result = cli("feedback", "replay")
    assert result.code != 0 and "--stack" in result.err


def test_replay_finds_the_queue_in_the_stack_outputs(cli, settings, tmp_path):
    """`--stack NAME`: the queue is the stack's `FeedbackFailureQueueUrl` output (here, outputs saved as JSON)."""
    s, clients = settings.settings, settings.clients
    secret = clients.client("secretsmanager").create_secret(
        Name=f"convier-keys-{uuid.uuid4().hex[:8]}", SecretString=clients.keys.to_json())["ARN"]
    queue_url = clients.sqs.create_queue(QueueName=f"feedback-failures-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    outputs = {"TableName": s.table, "QueueUrl": s.queue_url, "DeadLetterQueueUrl": s.dead_letter_queue_url,
               "ConfigurationSetName": s.configuration_set, "SecretId": secret,
               "CampaignFunctionName": "convier-CampaignFunction-1", "PublicUrl": "https://invitations.gouv.fr",
               "SenderAddress": "invitations@numerique.gouv.fr", "FeedbackFailureQueueUrl": queue_url}
    (tmp_path / "outputs.json").write_text(json.dumps(outputs), encoding="utf-8")
    clients.sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_record(sample("bounce-transient")))

    result = cli("--stack", "convier", "--stack-outputs", tmp_path / "outputs.json", "feedback", "replay")
    assert result.code == 0, result.err
    assert "1 retour(s) rejoué(s)" in result.out
    attributes = clients.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
