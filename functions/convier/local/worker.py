"""The embedded default's stand-in for the SQS event source: poll, call the real handler, delete.

It builds the same event shape Lambda delivers and honours the partial batch
response the same way: successful messages are deleted, failed ones become
visible again (sooner than on AWS, so a local run does not idle) and move to
the dead-letter queue after the redrive policy's count of receives.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from convier.services.sending import BATCH_SIZE, Counts, Sender, process_event
from convier.store import records

RETRY_VISIBILITY = 2  # seconds before a failed message is received again


def sqs_event(messages: list[dict], queue_arn: str, region: str) -> dict:
    """Messages from ReceiveMessage in the shape of a Lambda SQS event."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": region} for m in messages]}


@dataclass
class DrainResult:
    counts: Counts
    stopped: str = ""  # why it stopped early: "paused", "cancelled", "interrupted" (Ctrl-C or SIGTERM)
    own: Counts | None = None  # the counts of `campaign_id`'s own recipients (the total covers every campaign)


def _queue_depth(sqs, queue_url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return sum(int(v) for v in attrs.values())


def drain(sender: Sender, *, campaign_id: str | None = None, threads: int = 2,
          on_batch: Callable[[Counts], None] | None = None, idle_timeout: float = 30.0,
          retry_visibility: int = RETRY_VISIBILITY) -> DrainResult:
    """Runs the send handler on the queue until it is empty (or the campaign is paused or cancelled).

    Each thread takes one message (50 recipients) at a time, so that threads share the work evenly.
    """
    settings, sqs = sender.settings, sender.clients.sqs
    arn = sqs.get_queue_attributes(QueueUrl=settings.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    total, own, lock, stop = Counts(), Counts(), threading.Lock(), threading.Event()
    interrupted = threading.Event()
    reason = {"why": ""}
    # An interruption lets each thread finish the recipient it is on (SES call and mark), then hands the rest of
    # its message back to the queue unclaimed, as the send function does when Lambda runs out of time.
    time_left = sender.time_left
    sender.time_left = lambda: 0.0 if interrupted.is_set() else time_left()

    # Threads sharing one pacer move in step: started together, they would all finish their messages,
    # then fetch, read and claim the next ones, at the same moment, and the pacer's slots would go by
    # unused. Starting each a message's share of time after the previous one keeps them apart.
    stagger = min(2.0, BATCH_SIZE / sender.pacer.rate)

    def work(position: int):
        if stop.wait(position * stagger):
            return
        idle_since = None
        while not stop.is_set():
            got = sqs.receive_message(QueueUrl=settings.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                      VisibilityTimeout=60, AttributeNames=["All"]).get("Messages", [])
            if not got:
                if campaign_id:
                    status = records.campaign_status(sender.clients.dynamodb, settings.table, campaign_id)
                    if status in (records.PAUSED, records.CANCELLED):
                        reason["why"] = status
                        stop.set()
                        return
                if _queue_depth(sqs, settings.queue_url) == 0:
                    stop.set()
                    return
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > idle_timeout:
                    return
                continue
            idle_since = None
            response, counts = process_event(sqs_event(got, arn, settings.region), sender)
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(got) if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(QueueUrl=settings.queue_url, Entries=done)
            retry = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": retry_visibility}
                     for i, m in enumerate(got) if m["MessageId"] in failed]
            if retry:
                sqs.change_message_visibility_batch(QueueUrl=settings.queue_url, Entries=retry)
            mine = campaign_id is None or _campaign_of(got[0]) == campaign_id
            with lock:
                total.add(counts)
                if mine:
                    own.add(counts)
            if on_batch and mine:  # each command's progress counts its own campaign only
                on_batch(counts)

    def interrupt(signum, frame):
        interrupted.set()
        stop.set()
        reason["why"] = "interrupted"
        if signum == signal.SIGINT:  # a second Ctrl-C stops at once
            signal.signal(signal.SIGINT, signal.default_int_handler)

    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            handlers[signum] = signal.signal(signum, interrupt)
    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(max(1, threads))]
    try:
        for t in workers:
            t.start()
        for t in workers:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:  # the second Ctrl-C, or no handler could be installed
        interrupted.set()
        stop.set()
        reason["why"] = "interrupted"
        for t in workers:
            t.join(30)
    finally:
        for signum, previous in handlers.items():
            signal.signal(signum, previous)
        sender.time_left = time_left
    return DrainResult(counts=total, stopped=reason["why"], own=own)


def _campaign_of(message: dict) -> str:
    try:
        return json.loads(message["Body"]).get("campaign", "")
    except (ValueError, AttributeError, KeyError):
        return ""


def review_sending(sender: Sender, *, now=None) -> None:
    """services.campaigns.review for each sending campaign (a first wave released at its deadline)."""
    from convier.services import campaigns

    for item in campaigns.list_campaigns(sender.clients, sender.settings):
        if item["status"] == records.SENDING:
            campaigns.review(sender.clients, sender.settings, item["SK"], now=now)


def tick(sender: Sender, *, now=None, idle_timeout: float = 5.0) -> list:
    """One turn of the embedded default's worker: fire the schedules whose moment has come (`now` injected in
    tests), review the sending campaigns (a first wave's deadline, the bounce and complaint rates: what the
    delayed review message does on AWS), then send what is on the queue (scheduled campaigns, released rests,
    « place libérée » e-mails)."""
    from convier.services.schedules import fire_due

    fired = fire_due(sender.clients, sender.settings, now=now)
    review_sending(sender, now=now)
    if _queue_depth(sender.clients.sqs, sender.settings.queue_url):
        if drain(sender, idle_timeout=idle_timeout).stopped == "interrupted":
            raise KeyboardInterrupt  # what was started is marked; the caller's loop stops as before
    return fired
