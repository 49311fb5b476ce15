"""The stack for a real deploy (issue 15): first deploy, nothing lost, someone told, least privilege.

Each point is checked on the source template and on the template the SAM translator makes of it
(offline, as in test_template.py); cfn-lint runs there on both, `sam validate --lint` here when the
SAM CLI is installed (in its own environment: `SAM_CLI=/path/to/sam`, or `sam` on PATH).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
PARAMETERS = {"SenderAddress": "invitations@numerique.gouv.fr", "AlarmEmail": "exploitation@numerique.gouv.fr",
              "PublicUrl": "https://invitations.numerique.gouv.fr",
              "CertificateArn": "arn:aws:acm:eu-west-3:123456789012:certificate/abc"}
FUNCTIONS = ("SendFunction", "CampaignFunction", "WebFunction", "FeedbackFunction", "ConsoleFunction")
DOMAIN = {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "SenderAddress"}]}]}


class NoManagedPolicies:
    def load(self):
        return {}


@pytest.fixture(scope="module")
def source() -> dict:
    return yaml_parse(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def resources() -> dict:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
    template = yaml_parse(TEMPLATE.read_text())
    template["Globals"]["Function"]["CodeUri"] = "s3://convier-build/code.zip"
    return transform(template, PARAMETERS, NoManagedPolicies())["Resources"]


def readme_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Déployer sur AWS", 1)[1].split("\n## ", 1)[0]


def statements(resources: dict, function: str) -> list[dict]:
    role = resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
    return [st for policy in role.get("Policies", []) for st in policy["PolicyDocument"]["Statement"]]


def actions_of(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def resolve(value, parameters: dict):
    """The few intrinsics the throttling values use, with these parameter values."""
    if isinstance(value, dict) and "Ref" in value:
        return parameters[value["Ref"]]
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(str(resolve(p, parameters)) for p in parts)
    return value


# --- first deploy ---------------------------------------------------------------------------------

def test_samconfig_deploys_stack_convier_with_no_question():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]
    deploy = config["deploy"]["parameters"]
    assert config["global"]["parameters"]["stack_name"] == deploy["stack_name"] == "convier"
    assert deploy["resolve_s3"] is True and deploy["confirm_changeset"] is False
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    # a value here would be put back at every deploy; the previous values are kept instead
    assert "parameter_overrides" not in deploy
    assert config["build"]["parameters"]["build_in_source"] is True  # the checkout is not copied per function


def test_the_readme_deploys_without_guided_mode():
    section = readme_section()
    assert "sam deploy --parameter-overrides" in section and "SenderAddress=" in section and "AlarmEmail=" in section
    assert "sam deploy --guided" not in section.replace("pas `sam deploy --guided`", "")
    assert "samconfig.toml" in section
    assert "get-email-identity" in section  # an existing identity is checked before the first deploy
    assert "delete-email-identity" in section and "--no-deletion-protection-enabled" in section  # cleanup
    assert "35 jours" in section and "RetentionDays" in section  # RGPD register


def test_build_targets_use_the_configured_interpreter_and_arm64_wheels():
    makefile = (ROOT / "Makefile").read_text()
    build = makefile.split("# `sam build` (BuildMethod: makefile)", 1)[1]
    assert "python3 -m pip" not in build and "$(BUILD_PYTHON) -m pip" in build
    assert "manylinux_2_28_aarch64" in build and "manylinux2014_aarch64" in build
    for name in FUNCTIONS:
        assert f"build-{name}" in build


def test_every_function_builds_from_one_package(source):
    code_uri = source["Globals"]["Function"]["CodeUri"]
    for name in FUNCTIONS:
        props = source["Resources"][name]["Properties"]
        assert props.get("CodeUri", code_uri) == code_uri and source["Resources"][name]["Metadata"] == {
            "BuildMethod": "makefile"}


def test_the_build_target_packages_the_wheel_only_and_every_handler_imports(tmp_path):
    """`make build-WebFunction` as `sam build` runs it (for this machine's platform, to import it here)."""
    machine = {"x86_64": "x86_64", "aarch64": "aarch64"}.get(os.uname().machine)
    if machine is None:
        pytest.skip("no manylinux platform for this machine")
    out = tmp_path / "artifacts"
    version = "{}.{}".format(*sys.version_info[:2])
    subprocess.run(["make", "-s", "-C", str(ROOT), "build-WebFunction", f"ARTIFACTS_DIR={out}",
                    f"LAMBDA_STAGE={tmp_path / 'stage'}", f"LAMBDA_PYTHON_VERSION={version}",
                    f"LAMBDA_COMPILER={sys.executable}", f"BUILD_PYTHON={sys.executable}",
                    f"LAMBDA_PLATFORMS=manylinux_2_28_{machine} manylinux2014_{machine}"],
                   check=True, capture_output=True)
    top = {p.name for p in out.iterdir()}
    assert not top & {"tests", ".venv", ".cache", "pyproject.toml", "template.yaml", "Makefile", "README.md", "bin"}
    assert (out / "convier" / "templates" / "invitation.mjml.j2").is_file()
    assert (out / "convier" / "templates" / "pages" / "error.html.j2").is_file()
    assert list((out / "convier" / "__pycache__").glob("*.pyc"))  # compiled: Lambda's /var/task is read-only
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import convier, convier.handlers.send, "
            "convier.handlers.campaign, convier.handlers.web, convier.handlers.feedback, convier.handlers.console; "
            "print(convier.__file__)")
    run = subprocess.run([sys.executable, "-I", "-c", code, str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().startswith(str(out))


def test_the_sender_domain_is_the_domain_of_the_sender_address(source, resources):
    parameters = source["Parameters"]
    assert "SenderDomain" not in parameters  # derived: the address belongs to the domain by construction
    pattern = re.compile(parameters["SenderAddress"]["AllowedPattern"])
    assert pattern.match("invitations@numerique.gouv.fr")
    for bad in ("invitations", "a@b@numerique.gouv.fr", "a@Numerique.gouv.fr", "a@localhost"):
        assert not pattern.match(bad), bad
    assert resources["EmailIdentity"]["Properties"]["EmailIdentity"] == DOMAIN
    assert json.dumps(DOMAIN) in json.dumps(statements(resources, "SendFunction"))


def test_sam_validate_lint_is_clean():
    local = ROOT / ".cache" / "sam" / "bin" / "sam"  # `make sam-cli`, which `make test` runs
    sam = os.environ.get("SAM_CLI") or (str(local) if local.exists() else shutil.which("sam"))
    assert sam, "SAM CLI absent : make sam-cli (un environnement à part dans .cache/sam)"
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3", "SAM_CLI_TELEMETRY": "0"}
    run = subprocess.run([sam, "validate", "--lint", "--template", str(TEMPLATE)], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


# --- after deploy -----------------------------------------------------------------------------------

def test_sending_is_allowed_for_the_domain_and_its_address_identities_from_the_domain_only(resources):
    (statement,) = [st for st in statements(resources, "SendFunction") if "ses:SendEmail" in actions_of(st)]
    assert actions_of(statement) == ["ses:SendEmail"]  # SESv2 SendEmail, Raw content included; no SendRawEmail
    arns = json.dumps(statement["Resource"])
    assert ':identity/${Domain}"' in arns and ":identity/*@${Domain}" in arns
    assert "configuration-set/${ConfigurationSet}" in arns
    condition = statement["Condition"]["StringLike"]["ses:FromAddress"]
    assert condition == {"Fn::Sub": ["*@${Domain}", {"Domain": DOMAIN}]}


def test_the_identity_is_not_the_domains_default_configuration_set_and_is_retained(resources):
    identity = resources["EmailIdentity"]
    assert "ConfigurationSetAttributes" not in identity["Properties"]
    assert identity["DeletionPolicy"] == identity["UpdateReplacePolicy"] == "Retain"
    mail_from = identity["Properties"]["MailFromAttributes"]["Fn::If"]
    assert mail_from[0] == "HasMailFrom" and mail_from[1]["BehaviorOnMxFailure"] == "USE_DEFAULT_VALUE"
    assert mail_from[2] == {"Ref": "AWS::NoValue"}
    options = resources["ConfigurationSet"]["Properties"]["SuppressionOptions"]
    assert sorted(options["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]


def test_dkim_and_mail_from_records_are_outputs(source):
    outputs = source["Outputs"]
    for n in (1, 2, 3):
        value = json.dumps(outputs[f"DkimRecord{n}"]["Value"])
        assert f"DkimDNSTokenName{n}" in value and f"DkimDNSTokenValue{n}" in value and "CNAME" in value
        assert outputs[f"DkimRecord{n}"]["Condition"] == "CreatesEmailIdentity"
    assert "MX 10 feedback-smtp.${AWS::Region}.amazonses.com" in json.dumps(outputs["MailFromMxRecord"]["Value"])
    assert "v=spf1 include:amazonses.com" in json.dumps(outputs["MailFromSpfRecord"]["Value"])
    assert source["Parameters"]["MailFromSubdomain"]["Default"] == "bounce"


def test_routes_are_throttled_per_route_in_proportion_to_the_send_rate(resources):
    stage = resources["HttpApiApiGatewayDefaultStage"]["Properties"]
    paths = resources["HttpApi"]["Properties"]["Body"]["paths"]
    verb = {"x-amazon-apigateway-any-method": "ANY"}  # the route key of an ANY route (the console's)
    routes = {("$default" if path == "$default" else f"{verb.get(method, method.upper())} {path}")
              for path, methods in paths.items() for method in methods}
    assert routes == set(stage["RouteSettings"])  # every route has its own limits
    rate = {"MaxSendRate": "14"}
    for route, limits in stage["RouteSettings"].items():
        per_second = float(resolve(limits["ThrottlingRateLimit"], rate))
        burst = int(resolve(limits["ThrottlingBurstLimit"], rate))
        if route.startswith("POST "):  # forms answered by people
            assert (per_second, burst) == (14, 140), route
        else:  # the links scanners fetch, and HEAD
            assert (per_second, burst) == (140, 1400), route


def test_the_readme_says_what_the_route_limits_are():
    section = readme_section()
    assert "10 × `MaxSendRate`" in section and "100 × `MaxSendRate`" in section and "429" in section


def test_unrouted_methods_reach_the_web_function(resources):
    default = resources["HttpApi"]["Properties"]["Body"]["paths"]["$default"]["x-amazon-apigateway-any-method"]
    assert "${WebFunction.Arn}" in json.dumps(default["x-amazon-apigateway-integration"])


def test_the_custom_domain_is_created_when_public_url_is_given(source, resources):
    domain, mapping = resources["CustomDomain"], resources["CustomDomainMapping"]
    assert domain["Condition"] == mapping["Condition"] == "HasPublicUrl"
    assert domain["Properties"]["DomainName"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "PublicUrl"}]}]}
    (config,) = domain["Properties"]["DomainNameConfigurations"]
    assert config["CertificateArn"] == {"Ref": "CertificateArn"} and config["EndpointType"] == "REGIONAL"
    assert "ApiMappingKey" not in mapping["Properties"]  # the empty path: routes see the paths they expect
    assert mapping["Properties"]["Stage"] == {"Ref": "HttpApiApiGatewayDefaultStage"}
    assert mapping["Properties"]["ApiId"] == {"Ref": "HttpApi"}
    rule = source["Rules"]["CustomDomainNeedsItsCertificate"]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]}
    pattern = re.compile(source["Parameters"]["PublicUrl"]["AllowedPattern"])
    assert pattern.match("") and pattern.match("https://invitations.numerique.gouv.fr")
    for bad in ("https://invitations.numerique.gouv.fr/", "https://numerique.gouv.fr/invitations", "http://a.fr"):
        assert not pattern.match(bad), bad
    assert "CustomDomainCname" in source["Outputs"]


def test_the_web_function_answers_before_its_timeouts(resources):
    web = resources["WebFunction"]["Properties"]
    variables = web["Environment"]["Variables"]
    attempts = int(variables["CONVIER_CLIENT_MAX_ATTEMPTS"])
    worst = attempts * (float(variables["CONVIER_CLIENT_CONNECT_TIMEOUT"])
                        + float(variables["CONVIER_CLIENT_READ_TIMEOUT"]))
    assert worst <= web["Timeout"] - 3  # time left for the French error page
    for methods in resources["HttpApi"]["Properties"]["Body"]["paths"].values():
        for spec in methods.values():
            assert spec["x-amazon-apigateway-integration"]["timeoutInMillis"] > web["Timeout"] * 1000


def test_paused_campaigns_wait_sqs_longest_delay(resources):
    variables = resources["SendFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CONVIER_PAUSE_DELAY"] == "900"  # SQS DelaySeconds maximum


# --- nothing lost, someone told -------------------------------------------------------------------

def test_feedback_events_that_fail_go_to_a_queue_with_an_alarm(source, resources):
    invoke = resources["FeedbackFunctionEventInvokeConfig"]["Properties"]
    assert invoke["MaximumRetryAttempts"] == 2
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FeedbackFailureQueue", "Arn"]}
    assert resources["FeedbackFailureQueue"]["Properties"]["MessageRetentionPeriod"] == 1209600
    alarm = resources["FeedbackFailureAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName",
                                    "Value": {"Fn::GetAtt": ["FeedbackFailureQueue", "QueueName"]}}]
    assert "feedback replay" in alarm["AlarmDescription"]
    assert "FeedbackFailureQueueUrl" in source["Outputs"]


def _alarms(resources: dict) -> dict[str, dict]:
    return {name: res["Properties"] for name, res in resources.items() if res["Type"] == "AWS::CloudWatch::Alarm"}


def _metrics(alarm: dict) -> list[tuple[str, str, str]]:
    """(namespace, metric, dimension value as JSON) of an alarm, simple or metric math."""
    if "MetricName" in alarm:
        found = [(alarm["Namespace"], alarm["MetricName"], json.dumps(alarm.get("Dimensions", [])))]
    else:
        found = [(m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"],
                  json.dumps(m["MetricStat"]["Metric"].get("Dimensions", [])))
                 for m in alarm["Metrics"] if "MetricStat" in m]
    return found


def test_every_alarm_notifies_the_alarm_email(source, resources):
    assert "Default" not in source["Parameters"]["AlarmEmail"]  # someone must be named
    topic = resources["AlarmTopic"]["Properties"]
    assert topic["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}]
    alarms = _alarms(resources)
    assert len(alarms) >= 8
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert len(alarm.get("Metrics", ())) <= 10, name  # CloudWatch refuses a metric math alarm with more
        assert alarm["TreatMissingData"] == "notBreaching", name
    (statement,) = resources["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert "aws:SourceArn" in statement["Condition"]["ArnLike"]


def test_the_alarms_of_the_issue(resources):
    alarms = _alarms(resources)
    metrics = [m for alarm in alarms.values() for m in _metrics(alarm)]
    for queue in ("SendDeadLetterQueue", "FeedbackFailureQueue"):
        assert any(m[1] == "ApproximateNumberOfMessagesVisible" and queue in m[2] for m in metrics), queue
    assert any(m[1] == "ApproximateAgeOfOldestMessage" and '"SendQueue"' in m[2] for m in metrics)
    bounce, complaint = alarms["BounceRateAlarm"], alarms["ComplaintRateAlarm"]
    assert (bounce["MetricName"], bounce["Threshold"]) == ("Reputation.BounceRate", 0.04)
    assert (complaint["MetricName"], complaint["Threshold"]) == ("Reputation.ComplaintRate", 0.0008)
    assert bounce["ComparisonOperator"] == complaint["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    for function in FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            assert any(m[:2] == ("AWS/Lambda", metric) and f'"{function}"' in m[2] for m in metrics), (function, metric)
    assert {m[1] for m in metrics if m[0] == "AWS/DynamoDB"} == {"ReadThrottleEvents", "WriteThrottleEvents"}
    assert any(m[:2] == ("AWS/ApiGateway", "5xx") and "HttpApi" in m[2] for m in metrics)


def test_a_dashboard_for_a_campaign_day(resources):
    body = json.dumps(resources["CampaignDashboard"]["Properties"]["DashboardBody"])
    for needle in ("AWS/SES", "Reputation.BounceRate", "ApproximateAgeOfOldestMessage", "${SendQueueName}",
                   "${DeadLetterQueueName}", "${FeedbackFailureQueueName}", "AWS/ApiGateway", "${HttpApi}",
                   "WriteThrottleEvents", *(f"${{{f}}}" for f in FUNCTIONS)):
        assert needle in body, needle
    json.loads(resources["CampaignDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0])  # valid JSON


def test_send_records_and_answers_expire(source, resources):
    from convier.store import keys

    ttl = resources["Table"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": keys.EXPIRES, "Enabled": True}  # the attribute the application writes
    assert source["Parameters"]["RetentionDays"]["Default"] == 180
    for name in FUNCTIONS:
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        assert variables["CONVIER_RETENTION_DAYS"] == {"Ref": "RetentionDays"}
    assert resources["Table"]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


# --- least privilege and traces -------------------------------------------------------------------

EXPECTED_TABLE_ACTIONS = {
    "SendFunction": {"GetItem", "BatchGetItem", "PutItem", "UpdateItem", "BatchWriteItem", "Query"},
    # create: the campaign (PutItem), its index (BatchWriteItem), the event's sequence, the waiting list's
    # « place libérée » campaign (BatchGetItem), the request's id; send: the fan-out
    "CampaignFunction": {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "BatchWriteItem"},
    "WebFunction": {"GetItem", "Query", "PutItem", "UpdateItem"},
    "FeedbackFunction": {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem"},  # a wave's review
    "ConsoleFunction": {"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                        "BatchWriteItem"},  # also erasure, the audit log, the lists' names
}


def test_explicit_table_actions_per_function(source, resources):
    for name in FUNCTIONS:
        policies = source["Resources"][name]["Properties"]["Policies"]
        assert not any(isinstance(p, dict) and "DynamoDBCrudPolicy" in p for p in policies), name
        granted = {a.split(":", 1)[1] for st in statements(resources, name) for a in actions_of(st)
                   if a.startswith("dynamodb:")}
        assert granted == EXPECTED_TABLE_ACTIONS[name], name
    assert not EXPECTED_TABLE_ACTIONS["WebFunction"] & {"Scan", "DeleteItem", "BatchWriteItem"}


def test_get_account_only_where_it_is_called(resources):
    # sending.send_rate: the send worker's pacing and the campaign function's fan-out read the SES quota
    for name in FUNCTIONS:
        has = any("ses:GetAccount" in actions_of(st) for st in statements(resources, name))
        assert has == (name in ("SendFunction", "CampaignFunction", "ConsoleFunction")), name


def test_access_logs_name_the_route_never_the_path(resources):
    stage = resources["HttpApiApiGatewayDefaultStage"]["Properties"]
    log_format = stage["AccessLogSettings"]["Format"]
    json.loads(log_format.replace("\n", ""))  # one JSON object per request
    assert "$context.routeKey" in log_format
    for forbidden in ("$context.path", "$context.resourcePath", "$context.identity.sourceIp"):
        assert forbidden not in log_format, forbidden
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    assert 1 <= resources["ApiAccessLogs"]["Properties"]["RetentionInDays"] <= 400


def test_every_function_is_traced(resources):
    for name in FUNCTIONS:
        assert resources[name]["Properties"]["TracingConfig"] == {"Mode": "Active"}, name


def test_operator_policy_holds_what_the_cli_needs(source, resources):
    policy = resources["OperatorPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert source["Outputs"]["OperatorPolicyArn"]["Value"] == {"Ref": "OperatorPolicy"}
    by_action = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        for action in actions_of(statement):
            by_action[action] = statement
    assert by_action["cloudformation:DescribeStacks"]["Resource"] == {"Ref": "AWS::StackId"}
    assert by_action["lambda:InvokeFunction"]["Resource"] == {"Fn::GetAtt": ["CampaignFunction", "Arn"]}
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == {"Ref": "LinkSecret"}
    # campaign test
    assert "configuration-set/${ConfigurationSet}" in json.dumps(by_action["ses:SendEmail"]["Resource"])
    assert "ses:FromAddress" in by_action["ses:SendEmail"]["Condition"]["StringLike"]
    assert "ses:GetEmailIdentity" in by_action and "dynamodb:Query" in by_action and "sqs:ReceiveMessage" in by_action
    assert "ses:SendRawEmail" not in by_action
    for action, statement in by_action.items():
        assert "*" not in action, action
        if statement["Resource"] == "*":
            assert action == "ses:GetAccount", action


def test_reserved_concurrency_is_optional_and_off_by_default(source, resources):
    assert source["Parameters"]["WebReservedConcurrency"]["Default"] == 0
    assert resources["WebFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasWebReservedConcurrency", {"Ref": "WebReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    for name in ("SendFunction", "CampaignFunction", "FeedbackFunction"):
        assert "ReservedConcurrentExecutions" not in resources[name]["Properties"], name


def test_the_campaign_function_renders_but_may_neither_send_nor_make_identities(resources):
    """On a stack it renders every campaign: it reads its sender's identity; it sends nothing itself."""
    ses = {a for st in statements(resources, "CampaignFunction") for a in actions_of(st) if a.startswith("ses:")}
    assert ses == {"ses:GetAccount", "ses:GetEmailIdentity"}
    variables = resources["CampaignFunction"]["Properties"]["Environment"]["Variables"]
    assert "HttpApi" in json.dumps(variables["CONVIER_PUBLIC_URL"])  # its links: the PublicUrl output's value
    assert "bench/stack_create.py" in (ROOT / "template.yaml").read_text()  # its memory, measured
