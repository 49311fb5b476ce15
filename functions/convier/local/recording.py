"""The moto recording of the embedded default, entry by entry: what is worth keeping for a replay, and
erasure of one subscriber's items from it. Pure functions over the recorder's JSON entries (no server here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

# Requests that change nothing worth restoring: dropped from the recording before a replay.
# SQS receives and deletes cannot be replayed (receipt handles differ each time): after a restart the
# queue holds again every message sent to it; the send path's claims make that harmless.
_READ_ONLY = {
    "DynamoDB_20120810": {"GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables",
                          "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource",
                          "DescribeEndpoints", "DescribeLimits"},
    "AmazonSQS": {"GetQueueUrl", "GetQueueAttributes", "ListQueues", "ListQueueTags", "ReceiveMessage",
                  "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
                  "ChangeMessageVisibilityBatch", "ListDeadLetterSourceQueues"},
}


def _key_of(item: dict | None) -> tuple[str, str]:
    item = item or {}
    return (item.get("PK") or {}).get("S", ""), (item.get("SK") or {}).get("S", "")


def _theirs(op: dict, sid: str) -> bool:
    """A write (Put/Update/Delete, in any request shape) on one of that subscriber's own items; a suppression
    kept by the erasure itself (flag `forgotten`) is not dropped."""
    from convier.store import keys
    from convier.store.subscribers import FORGOTTEN

    item = op.get("Item")
    if item is not None and FORGOTTEN in item:
        return False
    return keys.belongs_to(*_key_of(item if item is not None else op.get("Key")), sid)


def _without_sid(message_body: str, sid: str) -> str | None:
    """A send-queue message body without that subscriber id; None when nobody is left in it."""
    try:
        data = json.loads(message_body)
    except ValueError:
        return message_body
    if not isinstance(data, dict) or sid not in (data.get("sids") or ()):
        return message_body
    data["sids"] = [s for s in data["sids"] if s != sid]
    return json.dumps(data, separators=(",", ":")) if data["sids"] else None


def scrub_entry(entry: dict, sid: str) -> tuple[dict | None, bool]:
    """One recorded request with that person's items taken out: (the entry to keep or None, whether it held
    something of theirs). Matches the subscriber id in keys and in send-queue messages only, whole: never a
    substring of an address, and never a record that is not theirs (a campaign whose sender it is stays)."""
    import base64

    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return entry, False
    if not isinstance(data, dict):
        return entry, False
    headers = entry.get("headers") or {}
    target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")
    action = target.rpartition(".")[2]
    changed, keep = False, True
    if target.startswith("DynamoDB_"):
        if action in ("PutItem", "UpdateItem", "DeleteItem"):
            keep = not _theirs(data, sid)
            changed = not keep
        elif action == "BatchWriteItem":
            items = {}
            for table, requests in (data.get("RequestItems") or {}).items():
                left = [r for r in requests if not _theirs(r.get("PutRequest") or r.get("DeleteRequest") or {}, sid)]
                changed |= len(left) != len(requests)
                if left:
                    items[table] = left
            data["RequestItems"], keep = items, bool(items)
        elif action == "TransactWriteItems":
            left = [t for t in data.get("TransactItems") or ()
                    if not any(_theirs(op, sid) for op in t.values() if isinstance(op, dict))]
            changed = len(left) != len(data.get("TransactItems") or ())
            data["TransactItems"], keep = left, bool(left)
    elif action in ("SendMessage", "SendMessageBatch") and target.startswith("AmazonSQS"):
        if action == "SendMessage":
            new = _without_sid(data.get("MessageBody", ""), sid)
            changed, keep = new != data.get("MessageBody"), new is not None
            data["MessageBody"] = new
        else:
            entries = []
            for e in data.get("Entries") or ():
                new = _without_sid(e.get("MessageBody", ""), sid)
                changed |= new != e.get("MessageBody")
                if new is not None:
                    entries.append({**e, "MessageBody": new})
            data["Entries"], keep = entries, bool(entries)
    if not changed:
        return entry, False
    if not keep:
        return None, True
    raw = json.dumps(data).encode()
    entry = {**entry, "body": base64.b64encode(raw).decode("ascii"), "body_encoded": True,
             "headers": {k: (str(len(raw)) if k.lower() == "content-length" else v) for k, v in headers.items()}}
    return entry, True


def _is_read_only(entry: dict) -> bool:
    method = (entry.get("method") or "").upper()
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
    target = headers.get("x-amz-target", "")
    if "." in target:
        service, action = target.split(".", 1)
        return action in _READ_ONLY.get(service, ())
    if "/moto-api/" in (entry.get("url") or ""):
        return True
    return False


def worth_recording(request) -> bool:
    """Reads restore nothing, and sent e-mails are already in the outbox: neither goes into the recording
    (10,000 sent invitations would otherwise weigh some 600 MB there)."""
    if "/v2/email/outbound-emails" in request.path:
        return False
    return not _is_read_only({"method": request.method, "headers": dict(request.headers), "url": request.url})


def compact_recording(path: Path) -> tuple[int, int]:
    """Drops read-only requests and a torn last line; returns (kept, dropped)."""
    if not path.exists():
        return 0, 0
    kept, dropped = [], 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                dropped += 1
                continue
            if _is_read_only(entry):
                dropped += 1
            else:
                kept.append(line if line.endswith("\n") else line + "\n")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(kept), encoding="utf-8")
    os.replace(tmp, path)
    return len(kept), dropped
