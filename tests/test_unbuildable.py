"""A message that cannot be built is `failed` with its reason before anyone is claimed: never a burnt claim."""

from __future__ import annotations

from convier.domain.ids import subscriber_id
from convier.local.worker import drain
from convier.services import campaigns, sending
from convier.store import records
from test_campaigns import FaultySES, faulty_sender, prepared_campaign

VICTIM = "agnes.faure@justice.gouv.fr"


def test_an_unbuildable_message_is_failed_with_its_reason_not_a_burnt_claim(cli, settings, monkeypatch):
    campaign_id = prepared_campaign(cli, settings)
    real = sending.build_message

    def build(template, prepared, *, to_address, **kwargs):
        if to_address.lower() == VICTIM:
            raise UnicodeEncodeError("ascii", "é", 0, 1, "ordinal not in range(128)")
        return real(template, prepared, to_address=to_address, **kwargs)

    monkeypatch.setattr(sending, "build_message", build)
    ses = FaultySES(settings.clients.ses)
    drain(faulty_sender(settings, ses), campaign_id=campaign_id, retry_visibility=0, idle_timeout=5)
    assert VICTIM not in ses.accepted and sum(ses.accepted.values()) == 12
    sid = subscriber_id(VICTIM, settings.clients.keys.id_key)
    record = records.send_records(settings.clients.dynamodb, settings.settings.table, campaign_id)[sid]
    assert record["state"] == records.FAILED
    assert "UnicodeEncodeError" in record["error"] and "construire" in record["error"]
    st = campaigns.status(settings.clients, settings.settings, campaign_id)
    assert (st.sent, st.failed, st.unknown, st.queued) == (12, 1, 0, 0)
