"""Send records and answers carry the TTL the table declares (`expires_at`, epoch seconds): RetentionDays
(CONVIER_RETENTION_DAYS, stamped on the campaign at create) after the event, never less than that after the
write. Written on every path that makes such a record: the claim and the mark of a send, a skipped
recipient, an answer, a promotion from the waiting list."""

from __future__ import annotations

import datetime as dt

from convier.domain.ids import subscriber_id
from convier.domain.retention import expires_at
from convier.services import rsvp
from convier.store import keys, records, subscribers
from webkit import sent_campaign

DAYS = 30
PEOPLE = [("anne@exemple.gouv.fr", "Anne", "Roux"), ("bruno@exemple.gouv.fr", "Bruno", "Roux"),
          ("chloe@exemple.gouv.fr", "Chloé", "Roux")]
EVENT = {"start": "2031-05-06T14:00:00+02:00", "end": "2031-05-06T17:00:00+02:00"}


def test_the_rule_is_days_after_the_event_and_never_less_after_the_write():
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime.fromisoformat(EVENT["end"])
    assert expires_at(EVENT, DAYS, now) == int((end + dt.timedelta(days=DAYS)).timestamp())
    assert expires_at({"start": EVENT["start"]}, DAYS, now) == int(
        (dt.datetime.fromisoformat(EVENT["start"]) + dt.timedelta(days=DAYS)).timestamp())
    later = dt.datetime(2032, 1, 1, tzinfo=dt.UTC)  # the event is past: the write's own time counts
    assert expires_at(EVENT, DAYS, later) == int((later + dt.timedelta(days=DAYS)).timestamp())
    assert expires_at({}, DAYS, now) == int((now + dt.timedelta(days=DAYS)).timestamp())
    assert expires_at(EVENT, None, now) is None and expires_at(EVENT, 0, now) is None


def _expiry(client, table, pk, sk) -> int:
    item = client.get_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True)["Item"]
    assert "N" in item[keys.EXPIRES], item[keys.EXPIRES]  # DynamoDB's TTL reads a number only
    return int(item[keys.EXPIRES]["N"])


def test_every_send_record_and_answer_gets_its_ttl(cli, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVIER_RETENTION_DAYS", str(DAYS))
    s, c = settings
    sids = [subscriber_id(a, c.keys.id_key) for a, _, _ in PEOPLE]
    before = dt.datetime.now(dt.UTC)
    # Chloé unsubscribed before the send: her record is `skipped`, written by another path than the claim
    result = cli("lists", "import", "invites", _people_csv(tmp_path))
    assert result.code == 0, result.err
    assert subscribers.set_status(c.dynamodb, s.table, "invites", sids[2], subscribers.UNSUBSCRIBED, "test")
    campaign_id = sent_campaign(cli, tmp_path, PEOPLE[:2], campaign_yaml="capacity: 1\n", csv_name="deux.csv")
    campaign = records.load_campaign(c.dynamodb, s.table, campaign_id)
    assert campaign.retention_days == DAYS

    states = records.send_states(c.dynamodb, s.table, campaign_id)
    assert sorted(states.values()) == ["sent", "sent", "skipped"]
    pk = keys.campaign_pk(campaign_id)
    for sid in states:  # the seed's event is in 2023: the write's time counts
        ttl = _expiry(c.dynamodb, s.table, pk, keys.send_sk(sid))
        assert (before + dt.timedelta(days=DAYS)).timestamp() - 1 <= ttl
        assert ttl <= (dt.datetime.now(dt.UTC) + dt.timedelta(days=DAYS)).timestamp() + 1

    anne, bruno = sids[:2]
    assert rsvp.record_answer(c.dynamodb, s.table, campaign, anne, "yes").rsvp.place == rsvp.CONFIRMED
    assert rsvp.record_answer(c.dynamodb, s.table, campaign, bruno, "yes").rsvp.place == rsvp.WAITING
    first = {sid: _expiry(c.dynamodb, s.table, pk, keys.rsvp_sk(sid)) for sid in (anne, bruno)}
    outcome = rsvp.record_answer(c.dynamodb, s.table, campaign, anne, "no")  # Bruno is promoted
    assert outcome.promoted == (bruno,)
    for sid in (anne, bruno):
        assert _expiry(c.dynamodb, s.table, pk, keys.rsvp_sk(sid)) >= first[sid]  # written again, not dropped


def _people_csv(tmp_path):
    path = tmp_path / "trois.csv"
    path.write_text("email,prénom,nom\n" + "".join(f"{a},{f},{n}\n" for a, f, n in PEOPLE), encoding="utf-8")
    return path


def test_without_a_retention_nothing_expires(cli, settings, tmp_path, monkeypatch):
    monkeypatch.delenv("CONVIER_RETENTION_DAYS", raising=False)
    s, c = settings
    campaign_id = sent_campaign(cli, tmp_path, PEOPLE[:1])
    (sid,) = records.send_states(c.dynamodb, s.table, campaign_id)
    item = c.dynamodb.get_item(TableName=s.table, Key={"PK": {"S": keys.campaign_pk(campaign_id)},
                                                       "SK": {"S": keys.send_sk(sid)}})["Item"]
    assert keys.EXPIRES not in item
