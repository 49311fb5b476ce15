"""Every environment variable template.yaml gives a function is read: by Settings.from_env, or by the one
module named below. A variable set in the template and read by nobody is a setting that silently does not
apply (CONVIER_PAUSE_DELAY and the web function's short client timeouts were)."""

from __future__ import annotations

from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

from convier.services.sending import sender_for
from convier.settings import Clients, Settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "functions" / "convier"
# Read outside Settings, each by the handler that needs it (and the module that reads it).
ELSEWHERE = {
    "CONVIER_SCHEDULE_GROUP": "handlers/campaign.py",
    "CONVIER_SCHEDULER_ROLE_ARN": "handlers/console/kit.py",
    "CONVIER_CAMPAIGN_FUNCTION_ARN": "handlers/console/kit.py",  # where the console's schedules fire
    "CONVIER_COGNITO_POOL_ID": "handlers/console/kit.py",
    "CONVIER_COGNITO_CLIENT_NAME": "handlers/console/kit.py",
    "CONVIER_COGNITO_DOMAIN": "handlers/console/kit.py",
    "POWERTOOLS_SERVICE_NAME": None,  # read by aws-lambda-powertools itself
}


class Reading(dict):
    """An environment that notes each name asked of it."""

    def __init__(self):
        super().__init__()
        self.asked: set[str] = set()

    def get(self, name, default=None):
        self.asked.add(name)
        return super().get(name, default)

    def __getitem__(self, name):
        self.asked.add(name)
        return super().__getitem__(name)

    def __contains__(self, name):
        self.asked.add(name)
        return super().__contains__(name)


def template_variables() -> set[str]:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    found = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            found |= set((resource["Properties"].get("Environment") or {}).get("Variables") or {})
    return found


def test_every_variable_the_template_sets_is_read():
    env = Reading()
    Settings.from_env(env)
    unread = template_variables() - env.asked - set(ELSEWHERE)
    assert unread == set(), f"variables du template que personne ne lit : {sorted(unread)}"
    for name, module in ELSEWHERE.items():
        if module:
            assert name in (PACKAGE / module).read_text(encoding="utf-8"), (name, module)
    assert {"CONVIER_PAUSE_DELAY", "CONVIER_RETENTION_DAYS", "CONVIER_CLIENT_CONNECT_TIMEOUT"} <= env.asked


def test_the_variables_take_effect():
    settings = Settings.from_env({"CONVIER_PAUSE_DELAY": "900", "CONVIER_RETENTION_DAYS": "180",
                                  "CONVIER_CLIENT_CONNECT_TIMEOUT": "1", "CONVIER_CLIENT_READ_TIMEOUT": "2",
                                  "CONVIER_CLIENT_MAX_ATTEMPTS": "2", "CONVIER_SEND_RATE": "10",
                                  "AWS_REGION": "eu-west-3"})
    assert settings.retention_days == 180
    assert Settings.from_env(settings.to_env()) == settings  # handed to a worker process unchanged
    assert sender_for(settings, Clients(settings)).pause_delay == 900
    assert sender_for(Settings(send_rate=10), Clients(Settings())).pause_delay == 30  # unset: the default
    clients = Clients(settings)
    for service in ("dynamodb", "sqs", "sesv2"):
        config = clients.client(service).meta.config
        assert config.connect_timeout == 1 and config.read_timeout == 2, service
        assert config.retries["total_max_attempts"] <= 2, service
    assert clients.client("sesv2").meta.config.retries["total_max_attempts"] == 1  # never more tries than before
    default = Clients(Settings(region="eu-west-3")).client("dynamodb").meta.config
    assert default.read_timeout == 60 and default.connect_timeout == 5
