"""`check_campaign`: every problem of a campaign and its dry run, in one call, for the CLI and the console.

The rules are pure (domain.checks, domain.dryrun); this module gathers their facts: the content findings
stored when the campaign was created, the list and its suppressions, this campaign's send records, the
SES account (GetAccount: sandbox, 24 h quota, rate) and sender identity, the other campaigns of the list.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from convier.domain import checks, dryrun
from convier.domain.checks import Account, Audience, OtherCampaign, Problem
from convier.domain.event import Event
from convier.errors import InputError
from convier.store import ddb, keys, records, subscribers


@dataclass(frozen=True)
class CheckReport:
    campaign: records.Campaign
    problems: tuple[Problem, ...]
    audience: Audience
    account: Account
    plan: dryrun.SendPlan

    @property
    def blocking(self) -> list[Problem]:
        return checks.blocking(self.problems)

    @property
    def ok(self) -> bool:
        return not self.blocking

    @property
    def headline(self) -> str:
        return checks.headline(self.problems)


class SendRefused(InputError):
    """A send the checks or the confirmation refuse; carries the report."""

    def __init__(self, message: str, report: CheckReport | None = None):
        super().__init__(message)
        self.report = report


# --- when the campaign is created: the content ---------------------------------------------------------

_FRONT_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")


def _body_first_line(lines: list[str]) -> int:
    """The line after the front matter's closing « --- » (1 when there is none)."""
    if lines and lines[0].lstrip("\ufeff").strip() == "---":
        for i, line in enumerate(lines[1:], 2):
            if _FRONT_END.match(line):
                return i + 1
    return 1


def _key_line(lines: list[str], key: str, before: int) -> int | None:
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    return next((i for i, line in enumerate(lines[:before], 1) if pattern.match(line)), None)


def content_findings(*, post_name: str, post_text: str, post, campaign_settings, invitation, rendered) -> dict:
    """What the campaign stores for its checks: content problems, the file's `allow`, where the event is from."""
    path = Path(post_name)
    lines = post_text.replace("\r\n", "\n").split("\n")
    body_first = _body_first_line(lines)
    source = checks.Source(name=path.name, lines=tuple(lines))
    campaign_file = Path(campaign_settings.source).name if campaign_settings.source else ""
    event = invitation.event
    if campaign_settings.event.start and campaign_file:
        event_where = f"{campaign_file}, event.start"
    elif post.event_start:
        line = _key_line(lines, "event_start_date", body_first) or _key_line(lines, "event_date", body_first)
        event_where = f"{path.name}, ligne {line} (event_start_date)" if line else f"{path.name}, event_start_date"
    elif event and event.inferred_from:
        line = next((i for i, text in enumerate(lines, 1) if event.inferred_from in text), None)
        event_where = f"{path.name}{f', ligne {line}' if line else ''} (date déduite de « {event.inferred_from} »)"
    else:
        event_where = path.name
    newsletter = not (event and event.start) or not invitation.answers
    sender_where = campaign_file or "fichier de campagne (absent : expéditeur par défaut)"
    problems = checks.content_problems(
        source=source, body_first_line=body_first, subject=invitation.subject, text=rendered.text,
        html=rendered.html, public_url=invitation.public_url, sender=invitation.sender,
        reply_to=invitation.reply_to, sender_where=sender_where,
        event_start=event.start if event else None, event_end=event.end if event else None,
        all_day=bool(event and event.all_day), event_where=event_where,
        renderer_warnings=rendered.warnings, newsletter=newsletter)
    return {"findings": [p.to_dict() for p in problems], "allow": list(campaign_settings.allow),
            "event_where": event_where, "newsletter": newsletter, "campaign_file": campaign_file}


# --- at each check: the moment of sending ----------------------------------------------------------

def read_account(ses) -> Account:
    """SES v2 GetAccount; an account we cannot read (the embedded default, no permission) is `read=False`."""
    try:
        data = ses.get_account()
    except Exception as exc:  # the checks say the quota is unknown; SES itself still enforces it
        return Account(read=False, error=type(exc).__name__)
    quota = data.get("SendQuota") or {}
    return Account(read=True, sandbox=not data.get("ProductionAccessEnabled", False),
                   max_24h=quota.get("Max24HourSend"), sent_24h=quota.get("SentLast24Hours"),
                   max_rate=quota.get("MaxSendRate"))


def _verified(ses, identity: str) -> tuple[bool | None, str]:
    """(verified?, detail); None when SES cannot be asked."""
    try:
        data = ses.get_email_identity(EmailIdentity=identity)
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code == "NotFoundException":
            return False, f"{identity} n’est pas une identité SES de ce compte"
        return None, ""
    ok = bool(data.get("VerifiedForSendingStatus")) or data.get("VerificationStatus") == "SUCCESS"
    return ok, "" if ok else f"{identity} : vérification {data.get('VerificationStatus', 'en attente')}"


def sender_verified(ses, sender_address: str) -> tuple[str, bool | None, str]:
    """The address's own identity, else its domain's: (identity, verified, detail)."""
    domain = sender_address.rsplit("@", 1)[-1].lower()
    ok, detail = _verified(ses, sender_address.lower())
    if ok:
        return sender_address.lower(), True, ""
    ok, detail = _verified(ses, domain)
    return domain, ok, detail


def _verified_identities(ses) -> set[str] | None:
    found, kwargs = set(), {}
    try:
        while True:
            page = ses.list_email_identities(**kwargs)
            found |= {i["IdentityName"].lower() for i in page.get("EmailIdentities", [])
                      if i.get("SendingEnabled", True) and i.get("VerificationStatus", "SUCCESS") == "SUCCESS"}
            if not page.get("NextToken"):
                return found
            kwargs["NextToken"] = page["NextToken"]
    except Exception:
        return None


def audience_of(dynamo, table: str, campaign: records.Campaign, *, addresses: bool = False
                ) -> tuple[Audience, list[str]]:
    """The audience split by reason; with `addresses`, the reachable addresses too (sandbox check).

    An invitation never sent, addresses not wanted (the usual « Vérifier et envoyer »): from the list's kept
    counts, whatever its size (`audience_counted`). Otherwise the list is read: a follow-up's segment, the
    send records of a campaign sent already, the sandbox's addresses are per recipient."""
    if not campaign.parent and not campaign.audience and not addresses:
        return audience_counted(dynamo, table, campaign), []
    return audience_read(dynamo, table, campaign, addresses=addresses)


def audience_read(dynamo, table: str, campaign: records.Campaign, *, addresses: bool = False
                  ) -> tuple[Audience, list[str]]:
    """`audience_of` by reading the list (and the send records of a campaign sent already)."""
    suppressed = subscribers.suppressions(dynamo, table)
    done = set() if not campaign.audience else {
        sid for sid, state in records.send_states(dynamo, table, campaign.id).items() if state != records.FAILED}
    counts = dict.fromkeys(("listed", "unsubscribed", "bounced", "complained", "suppressed", "already"), 0)
    reachable = []
    segment = None
    if campaign.parent:  # a follow-up: its segment of the invitation's recipients, not the whole list
        from convier.services.audience import recipients

        segment = set(recipients(dynamo, table, campaign))
    projection = "SK, status, email" if addresses else "SK, status"
    for item in ddb.query(dynamo, table, keys.list_pk(campaign.list_name), keys.SUB, projection=projection):
        sid = keys.after(keys.SUB, item["SK"])
        if segment is not None and sid not in segment:
            continue
        status = item.get("status", subscribers.SUBSCRIBED)
        counts["listed"] += 1
        if status in ("unsubscribed", "bounced", "complained"):
            counts[status] += 1
        elif sid in suppressed:
            counts["suppressed"] += 1
        elif sid in done:
            counts["already"] += 1
        elif addresses:
            reachable.append(item.get("email", ""))
    meta = subscribers.list_meta(dynamo, table, campaign.list_name) or {}
    duplicates = int((meta.get("last_import") or {}).get("duplicated") or 0)
    return Audience(duplicates=duplicates, **counts), reachable


def audience_counted(dynamo, table: str, campaign: records.Campaign) -> Audience:
    """The same Audience as `audience_read`, for an invitation with no send record: the list's counts by status
    (one batch read), and among the suppressed addresses (a partition of its own, small) those still
    subscribed here (one batch read of just those entries)."""
    list_name = campaign.list_name
    meta, counts = subscribers.list_states(dynamo, table, [list_name]).get(list_name, ({}, {}))
    suppressed = subscribers.suppressions(dynamo, table)
    wanted = [keys.subscriber_key(list_name, sid) for sid in suppressed]
    entries = ddb.batch_get(dynamo, table, wanted, projection="status") if wanted else {}
    still = sum(1 for item in entries.values() if item.get("status", subscribers.SUBSCRIBED)
                not in ("unsubscribed", "bounced", "complained"))
    duplicates = int((meta.get("last_import") or {}).get("duplicated") or 0)
    return Audience(listed=sum(counts.values()), unsubscribed=counts.get("unsubscribed", 0),
                    bounced=counts.get("bounced", 0), complained=counts.get("complained", 0), suppressed=still,
                    already=0, duplicates=duplicates)


def other_campaigns(dynamo, table: str, campaign: records.Campaign) -> list[OtherCampaign]:
    """The list's other invitations, oldest first, with whether they carry the same post (follow-ups, which
    go to an invitation's recipients on purpose, are neither compared nor compared with)."""
    found = []
    if campaign.parent or campaign.kind != records.INVITATION:
        return found
    for entry in ddb.query(dynamo, table, keys.CAMPAIGNS):
        if entry.get("list") != campaign.list_name or entry["SK"] == campaign.id:
            continue
        meta = ddb.get(dynamo, table, *keys.campaign_key(entry["SK"]),
                       projection="post, title, status, audience, created_at, kind, parent") or {}
        if meta.get("parent") or (meta.get("kind") or records.INVITATION) != records.INVITATION:
            continue
        same = bool(meta) and ((campaign.post and meta.get("post") == campaign.post)
                               or (campaign.title and (meta.get("title") or "").strip().lower()
                                   == campaign.title.strip().lower()))
        found.append(OtherCampaign(id=entry["SK"], status=meta.get("status", ""),
                                   enqueued=int(meta.get("audience") or 0),
                                   same_post=same, created_at=meta.get("created_at") or entry.get("created_at", "")))
    return sorted(found, key=lambda o: o.created_at)


def wave_settings(settings, no_wave: bool = False) -> dryrun.WaveSettings | None:
    if no_wave:
        return None
    return getattr(settings, "wave", None) or dryrun.WaveSettings()


def check_campaign(clients, settings, campaign_id: str, *, now: dt.datetime | None = None,
                   no_wave: bool = False) -> CheckReport:
    """Every problem at once (stored content findings + the moment of sending) and the dry run."""
    from convier.services.campaigns import require
    from convier.services.sending import send_rate

    campaign = require(clients, settings, campaign_id)
    now = now or dt.datetime.now(dt.UTC)
    dynamo, table = clients.dynamodb, settings.table
    info = campaign.checks or {}
    account = read_account(clients.ses)
    audience, addresses = audience_of(dynamo, table, campaign, addresses=account.read and account.sandbox)
    rate = send_rate(settings, clients)
    send_plan = dryrun.plan(audience.recipients, rate, now, account.left_24h, wave_settings(settings, no_wave))
    unverified = 0
    if addresses:
        verified = _verified_identities(clients.ses) or set()
        unverified = sum(1 for a in addresses
                         if a.lower() not in verified and a.rsplit("@", 1)[-1].lower() not in verified)
    identity, identity_ok, identity_detail = sender_verified(clients.ses, campaign.template.sender_address)
    others = other_campaigns(dynamo, table, campaign)
    sent_before = [o for o in others if o.enqueued > 0 and o.created_at <= (campaign.created_at or "~")]
    event = Event.from_record(campaign.event)
    problems = [Problem.from_dict(p) for p in info.get("findings") or ()]
    if not info:  # a campaign created before the checks: its stored renderer warnings at least
        problems = checks.renderer_problems(campaign.warnings, campaign.post or "billet", not event.start)
    problems += checks.send_problems(
        now=now, send_ends=send_plan.ends, event_start=event.start, event_end=event.end, all_day=event.all_day,
        event_when=event.when, event_where=info.get("event_where") or campaign.post or "billet",
        # a follow-up (reminder, thanks, freed place) may go out around or after the event: no timing rule
        newsletter=bool(info.get("newsletter")) or not event.start or bool(campaign.parent), audience=audience,
        list_name=campaign.list_name, sender=campaign.template.sender, identity=identity,
        identity_verified=identity_ok, identity_detail=identity_detail, account=account, unverified=unverified,
        others=others, last=sent_before[-1] if sent_before else None)
    cancelled = (campaign.event or {}).get("cancelled_at")
    if campaign.parent and not cancelled:  # a follow-up made before the cancellation has the event of then
        parent = ddb.get(dynamo, table, *keys.campaign_key(campaign.parent), projection="event") or {}
        cancelled = (parent.get("event") or {}).get("cancelled_at")
    problems += checks.cancelled_problems(str(cancelled or ""),
                                          campaign.kind == records.CANCELLATION, campaign.answers_campaign)
    problems = checks.ordered(checks.apply_allow(problems, info.get("allow") or ()))
    return CheckReport(campaign=campaign, problems=tuple(problems), audience=audience, account=account,
                       plan=send_plan)
