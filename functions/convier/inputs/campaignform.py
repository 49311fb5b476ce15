"""The console's « Nouvelle campagne » form → the campaign file's keys, checked by the same rules as the YAML.

Dates and times are typed in Paris time (as staff read them); errors name the form's field in French.
"""

from __future__ import annotations

import datetime as dt

from convier.domain.dates import PARIS
from convier.errors import InputError
from convier.inputs.campaignfile import ANSWERS, CampaignSettings, campaign_from_dict

SOURCE = "formulaire"
LABELS = {"subject": "Objet", "sender": "Expéditeur", "reply_to": "Répondre à", "event.start": "Début",
          "event.end": "Fin", "event.place": "Lieu", "event.address": "Adresse",
          "event.online_url": "Lien de connexion", "capacity": "Capacité", "answers": "Réponses proposées"}


def _moment(fields: dict, prefix: str, label: str) -> str | None:
    day, hour = fields.get(f"{prefix}_date", "").strip(), fields.get(f"{prefix}_time", "").strip()
    if not day and not hour:
        return None
    if not day:
        raise InputError(f"{SOURCE} : « {label} » : la date manque (l’heure seule ne suffit pas)")
    try:
        moment = dt.datetime.strptime(f"{day} {hour or '00:00'}", "%Y-%m-%d %H:%M")
    except ValueError:
        raise InputError(f"{SOURCE} : « {label} » : date ou heure illisible ({day} {hour}), "
                         "attendu 2023-01-24 et 09:00") from None
    return moment.replace(tzinfo=PARIS).isoformat()


KEPT = ("unsubscribe_mailbox", "public_url", "site_url", "allow")  # campaign-file keys the form does not show


def settings_from_form(fields: dict, kept: dict | None = None) -> CampaignSettings:
    """`kept`: the settings an edited campaign was given (its file's keys); those the form does not show stay."""
    data: dict = {k: kept[k] for k in KEPT if (kept or {}).get(k) is not None}
    for key in ("subject", "sender", "reply_to"):
        if fields.get(key, "").strip():
            data[key] = fields[key].strip()
    event = {k: v for k, v in (("start", _moment(fields, "start", "Début")), ("end", _moment(fields, "end", "Fin")),
                                ("place", fields.get("place")), ("address", fields.get("address")),
                                ("online_url", fields.get("online_url"))) if v and str(v).strip()}
    if event:
        data["event"] = event
    capacity = fields.get("capacity", "").strip().replace("\u202f", "").replace(" ", "")
    if capacity:
        if not capacity.isdigit():
            raise InputError(f"{SOURCE} : « Capacité » doit être un nombre entier positif, reçu {capacity!r}")
        data["capacity"] = int(capacity)
    answers = [a for a in ANSWERS if fields.get(f"answer_{a}")]
    if not answers:
        raise InputError(f"{SOURCE} : « Réponses proposées » : cochez au moins une réponse")
    data["answers"] = answers
    try:
        return campaign_from_dict(data, SOURCE)
    except InputError as exc:
        message = str(exc)
        for key, label in LABELS.items():
            message = message.replace(f"« {key} »", f"« {label} »")
        raise InputError(message) from None
