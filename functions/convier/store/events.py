"""One item per calendar event (its .ics UID): the SEQUENCE agendas use to know an entry was updated.

| PK              | SK        | holds                                     |
| EVENT#{uid}     | SEQUENCE  | sequence (number), fingerprint, updated_at |
"""

from __future__ import annotations

from convier.store import ddb


def event_pk(uid: str) -> str:
    return f"EVENT#{uid}"


def sequence_for(client, table: str, uid: str, fingerprint: str) -> int:
    """The SEQUENCE for this state of the event: 0 the first time, +1 each time the fingerprint changes.

    Conditional writes: two campaigns created at once never go back, nor skip a change."""
    key = ddb.key(event_pk(uid), "SEQUENCE")
    for _ in range(5):
        item = ddb.get(client, table, event_pk(uid), "SEQUENCE", consistent=True)
        if item and item.get("fingerprint") == fingerprint:
            return int(item.get("sequence", 0))
        try:
            if item is None:
                client.put_item(TableName=table, Item=ddb.to_item({
                    "PK": event_pk(uid), "SK": "SEQUENCE", "sequence": 0, "fingerprint": fingerprint,
                    "updated_at": ddb.now_iso()}), ConditionExpression="attribute_not_exists(PK)")
                return 0
            new = int(item.get("sequence", 0)) + 1
            client.update_item(
                TableName=table, Key=key, UpdateExpression="SET #q = :new, fingerprint = :f, updated_at = :t",
                ConditionExpression="fingerprint = :old", ExpressionAttributeNames={"#q": "sequence"},
                ExpressionAttributeValues={":new": {"N": str(new)}, ":f": {"S": fingerprint},
                                           ":old": {"S": item["fingerprint"]}, ":t": {"S": ddb.now_iso()}})
            return new
        except client.exceptions.ConditionalCheckFailedException:
            continue
    raise RuntimeError(f"séquence de l’événement {uid} : trop d’écritures concurrentes")
