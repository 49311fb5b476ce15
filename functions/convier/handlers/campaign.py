"""Campaign function: admin actions (send, pause, resume, cancel, status, retry, report), IAM credentials only."""

from __future__ import annotations

from convier.errors import InputError
from convier.services import campaigns
from convier.settings import Clients, Settings

ACTIONS = {"send", "pause", "resume", "cancel", "status", "retry", "report"}


def run(event: dict, settings: Settings, clients: Clients) -> dict:
    action, campaign_id = event.get("action"), event.get("campaign")
    if action not in ACTIONS or not campaign_id:
        return {"ok": False, "error": f"action attendue parmi {sorted(ACTIONS)} avec « campaign »"}
    try:
        if action == "send":
            return {"ok": True, "enqueued": campaigns.fan_out(clients, settings, campaign_id)}
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


def handler(event, context):
    settings = Settings.from_env()
    return run(event, settings, Clients(settings))
