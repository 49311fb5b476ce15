"""What the console keeps about staff: the audit log and the one-time sign-in addresses (keys: store.keys).

One audit partition per month keeps the Journal a single Query (newest first); a month holds a few thousand
actions. A sign-in entry holds the hash of its token and its expiry: used once, then deleted.
"""

from __future__ import annotations

import datetime as dt
import secrets

from convier.store import ddb, keys


def put_audit(client, table: str, entry: dict) -> None:
    pk, sk = keys.audit_key(entry["at"], secrets.token_hex(3))
    client.put_item(TableName=table, Item=ddb.to_item({"PK": pk, "SK": sk, **entry}))


def audit_month(client, table: str, month: str, limit: int) -> list[dict]:
    """The month's entries, newest first, at most `limit`."""
    page = client.query(TableName=table, KeyConditionExpression="PK = :pk",
                        ExpressionAttributeValues={":pk": {"S": keys.audit_pk(month)}}, ScanIndexForward=False,
                        Limit=limit)
    return [ddb.from_item(item) for item in page.get("Items", ())]


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def put_signin(client, table: str, digest: str, expires: int) -> None:
    pk, sk = keys.signin_key(digest)
    client.put_item(TableName=table, Item=ddb.to_item({"PK": pk, "SK": sk, "expires": expires}))


def take_signin(client, table: str, digest: str, now: int) -> bool:
    """Deletes the sign-in entry if it exists and has not expired: True once, never twice."""
    try:
        client.delete_item(TableName=table, Key=ddb.key(*keys.signin_key(digest)),
                           ConditionExpression="attribute_exists(PK) AND expires > :now",
                           ExpressionAttributeValues={":now": {"N": str(now)}})
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


def month_of(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m}"
