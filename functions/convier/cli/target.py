"""Where a CLI command works: the one function every command calls to get its settings and clients.

- `--endpoint-url URL` (or `CONVIER_ENDPOINT_URL`): that server as it is (a moto server, LocalStack...);
  missing resources are created; keys and outbox live in the state folder.
- `--stack NAME`: a deployed stack: its outputs (CloudFormation DescribeStacks) name the table, queues,
  configuration set, secret (the keys), campaign function, public URL and sender; credentials are the
  usual AWS ones (profile, environment). With `--endpoint-url` too, the stack is read from that server.
- neither: the embedded default, a moto server on 127.0.0.1 started on demand (see `embedded`).
"""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

from convier.aws.resources import ensure_resources, sender_preparer  # noqa: F401 (the CLI's commands)
from convier.errors import InputError
from convier.local import embedded, linkserver
from convier.settings import DEFAULT_REGION, Clients, Settings, default_home


def home_of(args) -> Path:
    """`--home DIR`, else `$CONVIER_HOME`, else ./.convier."""
    home = getattr(args, "home", None)
    return Path(home).expanduser().resolve() if home else default_home().resolve()


def resolve(args, *, env: dict | None = None, announce=None) -> tuple[Settings, Clients]:
    """Settings and clients for a parsed command line (`args` may lack any of the global options).

    `announce(message)` is told when the embedded server has to be started (it takes a few seconds). The
    command's audit entry is written where they point (cli/journal.py).
    """
    from convier.cli import journal

    return journal.resolved(*_resolve(args, env=env, announce=announce))


def _resolve(args, *, env: dict | None, announce) -> tuple[Settings, Clients]:
    env = os.environ if env is None else env
    base = Settings.from_env(env)
    if getattr(args, "stack", None):
        return resolve_stack(args.stack, endpoint_url=getattr(args, "endpoint_url", None) or base.endpoint_url,
                             region=stack_region(env), outputs_file=getattr(args, "stack_outputs", None))
    home = home_of(args)
    endpoint = getattr(args, "endpoint_url", None) or base.endpoint_url
    if not endpoint:
        def on_start(replaying: bool) -> None:
            if announce:
                announce("démarrage du serveur local (moto)"
                         + (", restauration de l'état enregistré…" if replaying else "…"))
        endpoint = embedded.ensure_server(home, on_start=on_start)
    keys_file = base.keys_file or embedded.ensure_keys(home)
    settings = base.with_(endpoint_url=endpoint, home=home, keys_file=Path(keys_file),
                          outbox=base.outbox or home / embedded.OUTBOX,
                          public_url=base.public_url or linkserver.public_url(home))  # `convier serve`
    clients = Clients(settings)
    settings = ensure_resources(settings, clients)
    return settings, dataclasses.replace(clients, settings=settings)


def follows_embedded(args, env: dict | None = None) -> bool:
    """True when `resolve(args)` lands on the embedded server (no `--stack`, no endpoint given)."""
    env = os.environ if env is None else env
    return not (getattr(args, "stack", None) or getattr(args, "endpoint_url", None)
                or Settings.from_env(env).endpoint_url)


class Live:
    """Settings and clients for a long-running command (`serve`, `console`, `demo`) that follow the embedded
    server across `local stop`, `subscribers forget`, a restart or a crash: its port changes each time (and so
    do the queue URLs), so before each request `current()` checks server.json names the live process it was
    resolved against, and otherwise resolves again (starting the server if none runs), with fresh clients.
    On `--stack` or `--endpoint-url` nothing is followed. `adjust(settings)` is applied after each resolve."""

    def __init__(self, args, *, env: dict | None = None, announce=None, adjust=None):
        self._args, self._env, self._announce, self._adjust = args, env, announce, adjust
        self._lock = threading.Lock()
        self.follows = follows_embedded(args, env)
        self.settings, self.clients = self._resolve()

    def _resolve(self) -> tuple[Settings, Clients]:
        settings, clients = resolve(self._args, env=self._env, announce=self._announce)
        if self._adjust:
            settings = self._adjust(settings)
            clients = dataclasses.replace(clients, settings=settings)
        return settings, clients

    def _stale(self) -> bool:
        return self.follows and not embedded.serving(self.settings.home, self.settings.endpoint_url)

    def current(self) -> tuple[Settings, Clients]:
        if self._stale():
            with self._lock:
                if self._stale():  # another request may have reconnected while this one waited
                    self.settings, self.clients = self._resolve()
        return self.settings, self.clients


# --- a deployed stack ----------------------------------------------------------------------------

# Stack output → Settings field. template.yaml declares every one of these outputs.
STACK_OUTPUTS = {
    "TableName": "table",
    "QueueUrl": "queue_url",
    "DeadLetterQueueUrl": "dead_letter_queue_url",
    "ConfigurationSetName": "configuration_set",
    "SecretId": "secret_id",
    "CampaignFunctionName": "campaign_function",
    "PublicUrl": "public_url",
    "SenderAddress": "sender",
}


def stack_region(env) -> str:
    """`AWS_REGION` / `AWS_DEFAULT_REGION`, else the profile's region, else the default (eu-west-3)."""
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        import boto3
        region = boto3.session.Session().region_name
    return region or DEFAULT_REGION


def settings_from_outputs(outputs: dict, region: str, *, stack: str = "", endpoint_url: str | None = None) -> Settings:
    """The settings of a deployed stack from its outputs ({OutputKey: OutputValue}); pure."""
    missing = [key for key in STACK_OUTPUTS if not str(outputs.get(key) or "").strip()]
    if missing:
        raise InputError(f"pile {stack or '?'} : sorties manquantes : {', '.join(missing)} "
                         "(la pile a-t-elle été déployée avec le template.yaml de cette version de convier ?)")
    values = {field: str(outputs[key]).strip() for key, field in STACK_OUTPUTS.items()}
    values["public_url"] = values["public_url"].rstrip("/")
    rate, workers = outputs.get("MaxSendRate"), outputs.get("SendWorkers")
    return Settings(endpoint_url=endpoint_url, region=region, stack=stack,
                    send_rate=float(rate) if rate else None, workers=int(workers) if workers else 1, **values)


def stack_outputs(cloudformation, name: str) -> dict[str, str]:
    """{OutputKey: OutputValue} of a stack that is deployed (DescribeStacks)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    region = cloudformation.meta.region_name
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except NoCredentialsError:
        raise InputError(f"--stack {name} : aucun identifiant AWS (aws configure, AWS_PROFILE ou "
                         "AWS_ACCESS_KEY_ID)") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if "does not exist" in error.get("Message", ""):
            raise InputError(f"--stack {name} : pile introuvable dans la région {region} "
                             "(AWS_REGION choisit la région)") from None
        raise InputError(f"--stack {name} : CloudFormation a refusé la lecture de la pile "
                         f"({error.get('Code', 'erreur')} : {error.get('Message', '')})") from None
    except BotoCoreError as exc:
        raise InputError(f"--stack {name} : CloudFormation injoignable ({exc})") from None
    stack = stacks[0]
    status = stack.get("StackStatus", "")
    if status.startswith(("CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK", "DELETE")):  # no usable resources
        raise InputError(f"--stack {name} : la pile est dans l'état {status} ; attendez la fin du déploiement "
                         "ou corrigez-le (sam deploy)")
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or ()}


def resolve_stack(name: str, *, endpoint_url: str | None, region: str,
                  outputs_file: str | None = None) -> tuple[Settings, Clients]:
    """Settings and clients for a deployed stack; nothing is created (the stack has everything)."""
    if outputs_file:  # hidden option: outputs saved as JSON, {OutputKey: OutputValue} or DescribeStacks' list
        import json
        data = json.loads(Path(outputs_file).read_text(encoding="utf-8"))
        outputs = data if isinstance(data, dict) else {o["OutputKey"]: o["OutputValue"] for o in data}
    else:
        outputs = stack_outputs(Clients(Settings(endpoint_url=endpoint_url, region=region)).client("cloudformation"),
                                name)
    settings = settings_from_outputs(outputs, region, stack=name, endpoint_url=endpoint_url)
    return settings, Clients(settings)


def local_erasers(settings: Settings) -> dict:
    """What `subscribers forget` must reach outside the table on the embedded default: the outbox copies and
    the moto recording (a restart replays it). Nothing on a stack. Labels: (where, unit, what happened)."""
    from convier.local import outbox

    erasers = {}
    if settings.outbox and Path(settings.outbox).is_dir():
        erasers[("boîte d'envoi locale", "fichier", "supprimé(s)")] = lambda address, sid: len(
            outbox.forget(Path(settings.outbox), sid))
    if settings.home and (Path(settings.home) / embedded.RECORDING_FILE).exists():
        erasers[("historique du serveur local", "requête", "réécrite(s) ou retirée(s)")] = lambda address, sid: (
            embedded.scrub_recording(settings.home, address, sid))
    return erasers
