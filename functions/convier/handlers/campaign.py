"""Campaign function: admin actions (create, edit, cancel-event, send, pause, resume, cancel, status, retry,
report, schedules), IAM credentials only. On a stack every campaign is rendered here: `convier --stack` sends the
files' text, never a rendering.

Each staff action done here is in the audit log (services.audit), under the `caller` of the payload: the AWS
identity `convier --stack` read with STS GetCallerIdentity. The function trusts that name because only the
principals template.yaml allows may invoke it (the OperatorPolicy's holders, the scheduler's role), and each of
them could as well act on the table directly; CloudTrail keeps the invoke's real principal. A payload without
`caller` (an invoke by hand) is recorded as such.
"""

from __future__ import annotations

import logging

from convier.errors import InputError
from convier.services import campaigns
from convier.settings import Clients, Settings

ACTIONS = {"send", "pause", "resume", "cancel", "status", "retry", "report", "schedule", "unschedule",
           "scheduled-send", "followup-create", "edit", "cancel-event"}
CREATE = "create"  # the one action without a campaign yet
AUDITED = {"create": "create", "followup-create": "followup", "edit": "edit", "cancel-event": "cancel_event",
           "send": "send", "pause": "pause", "resume": "resume", "cancel": "cancel", "retry": "retry",
           "report": "report", "schedule": "schedule", "unschedule": "unschedule"}  # action → audit action
UNCALLED = "appel direct de la fonction de campagne (sans « caller »)"


def run(event: dict, settings: Settings, clients: Clients) -> dict:
    made_before = _made_before(event, settings, clients)
    result = _run(event, settings, clients)
    again = result.pop("again", False) or made_before  # a request answered before: recorded then
    if result.get("ok") and event.get("action") in AUDITED and result.get("changed", True) and not again:
        _journal(event, result, settings, clients)
    return result


def _run(event: dict, settings: Settings, clients: Clients) -> dict:
    action, campaign_id = event.get("action"), event.get("campaign")
    if action == CREATE:
        try:
            return {"ok": True, **_create(event, settings, clients)}
        except InputError as exc:
            return {"ok": False, "error": str(exc)}
    if action not in ACTIONS or not campaign_id:
        return {"ok": False, "error": f"action attendue : {CREATE}, ou l’une de {sorted(ACTIONS)} avec « campaign »"}
    try:
        if action in ("edit", "cancel-event"):
            return {"ok": True, **_answered_once(event, settings, clients, lambda: _update(
                action, event, settings, clients, campaign_id))}
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


def _made_before(event: dict, settings: Settings, clients: Clients) -> bool:
    """A create (or follow-up) request made again after a lost answer: its action is in the journal already."""
    request = event.get("request_id")
    if event.get("action") not in (CREATE, "followup-create") or not isinstance(request, str) or not request:
        return False
    from convier.store import records

    return records.create_claimed(clients.dynamodb, settings.table, request)


def _journal(event: dict, result: dict, settings: Settings, clients: Clients) -> None:
    """The action in the audit log (see the module's docstring): campaign, list, counts; never an address."""
    from convier.services import audit

    action, campaign_id = event["action"], event.get("campaign") or ""
    detail = {"create": lambda: (event.get("post") or {}).get("name", "").replace("\\", "/").rpartition("/")[2],
              "followup-create": lambda: audit.followup_detail(campaign_id, event.get("kind"), result["segments"]),
              "edit": lambda: audit.edit_detail(result["changes"]),
              "cancel-event": lambda: audit.cancel_detail(result["stopped"], result["unscheduled"],
                                                          result["annulation"]["id"]),
              "send": lambda: f"{result['enqueued']} destinataires",
              "retry": lambda: f"{result['failed']} échecs, {result['unknown']} inconnus",
              "report": lambda: f"{len(result['rows'])} lignes",
              "schedule": lambda: f"{result['at']} (UTC)"}.get(action, lambda: "")()
    if action in ("create", "followup-create"):
        campaign_id = result["id"]
    list_name = result.get("list") or ""
    try:
        if not list_name:
            from convier.store import records

            found = records.load_campaign(clients.dynamodb, settings.table, campaign_id, parts=False)
            list_name = found.list_name if found else ""
        caller = event.get("caller")
        audit.record(clients, settings, audit.cli_who(caller) if caller else UNCALLED, AUDITED[action],
                     campaign=campaign_id, list_name=list_name, detail=detail, source=audit.CLI)
    except Exception:  # the action is done: its answer goes back; the missing entry is in the function's log
        logging.getLogger("convier").exception("audit log not written for %s %s", action, campaign_id)


def _answered_once(event: dict, settings: Settings, clients: Clients, work) -> dict:
    """`work()` once per `request_id`: the same request again (an invoke retried after a lost answer) gets
    the first attempt's answer, not a second edit or a refusal."""
    import json
    import time

    from convier.store import records

    request = event.get("request_id", "")
    if not request:
        return work()
    if len(request) > 200 or not request.isprintable():
        raise InputError("request_id : 200 caractères imprimables au plus")
    new, answer = records.claim_request(clients.dynamodb, settings.table, request)
    for _ in range(0 if new else 60):  # the first attempt may still be running: its answer comes
        if answer is not None:
            found = json.loads(answer)
            if "error" in found:
                raise InputError(found["error"])
            return {**found, "again": True}
        time.sleep(2)
        answer = records.claim_request(clients.dynamodb, settings.table, request)[1]
    if not new:
        raise InputError(f"demande {request} : la première tentative n’a pas répondu ; vérifiez l’invitation "
                         "(convier campaign status) avant de recommencer")
    try:
        done = work()
    except InputError as exc:  # refused: the same request again is refused the same way
        records.answer_request(clients.dynamodb, settings.table, request, json.dumps({"error": str(exc)}))
        raise
    records.answer_request(clients.dynamodb, settings.table, request, json.dumps(done, ensure_ascii=False))
    return done


def _update(action: str, event: dict, settings: Settings, clients: Clients, campaign_id: str) -> dict:
    """`edit` (the campaign file's text, parsed here with the CLI's parser; the post's when given again) and
    `cancel-event` (the message file's text when given), with what the CLI prints (updates' summaries)."""
    from convier.services import updates

    if action == "cancel-event":
        message = _file(event, "message", required=False)
        return updates.cancel_summary(clients, settings, campaign_id, to=event.get("to"),
                                      subject=event.get("subject"), message=message[1] if message else None,
                                      message_source=message[0] if message else None, aws=_scheduler(event, clients))
    from convier.aws.resources import sender_preparer
    from convier.inputs.campaignfile import parse_campaign

    chosen = _file(event, "settings")
    post = _file(event, "post", required=False)
    return updates.edit_summary(clients, settings, campaign_id, parse_campaign(chosen[1], chosen[0]),
                                notice=bool(event.get("notice")), to=event.get("to"),
                                post_text=post[1] if post else None, post_name=post[0] if post else None,
                                prepare_sender=sender_preparer(settings))


def _scheduler(event: dict, clients: Clients):
    """The stack's EventBridge Scheduler group and role (services.schedules.AwsScheduler)."""
    import os

    from convier.services import schedules

    return schedules.AwsScheduler(client=clients.client("scheduler"),
                                  group=os.environ.get("CONVIER_SCHEDULE_GROUP", ""),
                                  role_arn=os.environ.get("CONVIER_SCHEDULER_ROLE_ARN", ""),
                                  target_arn=event.get("function_arn", ""))


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

    from convier.services import schedules

    if action == "scheduled-send":
        fired = schedules.fire(clients, settings, campaign_id)
        if fired is None:
            return {"ok": True, "fired": False}
        return {"ok": not fired.refused, "fired": True, "enqueued": fired.enqueued, "error": fired.refused}
    aws = _scheduler(event, clients)
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
