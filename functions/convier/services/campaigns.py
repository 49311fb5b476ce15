"""Campaign administration: create (render once, store), fan out to SQS, control, status, retry.

The lifecycle's rules are in services/lifecycle.py; every action here obeys them, whoever calls it
(the CLI, the campaign function, the console). Not on the send path: this module may import the renderer.
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
from convier.services import lifecycle
from convier.services.sending import BATCH_SIZE, OnSent, message_body, send_rate
from convier.store import ddb, keys, records, subscribers


def new_campaign_id(today: dt.date | None = None) -> str:
    """Sortable and short: it appears in every link."""
    return f"{(today or dt.date.today()):%Y%m%d}-{secrets.token_hex(3)}"


def create_campaign(clients, settings, *, post_path: str, list_name: str, campaign_file: str | None = None,
                    prepare_sender: Callable[[object, str], object] | None = None) -> tuple[records.Campaign, int]:
    """Renders once and stores the parts; returns the campaign and the list's size.

    The sender's SES identity must be verified (with DKIM) beforehand; `prepare_sender(ses, sender)`, which the
    CLI hands in for the embedded default and `--endpoint-url`, creates it there instead.
    """
    from convier.inputs.campaignfile import read_campaign
    from convier.inputs.post import read_post_text

    return create_from_text(clients, settings, post_text=read_post_text(post_path), post_name=str(Path(post_path)),
                            list_name=list_name, campaign_settings=read_campaign(campaign_file),
                            prepare_sender=prepare_sender)


def create_from_text(clients, settings, *, post_text: str, post_name: str, list_name: str, campaign_settings,
                     prepare_sender: Callable[[object, str], object] | None = None,
                     request: str = "") -> tuple[records.Campaign, int]:
    """`create_campaign` for a post given as text and settings given as values (the console's form, the
    campaign function). `post_name` names the post in errors as the CLI does (the path staff typed); the
    campaign keeps its last part. With `request`, the same request made again answers the first campaign."""
    from convier.inputs.post import parse_post

    _require_list(clients, settings, list_name)
    post = parse_post(post_text, post_name)
    campaign = once(clients, settings, request, lambda campaign_id: _create(
        clients, settings, post, campaign_settings, list_name=list_name, post_name=_last_part(post_name),
        campaign_id=campaign_id, prepare_sender=prepare_sender, post_text=post_text))
    return campaign, list_size(clients, settings, list_name)


def _last_part(path: str) -> str:
    """The file name of a path typed on any workstation (« / » or « \\ »)."""
    return path.replace("\\", "/").rstrip("/").rpartition("/")[2] or path


def list_size(clients, settings, list_name: str) -> int:
    return sum(subscribers.list_counts(clients.dynamodb, settings.table, list_name).values())  # kept: no list read


def once(clients, settings, request: str,
         create: Callable[[str | None], records.Campaign]) -> records.Campaign:
    """`create(campaign_id)` once per request: a request made again (an invoke retried after a lost answer)
    gets the campaign the first one stored, never a second one. Without `request`, `create(None)`."""
    if not request:
        return create(None)
    if len(request) > 200 or not request.isprintable():
        raise InputError("request_id : 200 caractères imprimables au plus")
    dynamo, table = clients.dynamodb, settings.table
    campaign_id = records.claim_create(dynamo, table, request, new_campaign_id())
    found = records.load_campaign(dynamo, table, campaign_id, parts=False)
    if found is not None:
        return found
    try:
        return create(campaign_id)
    except dynamo.exceptions.ConditionalCheckFailedException:  # both attempts ran at once: the first one stored it
        found = records.load_campaign(dynamo, table, campaign_id, parts=False)
        if found is None:
            raise
        return found


def summary(campaign: records.Campaign, size: int) -> dict:
    """What a create says, wherever it ran (the CLI locally, the campaign function on a stack): plain values
    that the CLI prints the same way and that travel as JSON."""
    from convier.errors import Notice

    return {"id": campaign.id, "list": campaign.list_name, "size": size, "subject": campaign.template.subject,
            "sender": campaign.template.sender, "when": campaign.event.get("when") or "",
            "place": campaign.event.get("place") or "", "parent": campaign.parent,
            "segments": list(campaign.segments),
            "warnings": [Notice.from_value(w).to_dict() for w in campaign.warnings]}


def _require_list(clients, settings, list_name: str) -> None:
    if not subscribers.list_exists(clients.dynamodb, settings.table, list_name):
        raise InputError(f"liste inconnue : « {list_name} » (voir convier lists show)")


def _create(clients, settings, post, campaign_settings, *, list_name: str, post_name: str,
            campaign_id: str | None = None, prepare_sender=None, post_text: str = "") -> records.Campaign:
    dynamo, table = clients.dynamodb, settings.table
    campaign = render_campaign(clients, settings, post, campaign_settings, campaign_id=campaign_id or new_campaign_id(),
                               list_name=list_name, post_name=post_name, post_text=post_text,
                               prepare_sender=prepare_sender)
    records.put_campaign(dynamo, table, campaign)
    save_source(clients, settings, campaign.id, post_text=post_text or post.body, post_name=post_name,
                post_source=post.source, campaign_settings=campaign_settings)
    ddb.batch_write(dynamo, table, [{"PK": keys.CAMPAIGNS, "SK": campaign.id, "list": list_name,
                                     "created_at": campaign.created_at, "subject": campaign.template.subject}])
    if campaign.capacity:  # a waiting list: the e-mail telling someone a place is theirs is ready
        from convier.services.followups import ensure_promotion

        ensure_promotion(clients, settings, campaign)
    return campaign


def save_source(clients, settings, campaign_id: str, *, post_text: str, post_name: str, post_source: str,
                campaign_settings) -> None:
    """The post and the settings as given: services.updates renders the campaign again from them."""
    from convier.inputs.campaignfile import settings_record

    records.put_source(clients.dynamodb, settings.table, campaign_id,
                       {"post_text": post_text, "post_name": post_name, "post_source": post_source,
                        "settings": settings_record(campaign_settings)})


def render_campaign(clients, settings, post, campaign_settings, *, campaign_id: str, list_name: str,
                    post_name: str, post_text: str = "", uid: str = "", prepare_sender=None,
                    status: str = records.DRAFT, created_at: str = "") -> records.Campaign:
    """The campaign as `create` stores it (rendered once, content checks made), nothing written but the
    event's SEQUENCE: raised when the event differs from its last rendering (store.events). `uid` pins the
    .ics UID (an edited invitation already sent keeps its agenda entry)."""
    from dataclasses import replace

    from convier.render.invitation import build_invitation
    from convier.render.message import render_invitation

    dynamo, table = clients.dynamodb, settings.table
    invitation = build_invitation(post, campaign_settings, public_url=settings.public_url)
    if not campaign_settings.sender and settings.sender:
        invitation = replace(invitation, sender=settings.sender)
    if not invitation.unsubscribe_mailbox and settings.unsubscribe_mailbox:  # the stack's parameter
        invitation = replace(invitation, unsubscribe_mailbox=settings.unsubscribe_mailbox)
    (prepare_sender or verify_sender)(clients.ses, invitation.sender)
    sequence = 0
    if invitation.event and invitation.event.start:  # the .ics SEQUENCE of this event, raised when it changes
        from convier.render.calendar import event_fingerprint
        from convier.render.message import calendar_uid
        from convier.store import events

        sequence = events.sequence_for(dynamo, table, uid or calendar_uid(invitation),
                                       event_fingerprint(invitation.event, invitation.title))
    rendered = render_invitation(invitation, campaign_id=campaign_id, list_id=list_name, sequence=sequence, uid=uid)
    _check_buildable(rendered.message)
    from convier.services.checks import content_findings

    findings = content_findings(post_name=post_name, post_text=post_text or post.body, post=post,
                                campaign_settings=campaign_settings, invitation=invitation, rendered=rendered)
    return records.Campaign(
        id=campaign_id, list_name=list_name, status=status, template=rendered.message,
        title=invitation.title, post=post_name,
        event=invitation.event.to_record() if invitation.event else {},
        capacity=invitation.capacity, answers=invitation.answers, created_at=created_at or records.now_iso(),
        warnings=rendered.warnings, preheader=invitation.preheader, checks=findings,
        retention_days=settings.retention_days)


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


def require(clients, settings, campaign_id: str, *, parts: bool = True) -> records.Campaign:
    """The campaign (with its rendered parts unless parts=False: META only), or the French error naming it."""
    campaign = records.load_campaign(clients.dynamodb, settings.table, campaign_id, parts=parts)
    if campaign is None:
        raise InputError(f"campagne inconnue : « {campaign_id} » (voir convier campaign list)")
    return campaign


def list_campaigns(clients, settings) -> list[dict]:
    """Every campaign (id in `SK`, list, subject, created_at) with its `status` (one batch read)."""
    found = list(ddb.query(clients.dynamodb, settings.table, keys.CAMPAIGNS))
    statuses = records.campaign_statuses(clients.dynamodb, settings.table, [item["SK"] for item in found])
    return [{**item, "status": statuses.get(item["SK"], "")} for item in found]


OVERVIEW = ("id", "list", "status", "subject", "created_at", "started_at", "audience", "event", "kind", "parent",
            "scheduled_at")


def overview(clients, settings) -> list[dict]:
    """Every campaign, newest first, with what a list of campaigns shows (small attributes of META only)."""
    ids = [item["SK"] for item in list_campaigns(clients, settings)]
    wanted = [keys.campaign_key(i) for i in ids]
    found = ddb.batch_get(clients.dynamodb, settings.table, wanted, projection=", ".join(OVERVIEW)) if ids else {}
    answers = ddb.batch_get(clients.dynamodb, settings.table, [keys.counters_key(i) for i in ids]) if ids else {}
    rows = [{**found[key], "enqueued": found[key].get("audience", 0),  # the answers' counters: COUNTERS
             **{k: (answers.get(keys.counters_key(key[0][len(keys.CAMPAIGN):])) or {}).get(k, 0)
                for k in ("confirmed", "waiting")}} for key in wanted if key in found]
    return sorted(rows, key=lambda r: r.get("created_at", ""), reverse=True)


def audience(clients, settings, campaign_id: str) -> dict[str, int]:
    """The campaign's list by status, with `subscribed` (who a send would reach today) and `total`."""
    campaign = require(clients, settings, campaign_id, parts=False)
    found = subscribers.list_counts(clients.dynamodb, settings.table, campaign.list_name)  # kept: no list read
    return {**found, "total": sum(found.values())}


@dataclass(frozen=True)
class Started:
    report: object  # services.checks.CheckReport, as checked just before enqueueing
    enqueued: int


def start_send(clients, settings, campaign_id: str, *, confirm: int | None = None, require_confirm: bool = False,
               no_wave: bool = False, now: dt.datetime | None = None, request: str = "") -> Started:
    """The one way a campaign starts (CLI, campaign function, console): the checks run first and a blocking
    problem refuses the send, whatever the caller; `confirm`, when given (or required), must equal the number of
    recipients this send reaches, so that a list that grew since the confirmation is not sent to."""
    from convier.domain.checks import number, plural
    from convier.services.checks import SendRefused, check_campaign

    campaign = require(clients, settings, campaign_id, parts=False)
    lifecycle.may_send(campaign)  # paused, cancelled: refused
    report = check_campaign(clients, settings, campaign_id, now=now, no_wave=no_wave)
    if report.blocking:
        first = report.blocking[0]
        raise SendRefused(f"envoi refusé : {report.headline.lower()} ({first.message} ; {first.where}) — "
                          f"voir convier campaign check {campaign_id}", report)
    recipients = report.audience.recipients
    if (confirm is not None or require_confirm) and recipients and confirm != recipients:
        raise SendRefused(f"envoi refusé : confirmation pour {plural(confirm or 0, 'destinataire')}, "
                          f"la campagne en compte {number(recipients)} (confirmez avec ce nombre)", report)
    started = Started(report=report, enqueued=_enqueue_campaign(clients, settings, campaign_id, no_wave=no_wave,
                                                                now=now, request=request))
    if campaign.scheduled_at:  # sent by hand before its moment: the schedule has nothing left to do (on AWS,
        from convier.services import schedules  # the EventBridge one then finds no item and fires nothing)

        schedules.unschedule(clients, settings, campaign_id)
    return started


def fan_out(clients, settings, campaign_id: str, *, confirm: int | None = None) -> int:
    """`start_send`, returning how many recipients were enqueued."""
    return start_send(clients, settings, campaign_id, confirm=confirm).enqueued


def enqueue(clients, settings, campaign: records.Campaign, sids: list[str], *, again: tuple[str, ...] = ()) -> int:
    """Messages of a share of recipients each (what a worker sends in 20 s) on the send queue."""
    size = recipients_per_message(send_rate(settings, clients), settings.workers, most=BATCH_SIZE)
    entries = [message_body(campaign.id, campaign.list_name, sids[i:i + size], again=again)
               for i in range(0, len(sids), size)]
    for start in range(0, len(entries), 10):
        chunk = entries[start:start + 10]
        result = clients.sqs.send_message_batch(
            QueueUrl=settings.queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)])
        if result.get("Failed"):
            raise RuntimeError(f"SQS a refusé {len(result['Failed'])} messages : {result['Failed'][0]}")
    return len(sids)


def _members_and_sent(dynamo, table: str, campaign: records.Campaign) -> tuple[list[str], set[str]]:
    """The campaign's recipients now (the list, or a follow-up's segments of it) and those with a send record."""
    from convier.services.audience import recipients

    existing = set(records.send_records(dynamo, table, campaign.id)) if campaign.audience else set()
    return list(recipients(dynamo, table, campaign)), existing


def _enqueue_campaign(clients, settings, campaign_id: str, *, no_wave: bool = False,
                      now: dt.datetime | None = None, request: str = "") -> int:
    """`send` once checked (start_send): enqueues every subscriber with no send record yet, or only the first
    wave of them (a draft's first send, unless no_wave); returns how many were enqueued.

    Refused (InputError) for a paused or cancelled campaign. The audience becomes the distinct recipients
    so far: sending again never inflates it. With `request` (the invoke's id), a retried invoke enqueues nothing."""
    campaign = require(clients, settings, campaign_id, parts=False)
    lifecycle.may_send(campaign)
    dynamo, table = clients.dynamodb, settings.table
    members, existing = _members_and_sent(dynamo, table, campaign)
    pending = [sid for sid in members if sid not in existing]
    audience = len(existing | set(members))
    if not pending and campaign.status == records.DONE:
        return 0
    from convier.domain.dryrun import wave_size
    from convier.services.checks import wave_settings

    wave_config = wave_settings(settings, no_wave)
    wave = wave_size(len(pending), wave_config) if wave_config and campaign.status == records.DRAFT else 0
    now = now or dt.datetime.now(dt.UTC)
    until = (now + dt.timedelta(seconds=wave_config.wait)).isoformat(timespec="seconds") if wave else ""
    if not records.start_sending(dynamo, table, campaign_id, audience, wave=wave, wave_until=until, request=request,
                                 only_from=(records.DRAFT, records.SENDING, records.DONE)):
        lifecycle.may_send(require(clients, settings, campaign_id, parts=False))  # paused or cancelled meanwhile
        if request and (ddb.get(dynamo, table, *keys.campaign_key(campaign_id)) or {}).get("start_request") == request:
            return 0  # this invoke, retried: its messages are on the queue already
        raise InputError(f"la campagne {campaign_id} ne peut pas être envoyée maintenant")
    if not pending:
        lifecycle.finish_if_complete(dynamo, table, campaign_id)
        return 0
    if wave:
        if not settings.embedded:  # on AWS, one delayed message reviews the wave at its deadline (no poller)
            review_later(clients, settings, campaign_id, wave_config.wait)
        return enqueue(clients, settings, campaign, pending[:wave])
    return enqueue(clients, settings, campaign, pending)


REVIEW_DELAY_MAX = 900  # SQS DelaySeconds at most: a longer wait is reviewed again and again


def review_later(clients, settings, campaign_id: str, seconds: float) -> None:
    """A message on the send queue that the send function turns into `review` after `seconds` (900 at most)."""
    import json
    import math

    delay = max(0, min(REVIEW_DELAY_MAX, math.ceil(seconds)))
    clients.sqs.send_message(QueueUrl=settings.queue_url, DelaySeconds=delay,
                             MessageBody=json.dumps({"campaign": campaign_id, "review": 1}))


def review(clients, settings, campaign_id: str, *, now: dt.datetime | None = None):
    """The safe start's one decision point, after each SES notification, at the wave's deadline (the delayed
    message, the local worker) and at a resume: pauses a sending campaign whose bounces or complaints pass
    the limits (at any time), releases the rest of the first wave's campaign when after_wave says so (once:
    a conditional write). Returns the domain.waves Decision taken, or None when there was nothing to decide."""
    from convier.domain import waves

    dynamo, table = clients.dynamodb, settings.table
    campaign = records.load_campaign(dynamo, table, campaign_id, parts=False)
    if campaign is None or campaign.status != records.SENDING:
        return None
    counters = records.read_counters(dynamo, table, campaign_id)
    base = campaign.rate_base
    heard = {name: getattr(counters, name) - base.get(name, 0) for name in records.FEEDBACK_COUNTERS}
    feedback = waves.Feedback(**heard)
    limits = settings.wave
    reason = waves.too_many(feedback, limits.bounce_limit, limits.complaint_limit)
    if reason:
        records.pause_for(dynamo, table, campaign_id, reason)
        return waves.Decision(waves.PAUSE, reason)
    if campaign.wave_state != records.WAVE_WAITING:
        return None
    now = now or dt.datetime.now(dt.UTC)
    wave_out = counters.final >= campaign.wave  # every message of the wave has its send record
    decision = waves.after_wave(wave=counters.sent if wave_out else campaign.wave, sent=counters.sent,
                                feedback=feedback, now=now, until=dt.datetime.fromisoformat(campaign.wave_until),
                                bounce_limit=limits.bounce_limit, complaint_limit=limits.complaint_limit)
    if decision.action == waves.RELEASE:
        release_rest(clients, settings, campaign)
    return decision


def release_rest(clients, settings, campaign: records.Campaign) -> int:
    """Enqueues the recipients past the first wave, once (records.release_wave); returns how many."""
    dynamo, table = clients.dynamodb, settings.table
    if not records.release_wave(dynamo, table, campaign.id):
        return 0  # another releaser won, or the campaign paused meanwhile
    members, existing = _members_and_sent(dynamo, table, campaign)
    pending = [sid for sid in members if sid not in existing]
    if not pending:
        lifecycle.finish_if_complete(dynamo, table, campaign.id)
        return 0
    return enqueue(clients, settings, campaign, pending)


def pause(clients, settings, campaign_id: str) -> bool:
    require(clients, settings, campaign_id, parts=False)
    return records.set_campaign_status(clients.dynamodb, settings.table, campaign_id, records.PAUSED,
                                       only_from=(records.SENDING, records.DRAFT))


def resume(clients, settings, campaign_id: str) -> bool:
    """paused → sending (the pause's reason cleared, the rates judged from now on); a first wave still waiting
    releases the rest: staff decided."""
    campaign = require(clients, settings, campaign_id, parts=False)
    dynamo, table = clients.dynamodb, settings.table
    if campaign.pause_reason:
        counters = records.read_counters(dynamo, table, campaign_id)
        records.set_rate_base(dynamo, table, campaign_id,
                              {name: getattr(counters, name) for name in records.FEEDBACK_COUNTERS})
    if not records.set_campaign_status(dynamo, table, campaign_id, records.SENDING, only_from=(records.PAUSED,)):
        return False
    if campaign.wave_state == records.WAVE_WAITING:
        release_rest(clients, settings, campaign)
    return True


def cancel(clients, settings, campaign_id: str) -> bool:
    require(clients, settings, campaign_id, parts=False)
    return records.set_campaign_status(clients.dynamodb, settings.table, campaign_id, records.CANCELLED,
                                       only_from=(records.DRAFT, records.SENDING, records.PAUSED))


@dataclass(frozen=True)
class Status:
    """Where a campaign is, from its counters: sent + skipped + failed + unknown + queued == audience."""

    campaign: records.Campaign
    counters: records.Counters
    rate: float = 0.0  # e-mails per second on average since the first send
    rsvps: dict | None = None  # yes, no, maybe, waiting, none (only when asked for: it reads the answers)

    sent = property(lambda self: self.counters.sent)
    skipped = property(lambda self: self.counters.skipped)
    failed = property(lambda self: self.counters.failed)
    unknown = property(lambda self: self.counters.unknown)

    @property
    def audience(self) -> int:
        return self.campaign.audience

    @property
    def list_size(self) -> int:
        """Round 1's name (the console reads it): the audience."""
        return self.audience

    @property
    def done(self) -> int:
        """Recipients with a final record, never past the audience."""
        return min(self.counters.final, self.audience)

    @property
    def queued(self) -> int:
        """Not final yet: in the queue, being sent, or waiting for a resume."""
        return self.audience - self.done

    @property
    def finished(self) -> bool:
        return self.campaign.status in (records.DONE, records.CANCELLED) or (
            self.audience > 0 and self.queued == 0)

    @property
    def feedback(self) -> dict[str, int]:
        return {name: getattr(self.counters, name) for name in records.FEEDBACK_COUNTERS}

    @property
    def label(self) -> str:
        return lifecycle.status_fr(self.campaign.status)

    @property
    def note(self) -> str:
        """Why the campaign paused itself, that its first wave awaits SES feedback (until HH:MM, Paris), or, for
        a draft, when its scheduled send goes out or why it did not."""
        c = self.campaign
        if c.status == records.PAUSED and c.pause_reason:
            return f"mise en pause automatique : {c.pause_reason}"
        if c.status == records.SENDING and c.wave_state == records.WAVE_WAITING and c.wave_until:
            from convier.domain.dates import paris

            until = paris(dt.datetime.fromisoformat(c.wave_until))
            return f"première vague : en attente des retours SES jusqu’à {until:%H:%M}"
        if (c.event or {}).get("cancelled_at") and c.kind == records.INVITATION:
            return "événement annulé : les pages de réponse le disent, l’Annulation est un suivi"
        if c.status == records.DRAFT and c.schedule_error:  # services.schedules.fire: why it did not go out
            return c.schedule_error
        if c.status == records.DRAFT and c.scheduled_at:
            from convier.domain.dates import paris

            return f"envoi programmé le {paris(dt.datetime.fromisoformat(c.scheduled_at)):%d/%m/%Y à %H:%M} (Paris)"
        return ""

    def as_dict(self) -> dict:
        """Plain data (the campaign function's answer, the console)."""
        return {"status": self.campaign.status, "label": self.label, "audience": self.audience,
                "sent": self.sent, "skipped": self.skipped, "failed": self.failed, "unknown": self.unknown,
                "queued": self.queued, "rate": round(self.rate, 2), "feedback": self.feedback,
                "confirmed": self.counters.confirmed, "waiting": self.counters.waiting, "note": self.note,
                "pause_reason": self.campaign.pause_reason}


def _rate(campaign: records.Campaign, counters: records.Counters, started_at: str) -> float:
    try:
        seconds = (dt.datetime.fromisoformat(counters.last_at) - dt.datetime.fromisoformat(started_at)).total_seconds()
    except (TypeError, ValueError):
        return 0.0
    return counters.sent / seconds if seconds > 0 else 0.0


def status(clients, settings, campaign_id: str, now: dt.datetime | None = None, *, answers: bool = False) -> Status:
    """Two requests (META, the counters) whatever the list size; a sending campaign found complete or stuck
    is settled first (services/lifecycle.py). `answers` adds the RSVP counts (kept: a few items)."""
    dynamo, table = clients.dynamodb, settings.table
    meta = ddb.get(dynamo, table, *keys.campaign_key(campaign_id))
    if meta is None:
        raise InputError(f"campagne inconnue : « {campaign_id} » (voir convier campaign list)")
    campaign = records.Campaign.from_item(meta)
    counters = records.read_counters(dynamo, table, campaign_id)
    if lifecycle.settle(dynamo, table, campaign, counters, now):
        campaign = require(clients, settings, campaign_id, parts=False)
        counters = records.read_counters(dynamo, table, campaign_id)
    rsvps = None
    if answers:  # the counts kept with each answer (store.answers), not the answers themselves
        from convier.store.answers import kept_counts

        kept = kept_counts(dynamo, table, campaign_id).segments
        rsvps = {"yes": kept["confirmed"], "no": kept["no"], "maybe": kept["maybe"], "waiting": kept["waiting"],
                 "none": kept["none"]}
    return Status(campaign=campaign, counters=counters, rate=_rate(campaign, counters, meta.get("started_at", "")),
                  rsvps=rsvps)


@dataclass(frozen=True)
class RetryPlan:
    failed: tuple[str, ...]  # sids
    unknown: tuple[str, ...]  # sids `unknown` past the settle time (only with --unknown)

    @property
    def sids(self) -> list[str]:
        return list(self.failed + self.unknown)


def plan_retry(clients, settings, campaign_id: str, *, unknown: bool = False,
               now: dt.datetime | None = None) -> RetryPlan:
    """Who a retry would send to: the `failed`, and with `unknown` the unknowns past the settle time."""
    require(clients, settings, campaign_id, parts=False)
    dynamo, table = clients.dynamodb, settings.table
    failed = tuple(sorted(sid for sid, rec in records.send_records(dynamo, table, campaign_id).items()
                          if rec.get("state") == records.FAILED))
    unknowns = tuple(records.unknowns(dynamo, table, campaign_id, now=now)) if unknown else ()
    return RetryPlan(failed=failed, unknown=unknowns)


def retry(clients, settings, campaign_id: str, *, unknown: bool = False, confirm_unknown: int | None = None,
          now: dt.datetime | None = None) -> RetryPlan:
    """`retry`: sends again to the `failed` (after a fix: a verified identity...); with `unknown`, also to
    the unknowns past the settle time, which SES may have delivered already: `confirm_unknown` must equal
    their count (the person confirmed that number). Returns what was enqueued."""
    campaign = require(clients, settings, campaign_id, parts=False)
    lifecycle.may_send(campaign)
    plan = plan_retry(clients, settings, campaign_id, unknown=unknown, now=now)
    if plan.unknown and confirm_unknown != len(plan.unknown):
        raise InputError(f"{len(plan.unknown)} destinataires à l’issue inconnue ont peut-être déjà reçu le message : "
                         f"confirmez ce nombre pour les renvoyer (--yes {len(plan.unknown)})")
    if not plan.sids:
        return plan
    if not records.start_sending(clients.dynamodb, settings.table, campaign_id, campaign.audience,
                                 only_from=(records.SENDING, records.DONE, records.DRAFT)):
        lifecycle.may_send(require(clients, settings, campaign_id, parts=False))
        raise InputError(f"la campagne {campaign_id} ne peut pas être relancée maintenant")
    states = (records.FAILED, records.UNKNOWN) if plan.unknown else (records.FAILED,)
    enqueue(clients, settings, campaign, plan.sids, again=states)
    return plan


PREVIEW_TOKEN = "apercu"


def preview(campaign: records.Campaign) -> tuple[str, str]:
    """The HTML and text as a recipient named « Prénom » would get them (links carry a token that opens nothing)."""
    from convier.domain.mime import personalise

    html, text, _ = personalise(campaign.template, PREVIEW_TOKEN, "Prénom")
    return html, text


def send_test(clients, settings, campaign_id: str, addresses: list[str], *,
              on_sent: OnSent | None = None) -> list[tuple[str, str]]:
    """Real personalised copies marked as tests; no send record, no counter touched. `on_sent` is told of
    each (with test=True), like the send path's hook."""
    from email_validator import EmailNotValidError, validate_email

    from convier.domain.answers import CONFIRMED, YES, answer_line
    from convier.domain.ids import make_token, subscriber_id
    from convier.domain.mime import build_message, prepare
    from convier.services.sending import ses_send

    campaign = require(clients, settings, campaign_id, parts=True)
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
        if on_sent:
            on_sent(campaign, sid, raw, token, "", test=True, answer=answer)
        sent.append((address, message_id))
    return sent
