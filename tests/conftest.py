"""Shared fixtures: a moto server over HTTP, settings with their own table and queues per test, the CLI.

- `moto_server` (session): the endpoint URL of a moto server in its own process, on a free port
  of 127.0.0.1 (one per xdist worker), stopped at the end of the session.
- `settings`: a `Target(settings, clients)` (unpacks as a tuple) on that server, with a table and
  queues of its own, keys and an outbox in a temporary state folder; deleted afterwards.
- `cli`: runs `convier ...` in-process against `settings`; returns `Result(code, out, err)`.
- `home`: a state folder for the real `convier` on an embedded default of its own (tests/embeddedkit.run),
  whose moto server is stopped after the test.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest
from rich.console import Console

from motokit import running_moto

# tests/corpus/ sweeps the real posts of the shared corpus: `make corpus` sets CONVIER_CORPUS and runs it when the
# corpus exists. `make test` needs nothing outside the repository, so the folder is not collected there.
collect_ignore = [] if os.environ.get("CONVIER_CORPUS") else ["corpus"]


@pytest.fixture(scope="session")
def moto_server():
    """Endpoint URL of a moto server (its own process; the OS picks a free port)."""
    with running_moto() as url:
        yield url


class Target(NamedTuple):
    settings: Settings  # noqa: F821
    clients: Clients  # noqa: F821

    @property
    def env(self) -> dict[str, str]:
        """The environment that points a `convier` process at these settings."""
        return {**self.settings.to_env(), "CONVIER_HOME": str(self.settings.home)}


@pytest.fixture
def settings(moto_server, tmp_path):
    """Settings and clients with a table and queues of their own (unique names), on `moto_server`."""
    from convier.aws.resources import ensure_resources
    from convier.local import embedded
    from convier.settings import Clients, Settings

    name = f"t{uuid.uuid4().hex[:12]}"
    home = tmp_path / "convier-home"
    base = Settings(endpoint_url=moto_server, table=name,
                    queue_url=f"{moto_server}/123456789012/{name}-send",
                    dead_letter_queue_url=f"{moto_server}/123456789012/{name}-dlq",
                    configuration_set=name, home=home, keys_file=embedded.ensure_keys(home),
                    outbox=home / embedded.OUTBOX, public_url="http://127.0.0.1:8000")
    s = ensure_resources(base, Clients(base))
    clients = Clients(s)
    yield Target(s, clients)
    for call in (lambda: clients.dynamodb.delete_table(TableName=s.table),
                 lambda: clients.sqs.delete_queue(QueueUrl=s.queue_url),
                 lambda: clients.sqs.delete_queue(QueueUrl=s.dead_letter_queue_url),
                 lambda: clients.ses.delete_configuration_set(ConfigurationSetName=s.configuration_set)):
        try:
            call()
        except Exception:  # the test may have removed it already
            pass


class Result(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture
def cli(settings, capsys, monkeypatch):
    """`cli("lists", "show")`: the real command line, in-process, against `settings`."""
    from convier.cli import app as cli_module

    for key in [k for k in os.environ if k.startswith("CONVIER_")]:
        monkeypatch.delenv(key)
    for key, value in settings.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "200")
    for console in (cli_module.console, cli_module.err):  # made at import, maybe before COLUMNS was set
        monkeypatch.setattr(console, "width", 200)

    def run(*argv: str | Path) -> Result:
        # rich reads COLUMNS when a Console is made: the consoles of CLI modules imported earlier (collection,
        # another test) would keep 80 columns and wrap lines in the middle of what the tests look for.
        for module in [m for name, m in sys.modules.items() if name.startswith("convier.cli")]:
            for console in [v for v in vars(module).values() if isinstance(v, Console)]:
                monkeypatch.setattr(console, "width", 200)
        capsys.readouterr()
        code = cli_module.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def home(tmp_path):
    """The embedded default's state folder of one test; the server `convier` started there is stopped after it."""
    from convier.local import embedded

    home = tmp_path / "etat"
    yield home
    embedded.stop_server(home)
