"""Feedback function: SES events of the configuration set, through SNS (see `convier.feedback`).

A notification we cannot read raises: Lambda retries the asynchronous SNS invocation, and the error
is in the function's logs. Events we do not act on (send, open, click...) are ignored.
"""

from __future__ import annotations

import logging

from convier.services.feedback import apply, parse_sns_event
from convier.settings import Clients, Settings

logging.getLogger().setLevel(logging.INFO)
log = logging.getLogger("convier.feedback")

_process: tuple[Settings, Clients] | None = None


def handle(event: dict, settings: Settings, clients: Clients) -> dict:
    counts: dict[str, int] = {}
    suppressed = 0
    campaigns = set()
    for feedback in parse_sns_event(event):
        if feedback.campaign and not feedback.test:
            campaigns.add(feedback.campaign)
        for applied in apply(clients.dynamodb, settings.table, feedback, clients.keys.id_key):
            counts[applied.outcome] = counts.get(applied.outcome, 0) + 1
            suppressed += bool(applied.suppressed)
    if campaigns:  # the safe start: pause on bad rates, release a first wave whose outcomes are all in
        from convier.domain.waves import WAIT
        from convier.services.campaigns import review

        for campaign_id in sorted(campaigns):
            decision = review(clients, settings, campaign_id)
            if decision is not None and decision.action != WAIT:
                log.info("campaign %s: %s (%s)", campaign_id, decision.action, decision.reason)
    log.info("feedback done", extra={"outcomes": counts, "suppressed": suppressed})
    return {"outcomes": counts, "suppressed": suppressed}


def handler(event, context):
    """Lambda entry: settings and clients made once per process (again if the environment changed)."""
    global _process
    settings = Settings.from_env()
    if _process is None or _process[0] != settings:
        _process = (settings, Clients(settings))
    return handle(event, *_process)
