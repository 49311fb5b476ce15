"""The audit log of the command line: DESIGN's rule, every staff action (console or CLI) is in it (who, when,
what, on which campaign or list; never a recipient's address).

One place records: `dispatch(args)` runs the command and, once it has done what it says (exit 0, or 130 for a
local send interrupted after it started), writes one entry for the command's `audit` action (set with the
command's `func` at registration; a callable of `args` when an option changes it). The campaign and the list
come from the arguments (`id`, `parent`, `list`; never an address); a command adds what only it knows with
`note(campaign=…, list_name=…, detail=…)` (the id it made, counts) or says `nothing_done()` (a dry run).

On a stack, an action that goes through the campaign function is recorded by the function: `_invoke` puts
`caller_identity()` in the payload, and the CLI then records nothing itself. What the CLI does directly on the
stack (test sends, lists, erasure, capacity, downloads) it records itself. Who: on a stack, the AWS identity
(STS GetCallerIdentity's ARN, asked once per command, before anything changes); elsewhere the system user.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

from convier.errors import InputError


@dataclass
class _Command:
    action: str  # services.audit.ACTIONS, or "" for a command that changes nothing
    where: dict = field(default_factory=dict)  # campaign, list_name, detail
    settings: object = None  # as the command resolved them (target.resolve)
    clients: object = None
    identity: str | None = None
    remote: bool = False  # the campaign function recorded it
    done: bool = True


# The command being run: where it resolved, and who runs it (asked once). A context variable because the
# command reaches the stack from several places (resolve, _invoke) that the dispatch does not call itself.
_current: contextvars.ContextVar[_Command | None] = contextvars.ContextVar("convier_cli_command", default=None)


def dispatch(args) -> int:
    """Runs `args.func(args)` and records its action (see the module's docstring); returns its exit code."""
    action = getattr(args, "audit", "") or ""
    if callable(action):
        action = action(args)
    where = {"campaign": str(getattr(args, "id", "") or getattr(args, "parent", "") or ""),
             "list_name": str(getattr(args, "list", "") or "")}
    command = _Command(action, where)
    token = _current.set(command)
    try:
        code = args.func(args)
    finally:
        _current.reset(token)
    if code in (0, 130) and command.action and command.done and not command.remote and command.clients is not None:
        _record(command)
    return code


def resolved(settings, clients):
    """target.resolve tells where the command works; on a stack, an action's author is asked now, before
    anything changes (no action without its who). Returns (settings, clients)."""
    command = _current.get()
    if command is not None:
        command.settings, command.clients = settings, clients
        if command.action and settings.stack:
            _identity(command)
    return settings, clients


def caller_identity() -> str | None:
    """For the campaign function's payload (`caller`): who runs this command; the function records the action
    with it, so the CLI does not. None outside a command (a test calling the CLI's functions directly)."""
    command = _current.get()
    if command is None or command.clients is None:
        return None
    command.remote = True
    return _identity(command)


def note(**where) -> None:
    """What only the command knows: the campaign it made, the list, a detail (counts; never an address)."""
    command = _current.get()
    if command is not None:
        command.where.update({k: str(v) for k, v in where.items() if v is not None})


def nothing_done() -> None:
    """The command changed nothing after all (a dry run, nothing left to send): no entry."""
    command = _current.get()
    if command is not None:
        command.done = False


def _identity(command: _Command) -> str:
    if command.identity is None:
        command.identity = stack_identity(command.clients) if command.settings.stack else local_user()
    return command.identity


def stack_identity(clients) -> str:
    """The ARN of the AWS identity the CLI runs as (STS GetCallerIdentity: allowed to every identity)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return clients.client("sts").get_caller_identity()["Arn"]
    except (ClientError, BotoCoreError) as exc:
        raise InputError(f"identité AWS illisible (STS GetCallerIdentity : {exc}) : rien n’est fait, le journal "
                         "doit dire qui agit") from None


def local_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor in the password database
        return "inconnu"


def _record(command: _Command) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    from convier.services import audit

    try:
        audit.record(command.clients, command.settings, audit.cli_who(_identity(command)), command.action,
                     source=audit.CLI, **command.where)
    except (ClientError, BotoCoreError, InputError) as exc:  # the action is done: say it, do not undo it
        from convier.cli.app import err

        err.print("[yellow]attention[/] : ", end="")
        err.print(f"action faite mais non inscrite au journal ({exc})", markup=False)
