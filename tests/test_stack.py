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
import re
import types
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
EXAMPLE_CAMPAIGN = ROOT / "examples" / "campagne-journee-cloud.yaml"  # names its sender
REGION = "eu-west-3"
CALLER = "arn:aws:sts::123456789012:user/moto"  # moto's STS GetCallerIdentity, as the CLI puts it in the payload
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


def campaign_function_actions() -> set[str]:
    """Every action the template lets the campaign function make: its own policies and those given to its role."""
    template = yaml_parse((ROOT / "template.yaml").read_text())["Resources"]
    statements = [st for policy in template["CampaignFunction"]["Properties"]["Policies"]
                  for st in policy["Statement"]]
    statements += [st for res in template.values() if res["Type"] == "AWS::IAM::Policy"
                   and {"Ref": "CampaignFunctionRole"} in res["Properties"]["Roles"]
                   for st in res["Properties"]["PolicyDocument"]["Statement"]]
    return {a for st in statements for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}


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
    """What the campaign function gets: template.yaml's Globals environment and its own, with the stack's values."""
    env = {"CONVIER_TABLE": outputs["TableName"], "CONVIER_QUEUE_URL": outputs["QueueUrl"],
           "CONVIER_DLQ_URL": outputs["DeadLetterQueueUrl"],
           "CONVIER_CONFIGURATION_SET": outputs["ConfigurationSetName"],
           "CONVIER_SECRET_ID": outputs["SecretId"], "CONVIER_SENDER": outputs["SenderAddress"],
           "CONVIER_SEND_RATE": outputs["MaxSendRate"], "CONVIER_WORKERS": outputs["SendWorkers"],
           "CONVIER_PUBLIC_URL": outputs["PublicUrl"], "AWS_REGION": REGION, "CONVIER_ENDPOINT_URL": endpoint}
    template = yaml_parse((ROOT / "template.yaml").read_text())
    declared = {**template["Globals"]["Function"]["Environment"]["Variables"],
                **template["Resources"]["CampaignFunction"]["Properties"]["Environment"]["Variables"]}
    assert set(env) - {"AWS_REGION", "CONVIER_ENDPOINT_URL"} <= set(declared)
    assert json.dumps(template["Outputs"]["PublicUrl"]["Value"]) == json.dumps(declared["CONVIER_PUBLIC_URL"])
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


def on_the_stack(monkeypatch, outputs: dict, endpoint: str) -> FakeLambda:
    """The CLI's Lambda client replaced by a FakeLambda running the campaign function's code and settings."""
    fake = FakeLambda(function_settings(outputs, endpoint))
    real_client = Clients.client
    monkeypatch.setattr(Clients, "client",
                        lambda self, service: fake if service == "lambda" else real_client(self, service))
    return fake


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
    fake = on_the_stack(monkeypatch, outputs, moto_server)
    created = cli(*on_stack, "campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN)
    assert created.code == 0, created.err
    campaign_id = created.out.strip().splitlines()[-1]
    assert [call[1]["action"] for call in fake.calls] == ["create"]  # rendered by the function
    dynamo, table = settings.clients.dynamodb, outputs["TableName"]
    campaign = records.load_campaign(dynamo, table, campaign_id)
    assert campaign.template.public_url == outputs["PublicUrl"]  # links point at the stack's public URL
    fake.calls.clear()

    sent = cli(*on_stack, "campaign", "send", campaign_id, "--yes", "3")
    assert sent.code == 0, sent.err
    assert "3 destinataires mis en file" in sent.out
    assert fake.calls == [(outputs["CampaignFunctionName"],
                           {"action": "send", "campaign": campaign_id, "confirm": 3, "caller": CALLER}, {})]
    attributes = settings.clients.sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"],
                                                           AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"  # 3 recipients, one message
    assert records.campaign_status(dynamo, table, campaign_id) == records.SENDING

    assert cli(*on_stack, "campaign", "pause", campaign_id).code == 0
    assert fake.calls[-1][:2] == (outputs["CampaignFunctionName"],
                                  {"action": "pause", "campaign": campaign_id, "caller": CALLER})
    assert records.campaign_status(dynamo, table, campaign_id) == records.PAUSED
    refused = cli(*on_stack, "campaign", "pause", campaign_id)
    assert refused.code == 2 and "en pause" in refused.err
    assert cli(*on_stack, "campaign", "resume", campaign_id).code == 0
    assert fake.calls[-1][1] == {"action": "resume", "campaign": campaign_id, "caller": CALLER}
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


# --- campaign create on a stack: the campaign function renders ------------------------------------------------

class LosesTheFirstAnswer(FakeLambda):
    """The function runs, then the connection drops before its answer arrives (once): the CLI asks again."""

    def invoke(self, FunctionName: str, Payload: bytes, **kwargs):
        from botocore.exceptions import ReadTimeoutError

        answer = super().invoke(FunctionName, Payload, **kwargs)
        if len(self.calls) == 1:
            raise ReadTimeoutError(endpoint_url="https://lambda.eu-west-3.amazonaws.com")
        return answer


def _invitations(dynamo, table: str) -> list[str]:
    """The campaigns' index, without the « place libérée » campaign a capacity adds to each invitation."""
    return [item["SK"] for item in ddb.query(dynamo, table, keys.CAMPAIGNS) if not item.get("kind")]


def _normalised(text: str, *ids: str) -> str:
    for campaign_id in ids:
        text = text.replace(campaign_id, "ID")
    return text


def test_create_on_a_stack_sends_the_files_text_and_prints_what_a_local_create_prints(
        cli, settings, stack, moto_server, tmp_path, monkeypatch):
    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    assert cli("lists", "import", "invites", people_file(tmp_path)).code == 0
    assert cli(*on_stack, "lists", "import", "invites", people_file(tmp_path)).code == 0
    local = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", EXAMPLE_CAMPAIGN)
    assert local.code == 0, local.err

    fake = on_the_stack(monkeypatch, outputs, moto_server)
    remote = cli(*on_stack, "campaign", "create", "--post", SEED, "--list", "invites", "--campaign", EXAMPLE_CAMPAIGN)
    assert remote.code == 0, remote.err
    ((function, payload, _),) = fake.calls
    assert function == outputs["CampaignFunctionName"]
    assert re.fullmatch(r"[0-9a-f]{32}", payload.pop("request_id"))
    assert payload == {"action": "create", "list": "invites", "caller": CALLER,
                       "post": {"name": str(SEED), "text": SEED.read_text(encoding="utf-8")},
                       "settings": {"name": str(EXAMPLE_CAMPAIGN),
                                    "text": EXAMPLE_CAMPAIGN.read_text(encoding="utf-8")}}
    local_id, remote_id = local.out.strip().splitlines()[-1], remote.out.strip().splitlines()[-1]
    assert re.fullmatch(r"\d{8}-[0-9a-f]{6}", remote_id)
    assert _normalised(remote.out, remote_id) == _normalised(local.out, local_id)  # summary, next steps, id last
    assert remote.err == local.err  # the same warnings
    assert "Campagne créée pour la liste « invites » (3 abonnés)" in remote.out
    stored = records.load_campaign(settings.clients.dynamodb, outputs["TableName"], remote_id)
    assert stored.status == records.DRAFT and stored.post == SEED.name and "<html" in "".join(stored.template.html)
    assert stored.template.public_url == outputs["PublicUrl"]  # the function's CONVIER_PUBLIC_URL
    without_sender = cli(*on_stack, "campaign", "create", "--post", SEED, "--list", "invites")
    assert f"Expéditeur : {outputs['SenderAddress']}" in without_sender.out  # the stack's SenderAddress


def test_the_campaign_create_sample_is_what_the_cli_sends_and_the_handler_renders_it_once(
        cli, settings, stack, moto_server, tmp_path, monkeypatch):
    """events/campaign-create.json: the CLI's payload for the examples; through `handler` with a Lambda
    context; the same request id twice (a retried invoke) makes one campaign."""
    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    assert cli(*on_stack, "lists", "import", "invites", people_file(tmp_path)).code == 0
    sample = json.loads((EVENTS / "campaign-create.json").read_text(encoding="utf-8"))
    fake = on_the_stack(monkeypatch, outputs, moto_server)
    monkeypatch.chdir(ROOT)  # the paths as staff type them, from the checkout
    made = cli(*on_stack, "campaign", "create", "--post", "examples/seed-journee-cloud-2023.md", "--list", "invites",
               "--campaign", "examples/campagne-journee-cloud.yaml")
    assert made.code == 0, made.err
    sent = dict(fake.calls[0][1])
    assert set(sample) == set(sent) and {k: v for k, v in sample.items() if k not in ("request_id", "caller")} == {
        k: v for k, v in sent.items() if k not in ("request_id", "caller")}

    for key, value in function_settings(outputs, moto_server).to_env().items():
        monkeypatch.setenv(key, value)
    context = types.SimpleNamespace(aws_request_id=str(uuid.uuid4()),
                                    invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:f")
    first = campaign_handler.handler(sample, context)
    again = campaign_handler.handler(sample, context)
    assert first["ok"] is True and again == first
    assert set(first) == {"ok", "id", "list", "size", "subject", "sender", "when", "place", "parent", "segments",
                          "warnings"}
    assert (first["list"], first["size"], first["parent"]) == ("invites", 3, "")
    dynamo, table = settings.clients.dynamodb, outputs["TableName"]
    index = _invitations(dynamo, table)
    assert index.count(first["id"]) == 1 and len(index) == 2  # the CLI's create, and the sample's (once)
    # without a request id in the payload, the context's: a retried invoke keeps it
    bare = {k: v for k, v in sample.items() if k != "request_id"}
    assert campaign_handler.handler(bare, context)["id"] == campaign_handler.handler(bare, context)["id"] != first["id"]


def test_an_answer_lost_on_the_way_is_asked_again_and_makes_one_campaign(cli, settings, stack, moto_server,
                                                                          tmp_path, monkeypatch):
    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    assert cli(*on_stack, "lists", "import", "invites", people_file(tmp_path)).code == 0
    fake = LosesTheFirstAnswer(function_settings(outputs, moto_server))
    real_client = Clients.client
    monkeypatch.setattr(Clients, "client",
                        lambda self, service: fake if service == "lambda" else real_client(self, service))
    made = cli(*on_stack, "campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN)
    assert made.code == 0, made.err
    assert len(fake.calls) == 2 and fake.calls[0][1] == fake.calls[1][1]  # the same request, the same id
    campaign_id = made.out.strip().splitlines()[-1]
    dynamo, table = settings.clients.dynamodb, outputs["TableName"]
    assert _invitations(dynamo, table) == [campaign_id]
    assert {item["campaign"] for item in ddb.query(dynamo, table, keys.CREATES)} == {campaign_id}
    assert [e["action"] for e in stack_journal(outputs, moto_server)] == ["import", "create"]  # once, not twice


def test_the_same_request_twice_at_once_makes_one_campaign(settings, stack, moto_server, tmp_path):
    import threading

    name, outputs = stack
    function = function_settings(outputs, moto_server)
    subscribers.ensure_list(settings.clients.dynamodb, outputs["TableName"], "invites")
    event = {"action": "create", "list": "invites", "request_id": uuid.uuid4().hex,
             "post": {"name": "billet.md", "text": SEED.read_text(encoding="utf-8")}}
    start, answers = threading.Barrier(2), []

    def create():
        start.wait()
        answers.append(campaign_handler.run(event, function, Clients(function)))

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a["ok"] for a in answers] == [True, True] and answers[0]["id"] == answers[1]["id"]
    assert _invitations(settings.clients.dynamodb, outputs["TableName"]) == [answers[0]["id"]]


def test_a_broken_post_or_campaign_file_on_a_stack_says_what_the_local_create_says(
        cli, settings, stack, moto_server, tmp_path, monkeypatch):
    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    assert cli("lists", "import", "invites", people_file(tmp_path)).code == 0
    assert cli(*on_stack, "lists", "import", "invites", people_file(tmp_path)).code == 0
    post = tmp_path / "billet.md"
    post.write_text("---\ntitle: Journée\ndate: [2023-01-24\n---\nTexte.\n", encoding="utf-8")
    chosen = tmp_path / "campagne.yaml"
    chosen.write_text("subject: Invitation\nevent:\n  start: 2023-01-24 09:00:00 +01:00\n  salle: B\n",
                      encoding="utf-8")
    latin = tmp_path / "latin1.md"
    latin.write_bytes("---\ntitle: Journée\n---\nÉté\n".encode("latin-1"))
    cases = [("--post", post), ("--post", SEED, "--campaign", chosen), ("--post", latin),
             ("--post", tmp_path / "absent.md")]
    local = [cli("campaign", "create", "--list", "invites", *case) for case in cases]
    fake = on_the_stack(monkeypatch, outputs, moto_server)
    remote = [cli(*on_stack, "campaign", "create", "--list", "invites", *case) for case in cases]
    for here, there in zip(local, remote, strict=True):
        assert there.code == here.code == 2, there.err
        assert there.err == here.err and there.out == ""
    assert f"{post}, ligne 3" in remote[0].err and f"{chosen}, ligne 4" in remote[1].err
    assert "salle" in remote[1].err and "UTF-8" in remote[2].err
    assert len(fake.calls) == 2  # the parse errors come from the function; unreadable files stop at the CLI
    assert not _invitations(settings.clients.dynamodb, outputs["TableName"])


def test_a_post_over_the_invoke_limit_is_refused_before_the_call(cli, stack, moto_server, tmp_path, monkeypatch):
    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    big = tmp_path / "gros-billet.md"
    big.write_text("---\ntitle: Un billet trop lourd\n---\n" + "é" * (3_200_000) + "\n", encoding="utf-8")
    fake = on_the_stack(monkeypatch, outputs, moto_server)
    result = cli(*on_stack, "campaign", "create", "--post", big, "--list", "invites")
    assert result.code == 2 and fake.calls == []
    assert f"{big} : 6,1 Mo" in result.err and "au plus 6 Mo" in result.err


def test_followup_create_on_a_stack_is_rendered_by_the_campaign_function(cli, settings, stack, moto_server,
                                                                         tmp_path, monkeypatch):
    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    assert cli(*on_stack, "lists", "import", "invites", people_file(tmp_path)).code == 0
    fake = on_the_stack(monkeypatch, outputs, moto_server)
    parent = cli(*on_stack, "campaign", "create", "--post", SEED, "--list", "invites", "--campaign", EXAMPLE_CAMPAIGN)
    parent_id = parent.out.strip().splitlines()[-1]
    message = tmp_path / "rappel.md"
    message.write_text("---\nsubject: \"Rappel : {{ titre }}\"\nto: peut-être\n---\nRendez-vous à **{{ lieu }}**.\n",
                       encoding="utf-8")
    made = cli(*on_stack, "followup", "create", parent_id, "--message", message)
    assert made.code == 0, made.err
    payload = dict(fake.calls[-1][1])
    assert re.fullmatch(r"[0-9a-f]{32}", payload.pop("request_id"))
    assert payload == {"action": "followup-create", "campaign": parent_id, "to": None, "subject": None,
                       "caller": CALLER, "kind": None,
                       "message": {"name": str(message), "text": message.read_text(encoding="utf-8")}}
    followup_id = made.out.strip().splitlines()[-1]
    assert made.out.startswith(f"Suivi créé pour l’invitation {parent_id} : peut-être (0 destinataires")
    campaign = records.load_campaign(settings.clients.dynamodb, outputs["TableName"], followup_id)
    assert (campaign.kind, campaign.parent, campaign.segments) == ("followup", parent_id, ("maybe",))
    assert campaign.template.subject.startswith("Rappel : ") and "Station F" in "".join(campaign.template.html)
    assert "n’a pas encore été envoyée" in made.err  # the function's warning, printed as locally
    message.write_text("---\nto: [peut-être\n---\nTexte\n", encoding="utf-8")
    broken = cli(*on_stack, "followup", "create", parent_id, "--message", message)
    assert broken.code == 2 and f"{message}, ligne 2 : en-tête YAML illisible" in broken.err


def test_the_campaign_function_may_make_every_call_a_create_makes(settings, stack, moto_server):
    """The AWS calls of a create through the real handler (botocore's hooks see each one), against the
    template's statements for the campaign function's role."""
    from convier.settings import _session_unlocked

    name, outputs = stack
    function = function_settings(outputs, moto_server)
    subscribers.ensure_list(settings.clients.dynamodb, outputs["TableName"], "invites")
    Clients(function).ses.create_email_identity(EmailIdentity="numerique.gouv.fr")  # the stack's own, verified
    calls = []

    def seen(model, **kwargs):
        calls.append(f"{model.service_model.signing_name}:{model.name}")

    session = _session_unlocked()
    session.events.register("before-call", seen)
    try:
        event = {"action": "create", "list": "invites", "request_id": uuid.uuid4().hex,
                 "post": {"name": str(SEED), "text": SEED.read_text(encoding="utf-8")},
                 "settings": {"name": str(SEED_CAMPAIGN), "text": SEED_CAMPAIGN.read_text(encoding="utf-8")}}
        assert campaign_handler.run(event, function, Clients(function))["ok"] is True
    finally:
        session.events.unregister("before-call", seen)
    allowed = campaign_function_actions()
    assert {"dynamodb:PutItem", "ses:GetEmailIdentity"} <= set(calls)
    assert set(calls) <= allowed, set(calls) - allowed


# --- the audit log on a stack ------------------------------------------------------------------------------------

def stack_journal(outputs: dict, endpoint: str) -> list[dict]:
    """The stack's audit log, oldest first."""
    from convier.services import audit

    function = function_settings(outputs, endpoint)
    return list(reversed(audit.recent(Clients(function), function)))


def test_on_a_stack_the_journal_names_the_aws_identity_and_the_function_records_what_it_does(
        cli, settings, stack, moto_server, tmp_path, monkeypatch):
    from convier.services import audit

    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    assert cli(*on_stack, "lists", "import", "invites", people_file(tmp_path)).code == 0  # the CLI writes it
    fake = on_the_stack(monkeypatch, outputs, moto_server)
    created = cli(*on_stack, "campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN)
    campaign_id = created.out.strip().splitlines()[-1]
    from convier.settings import _session_unlocked

    asked = []

    def ask(**kwargs):
        asked.append(1)

    session = _session_unlocked()
    session.events.register("before-call.sts.GetCallerIdentity", ask)
    try:
        assert cli(*on_stack, "campaign", "send", campaign_id, "--yes", "3").code == 0
    finally:
        session.events.unregister("before-call.sts.GetCallerIdentity", ask)
    assert len(asked) == 1  # once per command, though the command reads the stack and invokes the function
    assert cli(*on_stack, "campaign", "pause", campaign_id).code == 0
    assert cli(*on_stack, "campaign", "pause", campaign_id).code == 2  # refused by the function: no entry
    assert cli(*on_stack, "rsvps", "export", campaign_id, "--out", tmp_path / "r.csv").code == 0  # the CLI's
    assert [call[1]["action"] for call in fake.calls] == ["create", "send", "pause", "pause"]
    assert {call[1]["caller"] for call in fake.calls} == {CALLER}

    entries = stack_journal(outputs, moto_server)
    assert [e["action"] for e in entries] == ["import", "create", "send", "pause", "export"]
    assert {(e["who"], e["source"]) for e in entries} == {(f"ligne de commande ({CALLER})", "cli")}
    create, send = entries[1], entries[2]
    assert (create["campaign"], create["list"], create["detail"]) == (campaign_id, "invites", SEED.name)
    assert (send["campaign"], send["list"], send["detail"]) == (campaign_id, "invites", "3 destinataires")
    assert not any(person in json.dumps(entries) for person in PEOPLE)
    assert audit.recent(settings.clients, settings.settings) == []  # nothing in the workstation's table
    # an invoke by hand (no caller) is still recorded, as such; a read is not
    function = function_settings(outputs, moto_server)
    assert campaign_handler.run({"action": "resume", "campaign": campaign_id}, function, Clients(function))["ok"]
    assert campaign_handler.run({"action": "status", "campaign": campaign_id}, function, Clients(function))["ok"]
    last = stack_journal(outputs, moto_server)[-1]
    assert (last["action"], last["who"]) == ("resume", campaign_handler.UNCALLED)


# --- campaign edit / cancel-event on a stack: the campaign function renders ---------------------------------------

def _sent_invitation(cli, on_stack, tmp_path, campaign_file) -> str:
    made = cli(*on_stack, "campaign", "create", "--post", SEED, "--list", "invites", "--campaign", campaign_file)
    assert made.code == 0, made.err
    campaign_id = made.out.strip().splitlines()[-1]
    sent = cli(*on_stack, "campaign", "send", campaign_id, "--yes", "3")
    assert sent.code == 0, sent.err
    return campaign_id


def test_edit_and_cancel_event_on_a_stack_print_what_they_print_locally(cli, settings, stack, moto_server,
                                                                         tmp_path, monkeypatch):
    from test_followups import EVENT_YAML
    from test_updates import MOVED_YAML

    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    first, moved, message = tmp_path / "campagne.yaml", tmp_path / "moved.yaml", tmp_path / "annulation.md"
    first.write_text(EVENT_YAML, encoding="utf-8")
    moved.write_text(MOVED_YAML, encoding="utf-8")
    message.write_text("---\nsubject: \"Annulé : {{ titre }}\"\n---\nLa journée n’aura pas lieu.\n", encoding="utf-8")
    assert cli("lists", "import", "invites", people_file(tmp_path)).code == 0
    local_id = _sent_invitation(cli, (), tmp_path, first)
    assert cli(*on_stack, "lists", "import", "invites", people_file(tmp_path)).code == 0
    fake = on_the_stack(monkeypatch, outputs, moto_server)
    remote_id = _sent_invitation(cli, on_stack, tmp_path, first)
    fake.calls.clear()

    local = cli("campaign", "edit", local_id, "--campaign", moved, "--notice")
    remote = cli(*on_stack, "campaign", "edit", remote_id, "--campaign", moved, "--notice")
    assert local.code == remote.code == 0, remote.err
    ((function, payload, _),) = fake.calls
    assert function == outputs["CampaignFunctionName"]
    assert re.fullmatch(r"[0-9a-f]{32}", payload.pop("request_id"))
    assert payload == {"action": "edit", "campaign": remote_id, "notice": True, "to": None, "caller": CALLER,
                       "settings": {"name": str(moved), "text": MOVED_YAML}}
    assert set(json.loads((EVENTS / "campaign-edit.json").read_text(encoding="utf-8"))) == {*payload, "request_id"}
    local_notice, remote_notice = local.out.strip().splitlines()[-1], remote.out.strip().splitlines()[-1]
    assert "Date et horaire" in remote.out and "SEQUENCE 1" in remote.out
    assert _normalised(remote.out, remote_id, remote_notice) == _normalised(local.out, local_id, local_notice)
    assert _normalised(remote.err, remote_id, remote_notice) == _normalised(local.err, local_id, local_notice)
    dynamo, table = settings.clients.dynamodb, outputs["TableName"]
    stored = records.load_campaign(dynamo, table, remote_id)
    assert stored.event["start"] == "2023-01-24T10:00:00+01:00" and "SEQUENCE:1" in stored.template.to_dict()["ics"]
    assert records.load_campaign(dynamo, table, remote_notice).kind == records.UPDATE

    fake.calls.clear()
    local = cli("campaign", "cancel-event", local_id, "--message", message)
    remote = cli(*on_stack, "campaign", "cancel-event", remote_id, "--message", message)
    assert local.code == remote.code == 0, remote.err
    payload = dict(fake.calls[0][1])
    assert re.fullmatch(r"[0-9a-f]{32}", payload.pop("request_id"))
    assert payload == {"action": "cancel-event", "campaign": remote_id, "to": None, "subject": None, "caller": CALLER,
                       "message": {"name": str(message), "text": message.read_text(encoding="utf-8")}}
    sample = json.loads((EVENTS / "campaign-cancel-event.json").read_text(encoding="utf-8"))
    assert set(sample) == {*payload, "request_id"} - {"message"}  # the message file is optional
    local_cancel, remote_cancel = local.out.strip().splitlines()[-1], remote.out.strip().splitlines()[-1]

    def but_stopped(text: str, *ids: str) -> str:  # the local invitation went out whole; the stack's still sends
        return "\n".join(line for line in _normalised(text, *ids).splitlines() if "Envois arrêtés" not in line)

    assert but_stopped(remote.out, remote_id, remote_cancel) == but_stopped(local.out, local_id, local_cancel)
    assert f"Envois arrêtés : {remote_id}, {remote_notice}" in remote.out
    annulation = records.load_campaign(dynamo, table, remote_cancel)
    assert annulation.kind == records.CANCELLATION and annulation.template.subject.startswith("Annulé : ")
    assert "METHOD:CANCEL" in annulation.template.to_dict()["ics"]
    again = cli(*on_stack, "campaign", "cancel-event", remote_id)
    local_again = cli("campaign", "cancel-event", local_id)
    assert again.code == 2 and "est annulé" in again.err  # a new request: refused as locally
    assert _normalised(again.err, remote_id) == _normalised(local_again.err, local_id)

    actions = [(e["action"], e["campaign"]) for e in stack_journal(outputs, moto_server)]
    assert actions[-2:] == [("edit", remote_id), ("cancel_event", remote_id)]
    broken = tmp_path / "broken.yaml"
    broken.write_text("event:\n  start: [2023\n", encoding="utf-8")
    here, there = cli("campaign", "edit", local_id, "--campaign", broken), cli(*on_stack, "campaign", "edit",
                                                                                 remote_id, "--campaign", broken)
    assert here.code == there.code == 2 and f"{broken}, ligne" in there.err


def test_an_edit_or_a_cancellation_whose_answer_is_lost_is_done_once(cli, settings, stack, moto_server, tmp_path,
                                                                    monkeypatch):
    from test_followups import EVENT_YAML
    from test_updates import MOVED_YAML

    name, outputs = stack
    on_stack = ("--endpoint-url", moto_server, "--stack", name)
    first, moved = tmp_path / "campagne.yaml", tmp_path / "moved.yaml"
    first.write_text(EVENT_YAML, encoding="utf-8")
    moved.write_text(MOVED_YAML, encoding="utf-8")
    assert cli(*on_stack, "lists", "import", "invites", people_file(tmp_path)).code == 0
    on_the_stack(monkeypatch, outputs, moto_server)
    campaign_id = _sent_invitation(cli, on_stack, tmp_path, first)
    fake = LosesTheFirstAnswer(function_settings(outputs, moto_server))
    monkeypatch.setattr(Clients, "client", lambda self, service, real=Clients.client: (
        fake if service == "lambda" else real(self, service)))
    edited = cli(*on_stack, "campaign", "edit", campaign_id, "--campaign", moved, "--notice")
    assert edited.code == 0, edited.err
    assert len(fake.calls) == 2 and fake.calls[0][1] == fake.calls[1][1]  # the same request, the same id
    assert "Date et horaire" in edited.out  # the first attempt's answer (a second edit would find no change)
    fake.calls.clear()
    cancelled = cli(*on_stack, "campaign", "cancel-event", campaign_id)
    assert cancelled.code == 0, cancelled.err  # not « est annulé »: the first attempt's answer
    assert len(fake.calls) == 2
    dynamo, table = settings.clients.dynamodb, outputs["TableName"]
    kinds = [records.load_campaign(dynamo, table, item["SK"], parts=False).kind
             for item in ddb.query(dynamo, table, keys.CAMPAIGNS)]
    assert kinds.count(records.UPDATE) == 1 and kinds.count(records.CANCELLATION) == 1
    actions = [e["action"] for e in stack_journal(outputs, moto_server)]
    assert actions.count("edit") == 1 and actions.count("cancel_event") == 1 and actions.count("followup") == 0
    # a refusal whose answer is lost: the same refusal again, at once (not a wait for an answer that never comes)
    draft = cli(*on_stack, "campaign", "create", "--post", SEED, "--list", "invites", "--campaign", first)
    draft_id = draft.out.strip().splitlines()[-1]
    fake.calls.clear()
    refused = cli(*on_stack, "campaign", "cancel-event", draft_id)
    assert refused.code == 2 and "n’a pas été envoyée" in refused.err and len(fake.calls) == 2


def test_the_campaign_function_may_make_every_call_an_edit_and_a_cancellation_make(settings, stack, moto_server,
                                                                                    tmp_path):
    """The AWS calls of an edit (a raised capacity on a sent invitation) and of a cancellation through the real
    handler, audit entries included, against the template's statements for the campaign function's role (a
    transaction is authorised as the actions of its items)."""
    from convier.settings import _session_unlocked
    from test_followups import EVENT_YAML

    name, outputs = stack
    function = function_settings(outputs, moto_server)
    clients = Clients(function)
    subscribers.ensure_list(settings.clients.dynamodb, outputs["TableName"], "invites")
    clients.ses.create_email_identity(EmailIdentity="numerique.gouv.fr")
    made = campaign_handler.run({"action": "create", "list": "invites", "caller": CALLER,
                                 "post": {"name": "billet.md", "text": SEED.read_text(encoding="utf-8")},
                                 "settings": {"name": "c.yaml", "text": EVENT_YAML + "capacity: 2\n"}},
                                function, clients)
    assert records.set_campaign_status(clients.dynamodb, function.table, made["id"], records.SENDING)  # as if sent
    calls = []

    def seen(model, params, **kwargs):
        name = f"{model.service_model.signing_name}:{model.name}"
        if name == "dynamodb:TransactWriteItems":
            calls.extend(f"dynamodb:{kind}Item" for item in params["TransactItems"] for kind in item)
        else:
            calls.append(name)

    session = _session_unlocked()
    session.events.register("before-call", seen)
    try:
        for event in ({"action": "edit", "campaign": made["id"], "caller": CALLER, "request_id": uuid.uuid4().hex,
                       "settings": {"name": "c.yaml", "text": EVENT_YAML.replace("09:00", "10:00") + "capacity: 5\n"}},
                      {"action": "cancel-event", "campaign": made["id"], "caller": CALLER,
                       "request_id": uuid.uuid4().hex}):
            answer = campaign_handler.run(event, function, Clients(function))  # clients made after the hook
            assert answer["ok"] is True, answer
    finally:
        session.events.unregister("before-call", seen)
    allowed = campaign_function_actions()
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem"} <= set(calls)
    assert set(calls) <= allowed, set(calls) - allowed
    assert [e["action"] for e in stack_journal(outputs, moto_server)] == ["create", "edit", "cancel_event"]
