"""Campaign function: admin actions (create, send, pause, resume, cancel, status, retry, report), IAM credentials
only. On a stack every campaign is rendered here: `convier --stack` sends the files' text, never a rendering."""

from __future__ import annotations

from convier.errors import InputError
from convier.services import campaigns
from convier.settings import Clients, Settings

ACTIONS = {"send", "pause", "resume", "cancel", "status", "retry", "report", "schedule", "unschedule",
           "scheduled-send", "followup-create"}
CREATE = "create"  # the one action without a campaign yet


def run(event: dict, settings: Settings, clients: Clients) -> dict:
    action, campaign_id = event.get("action"), event.get("campaign")
    if action == CREATE:
        try:
            return {"ok": True, **_create(event, settings, clients)}
        except InputError as exc:
            return {"ok": False, "error": str(exc)}
    if action not in ACTIONS or not campaign_id:
        return {"ok": False, "error": f"action attendue : {CREATE}, ou l’une de {sorted(ACTIONS)} avec « campaign »"}
    try:
        if action == "followup-create":
            return {"ok": True, **_followup(event, settings, clients, campaign_id)}
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


def _file(event: dict, field: str, *, required: bool = True) -> tuple[str, str] | None:
    """A file the CLI read on the workstation: {"name": the path staff typed, "text": its content}."""
    value = event.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("text"), str) or not value.get("name"):
        raise InputError(f"« {field} » attendu : {{\"name\": chemin du fichier, \"text\": son contenu}}")
    return str(value["name"]), value["text"]


def _create(event: dict, settings: Settings, clients: Clients) -> dict:
    """Renders the post with its settings (the campaign file's YAML, parsed here with the CLI's parser, so an
    error names the file and the line as on the workstation) and stores the campaign, once per request."""
    from convier.aws.resources import sender_preparer
    from convier.inputs.campaignfile import CampaignSettings, parse_campaign

    post_name, post_text = _file(event, "post")
    chosen = _file(event, "settings", required=False)
    list_name = event.get("list")
    if not list_name or not isinstance(list_name, str):
        raise InputError("« list » attendu : le nom de la liste de diffusion")
    campaign, size = campaigns.create_from_text(
        clients, settings, post_text=post_text, post_name=post_name, list_name=list_name,
        campaign_settings=parse_campaign(chosen[1], chosen[0]) if chosen else CampaignSettings(),
        prepare_sender=sender_preparer(settings), request=event.get("request_id", ""))
    return campaigns.summary(campaign, size)


def _followup(event: dict, settings: Settings, clients: Clients, parent: str) -> dict:
    """A follow-up of `parent`, rendered here from the message file's text, once per request."""
    from convier.services import followups

    message = _file(event, "message", required=False)
    campaign = campaigns.once(clients, settings, event.get("request_id", ""), lambda campaign_id: (
        followups.create_followup(clients, settings, parent, to=event.get("to"), subject=event.get("subject"),
                                  kind=event.get("kind"), message=message[1] if message else None,
                                  message_source=message[0] if message else None, campaign_id=campaign_id)))
    return campaigns.summary(campaign, followups.audience_size(clients, settings, campaign))


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
    if not event.get("request_id") and getattr(context, "aws_request_id", None):  # a retried invoke keeps its id
        event = {**event, "request_id": context.aws_request_id}  # (the CLI names its own: a retry after a lost answer)
    if context is not None and getattr(context, "invoked_function_arn", None):  # the schedules' target: itself
        event = {**event, "function_arn": context.invoked_function_arn.split(":alias")[0]}
    return run(event, settings, Clients(settings))
