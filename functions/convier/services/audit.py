"""The audit log: every staff action, who, when, what, on which campaign or list; never a recipient's address.

Actions are short French verbs the Journal shows as they are. An erasure is logged with what it removed
(counts), never with the address it erased. The CLI's actions are here too (source "cli", `who` says
« ligne de commande (…) »: the system user on the embedded default, the AWS identity on a stack).
"""

from __future__ import annotations

import datetime as dt

from convier.store import staff
from convier.store.ddb import now_iso

ACTIONS = {
    "signin": "connexion", "signout": "déconnexion", "create": "création", "edit": "modification",
    "test": "envoi de test", "send": "envoi", "pause": "suspension", "resume": "reprise", "cancel": "annulation",
    "retry": "renvoi aux échecs", "import": "import", "export": "export", "report": "rapport téléchargé",
    "unsubscribe": "désinscription", "erase": "effacement", "capacity": "capacité modifiée",
    "followup": "suivi créé", "schedule": "envoi programmé", "unschedule": "programmation annulée",
    "cancel_event": "annulation de l’événement", "recount": "effectifs recomptés", "replay": "retours SES rejoués",
}


CLI = "cli"  # the source of the command line's entries (the console's: "console")


def cli_who(identity: str) -> str:
    """Who, for an action of the command line, as the Journal shows it: « ligne de commande (alice) » on the
    embedded default, « ligne de commande (arn:aws:sts::…:assumed-role/…/alice) » on a stack."""
    return f"ligne de commande ({identity or 'inconnu'})"


def followup_detail(parent: str, kind: str | None, segments) -> str:
    """The Journal's words for a follow-up made (the console's words), wherever it was made."""
    from convier.domain.segments import segments_fr

    return f"suivi de {parent} ({kind or 'texte libre'}) pour : {segments_fr(tuple(segments))}"


def edit_detail(changes: list[str]) -> str:
    """The Journal's words for an edit: what changed (updates.Change lines)."""
    return " ; ".join(changes)[:500] or "aucun changement"


def cancel_detail(stopped, unscheduled, annulation_id: str) -> str:
    """The Journal's words for a cancelled event, the same from the console, the CLI and the campaign function."""
    return (f"{len(stopped)} envoi(s) arrêté(s), {len(unscheduled)} programmation(s) retirée(s) ; "
            f"annulation à envoyer : {annulation_id}")


def record(clients, settings, who: str, action: str, *, campaign: str = "", list_name: str = "",
           detail: str = "", source: str = "console") -> dict:
    if action not in ACTIONS:
        raise ValueError(f"action d’audit inconnue : {action}")
    entry = {"at": now_iso(), "who": who, "action": action, "campaign": campaign, "list": list_name,
             "detail": detail, "source": source}
    staff.put_audit(clients.dynamodb, settings.table, entry)
    return entry


def recent(clients, settings, *, limit: int = 200, months: int = 3, now: dt.datetime | None = None) -> list[dict]:
    """The latest entries, newest first, over the last few months."""
    month = staff.month_of(now or dt.datetime.now(dt.UTC))
    entries: list[dict] = []
    for _ in range(months):
        entries += staff.audit_month(clients.dynamodb, settings.table, month, limit - len(entries))
        if len(entries) >= limit:
            break
        month = staff.previous_month(month)
    return entries
