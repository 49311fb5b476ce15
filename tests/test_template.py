"""The SAM template: cfn-lint clean, translated offline by the SAM translator, least privilege."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
PARAMETERS = {"SenderAddress": "invitations@numerique.gouv.fr", "AlarmEmail": "exploitation@numerique.gouv.fr"}


class NoManagedPolicies:
    """The template names no AWS managed policy, so the translator never needs IAM."""

    def load(self):
        return {}


@pytest.fixture(scope="module")
def translated(tmp_path_factory):
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
    source = yaml_parse(TEMPLATE.read_text())
    for resource in source["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = "s3://convier-build/code.zip"
    source["Globals"]["Function"]["CodeUri"] = "s3://convier-build/code.zip"
    output = transform(source, PARAMETERS, NoManagedPolicies())
    path = tmp_path_factory.mktemp("sam") / "translated.json"
    path.write_text(json.dumps(output, default=str))
    return output, path


def _lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True, text=True)


def test_cfn_lint_is_clean_on_the_source():
    result = _lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_is_clean_on_the_translated_template(translated):
    result = _lint(translated[1])
    assert result.returncode == 0, result.stdout + result.stderr


def test_translated_resources(translated):
    resources = translated[0]["Resources"]
    by_type = {}
    for name, res in resources.items():
        by_type.setdefault(res["Type"], []).append(name)
    assert len(by_type["AWS::DynamoDB::Table"]) == 1
    assert len(by_type["AWS::SQS::Queue"]) == 3  # send, dead letters, feedback failures
    assert "AWS::SES::ConfigurationSet" in by_type
    assert "AWS::ApiGatewayV2::Api" in by_type
    functions = {resources[n]["Properties"]["Handler"] for n in by_type["AWS::Lambda::Function"]}
    assert functions == {"convier.handlers.send.handler", "convier.handlers.campaign.handler",
                         "convier.handlers.web.handler", "convier.handlers.feedback.handler",
                         "convier.handlers.console.handler"}
    assert len(by_type["AWS::Lambda::Function"]) == 5
    assert len(by_type["AWS::SES::ConfigurationSetEventDestination"]) == 1
    assert len(by_type["AWS::SNS::Topic"]) == 2  # SES feedback, alarms
    mapping = resources[by_type["AWS::Lambda::EventSourceMapping"][0]]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumConcurrency" in mapping["ScalingConfig"]
    table = resources[by_type["AWS::DynamoDB::Table"][0]]["Properties"]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["DeletionProtectionEnabled"] is True


def test_send_timeout_is_below_the_queue_visibility(translated):
    resources = translated[0]["Resources"]
    send = resources["SendFunction"]["Properties"]
    queue = resources["SendQueue"]["Properties"]
    assert send["Timeout"] * 6 <= queue["VisibilityTimeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5


def test_no_statement_grants_everything(translated):
    for name, res in translated[0]["Resources"].items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for policy in res["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not any(a in ("*", "ses:*", "dynamodb:*", "sqs:*") for a in actions), (name, statement)
                if statement.get("Resource") == "*":
                    # the actions with no resource scope
                    assert set(actions) <= {"ses:GetAccount", "ses:ListEmailIdentities"}, (name, statement)


def test_the_built_package_carries_the_templates(tmp_path):
    """`sam build` packages each function from the installed package, not the source tree."""
    target = tmp_path / "package"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(ROOT)], check=True)
    assert (target / "convier" / "templates" / "invitation.mjml.j2").is_file()
    assert (target / "convier" / "templates" / "partials" / "footer.mjml.j2").is_file()
    code = ("import convier.render, sys; from importlib import resources; "
            "print(resources.files('convier.templates').joinpath('invitation.mjml.j2').is_file()); "
            "print(convier.render.__file__)")
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONNOUSERSITE": "1"}
    out = subprocess.run([sys.executable, "-S", "-c", f"import sys; sys.path[:0] = [{str(target)!r}] + "
                          f"[p for p in {sys.path!r} if 'site-packages' in p]; {code}"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert lines[0] == "True" and lines[1].startswith(str(target))


def test_web_function_serves_the_routes_of_the_design(translated):
    resources = translated[0]["Resources"]
    paths = resources["HttpApi"]["Properties"]["Body"]["paths"]  # SAM puts the routes in the OpenAPI body
    routes = {f"{method.upper()} {path}" for path, methods in paths.items() for method in methods
              if not path.startswith("/console")}  # the console's routes: test_the_console_has_its_routes...
    for path, methods in paths.items():
        for spec in methods.values():
            owner = "ConsoleFunction" if path.startswith("/console") else "WebFunction"
            assert owner in json.dumps(spec["x-amazon-apigateway-integration"])
    assert routes == {"GET /rsvp/{token}", "POST /rsvp/{token}", "GET /rsvp/{token}/event.ics",
                      "GET /unsubscribe/{token}", "POST /unsubscribe/{token}",
                      "X-AMAZON-APIGATEWAY-ANY-METHOD $default"}  # HEAD, PUT... get the French pages too
    web = resources["WebFunction"]["Properties"]
    assert web["Handler"] == "convier.handlers.web.handler"
    source = yaml_parse(TEMPLATE.read_text())["Resources"]["WebFunction"]
    assert source["Metadata"]["BuildMethod"] == "makefile"
    assert "CONVIER_SECRET_ID" in web["Environment"]["Variables"]


def test_web_function_may_read_and_write_the_table_and_read_the_secret_only(translated):
    resources = translated[0]["Resources"]
    role = resources[resources["WebFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
    actions = {a for policy in role["Policies"] for st in policy["PolicyDocument"]["Statement"]
               for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert "secretsmanager:GetSecretValue" in actions and "dynamodb:UpdateItem" in actions
    assert not any(a.startswith(("ses:", "sqs:", "lambda:")) for a in actions)


def test_the_built_package_carries_the_page_templates(tmp_path):
    target = tmp_path / "package"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(ROOT)], check=True)
    for name in ("base.html.j2", "rsvp.html.j2", "unsubscribe.html.j2", "error.html.j2", "event.html.j2"):
        assert (target / "convier" / "templates" / "pages" / name).is_file(), name


FUNCTIONS = ("SendFunction", "CampaignFunction", "WebFunction", "FeedbackFunction", "ConsoleFunction")


def _role_statements(resources, function: str) -> list[dict]:
    role = resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
    return [st for policy in role.get("Policies", []) for st in policy["PolicyDocument"]["Statement"]]


def _actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_every_function_runtime_memory_timeout_logs_and_build(translated):
    resources = translated[0]["Resources"]
    source = yaml_parse(TEMPLATE.read_text())["Resources"]
    retention = {res["Properties"]["LogGroupName"]["Fn::Sub"]: res["Properties"]["RetentionInDays"]
                 for res in resources.values()
                 if res["Type"] == "AWS::Logs::LogGroup" and "LogGroupName" in res["Properties"]}
    for name in FUNCTIONS:
        props = resources[name]["Properties"]
        assert props["Runtime"] == "python3.12" and props["Architectures"] == ["arm64"], name
        assert 128 <= props["MemorySize"] <= 1024 and 1 <= props["Timeout"] <= 300, name
        assert source[name]["Metadata"]["BuildMethod"] == "makefile", name  # Makefile: build-<name>
        assert f"build-{name}" in (ROOT / "Makefile").read_text(), name
        assert 1 <= retention.get(f"/aws/lambda/${{{name}}}", 0) <= 400, name
        assert {"CONVIER_TABLE", "CONVIER_SECRET_ID", "CONVIER_CONFIGURATION_SET"} <= set(
            props["Environment"]["Variables"]), name


def test_send_concurrency_follows_the_send_workers_parameter(translated):
    resources = translated[0]["Resources"]
    mapping = next(res["Properties"] for res in resources.values() if res["Type"] == "AWS::Lambda::EventSourceMapping")
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "SendWorkers"}
    parameters = yaml_parse(TEMPLATE.read_text())["Parameters"]
    assert parameters["SendWorkers"]["MinValue"] == 2  # SQS event sources accept 2 at least
    assert "MaxSendRate / SendWorkers" in parameters["SendWorkers"]["Description"]
    variables = resources["SendFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CONVIER_SEND_RATE"] == {"Ref": "MaxSendRate"}  # each worker paces at its share
    assert variables["CONVIER_WORKERS"] == {"Ref": "SendWorkers"}


def test_parameters_and_outputs_the_cli_reads():
    from convier.cli.target import STACK_OUTPUTS

    source = yaml_parse(TEMPLATE.read_text())
    assert set(source["Parameters"]) == {"SenderAddress", "CreateEmailIdentity", "MailFromSubdomain", "PublicUrl",
                                         "CertificateArn", "MaxSendRate", "SendWorkers", "AlarmEmail",
                                         "RetentionDays", "WebReservedConcurrency", "ConsoleOidcIssuer",
                                         "ConsoleOidcClientId", "ConsoleOidcClientSecret"}
    assert set(STACK_OUTPUTS) | {"ApiUrl", "SendFunctionName", "WebFunctionName", "FeedbackFunctionName"} <= set(
        source["Outputs"])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Déployer sur AWS", 1)[1].split("\n## ", 1)[0]
    for name in source["Parameters"]:
        assert f"`{name}`" in section, name  # every parameter is explained in the deployment section


def test_ses_events_reach_the_feedback_function(translated):
    resources = translated[0]["Resources"]
    destination = next(res["Properties"] for res in resources.values()
                       if res["Type"] == "AWS::SES::ConfigurationSetEventDestination")
    assert destination["ConfigurationSetName"] == {"Ref": "ConfigurationSet"}
    events = destination["EventDestination"]
    assert events["Enabled"] is True
    assert sorted(events["MatchingEventTypes"]) == ["bounce", "complaint", "delivery", "reject"]
    topic = events["SnsDestination"]["TopicARN"]
    subscription = next(res["Properties"] for res in resources.values() if res["Type"] == "AWS::SNS::Subscription")
    assert subscription["TopicArn"] == topic and subscription["Protocol"] == "lambda"
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["FeedbackFunction", "Arn"]}
    policy = next(res["Properties"] for res in resources.values() if res["Type"] == "AWS::SNS::TopicPolicy")
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"} and statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    source_arn = statement["Condition"]["StringEquals"]["aws:SourceArn"]
    assert "configuration-set/${ConfigurationSet}" in json.dumps(source_arn)


def test_feedback_function_reads_and_writes_the_table_and_reads_the_secret_only(translated):
    resources = translated[0]["Resources"]
    assert resources["FeedbackFunction"]["Properties"]["Handler"] == "convier.handlers.feedback.handler"
    actions = {a for st in _role_statements(resources, "FeedbackFunction") for a in _actions(st)}
    assert {"secretsmanager:GetSecretValue", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:Query"} <= actions
    assert not any(a.startswith(("ses:", "lambda:", "sns:")) for a in actions)
    queues = set()  # its on-failure destination, and the send queue (a first wave's rest, released once)
    for statement in _role_statements(resources, "FeedbackFunction"):
        if any(a.startswith("sqs:") for a in _actions(statement)):
            assert _actions(statement) == ["sqs:SendMessage"]
            queues.add(statement["Resource"]["Fn::GetAtt"][0])
    assert queues == {"FeedbackFailureQueue", "SendQueue"}


def test_ses_sending_is_limited_to_the_sender_identity_and_the_configuration_set(translated):
    resources = translated[0]["Resources"]
    for name in FUNCTIONS:
        for statement in _role_statements(resources, name):
            assert "ses:SendRawEmail" not in _actions(statement), name  # SESv2 SendEmail (Raw) is ses:SendEmail
            if "ses:SendEmail" in _actions(statement):
                assert name in ("SendFunction", "ConsoleFunction")  # the console sends test copies
                targets = json.dumps(statement["Resource"])
                assert "identity/${Domain}" in targets and "identity/*@${Domain}" in targets
                assert "configuration-set/${ConfigurationSet}" in targets
                assert len(statement["Resource"]) == 3
                assert "*@${Domain}" in json.dumps(statement["Condition"]["StringLike"]["ses:FromAddress"])


def test_table_and_secret_access_are_scoped_to_the_stack_resources(translated):
    resources = translated[0]["Resources"]
    for name in FUNCTIONS:
        for statement in _role_statements(resources, name):
            actions = _actions(statement)
            resource = json.dumps(statement["Resource"])
            if any(a.startswith("dynamodb:") for a in actions):
                assert resource == '{"Fn::GetAtt": ["Table", "Arn"]}', (name, statement)
            if any(a.startswith("secretsmanager:") for a in actions):
                assert actions == ["secretsmanager:GetSecretValue"] and '{"Ref": "LinkSecret"}' in resource
            if any(a.startswith("sqs:") for a in actions):
                expected = ("FeedbackFailureQueue", "SendQueue") if name == "FeedbackFunction" else ("SendQueue",)
                assert any(queue in resource for queue in expected), (name, statement)


def test_http_api_stage_is_throttled(translated):
    resources = translated[0]["Resources"]
    stage = next(res["Properties"] for res in resources.values() if res["Type"] == "AWS::ApiGatewayV2::Stage")
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "MaxSendRate"}
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Fn::Join": ["", [{"Ref": "MaxSendRate"}, "0"]]}


def test_the_table_queue_and_identity(translated):
    resources = translated[0]["Resources"]
    table = resources["Table"]
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionPolicy"] == "Retain"
    assert resources["LinkSecret"]["DeletionPolicy"] == "Retain"  # the table's subscriber ids depend on it
    alarm = resources["DeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["SendDeadLetterQueue", "QueueName"]}
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    identity = resources["EmailIdentity"]
    assert identity["Properties"]["DkimAttributes"]["SigningEnabled"] is True
    # not the domain's default configuration set: other senders of the domain keep their own events
    assert "ConfigurationSetAttributes" not in identity["Properties"]
    assert identity["DeletionPolicy"] == "Retain" and identity["UpdateReplacePolicy"] == "Retain"


def test_the_console_has_its_routes_its_user_pool_and_no_more_rights_than_it_needs(translated):
    resources = translated[0]["Resources"]
    pool = resources["ConsoleUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    assert pool["MfaConfiguration"] == "ON" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12 and all(policy[k] for k in ("RequireLowercase", "RequireUppercase",
                                                                      "RequireNumbers", "RequireSymbols"))
    client = resources["ConsoleUserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
    assert client["IdTokenValidity"] <= 10 and client["TokenValidityUnits"]["IdToken"] == "hours"  # a working day
    groups = {r["Properties"]["GroupName"] for r in resources.values() if r["Type"] == "AWS::Cognito::UserPoolGroup"}
    assert groups == {"redaction", "envoi"}
    spec = json.dumps(resources["HttpApi"]["Properties"]["Body"]["paths"])
    assert '"/console"' in spec and '"/console/{proxy+}"' in spec
    actions = {a for st in _role_statements(resources, "ConsoleFunction") for a in _actions(st)}
    assert actions <= {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
                       "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                       "sqs:SendMessage", "secretsmanager:GetSecretValue", "ses:SendEmail",
                       "ses:ListEmailIdentities", "ses:GetEmailIdentity", "ses:GetAccount",
                       "cognito-idp:ListUserPoolClients"}
    outputs = translated[0]["Outputs"]
    assert "/console/" in json.dumps(outputs["ConsoleUrl"]["Value"])
