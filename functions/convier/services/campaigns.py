"""Campaign administration: create (render once, store), fan out to SQS, control, status.

Not on the send path: this module may import the renderer.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from convier.aws.ses import verify_sender
from convier.domain.pacing import recipients_per_message
from convier.errors import InputError
from convier.services.sending import BATCH_SIZE, message_body, send_rate
from convier.store import ddb, keys, records, subscribers


def new_campaign_id(today: dt.date | None = None) -> str:
    """Sortable and short: it appears in every link."""
    return f"{(today or dt.date.today()):%Y%m%d}-{secrets.token_hex(3)}"


def create_campaign(clients, settings, *, post_path: str, list_name: str, campaign_file: str | None = None,
                    campaign_id: str | None = None,
                    prepare_sender: Callable[[object, str], object] | None = None) -> tuple[records.Campaign, int]:
    """Renders once and stores the parts; returns the campaign and the list's size.

    The sender's SES identity must be verified (with DKIM) beforehand; `prepare_sender(ses, sender)`, which the
    CLI hands in for the embedded default and `--endpoint-url`, creates it there instead.
    """
    from convier.inputs.campaignfile import read_campaign
    from convier.inputs.post import read_post

    _require_list(clients, settings, list_name)
    return _create(clients, settings, read_post(post_path), read_campaign(campaign_file), list_name=list_name,
                   post_name=Path(post_path).name, campaign_id=campaign_id, prepare_sender=prepare_sender)


def create_from_text(clients, settings, *, post_text: str, post_name: str, list_name: str, campaign_settings,
                     prepare_sender: Callable[[object, str], object] | None = None) -> tuple[records.Campaign, int]:
    """`create_campaign` for a post given as text and settings given as values (the console's form)."""
    from convier.inputs.post import parse_post

    _require_list(clients, settings, list_name)
    return _create(clients, settings, parse_post(post_text, post_name), campaign_settings, list_name=list_name,
                   post_name=post_name, prepare_sender=prepare_sender)


def _require_list(clients, settings, list_name: str) -> None:
    if not subscribers.list_exists(clients.dynamodb, settings.table, list_name):
        raise InputError(f"liste inconnue : « {list_name} » (voir convier lists show)")


def _create(clients, settings, post, campaign_settings, *, list_name: str, post_name: str,
            campaign_id: str | None = None, prepare_sender=None) -> tuple[records.Campaign, int]:
    from convier.render.invitation import build_invitation
    from convier.render.message import render_invitation

    dynamo, table = clients.dynamodb, settings.table
    invitation = build_invitation(post, campaign_settings, public_url=settings.public_url)
    if not campaign_settings.sender and settings.sender:
        from dataclasses import replace
        invitation = replace(invitation, sender=settings.sender)
    (prepare_sender or verify_sender)(clients.ses, invitation.sender)
    campaign_id = campaign_id or new_campaign_id()
    rendered = render_invitation(invitation, campaign_id=campaign_id, list_id=list_name)
    _check_buildable(rendered.message)
    campaign = records.Campaign(
        id=campaign_id, list_name=list_name, status=records.DRAFT, template=rendered.message,
        title=invitation.title, post=post_name,
        event=invitation.event.to_record() if invitation.event else {},
        capacity=invitation.capacity, answers=invitation.answers, created_at=records.now_iso(),
        warnings=rendered.warnings, preheader=invitation.preheader)
    dynamo.put_item(TableName=table, Item=ddb.to_item(campaign.to_item()),
                    ConditionExpression="attribute_not_exists(PK)")
    ddb.batch_write(dynamo, table, [{"PK": keys.CAMPAIGNS, "SK": campaign_id, "list": list_name,
                                     "created_at": campaign.created_at, "subject": invitation.subject}])
    if campaign.capacity:  # a waiting list: the e-mail telling someone a place is theirs is ready
        from convier.services.followups import ensure_promotion

        ensure_promotion(clients, settings, campaign)
    counts = subscribers.count_by_status(dynamo, table, list_name)
    return campaign, sum(counts.values())


def _check_buildable(template) -> None:
    """A sample message built before anything is stored: a header that cannot be encoded is refused here,
    at create, never discovered recipient by recipient at send time."""
    from convier.domain.mime import build_message, prepare

    try:
        build_message(template, prepare(template), to_address="exemple@exemple.gouv.fr", to_name="Exemple",
                      token="jeton.exemple.test", subscriber_id="exemple")
    except (ValueError, UnicodeError) as exc:
        raise InputError(f"campagne refusée : le message ne peut pas être construit ({exc}) ; corrigez "
                         "l’expéditeur, l’adresse de réponse ou le nom de la liste") from None


def require(clients, settings, campaign_id: str) -> records.Campaign:
    campaign = records.load_campaign(clients.dynamodb, settings.table, campaign_id)
    if campaign is None:
        raise InputError(f"campagne inconnue : « {campaign_id} » (voir convier campaign list)")
    return campaign


def list_campaigns(clients, settings) -> list[dict]:
    return list(ddb.query(clients.dynamodb, settings.table, keys.CAMPAIGNS))


OVERVIEW = ("id", "list", "status", "subject", "created_at", "started_at", "enqueued", "event", "confirmed",
            "waiting")


def overview(clients, settings) -> list[dict]:
    """Every campaign, newest first, with what a list of campaigns shows (small attributes of META only)."""
    ids = [item["SK"] for item in list_campaigns(clients, settings)]
    wanted = [keys.campaign_key(i) for i in ids]
    found = ddb.batch_get(clients.dynamodb, settings.table, wanted, projection=", ".join(OVERVIEW)) if ids else {}
    rows = [found[key] for key in wanted if key in found]
    return sorted(rows, key=lambda r: r.get("created_at", ""), reverse=True)


def audience(clients, settings, campaign_id: str) -> dict[str, int]:
    """The campaign's list by status, with `subscribed` (who a send would reach today) and `total`."""
    campaign = require(clients, settings, campaign_id)
    found = subscribers.count_by_status(clients.dynamodb, settings.table, campaign.list_name)
    return {**found, "total": sum(found.values())}


def fan_out(clients, settings, campaign_id: str) -> int:
    """Enqueues every subscriber with no final send record yet; returns how many were enqueued."""
    campaign = require(clients, settings, campaign_id)
    if campaign.status == records.CANCELLED:
        raise InputError(f"la campagne {campaign_id} est annulée : elle ne peut plus être envoyée")
    dynamo, table = clients.dynamodb, settings.table
    done = set() if not campaign.enqueued else {  # a first send has no records to read
        sid for sid, rec in records.send_records(dynamo, table, campaign_id).items() if rec["state"] != records.FAILED}
    from convier.services.audience import recipients

    pending = [sid for sid in recipients(dynamo, table, campaign) if sid not in done]
    records.set_campaign_status(dynamo, table, campaign_id, records.SENDING)
    size = recipients_per_message(send_rate(settings, clients), settings.workers, most=BATCH_SIZE)
    entries = [message_body(campaign_id, campaign.list_name, pending[i:i + size])
               for i in range(0, len(pending), size)]
    for start in range(0, len(entries), 10):
        chunk = entries[start:start + 10]
        result = clients.sqs.send_message_batch(
            QueueUrl=settings.queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)])
        if result.get("Failed"):
            raise RuntimeError(f"SQS a refusé {len(result['Failed'])} messages : {result['Failed'][0]}")
    dynamo.update_item(TableName=table, Key=ddb.key(*keys.campaign_key(campaign_id)),
                       UpdateExpression="ADD enqueued :n SET started_at = if_not_exists(started_at, :t)",
                       ExpressionAttributeValues={":n": {"N": str(len(pending))}, ":t": {"S": records.now_iso()}})
    return len(pending)


def pause(clients, settings, campaign_id: str) -> bool:
    require(clients, settings, campaign_id)
    return records.set_campaign_status(clients.dynamodb, settings.table, campaign_id, records.PAUSED,
                                       only_from=(records.SENDING, records.DRAFT))


def resume(clients, settings, campaign_id: str) -> bool:
    require(clients, settings, campaign_id)
    return records.set_campaign_status(clients.dynamodb, settings.table, campaign_id, records.SENDING,
                                       only_from=(records.PAUSED,))


def cancel(clients, settings, campaign_id: str) -> bool:
    require(clients, settings, campaign_id)
    return records.set_campaign_status(clients.dynamodb, settings.table, campaign_id, records.CANCELLED,
                                       only_from=(records.DRAFT, records.SENDING, records.PAUSED))


@dataclass(frozen=True)
class Status:
    campaign: records.Campaign
    sent: int
    skipped: int
    failed: int
    unknown: int
    in_flight: int
    queued: int
    rate: float  # e-mails per second over the last minute
    list_size: int
    rsvps: dict | None = None  # yes, no, maybe, waiting, none (rsvp.counts over the recipients sent to)
    feedback: dict | None = None  # SES feedback: delivered, bounced, soft_bounced, complained, rejected

    @property
    def finished(self) -> bool:
        return self.campaign.enqueued > 0 and self.queued == 0 and self.in_flight == 0


def _age(stamp: str, now: dt.datetime) -> float:
    try:
        return (now - dt.datetime.fromisoformat(stamp)).total_seconds()
    except (TypeError, ValueError):
        return float("inf")


def status(clients, settings, campaign_id: str, now: dt.datetime | None = None) -> Status:
    campaign = require(clients, settings, campaign_id)
    now = now or dt.datetime.now(dt.UTC)
    counts = {"sent": 0, "skipped": 0, "failed": 0, "unknown": 0, "in_flight": 0}
    recent = 0
    sends = records.send_records(clients.dynamodb, settings.table, campaign_id)
    for rec in sends.values():
        state = rec["state"]
        if state == records.CLAIMED:
            counts["unknown" if _age(rec.get("claimed_at", ""), now) > records.UNKNOWN_AFTER else "in_flight"] += 1
        else:
            counts[state] += 1
            if state == records.SENT and _age(rec.get("sent_at", ""), now) <= 60:
                recent += 1
    final = counts["sent"] + counts["skipped"] + counts["unknown"] + counts["failed"]
    list_size = sum(subscribers.count_by_status(clients.dynamodb, settings.table, campaign.list_name).values())
    queued = max(0, campaign.enqueued - final - counts["in_flight"])
    from convier.services.rsvp import counts as rsvp_counts

    answers = rsvp_counts(clients.dynamodb, settings.table, campaign_id,
                          {sid for sid, rec in sends.items() if rec["state"] == records.SENT})
    from convier.services.feedback import COUNTERS
    from convier.services.feedback import counters as feedback_counters

    meta = ddb.get(clients.dynamodb, settings.table, *keys.campaign_key(campaign_id),
                   projection=", ".join(COUNTERS.values())) or {}
    return Status(campaign=campaign, queued=queued, rate=recent / 60, list_size=list_size, rsvps=answers,
                  feedback=feedback_counters(meta), **counts)


PREVIEW_TOKEN = "apercu"


def preview(campaign: records.Campaign) -> tuple[str, str]:
    """The HTML and text as a recipient named « Prénom » would get them (links carry a token that opens nothing)."""
    from convier.domain.mime import personalise

    html, text, _ = personalise(campaign.template, PREVIEW_TOKEN, "Prénom")
    return html, text


def send_test(clients, settings, campaign_id: str, addresses: list[str]) -> list[tuple[str, str]]:
    """Real personalised copies marked as tests; no send record, no counter touched."""
    from email_validator import EmailNotValidError, validate_email

    from convier.domain.answers import CONFIRMED, YES, answer_line
    from convier.domain.ids import make_token, subscriber_id
    from convier.domain.mime import build_message, personalise, prepare
    from convier.services.sending import ses_send, write_outbox

    campaign = require(clients, settings, campaign_id)
    try:
        prepared = prepare(campaign.template)
    except (ValueError, UnicodeError) as exc:
        raise InputError(f"campagne {campaign_id} : message impossible à construire ({exc})") from None
    sent = []
    for address in addresses:
        try:
            address = validate_email(address.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InputError(f"--to {address!r} : adresse non valable ({exc})") from None
        sid = subscriber_id(address, clients.keys.id_key)
        token = make_token(campaign.answers_campaign, sid, clients.keys.link_keys)
        answer = f"(exemple) {answer_line(YES, CONFIRMED)}" if campaign.parent else ""
        try:
            raw = build_message(campaign.template, prepared, to_address=address, token=token, subscriber_id=sid,
                                test=True, answer=answer)
        except (ValueError, UnicodeError) as exc:
            raise InputError(f"--to {address!r} : message impossible à construire ({exc})") from None
        message_id = ses_send(clients.ses, settings, campaign, address, raw, test=True)
        if settings.outbox:
            write_outbox(Path(settings.outbox) / campaign.id / "tests", sid, raw,
                         personalise(campaign.template, token, "", answer)[0])
        sent.append((address, message_id))
    return sent
