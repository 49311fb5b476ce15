"""Send function: SQS batch in, partial batch response out (`ReportBatchItemFailures`).

Kept to the standard library, boto3 and light convier modules: this import
runs at every cold start. The partial batch response is built by
`sending.process_event` (one dict) rather than through Powertools' batch
processor, to keep that import small.
"""

from __future__ import annotations

import logging

from convier.services.sending import Sender, process_event, sender_for
from convier.settings import Clients, Settings

logging.getLogger().setLevel(logging.INFO)
_sender: Sender | None = None


def handler(event, context):
    global _sender
    if _sender is None:
        settings = Settings.from_env()
        _sender = sender_for(settings, Clients(settings))
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        _sender.time_left = lambda: context.get_remaining_time_in_millis() / 1000
    response, counts = process_event(event, _sender)
    logging.getLogger("convier.send").info(
        "batch done", extra={"sent": counts.sent, "skipped": counts.skipped, "failed": counts.failed,
                             "unknown": counts.unknown, "duplicates_avoided": counts.duplicates_avoided,
                             "unfinished": counts.unfinished})
    return response
