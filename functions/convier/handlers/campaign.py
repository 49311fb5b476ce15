"""Campaign function: admin actions (send, pause, resume, cancel, status, retry, report), IAM credentials only."""

from __future__ import annotations

from convier.errors import InputError
from convier.services import campaigns
from convier.settings import Clients, Settings

ACTIONS = {"send", "pause", "resume", "cancel", "status", "retry", "report", "schedule", "unschedule",
           "scheduled-send"}


def run(event: dict, settings: Settings, clients: Clients) -> dict:
    action, campaign_id = event.get("action"), event.get("campaign")
    if action not in ACTIONS or not campaign_id:
        return {"ok": False, "error": f"action attendue parmi {sorted(ACTIONS)} avec « campaign »"}
    try:
        if action in ("schedule", "unschedule", "scheduled-send"):
            return _schedules(action, event, settings, clients, campaign_id)
        if action == "send":  # `confirm`: the number of recipients staff confirmed; the checks run first
            started = campaigns.start_send(clients, settings, campaign_id, confirm=event.get("confirm"),
                                           require_confirm=True, no_wave=bool(event.get("no_wave")),
                                           request=event.get("request_id", ""))
            return {"ok": True, "enqueued": started.enqueued}
        if action == "status":
            return {"ok": True, **campaigns.status(clients, settings, campaign_id).as_dict()}
        if action == "retry":
            plan = campaigns.retry(clients, settings, campaign_id, unknown=bool(event.get("unknown")),
                                   confirm_unknown=event.get("yes"))
            return {"ok": True, "failed": len(plan.failed), "unknown": len(plan.unknown)}
        if action == "report":
            from convier.services.report import report

            found = report(clients, settings, campaign_id)
            return {"ok": True, "header": found.header, "rows": found.rows, "states": found.states}
        changed = getattr(campaigns, action)(clients, settings, campaign_id)
        return {"ok": True, "changed": changed}
    except InputError as exc:
        return {"ok": False, "error": str(exc)}


def _schedules(action: str, event: dict, settings: Settings, clients: Clients, campaign_id: str) -> dict:
    """EventBridge Scheduler invokes `scheduled-send`; staff `schedule` (at: ISO with offset) and `unschedule`."""
    import datetime as dt
    import os

    from convier.services import schedules

    if action == "scheduled-send":
        fired = schedules.fire(clients, settings, campaign_id)
        if fired is None:
            return {"ok": True, "fired": False}
        return {"ok": not fired.refused, "fired": True, "enqueued": fired.enqueued, "error": fired.refused}
    aws = schedules.AwsScheduler(client=clients.client("scheduler"), group=os.environ.get("CONVIER_SCHEDULE_GROUP", ""),
                                 role_arn=os.environ.get("CONVIER_SCHEDULER_ROLE_ARN", ""),
                                 target_arn=event.get("function_arn", ""))
    if action == "unschedule":
        return {"ok": True, "changed": schedules.unschedule(clients, settings, campaign_id, aws=aws)}
    try:
        when = dt.datetime.fromisoformat(event.get("at", ""))
    except (TypeError, ValueError):
        return {"ok": False, "error": "« at » attendu : date et heure ISO avec décalage"}
    at = schedules.schedule(clients, settings, campaign_id, when, aws=aws)
    return {"ok": True, "at": at.isoformat()}


def handler(event, context):
    settings = Settings.from_env()
    if context is not None and getattr(context, "aws_request_id", None):  # a retried invoke keeps its id
        event = {**event, "request_id": context.aws_request_id}
    if context is not None and getattr(context, "invoked_function_arn", None):  # the schedules' target: itself
        event = {**event, "function_arn": context.invoked_function_arn.split(":alias")[0]}
    return run(event, settings, Clients(settings))
