"""`convier --stack NAME`: the CLI against a deployed stack, read with CloudFormation DescribeStacks.

moto's CloudFormation deploys the table and the queues from a small template whose outputs have the
names template.yaml gives them; moto cannot deploy the secret, the SES configuration set or a Lambda
function from a template, so the secret and the configuration set are made by API and named through
parameters. moto cannot run a Lambda function without Docker either: the campaign actions are checked
up to the Lambda Invoke call (function name and payload), and that payload is then run through the
real campaign handler with the environment template.yaml gives the function.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from convier.cli.target import STACK_OUTPUTS, settings_from_outputs
from convier.errors import InputError
from convier.handlers import campaign as campaign_handler
from convier.settings import Clients, Settings
from convier.store import ddb, keys, records, subscribers
from samples import SEED
from webkit import SEED_CAMPAIGN

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
REGION = "eu-west-3"
PEOPLE = ["ana.lopez@culture.gouv.fr", "bruno.petit@justice.gouv.fr", "chloe.martin@sante.gouv.fr"]
LITERAL = ["SecretId", "CampaignFunctionName", "ConfigurationSetName", "PublicUrl", "SenderAddress"]

STACK_TEMPLATE = {
    "Parameters": {name: {"Type": "String"} for name in LITERAL},
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"},
                                     {"AttributeName": "SK", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]}},
        "SendDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "SendQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "VisibilityTimeout": 180,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["SendDeadLetterQueue", "Arn"]},
                              "maxReceiveCount": 5}}},
    },
    "Outputs": {
        "TableName": {"Value": {"Ref": "Table"}},
        "QueueUrl": {"Value": {"Ref": "SendQueue"}},
        "DeadLetterQueueUrl": {"Value": {"Ref": "SendDeadLetterQueue"}},
        "ApiUrl": {"Value": {"Fn::Sub": "https://abcdef1234.execute-api.${AWS::Region}.${AWS::URLSuffix}"}},
        "MaxSendRate": {"Value": "14"},
        "SendWorkers": {"Value": "2"},
        **{name: {"Value": {"Ref": name}} for name in LITERAL},
    },
}


def test_the_outputs_read_are_the_outputs_template_yaml_declares():
    declared = yaml_parse((ROOT / "template.yaml").read_text())["Outputs"]
    assert set(STACK_OUTPUTS) <= set(declared)
    assert {"MaxSendRate", "SendWorkers", "ApiUrl", "SendFunctionName", "WebFunctionName",
            "FeedbackFunctionName"} <= set(declared)


def test_settings_from_outputs():
    outputs = {"TableName": "convier-Table-1", "QueueUrl": "https://sqs.eu-west-3.amazonaws.com/1/q",
               "DeadLetterQueueUrl": "https://sqs.eu-west-3.amazonaws.com/1/dlq", "ConfigurationSetName": "cs",
               "SecretId": "arn:aws:secretsmanager:eu-west-3:1:secret:LinkSecret-abc",
               "CampaignFunctionName": "convier-CampaignFunction-1", "PublicUrl": "https://invitations.gouv.fr/",
               "SenderAddress": "invitations@numerique.gouv.fr", "MaxSendRate": "14", "SendWorkers": "2",
               "ApiUrl": "https://x.execute-api.eu-west-3.amazonaws.com"}
    s = settings_from_outputs(outputs, REGION, stack="convier")
    assert (s.table, s.queue_url, s.dead_letter_queue_url, s.configuration_set, s.secret_id) == (
        "convier-Table-1", outputs["QueueUrl"], outputs["DeadLetterQueueUrl"], "cs", outputs["SecretId"])
    assert (s.campaign_function, s.public_url, s.sender) == (
        "convier-CampaignFunction-1", "https://invitations.gouv.fr", "invitations@numerique.gouv.fr")
    assert (s.region, s.stack, s.send_rate, s.workers, s.endpoint_url) == (REGION, "convier", 14.0, 2, None)
    assert not s.embedded and s.keys_file is None and s.outbox is None  # keys from Secrets Manager
    with pytest.raises(InputError, match="SecretId, CampaignFunctionName"):
        settings_from_outputs({k: v for k, v in outputs.items() if k not in ("SecretId", "CampaignFunctionName")},
                              REGION, stack="convier")


@pytest.fixture
def stack(moto_server, monkeypatch):
    """A stack on moto with the outputs convier reads; (name, outputs)."""
    monkeypatch.setenv("AWS_REGION", REGION)
    name = f"convier-{uuid.uuid4().hex[:8]}"
    clients = Clients(Settings(endpoint_url=moto_server, region=REGION))
    secret = clients.client("secretsmanager").create_secret(
        Name=f"{name}-LinkSecret", SecretString=json.dumps({"link_keys": [], "seed": uuid.uuid4().hex * 2}))
    clients.ses.create_configuration_set(ConfigurationSetName=f"{name}-cs")
    values = {"SecretId": secret["ARN"], "CampaignFunctionName": f"{name}-CampaignFunction-AbC123",
              "ConfigurationSetName": f"{name}-cs", "PublicUrl": "https://invitations.numerique.gouv.fr",
              "SenderAddress": "invitations@numerique.gouv.fr"}
    cloudformation = clients.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(STACK_TEMPLATE),
                                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()])
    found = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found["Outputs"]}
    yield name, outputs
    cloudformation.delete_stack(StackName=name)
    clients.client("secretsmanager").delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
    clients.ses.delete_configuration_set(ConfigurationSetName=f"{name}-cs")


def function_settings(outputs: dict, endpoint: str) -> Settings:
    """What the campaign function gets: template.yaml's Globals environment, with the stack's values."""
    env = {"CONVIER_TABLE": outputs["TableName"], "CONVIER_QUEUE_URL": outputs["QueueUrl"],
           "CONVIER_DLQ_URL": outputs["DeadLetterQueueUrl"],
           "CONVIER_CONFIGURATION_SET": outputs["ConfigurationSetName"],
           "CONVIER_SECRET_ID": outputs["SecretId"], "CONVIER_SENDER": outputs["SenderAddress"],
           "CONVIER_SEND_RATE": outputs["MaxSendRate"], "CONVIER_WORKERS": outputs["SendWorkers"],
           "AWS_REGION": REGION, "CONVIER_ENDPOINT_URL": endpoint}
    declared = yaml_parse((ROOT / "template.yaml").read_text())["Globals"]["Function"]["Environment"]["Variables"]
    assert set(env) - {"AWS_REGION", "CONVIER_ENDPOINT_URL"} <= set(declared)
    return Settings.from_env(env)


class FakeLambda:
    """Stands for the Lambda client: records each Invoke and runs it through the real campaign handler."""

    def __init__(self, settings: Settings):
        self.settings, self.calls = settings, []

    def invoke(self, FunctionName: str, Payload: bytes, **kwargs):
        payload = json.loads(Payload)
        self.calls.append((FunctionName, payload, kwargs))
        result = campaign_handler.run(payload, self.settings, Clients(self.settings))
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


def people_file(tmp_path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("email\n" + "\n".join(PEOPLE) + "\n", encoding="utf-8")
    return path


def test_lists_commands_work_on_the_stacks_table(cli, settings, stack, moto_server, tmp_path):
    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    result = cli(*on_stack, "lists", "import", "invites", people_file(tmp_path))
    assert result.code == 0, result.err
    shown = cli(*on_stack, "lists", "show")
    assert shown.code == 0 and "invites" in shown.out
    dynamo = settings.clients.dynamodb
    assert subscribers.count_by_status(dynamo, outputs["TableName"], "invites")["subscribed"] == 3
    assert not subscribers.list_exists(dynamo, settings.settings.table, "invites")  # not the CONVIER_TABLE of the env
    # the subscriber ids come from the stack's secret, not the local keys file
    stack_clients = Clients(settings_from_outputs(outputs, REGION, endpoint_url=moto_server))
    from convier.domain.ids import subscriber_id
    sid = subscriber_id(PEOPLE[0], stack_clients.keys.id_key)
    assert subscribers.get_subscriber(dynamo, outputs["TableName"], "invites", sid) is not None
    assert sid != subscriber_id(PEOPLE[0], settings.clients.keys.id_key)


def test_campaign_actions_go_through_the_campaign_function(cli, settings, stack, moto_server, tmp_path,
                                                           monkeypatch):
    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    assert cli(*on_stack, "lists", "import", "invites", people_file(tmp_path)).code == 0
    created = cli(*on_stack, "campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN)
    assert created.code == 0, created.err
    campaign_id = created.out.strip().splitlines()[-1]
    dynamo, table = settings.clients.dynamodb, outputs["TableName"]
    campaign = records.load_campaign(dynamo, table, campaign_id)
    assert campaign.template.public_url == outputs["PublicUrl"]  # links point at the stack's public URL

    fake = FakeLambda(function_settings(outputs, moto_server))
    real_client = Clients.client
    monkeypatch.setattr(Clients, "client",
                        lambda self, service: fake if service == "lambda" else real_client(self, service))

    sent = cli(*on_stack, "campaign", "send", campaign_id, "--yes", "3")
    assert sent.code == 0, sent.err
    assert "3 destinataires mis en file" in sent.out
    assert fake.calls == [(outputs["CampaignFunctionName"],
                           {"action": "send", "campaign": campaign_id, "confirm": 3}, {})]
    attributes = settings.clients.sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"],
                                                           AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"  # 3 recipients, one message
    assert records.campaign_status(dynamo, table, campaign_id) == records.SENDING

    assert cli(*on_stack, "campaign", "pause", campaign_id).code == 0
    assert fake.calls[-1][:2] == (outputs["CampaignFunctionName"], {"action": "pause", "campaign": campaign_id})
    assert records.campaign_status(dynamo, table, campaign_id) == records.PAUSED
    refused = cli(*on_stack, "campaign", "pause", campaign_id)
    assert refused.code == 2 and "en pause" in refused.err
    assert cli(*on_stack, "campaign", "resume", campaign_id).code == 0
    assert fake.calls[-1][1] == {"action": "resume", "campaign": campaign_id}
    status = cli(*on_stack, "campaign", "status", campaign_id)
    assert status.code == 0 and "en cours d’envoi" in status.out

    # the queued message, through the send path with the function's settings: SES gets the stack's config set
    from convier.services.sending import process_event, sender_for
    received = settings.clients.sqs.receive_message(QueueUrl=outputs["QueueUrl"], MaxNumberOfMessages=10)
    event = {"Records": [{"messageId": m["MessageId"], "body": m["Body"], "eventSource": "aws:sqs"}
                         for m in received["Messages"]]}
    response, counts = process_event(event, sender_for(fake.settings, Clients(fake.settings)))
    assert response == {"batchItemFailures": []} and counts.sent == 3
    assert {rec["state"] for rec in records.send_records(dynamo, table, campaign_id).values()} == {"sent"}


def test_unknown_stack_and_incomplete_outputs(cli, stack, moto_server, tmp_path):
    result = cli("--endpoint-url", moto_server, "--stack", "nulle-part", "lists", "show")
    assert result.code == 2 and "nulle-part" in result.err and "introuvable" in result.err
    name, outputs = stack
    partial = tmp_path / "outputs.json"
    partial.write_text(json.dumps({k: v for k, v in outputs.items() if k != "TableName"}))
    result = cli("--endpoint-url", moto_server, "--stack", name, "--stack-outputs", partial, "lists", "show")
    assert result.code == 2 and "TableName" in result.err


def test_the_campaign_send_sample_through_the_campaign_handler(cli, settings, tmp_path, monkeypatch):
    """events/campaign-send.json, as `convier campaign send` invokes the function, through `handler`."""
    assert cli("lists", "import", "invites", people_file(tmp_path)).code == 0
    created = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN)
    campaign_id = created.out.strip().splitlines()[-1]
    event = json.loads((EVENTS / "campaign-send.json").read_text())
    assert set(event) == {"action", "campaign", "confirm"}  # confirm: the count staff confirmed
    event["campaign"] = campaign_id
    assert campaign_handler.handler(event, None) == {"ok": True, "enqueued": 3}  # env: the `cli` fixture's
    meta = ddb.get(settings.clients.dynamodb, settings.settings.table, keys.campaign_pk(campaign_id), "META")
    assert meta["status"] == records.SENDING and meta["audience"] == 3
    assert campaign_handler.handler({"action": "status", "campaign": campaign_id}, None)["ok"] is True
    unknown = campaign_handler.handler({"action": "send", "campaign": "20990101-ffffff"}, None)
    assert unknown["ok"] is False and "inconnue" in unknown["error"]
    assert campaign_handler.handler({"action": "drop"}, None)["ok"] is False
