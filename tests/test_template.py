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
PARAMETERS = {"SenderAddress": "invitations@numerique.gouv.fr", "SenderDomain": "numerique.gouv.fr"}


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
    assert len(by_type["AWS::SQS::Queue"]) == 2
    assert "AWS::SES::ConfigurationSet" in by_type
    assert "AWS::ApiGatewayV2::Api" in by_type
    functions = {resources[n]["Properties"]["Handler"] for n in by_type["AWS::Lambda::Function"]}
    assert {"convier.handlers.send.handler", "convier.handlers.campaign.handler",
            "convier.handlers.web.handler"} <= functions
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
                    assert actions == ["ses:GetAccount"], (name, statement)  # the one action with no resource scope


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
    routes = {f"{method.upper()} {path}" for path, methods in paths.items() for method in methods}
    for methods in paths.values():
        for spec in methods.values():
            assert "WebFunction" in json.dumps(spec["x-amazon-apigateway-integration"])
    assert routes == {"GET /rsvp/{token}", "POST /rsvp/{token}", "GET /rsvp/{token}/event.ics",
                      "GET /unsubscribe/{token}", "POST /unsubscribe/{token}"}
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
