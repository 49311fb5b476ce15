"""The campaign lifecycle, one owner: draft → sending → paused → sending → done, or cancelled.

    draft ──send──▶ sending ──pause──▶ paused ──resume──▶ sending ──(every recipient final)──▶ done
      └──────────────┴───────────────────┴──cancel──▶ cancelled          done ──retry / send──▶ sending

`done` is written here only, once every recipient of the audience has a final record (sent, skipped,
failed or unknown), verified by a recount of the records: the send path calls `finish_if_complete`
when its counters reach the audience, `status` when a campaign looks stuck (claims lost with a worker
become `unknown` first). Send path: store modules only.
"""

from __future__ import annotations

import datetime as dt

from convier.errors import InputError
from convier.store import records

STATUS_FR = records.STATUS_FR


def status_fr(status: str) -> str:
    return STATUS_FR.get(status, status)


def may_send(campaign: records.Campaign) -> None:
    """Raises the French reason when `send` (or `retry`) is refused for this campaign."""
    if campaign.status == records.CANCELLED:
        raise InputError(f"la campagne {campaign.id} est annulée : elle ne peut plus être envoyée")
    if (campaign.event or {}).get("cancelled_at") and campaign.kind != records.CANCELLATION:
        raise InputError(f"l’événement est annulé : la campagne {campaign.id} ne peut plus être envoyée (seul le "
                         "message d’annulation part encore)")
    if campaign.status == records.PAUSED:
        raise InputError(f"la campagne {campaign.id} est en pause : reprenez-la avec "
                         f"« convier campaign resume {campaign.id} »")


def finish_if_complete(dynamo, table: str, campaign_id: str) -> bool:
    """`done` when every recipient of the audience has a final record (the counters are set right first)."""
    meta = records.load_campaign(dynamo, table, campaign_id, parts=False)
    if meta is None or meta.status != records.SENDING or not meta.audience:
        return False
    recounted = records.recount(dynamo, table, campaign_id)
    if recounted.final < meta.audience:
        return False
    records.correct_counters(dynamo, table, campaign_id, recounted)
    return records.set_campaign_status(dynamo, table, campaign_id, records.DONE, only_from=(records.SENDING,))


def looks_stuck(counters: records.Counters, now: dt.datetime, quiet: float = records.UNKNOWN_AFTER) -> bool:
    """No send counter moved for `quiet` seconds: the claims still open lost their worker."""
    if not counters.last_at:
        return False
    try:
        return (now - dt.datetime.fromisoformat(counters.last_at)).total_seconds() > quiet
    except ValueError:
        return False


def settle(dynamo, table: str, campaign: records.Campaign, counters: records.Counters,
           now: dt.datetime | None = None) -> bool:
    """For a sending campaign whose counters say it is complete, or stuck: lost claims become `unknown`,
    then `finish_if_complete`. Returns True when the campaign is now done."""
    now = now or dt.datetime.now(dt.UTC)
    if campaign.status != records.SENDING or not campaign.audience:
        return False
    if counters.final >= campaign.audience:
        return finish_if_complete(dynamo, table, campaign.id)
    if looks_stuck(counters, now):
        records.settle_lost_claims(dynamo, table, campaign.id, now=now)
        if finish_if_complete(dynamo, table, campaign.id):
            return True
        records.touch_counters(dynamo, table, campaign.id)  # still waiting (queue, dead letters): look again later
    return False
