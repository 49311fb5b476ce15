"""Thin helpers over the low-level DynamoDB client: marshalling, paging, batch retries.

The low-level client, not the resource API: it imports less (cold starts) and
every call stays visible. Numbers come back as int or float, never Decimal.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterable, Iterator
from typing import Any


def now_iso() -> str:
    """The time stamp every item carries: UTC, ISO 8601, milliseconds (sorts as text)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def to_value(value: Any) -> dict:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, dict):
        return {"M": {str(k): to_value(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_value(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def from_value(value: dict) -> Any:
    (kind, raw), = value.items()
    if kind == "S":
        return raw
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind == "BOOL":
        return raw
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_value(v) for k, v in raw.items()}
    if kind == "L":
        return [from_value(v) for v in raw]
    if kind == "B":
        return bytes(raw)
    if kind == "SS":
        return set(raw)
    if kind == "NS":
        return {int(x) if x.lstrip("-").isdigit() else float(x) for x in raw}
    raise TypeError(f"unknown DynamoDB type {kind}")


def to_item(data: dict) -> dict:
    return {k: to_value(v) for k, v in data.items() if v is not None}


def from_item(item: dict | None) -> dict | None:
    return None if item is None else {k: from_value(v) for k, v in item.items()}


def key(pk: str, sk: str) -> dict:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def get(ddb, table: str, pk: str, sk: str, consistent: bool = True, projection: str | None = None) -> dict | None:
    kwargs = {"TableName": table, "Key": key(pk, sk), "ConsistentRead": consistent}
    if projection:
        names = {f"#p{i}": p.strip() for i, p in enumerate(projection.split(","))}
        kwargs["ProjectionExpression"] = ", ".join(names)
        kwargs["ExpressionAttributeNames"] = names
    return from_item(ddb.get_item(**kwargs).get("Item"))


def query(ddb, table: str, pk: str, sk_prefix: str = "", *, projection: str | None = None,
          consistent: bool = False, page_size: int | None = None) -> Iterator[dict]:
    """Every item of a partition (optionally under an SK prefix), page after page."""
    kwargs: dict = {"TableName": table, "ConsistentRead": consistent,
                    "KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}}}
    if sk_prefix:
        kwargs["KeyConditionExpression"] += " AND begins_with(SK, :sk)"
        kwargs["ExpressionAttributeValues"][":sk"] = {"S": sk_prefix}
    if projection:
        names = {f"#p{i}": p.strip() for i, p in enumerate(projection.split(","))}
        kwargs["ProjectionExpression"] = ", ".join(names)
        kwargs["ExpressionAttributeNames"] = names
    if page_size:
        kwargs["Limit"] = page_size
    while True:
        page = ddb.query(**kwargs)
        for item in page.get("Items", ()):
            yield from_item(item)
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _backoff(attempt: int, sleep=time.sleep) -> None:
    sleep(min(2.0, 0.05 * 2 ** attempt) * (0.5 + random.random() / 2))


def batch_write(ddb, table: str, puts: Iterable[dict] = (), deletes: Iterable[tuple[str, str]] = (),
                attempts: int = 8, sleep=time.sleep) -> int:
    """Put and delete items 25 at a time, retrying what DynamoDB leaves unprocessed."""
    requests = [{"PutRequest": {"Item": to_item(p)}} for p in puts]
    requests += [{"DeleteRequest": {"Key": key(pk, sk)}} for pk, sk in deletes]
    done = 0
    for start in range(0, len(requests), 25):
        pending = requests[start:start + 25]
        for attempt in range(attempts):
            result = ddb.batch_write_item(RequestItems={table: pending})
            unprocessed = result.get("UnprocessedItems", {}).get(table, [])
            done += len(pending) - len(unprocessed)
            if not unprocessed:
                break
            pending = unprocessed
            _backoff(attempt, sleep)
        else:
            raise RuntimeError(f"DynamoDB a laissé {len(pending)} écritures non traitées après {attempts} essais")
    return done


def batch_get(ddb, table: str, keys: Iterable[tuple[str, str]], attempts: int = 8, sleep=time.sleep,
              projection: str | None = None) -> dict:
    """Items by (PK, SK), 100 at a time, retrying unprocessed keys; missing keys are absent.

    `projection`: the attributes to read (PK and SK are always read)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], dict] = {}
    request: dict = {"ConsistentRead": True}
    if projection:
        fields = ["PK", "SK"] + [p.strip() for p in projection.split(",") if p.strip() not in ("PK", "SK")]
        names = {f"#p{i}": p for i, p in enumerate(fields)}
        request.update(ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
    for start in range(0, len(wanted), 100):
        pending = [key(pk, sk) for pk, sk in wanted[start:start + 100]]
        for attempt in range(attempts):
            result = ddb.batch_get_item(RequestItems={table: {"Keys": pending, **request}})
            for item in result.get("Responses", {}).get(table, []):
                data = from_item(item)
                found[(data["PK"], data["SK"])] = data
            pending = result.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if not pending:
                break
            _backoff(attempt, sleep)
        else:
            raise RuntimeError(f"DynamoDB a laissé {len(pending)} lectures non traitées après {attempts} essais")
    return found
