"""Who a campaign goes to: an invitation's list, or a follow-up's segment of its invitation's recipients.

Computed when the campaign is sent (fan-out), from the invitation's send records and answers; the send path
then leaves out, recipient by recipient, whoever unsubscribed or was suppressed since (it checks the list).
"""

from __future__ import annotations

from convier.domain.segments import segment_of, select
from convier.store import records, subscribers
from convier.store.answers import all_rsvps


def invited(dynamo, table: str, invitation_id: str) -> list[str]:
    """The invitation's recipients: those it was sent to, and anyone who answered (sorted sids)."""
    sent = {sid for sid, rec in records.send_records(dynamo, table, invitation_id).items()
            if rec.get("state") == records.SENT}
    return sorted(sent | set(all_rsvps(dynamo, table, invitation_id)))


def by_segment(dynamo, table: str, invitation_id: str) -> dict[str, list[str]]:
    """segment → the invitation's recipients in it (domain.segments.SEGMENTS)."""
    answers = {sid: (r.answer, r.place) for sid, r in all_rsvps(dynamo, table, invitation_id).items()}
    found: dict[str, list[str]] = {}
    for sid in invited(dynamo, table, invitation_id):
        found.setdefault(segment_of(*answers.get(sid, ("", ""))), []).append(sid)
    return found


def recipients(dynamo, table: str, campaign: records.Campaign) -> list[str]:
    """The subscriber ids a send of `campaign` enqueues (before the send path's per-recipient checks)."""
    if not campaign.parent:
        return list(subscribers.subscriber_ids(dynamo, table, campaign.list_name))
    answers = {sid: (r.answer, r.place) for sid, r in all_rsvps(dynamo, table, campaign.parent).items()}
    return select(invited(dynamo, table, campaign.parent), answers, campaign.segments)
