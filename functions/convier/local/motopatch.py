"""Patches the embedded server applies to moto, so that the embedded default behaves as DynamoDB does.

moto's threaded server runs DynamoDB calls side by side, and its `TransactWriteItems` deep-copies every table
it touches and, when a condition fails (a « oui » when the event is full, the normal path), puts that copy
back over whatever other threads wrote meanwhile: answers confirmed on screen and never stored, a waiting
list out of order. Copying the table also made each answer cost O(table size). Here:

- every DynamoDB backend call that reads or writes items holds one lock: writes are serialised, and no read
  sees a transaction half applied (DynamoDB transactions are isolated);
- a transaction saves only the items it touches and, when it is cancelled, puts back only those items (safe
  because no other write can run meanwhile); the table is never copied.

And it forgets what it sends: moto keeps each raw message in its SES backend and, like every object it makes
(each version of each DynamoDB item too), in a registry shown to anyone on the machine at /moto-api/data.json
(34.7 MB after ~900 sends). The outbox has the copies; `forget_what_is_sent` drops both.

moto's SES v2 has no GetAccount, so the pre-send checks read the quota as unknown; `answer_get_account`
teaches the server an account in production, at the embedded send rate and daily quota (settings).

Run only in the embedded server's process (local/embedded.serve); moto is imported here, not at module load.
"""

from __future__ import annotations

import collections
import copy
import functools
import json
import threading
import time
from email.utils import parseaddr

LOCK = threading.RLock()
_ITEM_CALLS = ("put_item", "update_item", "delete_item", "get_item", "query", "scan", "batch_get_item",
               "batch_write_item", "execute_statement", "execute_transaction", "batch_execute_statement",
               "transact_get_items")


def _locked(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        with LOCK:
            return method(*args, **kwargs)
    call.__convier_locked__ = True
    return call


class _TablesNotCopied:
    """Stands for the `copy` module inside moto's DynamoDB models during a transaction: a Table is "copied"
    as itself (so moto's own rollback is a no-op); anything else is copied as usual."""

    def __init__(self, table_type):
        self.table_type = table_type

    def deepcopy(self, value, memo=None):
        return value if isinstance(value, self.table_type) else copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def _touched_key(backend, op_type: str, op: dict):
    table = backend.tables.get(op.get("TableName"))
    if table is None or op_type == "ConditionCheck":
        return None
    if op_type == "Put":
        attrs = op.get("Item") or {}
        if table.hash_key_attr not in attrs:
            return None
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr is not None:
            if table.range_key_attr not in attrs:
                return None
            key[table.range_key_attr] = attrs[table.range_key_attr]
        return key
    return op.get("Key")


def serialise_dynamodb() -> None:
    """Installs the lock and the item-level transaction rollback on moto's DynamoDB backend (idempotent)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    backend_type = models.DynamoDBBackend
    if getattr(backend_type.transact_write_items, "__convier_locked__", False):
        return
    for name in _ITEM_CALLS:
        method = getattr(backend_type, name, None)
        if method is not None:
            setattr(backend_type, name, _locked(method))
    original = backend_type.transact_write_items
    shim = _TablesNotCopied(Table)

    def transact_write_items(self, transact_items):
        with LOCK:
            saved = []
            for entry in transact_items:
                if len(entry) != 1:
                    continue  # moto refuses it before writing anything
                op_type, op = next(iter(entry.items()))
                key = _touched_key(self, op_type, op) if isinstance(op, dict) else None
                if key is None:
                    continue
                try:
                    current = self.get_item(op["TableName"], key)
                except Exception:  # noqa: BLE001 - moto reports a bad key itself, before any write
                    continue
                saved.append((op["TableName"], key, copy.deepcopy(current.to_json()["Attributes"])
                              if current is not None else None))
            models.copy = shim
            try:
                return original(self, transact_items)
            except BaseException:
                for table_name, key, attributes in reversed(saved):
                    if attributes is None:
                        if self.get_item(table_name, key) is not None:
                            self.delete_item(table_name, key)
                    else:
                        self.put_item(table_name, attributes)
                raise
            finally:
                models.copy = copy

    transact_write_items.__convier_locked__ = True
    backend_type.transact_write_items = transact_write_items


def _untracked_new(cls, *args, **kwargs):
    return object.__new__(cls)


_SENT = collections.deque()  # (time, recipients) of each send in the last 24 h, for GetAccount
DAY = 24 * 3600


def _sent_last_day(now: float) -> int:
    while _SENT and _SENT[0][0] <= now - DAY:
        _SENT.popleft()
    return sum(count for _, count in _SENT)


def answer_get_account(max_rate: float, max_24h: float) -> None:
    """SES v2 GetAccount on moto's server: production access, `max_rate` e-mails/s, `max_24h` a day, and what
    this server sent in the last 24 hours (since it started: sends are not replayed). Idempotent."""
    from moto.sesv2 import urls
    from moto.sesv2.responses import SESV2Response

    forget_what_is_sent()  # counts the sends
    urls.url_paths.setdefault("{0}/v2/email/account$", SESV2Response.dispatch)  # read when the app is made

    def get_account(self):
        return json.dumps({
            "DedicatedIpAutoWarmupEnabled": False, "EnforcementStatus": "HEALTHY", "ProductionAccessEnabled": True,
            "SendingEnabled": True,
            "SendQuota": {"Max24HourSend": float(max_24h), "MaxSendRate": float(max_rate),
                          "SentLast24Hours": float(_sent_last_day(time.time()))}})

    SESV2Response.get_account = get_account


def forget_what_is_sent() -> None:
    """No sent message kept in moto's SES backend, and no object kept in moto's instance registry (the
    dashboard's data.json): the registry holds every object moto ever made, so the server's memory grew with
    each send and each write. Idempotent."""
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data
    from moto.ses.models import SESBackend

    if getattr(SESBackend.send_raw_email, "__convier_forgets__", False):
        return
    BaseModel.__new__ = staticmethod(_untracked_new)  # BaseModel.__new__ appended each instance to the registry
    reset_model_data()
    send = SESBackend.send_raw_email

    def send_and_forget(self, *args, **kwargs):
        message = send(self, *args, **kwargs)
        self.sent_messages.clear()
        # moto lists each recipient twice (the destination given and the To header's): count addresses
        _SENT.append((time.time(), len({parseaddr(d)[1].lower() for d in message.destinations})))
        return message

    send_and_forget.__convier_forgets__ = True
    SESBackend.send_raw_email = send_and_forget
