"""Campaign function: admin actions (send, pause, resume, cancel, status), invoked with IAM credentials only."""

from __future__ import annotations

from convier.errors import InputError
from convier.services import campaigns
from convier.settings import Clients, Settings

ACTIONS = {"send", "pause", "resume", "cancel", "status"}


def run(event: dict, settings: Settings, clients: Clients) -> dict:
    action, campaign_id = event.get("action"), event.get("campaign")
    if action not in ACTIONS or not campaign_id:
        return {"ok": False, "error": f"action attendue parmi {sorted(ACTIONS)} avec « campaign »"}
    try:
        if action == "send":
            return {"ok": True, "enqueued": campaigns.fan_out(clients, settings, campaign_id)}
        if action == "status":
            st = campaigns.status(clients, settings, campaign_id)
            return {"ok": True, "status": st.campaign.status, "sent": st.sent, "skipped": st.skipped,
                    "failed": st.failed, "unknown": st.unknown, "in_flight": st.in_flight, "queued": st.queued,
                    "rate": st.rate, "list_size": st.list_size, "feedback": st.feedback}
        changed = getattr(campaigns, action)(clients, settings, campaign_id)
        return {"ok": True, "changed": changed}
    except InputError as exc:
        return {"ok": False, "error": str(exc)}


def handler(event, context):
    settings = Settings.from_env()
    return run(event, settings, Clients(settings))
