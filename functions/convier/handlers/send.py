"""Send function: SQS batch in, partial batch response out (`ReportBatchItemFailures`).

Kept to the standard library, boto3 and light convier modules: this import
runs at every cold start. The partial batch response is built by
`sending.process_event` (one dict) rather than through Powertools' batch
processor, to keep that import small.
"""

from __future__ import annotations

import logging

from ..pacing import Pacer, worker_rate
from ..sending import Sender, process_event
from ..settings import Clients, Settings

logging.getLogger().setLevel(logging.INFO)
_sender: Sender | None = None


def sender_for(settings: Settings, clients: Clients) -> Sender:
    """A worker's sender, paced at its share of the account's send rate."""
    total = settings.send_rate or ses_rate(clients)
    return Sender(clients=clients, settings=settings, pacer=Pacer(worker_rate(total, settings.workers)))


def ses_rate(clients: Clients, default: float = 14.0) -> float:
    try:
        return float(clients.ses.get_account()["SendQuota"]["MaxSendRate"])
    except Exception:  # the quota is a ceiling we read when we can; the setting overrides it
        return default


def handler(event, context):
    global _sender
    if _sender is None:
        settings = Settings.from_env()
        _sender = sender_for(settings, Clients(settings))
    response, counts = process_event(event, _sender)
    logging.getLogger("convier.send").info(
        "batch done", extra={"sent": counts.sent, "skipped": counts.skipped, "failed": counts.failed,
                             "duplicates_avoided": counts.duplicates_avoided})
    return response
