"""`convier feedback replay`: the SES events the feedback function could not apply, applied again.

SNS invokes the feedback function asynchronously; after its two retries Lambda puts the invocation
record on the stack's on-failure queue (output `FeedbackFailureQueueUrl`), with the SNS event as
`requestPayload`. Replaying runs each record through the same code as the function (parse, apply:
conditional writes, so an event applied twice changes nothing more) and deletes a message only once it
has been applied; a message that fails again stays in the queue (it comes back after its visibility
timeout) and is reported. Nothing personal is printed: counts and message ids only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from convier.errors import InputError
from convier.services.feedback import apply, parse_sns_event

log = logging.getLogger("convier.feedback")
QUEUE_OUTPUT = "FeedbackFailureQueueUrl"
RETRY_AFTER = 300  # seconds: a message that fails again is invisible that long, then replayable again


@dataclass
class ReplayReport:
    replayed: int = 0  # messages applied and deleted
    failed: list[tuple[str, str]] = field(default_factory=list)  # (message id, reason): left in the queue
    outcomes: dict[str, int] = field(default_factory=dict)
    suppressed: int = 0


def event_of(body: str) -> dict:
    """The SNS event of a Lambda on-failure record (or of a message holding the event itself)."""
    try:
        record = json.loads(body)
    except ValueError:
        raise ValueError("message illisible (pas du JSON)") from None
    event = record.get("requestPayload", record) if isinstance(record, dict) else None
    if not isinstance(event, dict) or not event.get("Records"):
        raise ValueError("message sans événement SNS (requestPayload.Records)")
    return event


def apply_event(dynamo, table: str, id_key: bytes, event: dict, report: ReplayReport) -> None:
    for feedback in parse_sns_event(event):
        for applied in apply(dynamo, table, feedback, id_key):
            report.outcomes[applied.outcome] = report.outcomes.get(applied.outcome, 0) + 1
            report.suppressed += bool(applied.suppressed)


def replay(clients, settings, queue_url: str, *, limit: int | None = None) -> ReplayReport:
    """Receives every message of the queue once, applies it, deletes it when applied."""
    sqs, report, seen = clients.sqs, ReplayReport(), set()
    while limit is None or report.replayed + len(report.failed) < limit:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                    VisibilityTimeout=RETRY_AFTER).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                apply_event(clients.dynamodb, settings.table, clients.keys.id_key, event_of(message["Body"]), report)
            except Exception as exc:  # reported, kept in the queue for the next replay
                log.warning("feedback replay: message %s not applied: %s", message["MessageId"], exc)
                report.failed.append((message["MessageId"], str(exc) or type(exc).__name__))
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            report.replayed += 1
    return report


def failure_queue_url(outputs: dict, stack: str) -> str:
    """The stack's on-failure queue, from its outputs ({OutputKey: OutputValue}); pure."""
    if not stack:
        raise InputError("feedback replay : il faut --stack NOM (ou --queue-url URL) ; le serveur local "
                         "applique les retours sans file d'échecs")
    if not str(outputs.get(QUEUE_OUTPUT) or "").strip():
        raise InputError(f"pile {stack} : pas de sortie {QUEUE_OUTPUT} (redéployez avec le template.yaml "
                         "de cette version de convier)")
    return str(outputs[QUEUE_OUTPUT]).strip()
