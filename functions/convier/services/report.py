"""`campaign report`: one row per recipient of the audience, with what happened to their e-mail.

Plain data (header, rows) that the CLI writes as French-Excel CSV and the campaign function returns;
states and reasons in French, times in Paris time. Reads every send record and the list: an export,
not the status.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from convier.domain.dates import paris
from convier.services.campaigns import require
from convier.store import records, subscribers

QUEUED = "queued"
STATE_FR = {records.SENT: "envoyé", records.SKIPPED: "ignoré", records.FAILED: "échec", records.UNKNOWN: "inconnu",
            records.CLAIMED: "en cours d’envoi", QUEUED: "en file"}
REASON_FR = {
    "absent": "n’est plus dans la liste", "unsubscribed": "désinscrit", "bounced": "adresse en échec (rebond)",
    "complained": "plainte", "suppressed": "adresse bloquée (rebond ou plainte)",
    "worker_lost": "envoi interrompu après l’appel à SES : issue inconnue",
    "MessageRejected": "refusé par SES (MessageRejected)",
    "MailFromDomainNotVerified": "domaine d’expédition non vérifié dans SES (MailFromDomainNotVerified)",
    "throttled": "SES a ralenti l’envoi",
    "ReadTimeoutError": "SES n’a pas répondu à temps : peut-être envoyé",
    "ConnectionClosedError": "connexion à SES perdue : peut-être envoyé",
    "EndpointConnectionError": "SES injoignable : peut-être envoyé",
}
FEEDBACK_FR = {"delivered": "remis", "soft_bounced": "rebond temporaire", "bounced": "rebond définitif",
               "complained": "plainte", "rejected": "rejeté par SES", "delayed": "retardé"}
HEADER = ["adresse", "prénom", "nom", "état", "raison", "heure (Paris)", "retour SES", "retour SES à (Paris)"]
_STAMPS = ("sent_at", "failed_at", "unknown_at", "skipped_at", "claimed_at")


def reason_fr(reason: str) -> str:
    if not reason:
        return ""
    if reason in REASON_FR:
        return REASON_FR[reason]
    if reason.startswith("SES "):
        return f"erreur de SES ({reason[4:]}) : peut-être envoyé"
    return reason


def paris_time(stamp: str) -> str:
    """An ISO time stamp as Paris time, `JJ/MM/AAAA HH:MM:SS` (what French Excel reads as a date)."""
    try:
        return f"{paris(dt.datetime.fromisoformat(stamp)):%d/%m/%Y %H:%M:%S}"
    except (TypeError, ValueError):
        return ""


def feedback_of(record: dict) -> tuple[str, str]:
    """The worst SES outcome on the record, in French, and its time."""
    outcome = record.get("outcome", "")
    if not outcome:
        outcome = next((name for name in ("delivered", "delayed") if record.get(f"{name}_at")), "")
    return FEEDBACK_FR.get(outcome, outcome), paris_time(record.get(f"{outcome}_at", "")) if outcome else ""


@dataclass(frozen=True)
class Report:
    header: list[str]
    rows: list[list[str]]
    states: dict[str, int]  # state (records.* or QUEUED) → rows


def report(clients, settings, campaign_id: str) -> Report:
    """One row per recipient of the audience (their records, and while sending the members still queued)."""
    campaign = require(clients, settings, campaign_id, parts=False)
    dynamo, table = clients.dynamodb, settings.table
    sends = records.send_records(dynamo, table, campaign_id)
    members = {s.sid: s for s in subscribers.iter_subscribers(dynamo, table, campaign.list_name)}
    queued = [sid for sid in members if sid not in sends] if campaign.status in (
        records.SENDING, records.PAUSED) else []
    rows, states = [], Counter()
    for sid in list(sends) + queued:
        rec = sends.get(sid, {"state": QUEUED})
        sub = members.get(sid)
        state = rec.get("state", "")
        states[state] += 1
        stamp = next((rec[name] for name in _STAMPS if rec.get(name)), "")
        outcome, outcome_at = feedback_of(rec)
        rows.append([sub.email if sub else f"(effacé : {sid})", sub.first_name if sub else "",
                     sub.last_name if sub else "", STATE_FR.get(state, state),
                     reason_fr(rec.get("error") or rec.get("reason", "")),
                     paris_time(stamp), outcome, outcome_at])
    rows.sort(key=lambda row: row[0].lower())
    return Report(header=list(HEADER), rows=rows, states=dict(states))
