"""Event updates and cancellations of an invitation (issue 17, item 4): one call per action.

- `edit(clients, settings, campaign_id, campaign_settings)`: the campaign's settings given again, as the campaign
  file or the console's form gives them (subject, sender, reply_to, event start/end/place/address/online_url,
  capacity, answers: the whole set, what is absent falls back to the post as at create). The invitation is
  rendered again from its stored post (or `post_text`), so the answer pages, the `.ics` route and the
  follow-ups made from now on carry the new event. A draft is simply rendered again. An invitation already
  sent keeps its .ics UID and, when what an agenda shows changed, gets a higher SEQUENCE (store.events); its
  draft follow-ups and « place libérée » e-mails are rendered again with the new event. The answer, `Edited`,
  says what changed; `Edited.notice` True means: offer the « Information de changement »,
  `change_notice(...)` (the ready-made follow-up `changement`, to confirmés, peut-être and liste d'attente by
  default, `to="tous"` for everyone), whose .ics is the invitation's: same UID, the higher SEQUENCE.
- `cancel_event(clients, settings, campaign_id)`: the event is off (not `campaign cancel`, which stops a send).
  The invitation records it (event.cancelled_at) and serves a METHOD:CANCEL / STATUS:CANCELLED .ics (same UID,
  higher SEQUENCE); the answer pages close; every scheduled send of its campaigns is unscheduled and every
  unfinished one stopped; the « Annulation » follow-up is created (to those who said yes, maybe or wait, or
  `to="tous"`), to be sent as any campaign. Afterwards nothing but that Annulation may be created or sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from convier.domain.event import Event
from convier.errors import InputError
from convier.services import campaigns, followups
from convier.store import ddb, keys, records

# What staff changed, as the CLI and the notice name it. The event's keys are what agendas show.
LABELS = {"when": "Date et horaire", "place": "Lieu", "address": "Adresse", "online_url": "Lien de connexion",
          "title": "Titre", "subject": "Objet", "sender": "Expéditeur", "reply_to": "Répondre à",
          "capacity": "Capacité", "answers": "Réponses proposées"}
EVENT_KEYS = ("when", "place", "address", "online_url")
ANSWERS_FR = {"yes": "je participe", "no": "je ne participe pas", "maybe": "peut-être"}


@dataclass(frozen=True)
class Change:
    key: str  # a key of LABELS
    label: str
    before: str
    after: str

    @property
    def line(self) -> str:
        """« Lieu : Station F (au lieu de : Ground Control) » (a line of the notice and of the CLI)."""
        if not self.after:
            return f"{self.label} : supprimé (c’était : {self.before})"
        return f"{self.label} : {self.after}" + (f" (au lieu de : {self.before})" if self.before else "")


@dataclass(frozen=True)
class Edited:
    campaign: records.Campaign  # as stored now
    changes: tuple[Change, ...]  # every setting that changed
    sent: bool  # the invitation had gone out (or was going out): its recipients have the old event
    sequence: int  # the .ics SEQUENCE now
    refreshed: tuple[str, ...] = ()  # follow-ups rendered again with the new event (drafts, « place libérée »)
    not_refreshed: tuple[str, ...] = ()  # draft follow-ups with no source to render again (made before sources)
    scheduled: tuple[str, ...] = ()  # refreshed follow-ups with a scheduled send: its time may need moving
    promoted: tuple[str, ...] = ()  # a raised capacity gave these places (each told by e-mail)

    @property
    def event_changed(self) -> bool:
        """Date, time or place: what an agenda shows."""
        return any(c.key in EVENT_KEYS for c in self.changes)

    @property
    def notice(self) -> bool:
        """Offer the « Information de changement » (change_notice): sent, and its event moved."""
        return self.sent and self.event_changed


@dataclass(frozen=True)
class Cancelled:
    campaign: records.Campaign  # the invitation, its event marked cancelled
    annulation: records.Campaign  # the « Annulation » follow-up (draft): send it as any campaign
    stopped: tuple[str, ...]  # campaigns whose send was stopped (status cancelled)
    unscheduled: tuple[str, ...]  # campaigns whose scheduled send was removed


def _text(value) -> str:
    return "" if value is None else str(value)


def _facts(campaign: records.Campaign) -> dict[str, str]:
    event = Event.from_record(campaign.event)
    return {"when": event.when, "place": event.place, "address": " ".join(event.address.split()),
            "online_url": event.online_url, "title": campaign.title, "subject": campaign.template.subject,
            "sender": campaign.template.sender, "reply_to": campaign.template.reply_to,
            "capacity": _text(campaign.capacity),
            "answers": ", ".join(ANSWERS_FR.get(a, a) for a in campaign.answers)}


def changes_between(old: records.Campaign, new: records.Campaign) -> tuple[Change, ...]:
    before, after = _facts(old), _facts(new)
    found = [Change(key, LABELS[key], before[key], after[key]) for key in LABELS if before[key] != after[key]]
    old_event, new_event = Event.from_record(old.event), Event.from_record(new.event)
    if not any(c.key == "when" for c in found) and (old_event.start, old_event.end) != (new_event.start,
                                                                                        new_event.end):
        found.insert(0, Change("when", LABELS["when"], before["when"], after["when"]))  # same words, other time
    return tuple(found)


def _invitation(clients, settings, campaign_id: str) -> records.Campaign:
    campaign = campaigns.require(clients, settings, campaign_id)
    if campaign.parent or campaign.kind != records.INVITATION:
        raise InputError(f"la campagne {campaign_id} est un suivi de l’invitation {campaign.parent} : c’est "
                         f"l’invitation qui se modifie ou s’annule ({campaign.parent})")
    if followups.cancelled_at(campaign):
        raise InputError(f"l’événement de l’invitation {campaign_id} est annulé : il ne peut plus être modifié")
    return campaign


def edit(clients, settings, campaign_id: str, campaign_settings, *, post_text: str | None = None,
         post_name: str | None = None, prepare_sender=None) -> Edited:
    """The invitation rendered again with `campaign_settings` (inputs.campaignfile.CampaignSettings, e.g. from
    read_campaign(FILE) or the console's settings_from_form): see the module's docstring. `post_text` (and its
    file name) replaces the stored post; needed only for campaigns made before convier kept it. French
    InputError for a follow-up, a cancelled event, a capacity below the places already confirmed, or a waiting
    list added or removed after the send."""
    from convier.inputs.post import PostError, parse_post
    from convier.render.calendar import uid_of
    from convier.store.answers import counters

    dynamo, table = clients.dynamodb, settings.table
    old = _invitation(clients, settings, campaign_id)
    source = records.get_source(dynamo, table, campaign_id) or {}
    if post_text is None:
        post_text = source.get("post_text")
        if post_text is None:
            raise InputError(f"campagne {campaign_id} : son billet n’a pas été gardé (campagne antérieure) ; "
                             "redonnez-le (--post BILLET)")
    post_source = post_name or source.get("post_source") or old.post or "billet.md"
    try:
        post = parse_post(post_text, post_source)
    except PostError as exc:
        raise InputError(str(exc)) from None
    sent = old.status != records.DRAFT
    capacity = campaign_settings.capacity
    if sent and bool(old.capacity) != bool(capacity):
        raise InputError(f"capacité : une liste d’attente ne s’ajoute ni ne se retire après l’envoi (l’invitation "
                         f"{campaign_id} " + (f"a « capacity: {old.capacity} »" if old.capacity else "n’en a pas")
                         + ") ; seul son nombre de places peut changer")
    if sent and capacity and capacity < counters(dynamo, table, campaign_id)[0]:
        raise InputError(f"capacité {capacity} : {counters(dynamo, table, campaign_id)[0]} places sont déjà "
                         "confirmées ; on ne retire pas une place confirmée")
    uid = uid_of(old.template.to_dict()["ics"]) if sent else ""  # recipients have this agenda entry: it stays the same
    new = campaigns.render_campaign(clients, settings, post, campaign_settings, campaign_id=old.id,
                                    list_name=old.list_name, post_name=post_name or old.post,
                                    post_text=post_text, uid=uid, prepare_sender=prepare_sender,
                                    status=old.status, created_at=old.created_at)
    found = changes_between(old, new)
    kept = {k: v for k, v in (old.event or {}).items() if k in ("changes", "changed_at")}
    if sent and any(c.key in EVENT_KEYS for c in found):  # what the notice's {{ changements }} lists
        kept = {"changes": [c.line for c in found if c.key in EVENT_KEYS], "changed_at": records.now_iso()}
    new = replace(new, event={**new.event, **kept} if new.event else {}, kind=old.kind)
    records.replace_rendering(dynamo, table, new)
    campaigns.save_source(clients, settings, campaign_id, post_text=post_text, post_name=post_name or old.post,
                          post_source=post.source, campaign_settings=campaign_settings)
    entry = ddb.get(dynamo, table, keys.CAMPAIGNS, campaign_id)
    if entry and entry.get("subject") != new.template.subject:
        ddb.batch_write(dynamo, table, [{**entry, "subject": new.template.subject}])
    promoted: list[str] = []
    if capacity and capacity != old.capacity:
        if sent:
            from convier.services.answers import set_capacity

            promoted = set_capacity(clients, settings, campaign_id, capacity)
        else:
            followups.ensure_promotion(clients, settings, new)
    refreshed, missing, scheduled = _refresh_followups(clients, settings, new)
    from convier.render.calendar import sequence_of

    return Edited(campaign=campaigns.require(clients, settings, campaign_id), changes=found, sent=sent,
                  sequence=sequence_of(new.template.to_dict()["ics"]), refreshed=refreshed,
                  not_refreshed=missing, scheduled=scheduled, promoted=tuple(promoted))


def _refresh_followups(clients, settings, invitation: records.Campaign):
    """Draft follow-ups and the « place libérée » e-mails rendered again with the invitation as it is now
    (sent ones said what was true then: they stay as they were)."""
    from convier.services.schedules import scheduled

    planned = scheduled(clients, settings)
    refreshed, missing, moved = [], [], []
    for entry in followups.of_invitation(clients, settings, invitation.id):
        followup = records.load_campaign(clients.dynamodb, settings.table, entry["SK"])
        if followup is None or not (followup.kind == records.PROMOTION or followup.status == records.DRAFT):
            continue
        if followups.rerender(clients, settings, followup, invitation):
            refreshed.append(followup.id)
            if followup.id in planned:
                moved.append(followup.id)
        else:
            missing.append(followup.id)
    return tuple(refreshed), tuple(missing), tuple(moved)


def change_notice(clients, settings, campaign_id: str, *, to: str | None = None, message_file: str | None = None,
                  message: str | None = None, subject: str | None = None) -> records.Campaign:
    """The « Information de changement » (draft follow-up `changement`): to confirmés, peut-être and liste
    d'attente unless `to` says otherwise ("tous": every recipient); its .ics is the invitation's as it is now."""
    return followups.create_followup(clients, settings, campaign_id, to=to, message_file=message_file,
                                     message=message, subject=subject, kind=followups.CHANGE)


def cancel_event(clients, settings, campaign_id: str, *, to: str | None = None, message_file: str | None = None,
                 message: str | None = None, subject: str | None = None, aws=None,
                 message_source: str | None = None) -> Cancelled:
    """The event is cancelled: see the module's docstring. `aws` (services.schedules.AwsScheduler) removes the
    EventBridge schedules too. Refused for a draft (nobody was invited: `campaign cancel` is enough)."""
    from convier.render.calendar import event_fingerprint, sequence_of, uid_of
    from convier.services import schedules
    from convier.store import events

    dynamo, table = clients.dynamodb, settings.table
    invitation = _invitation(clients, settings, campaign_id)
    if invitation.status == records.DRAFT:
        raise InputError(f"l’invitation {campaign_id} n’a pas été envoyée : personne n’est à prévenir ; "
                         f"abandonnez-la avec convier campaign cancel {campaign_id}")
    ics = ""
    uid = uid_of(invitation.template.to_dict()["ics"])
    event = Event.from_record(invitation.event)
    if uid and event.start:
        sequence = max(events.sequence_for(dynamo, table, uid, "annulé:" + event_fingerprint(event, invitation.title)),
                       sequence_of(invitation.template.to_dict()["ics"]) + 1)
        ics = cancellation_calendar(invitation, uid=uid, sequence=sequence)
    if not records.mark_event_cancelled(dynamo, table, campaign_id, ics=ics, at=records.now_iso()):
        raise InputError(f"l’événement de l’invitation {campaign_id} est déjà annulé")
    ids = [campaign_id] + [e["SK"] for e in followups.of_invitation(clients, settings, campaign_id)]
    unscheduled = tuple(i for i in ids if schedules.unschedule(clients, settings, i, aws=aws))
    stopped = tuple(i for i in ids if campaigns.cancel(clients, settings, i))
    annulation = followups.create_followup(clients, settings, campaign_id, to=to, message_file=message_file,
                                           message=message, subject=subject, kind=followups.CANCEL,
                                           ics=ics or None, message_source=message_source)
    return Cancelled(campaign=campaigns.require(clients, settings, campaign_id), annulation=annulation,
                     stopped=stopped, unscheduled=unscheduled)


def edit_summary(clients, settings, campaign_id: str, campaign_settings, *, notice: bool = False,
                 to: str | None = None, post_text: str | None = None, post_name: str | None = None,
                 prepare_sender=None) -> dict:
    """`edit`, then the « Information de changement » when `notice` is asked and due; what the CLI prints, as
    plain values that travel as JSON (the campaign function runs it on a stack, the CLI elsewhere)."""
    edited = edit(clients, settings, campaign_id, campaign_settings, post_text=post_text, post_name=post_name,
                  prepare_sender=prepare_sender)
    made = None
    if notice and edited.notice:
        created = change_notice(clients, settings, campaign_id, to=to)
        made = campaigns.summary(created, followups.audience_size(clients, settings, created))
    return {"id": campaign_id, "list": edited.campaign.list_name, "changes": [c.line for c in edited.changes],
            "promoted": len(edited.promoted), "refreshed": list(edited.refreshed),
            "not_refreshed": list(edited.not_refreshed), "scheduled": list(edited.scheduled),
            "notice": edited.notice, "sequence": edited.sequence, "notice_made": made}


def cancel_summary(clients, settings, campaign_id: str, **how) -> dict:
    """`cancel_event` (`how`: its keywords), as plain values that travel as JSON (see edit_summary)."""
    done = cancel_event(clients, settings, campaign_id, **how)
    annulation = done.annulation
    return {"id": campaign_id, "list": done.campaign.list_name, "unscheduled": list(done.unscheduled),
            "stopped": list(done.stopped),
            "annulation": campaigns.summary(annulation, followups.audience_size(clients, settings, annulation))}


def cancellation_calendar(invitation: records.Campaign, *, uid: str, sequence: int) -> str:
    """The invitation's .ics as a cancellation (METHOD:CANCEL, STATUS:CANCELLED), its link still the
    recipient's answer page (the TOKEN marker, filled per recipient)."""
    from convier.domain.mime import TOKEN
    from convier.domain.mime import links as recipient_links
    from convier.render.calendar import event_calendar

    url = recipient_links(invitation.template.public_url, TOKEN)["rsvp"]
    return event_calendar(Event.from_record(invitation.event), uid=uid, title=invitation.title,
                          description=f"Annulé : {invitation.title}", url=url, sequence=sequence, cancelled=True)


def edit_source(clients, settings, campaign_id: str) -> tuple[records.Campaign, dict]:
    """What the console's « Modifier » form starts from: the invitation (refused as `edit` refuses: a follow-up,
    a cancelled event) and its settings as given at create or last edit (the campaign file's keys)."""
    campaign = _invitation(clients, settings, campaign_id)
    source = records.get_source(clients.dynamodb, settings.table, campaign_id) or {}
    return campaign, dict(source.get("settings") or {})
