"""Where a CLI command works: the one function every command calls to get its settings and clients.

- `--endpoint-url URL` (or `CONVIER_ENDPOINT_URL`): that server as it is (a moto server, LocalStack...);
  missing resources are created; keys and outbox live in the state folder.
- `--stack NAME`: a deployed stack (its outputs); not available yet.
- neither: the embedded default, a moto server on 127.0.0.1 started on demand (see `embedded`).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from . import embedded, localweb
from .errors import InputError
from .resources import ensure_resources
from .settings import Clients, Settings, default_home


def home_of(args) -> Path:
    """`--home DIR`, else `$CONVIER_HOME`, else ./.convier."""
    home = getattr(args, "home", None)
    return Path(home).expanduser().resolve() if home else default_home().resolve()


def resolve(args, *, env: dict | None = None, announce=None) -> tuple[Settings, Clients]:
    """Settings and clients for a parsed command line (`args` may lack any of the global options).

    `announce(message)` is told when the embedded server has to be started (it takes a few seconds).
    """
    env = os.environ if env is None else env
    base = Settings.from_env(env)
    if getattr(args, "stack", None):
        raise InputError(f"--stack {args.stack} : la lecture des sorties d'une pile CloudFormation n'est pas "
                         "encore disponible ; utilisez --endpoint-url URL ou le serveur local par défaut")
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
                          public_url=base.public_url or localweb.public_url(home))  # `convier serve`
    clients = Clients(settings)
    settings = ensure_resources(settings, clients)
    return settings, dataclasses.replace(clients, settings=settings)
