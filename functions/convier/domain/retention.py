"""How long a campaign's send records and answers are kept: DynamoDB's TTL deletes each one once its
`expires_at` (epoch seconds) is past. The rule: `days` after the event (its end, else its start), and never
less than `days` after the write itself (a newsletter has no event; a past event still keeps what is written
now for `days`). The stack's RetentionDays parameter gives `days` (CONVIER_RETENTION_DAYS, stamped on each
campaign at create); none: nothing expires. Standard library only."""

from __future__ import annotations

import datetime as dt


def expires_at(event: dict | None, days: int | None, now: dt.datetime) -> int | None:
    """The TTL value for a record written `now` of a campaign whose event is `event` (as stored: ISO dates)."""
    if not days or days <= 0:
        return None
    latest = now
    for key in ("end", "start"):
        try:
            moment = dt.datetime.fromisoformat((event or {}).get(key) or "")
        except (TypeError, ValueError):
            continue
        latest = max(latest, moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
        break
    return int((latest + dt.timedelta(days=days)).timestamp())
