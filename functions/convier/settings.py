"""One settings object, and the one place where AWS clients are made from it.

The same code runs on AWS (settings from the Lambda environment or the stack
outputs) and on the embedded default (a moto server on 127.0.0.1): only
`endpoint_url` differs. Clients are created on first use, never at import.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from convier.domain.dryrun import WaveSettings

DEFAULT_REGION = "eu-west-3"
DEFAULT_TABLE = "convier"
DEFAULT_QUEUE = "convier-send"
DEFAULT_DLQ = "convier-send-dlq"
DEFAULT_CONFIGURATION_SET = "convier"


def default_home() -> Path:
    return Path(os.environ.get("CONVIER_HOME") or Path.cwd() / ".convier")


@dataclass(frozen=True)
class Keys:
    """Secrets: `id_key` makes subscriber ids (never rotates); `link_keys` sign links (the first signs)."""

    id_key: bytes
    link_keys: tuple[bytes, ...]

    @classmethod
    def from_json(cls, text: str) -> Keys:
        """Either explicit hex keys, or the `seed` the stack's secret is generated with (keys derived from it).

        To rotate the link key, put a new hex key first in `link_keys` and keep the old one after it.
        """
        data = json.loads(text)
        seed = data.get("seed", "").encode()
        id_key = (bytes.fromhex(data["id_key"]) if data.get("id_key")
                  else hashlib.sha256(b"convier-id\x00" + seed).digest())
        links = [bytes.fromhex(k) for k in data.get("link_keys") or ()]
        if seed:
            links.append(hashlib.sha256(b"convier-link\x00" + seed).digest())
        if not links or (not seed and not data.get("id_key")):
            raise ValueError("secret de convier incomplet : id_key et link_keys, ou seed, sont attendus")
        return cls(id_key=id_key, link_keys=tuple(links))

    def to_json(self) -> str:
        return json.dumps({"id_key": self.id_key.hex(), "link_keys": [k.hex() for k in self.link_keys]})

    @classmethod
    def generate(cls) -> Keys:
        return cls(id_key=secrets.token_bytes(32), link_keys=(secrets.token_bytes(32),))


@dataclass(frozen=True)
class Settings:
    endpoint_url: str | None = None
    region: str = DEFAULT_REGION
    table: str = DEFAULT_TABLE
    queue_url: str = ""
    dead_letter_queue_url: str = ""
    configuration_set: str = DEFAULT_CONFIGURATION_SET
    public_url: str = ""
    sender: str = ""
    unsubscribe_mailbox: str = ""  # a monitored address for mailto: unsubscriptions (none by default)
    send_rate: float | None = None  # e-mails/s for all workers together; None: read the SES quota
    workers: int = 1  # how many send workers run at once (the SQS event source's maximum concurrency)
    secret_id: str = ""  # Secrets Manager secret holding Keys as JSON (AWS)
    keys_file: Path | None = None  # Keys as JSON in the state folder (embedded default)
    home: Path | None = None  # the embedded default's state folder
    campaign_function: str = ""  # on AWS, admin actions go through this function
    stack: str = ""
    outbox: Path | None = None  # embedded default: where sent messages are copied
    wave: WaveSettings = field(default_factory=WaveSettings)  # the safe start: first wave, pause thresholds
    retention_days: int | None = None  # send records and answers expire that long after the event (None: never)
    pause_delay: int | None = None  # seconds before a paused campaign's message is looked at again (send path)
    # The web function answers within API Gateway's timeout: short AWS calls, few tries (None: CLIENT_CONFIGS)
    client_connect_timeout: float | None = None
    client_read_timeout: float | None = None
    client_max_attempts: int | None = None

    @property
    def embedded(self) -> bool:
        return self.home is not None

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        """What a Lambda function (or a test) is given through its environment."""
        env = os.environ if env is None else env
        rate = env.get("CONVIER_SEND_RATE")
        keys_file = env.get("CONVIER_KEYS_FILE")
        outbox = env.get("CONVIER_OUTBOX")
        return cls(
            endpoint_url=env.get("CONVIER_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            table=env.get("CONVIER_TABLE", DEFAULT_TABLE),
            queue_url=env.get("CONVIER_QUEUE_URL", ""),
            dead_letter_queue_url=env.get("CONVIER_DLQ_URL", ""),
            configuration_set=env.get("CONVIER_CONFIGURATION_SET", DEFAULT_CONFIGURATION_SET),
            public_url=env.get("CONVIER_PUBLIC_URL", "").rstrip("/"),
            sender=env.get("CONVIER_SENDER", ""),
            unsubscribe_mailbox=env.get("CONVIER_UNSUBSCRIBE_MAILBOX", ""),
            send_rate=float(rate) if rate else None,
            workers=int(env.get("CONVIER_WORKERS") or 1),
            secret_id=env.get("CONVIER_SECRET_ID", ""),
            keys_file=Path(keys_file) if keys_file else None,
            campaign_function=env.get("CONVIER_CAMPAIGN_FUNCTION", ""),
            outbox=Path(outbox) if outbox else None,
            wave=wave_from_env(env),
            retention_days=_number(env, "CONVIER_RETENTION_DAYS", int),
            pause_delay=_number(env, "CONVIER_PAUSE_DELAY", int),
            client_connect_timeout=_number(env, "CONVIER_CLIENT_CONNECT_TIMEOUT", float),
            client_read_timeout=_number(env, "CONVIER_CLIENT_READ_TIMEOUT", float),
            client_max_attempts=_number(env, "CONVIER_CLIENT_MAX_ATTEMPTS", int),
        )

    def to_env(self) -> dict[str, str]:
        """The inverse of `from_env`, for handing the same settings to a worker process."""
        env = {
            "CONVIER_ENDPOINT_URL": self.endpoint_url or "",
            "AWS_REGION": self.region,
            "CONVIER_TABLE": self.table,
            "CONVIER_QUEUE_URL": self.queue_url,
            "CONVIER_DLQ_URL": self.dead_letter_queue_url,
            "CONVIER_CONFIGURATION_SET": self.configuration_set,
            "CONVIER_PUBLIC_URL": self.public_url,
            "CONVIER_SENDER": self.sender,
            "CONVIER_UNSUBSCRIBE_MAILBOX": self.unsubscribe_mailbox,
            "CONVIER_SEND_RATE": "" if self.send_rate is None else str(self.send_rate),
            "CONVIER_WORKERS": str(self.workers),
            "CONVIER_SECRET_ID": self.secret_id,
            "CONVIER_KEYS_FILE": str(self.keys_file or ""),
            "CONVIER_CAMPAIGN_FUNCTION": self.campaign_function,
            "CONVIER_OUTBOX": str(self.outbox or ""),
            **{name: str(value) for name, value in (
                ("CONVIER_RETENTION_DAYS", self.retention_days), ("CONVIER_PAUSE_DELAY", self.pause_delay),
                ("CONVIER_CLIENT_CONNECT_TIMEOUT", self.client_connect_timeout),
                ("CONVIER_CLIENT_READ_TIMEOUT", self.client_read_timeout),
                ("CONVIER_CLIENT_MAX_ATTEMPTS", self.client_max_attempts)) if value is not None},
            **{name: str(getattr(self.wave, attr)) for name, attr in WAVE_ENV.items()
               if getattr(self.wave, attr) != getattr(WaveSettings(), attr)},
        }
        return {k: v for k, v in env.items() if v}

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def _number(env, name: str, kind):
    """A number from the environment, or None when unset or empty."""
    value = env.get(name)
    return kind(value) if value not in (None, "") else None


LOCAL_SEND_RATE = 14.0  # e-mails/s: SES's default for a new production account
LOCAL_DAILY_QUOTA = 50_000.0  # e-mails a day: the same
LOCAL_ACCOUNT_ENV = {"CONVIER_LOCAL_SEND_RATE": LOCAL_SEND_RATE, "CONVIER_LOCAL_DAILY_QUOTA": LOCAL_DAILY_QUOTA}


def local_ses_account(env: dict | None = None) -> tuple[float, float]:
    """(e-mails per second, e-mails a day) that the embedded server's SES says the account has (GetAccount),
    so that the pre-send checks show a real quota there: CONVIER_LOCAL_SEND_RATE, CONVIER_LOCAL_DAILY_QUOTA."""
    env = os.environ if env is None else env
    return tuple(float(env.get(name) or default) for name, default in LOCAL_ACCOUNT_ENV.items())


WAVE_ENV = {"CONVIER_WAVE_SHARE": "share", "CONVIER_WAVE_LEAST": "least", "CONVIER_WAVE_MOST": "most",
            "CONVIER_WAVE_WAIT": "wait", "CONVIER_BOUNCE_LIMIT": "bounce_limit",
            "CONVIER_COMPLAINT_LIMIT": "complaint_limit"}


def wave_from_env(env) -> WaveSettings:
    """The first wave (share of the audience, least, most, seconds of wait) and the pause thresholds (shares)."""
    default = WaveSettings()
    values = {attr: type(getattr(default, attr))(env[name]) for name, attr in WAVE_ENV.items() if env.get(name)}
    return replace(default, **values)


# One botocore Config per kind of client. SES gets no library retry at all: a 5xx or a read timeout after
# SES accepted a message would send it again; the send path decides (throttled: later; refused: failed;
# 5xx, timeout, lost connection: unknown). Lambda: the campaign function runs up to 300 s, so a shorter
# read timeout would repeat an admin action; one attempt. DynamoDB and SQS: standard retries (idempotent
# or conditional calls; DynamoDB's throttling is also retried by convier.store.records with its backoff).
CLIENT_CONFIGS = {
    "sesv2": {"retries": {"total_max_attempts": 1, "mode": "standard"}, "connect_timeout": 5, "read_timeout": 15},
    "lambda": {"retries": {"total_max_attempts": 1, "mode": "standard"}, "read_timeout": 330},
    "dynamodb": {"retries": {"max_attempts": 3, "mode": "standard"}, "connect_timeout": 5, "read_timeout": 60},
}
DEFAULT_CLIENT_CONFIG = {"retries": {"max_attempts": 3, "mode": "standard"}, "read_timeout": 60}


_SESSION: list = []  # one boto3 session per process: making one reads botocore's data folder (~1 s)
_SESSION_LOCK = threading.Lock()


def _session_unlocked():
    if not _SESSION:
        import boto3

        _SESSION.append(boto3.session.Session())
    return _SESSION[0]


def client_config(service: str, settings: Settings | None = None):
    """The botocore Config for one kind of client (see CLIENT_CONFIGS), made shorter by the settings' client
    limits where they are set (the web function's): never longer, never more tries."""
    from botocore.config import Config

    config = dict(CLIENT_CONFIGS.get(service, DEFAULT_CLIENT_CONFIG))
    if settings is not None:
        for key, limit in (("connect_timeout", settings.client_connect_timeout),
                           ("read_timeout", settings.client_read_timeout)):
            if limit is not None:
                config[key] = min(limit, config.get(key, 60))
        if settings.client_max_attempts is not None:
            retries = config.get("retries", {})
            total = retries.get("total_max_attempts", retries.get("max_attempts", 4) + 1)
            config["retries"] = {"total_max_attempts": min(settings.client_max_attempts, total),
                                 "mode": retries.get("mode", "standard")}
    return Config(max_pool_connections=16, **config)


@dataclass
class Clients:
    """boto3 clients for one `Settings`, made on first use and shared."""

    settings: Settings
    _cache: dict = field(default_factory=dict, repr=False)

    def client(self, service: str):
        if service not in self._cache:
            kwargs = {"region_name": self.settings.region, "config": client_config(service, self.settings)}
            if self.settings.endpoint_url:
                kwargs.update(endpoint_url=self.settings.endpoint_url, aws_access_key_id="convier",
                              aws_secret_access_key="convier")
            with _SESSION_LOCK:  # creating clients from one session is not thread-safe
                self._cache[service] = _session_unlocked().client(service, **kwargs)
        return self._cache[service]

    @property
    def dynamodb(self):
        return self.client("dynamodb")

    @property
    def sqs(self):
        return self.client("sqs")

    @property
    def ses(self):
        return self.client("sesv2")

    @cached_property
    def keys(self) -> Keys:
        """From Secrets Manager on AWS, from the state folder on the embedded default."""
        s = self.settings
        if s.keys_file:
            return Keys.from_json(Path(s.keys_file).read_text())
        if s.secret_id:
            value = self.client("secretsmanager").get_secret_value(SecretId=s.secret_id)["SecretString"]
            return Keys.from_json(value)
        raise RuntimeError("aucune clé de signature : CONVIER_SECRET_ID ou CONVIER_KEYS_FILE doit être défini")
