"""Follow-ups: campaigns about an invitation, sent to a segment of its recipients by their answer.

A follow-up is a campaign like any other (same claims, pacing, checks, report, retry) whose `parent` is the
invitation: its audience is computed at fan-out (services/audience.py), its messages go through the parent's
list (so unsubscriptions and suppressions are checked at send time), and its links open the parent's answer
page (tokens over the parent's id), so answers stay in one place.

Ready-made ones (`rappel`, `relance`, `merci`, `attente`, `changement`) have French texts in templates/followups/
that staff print with `convier followup text KIND`, edit, and give back with `--message`. `changement` (after
services.updates.edit moved the event) carries the invitation's .ics as it is now: same UID, higher SEQUENCE.
`annulation` is made by services.updates.cancel_event only. Each follow-up keeps its source (message, subject)
so that an edit of its invitation renders it again with the new event.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from convier.domain.segments import parse_segments
from convier.errors import InputError
from convier.services import campaigns
from convier.store import ddb, keys, records

PRESETS = ("rappel", "relance", "merci", "attente", "changement")
PLACE = "place"  # the e-mail of a place freed for someone on the waiting list (templates/followups/place.md)
CHANGE, CANCEL = "changement", "annulation"  # the event changed (services.updates.edit) or was cancelled
CAMPAIGN_KIND = {CHANGE: records.UPDATE, CANCEL: records.CANCELLATION, PLACE: records.PROMOTION}


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    subject: str
    to: str
    when: str  # "J-1 10:00": relative to the event's start, Paris time ("" for none)
    message: str


def _split_front_matter(text: str, where: str) -> tuple[dict, str]:
    import yaml

    if not text.startswith("---"):
        return {}, text
    _, _, rest = text.partition("\n")
    head, sep, body = rest.partition("\n---")
    if not sep:
        raise InputError(f"{where} : en-tête YAML ouvert par « --- » mais jamais fermé")
    try:
        meta = yaml.safe_load(head) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", ligne {mark.line + 2}" if mark else ""
        raise InputError(f"{where}{line} : en-tête YAML illisible") from None
    if not isinstance(meta, dict):
        raise InputError(f"{where} : l’en-tête YAML doit être une suite de « clé: valeur »")
    return meta, body.partition("\n")[2]


def preset(name: str) -> Preset:
    """A ready-made follow-up with its default French text."""
    if name not in PRESETS:
        raise InputError(f"--kind {name!r} : modèle inconnu (attendus : {', '.join(PRESETS)})")
    return _load(name)


def _load(name: str) -> Preset:
    text = resources.files("convier.templates.followups").joinpath(f"{name}.md").read_text(encoding="utf-8")
    meta, body = _split_front_matter(text, f"modèle {name}")
    return Preset(name=name, title=str(meta.get("title", name)), subject=str(meta.get("subject", "")),
                  to=str(meta.get("to", "")), when=str(meta.get("when") or ""), message=body.lstrip("\n"))


def preset_text(name: str) -> str:
    """The preset's file as staff edit it (front matter included)."""
    if name not in PRESETS:
        raise InputError(f"modèle inconnu : {name!r} (attendus : {', '.join(PRESETS)})")
    return resources.files("convier.templates.followups").joinpath(f"{name}.md").read_text(encoding="utf-8")


def read_message(path: str) -> tuple[dict, str]:
    """A message file: markdown, optionally with a front matter (subject, to); French errors naming the file."""
    return parse_message(read_message_text(path), path)


def read_message_text(path: str) -> str:
    """The message file's text (`--stack` reads it on the workstation and sends the text to the function)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path} : fichier introuvable") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} : le fichier n’est pas en UTF-8 (octet {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path} : lecture impossible ({exc.strerror})") from None


def parse_message(text: str, path: str) -> tuple[dict, str]:
    """A message file's text: its front matter and its body, errors naming `path` as the file."""
    meta, body = _split_front_matter(text, path)
    if not body.strip():
        raise InputError(f"{path} : le message est vide")
    return meta, body


@dataclass(frozen=True)
class Draft:
    """What the console's « Nouveau suivi » form starts from: the invitation, the chosen ready-made text (or
    free text) and the ready-made ones to choose from."""

    parent: records.Campaign
    kind: str  # one of PRESETS, or "" for a free text
    subject: str
    segments: tuple[str, ...]
    message: str
    when: str  # the ready-made follow-up's usual moment, Paris time "YYYY-MM-DD HH:MM" ("" for none)
    presets: tuple[Preset, ...]


def draft(clients, settings, parent_id: str, kind: str = "", segments: tuple[str, ...] = ()) -> Draft:
    """The form's starting values: a ready-made follow-up's subject, segments and text (placeholders left for
    staff to see), or an empty free text; `segments` (from the answers page) win over the preset's."""
    from convier.domain.dates import send_moment
    from convier.domain.event import Event

    parent = invitation_of(clients, settings, parent_id)
    if parent.kind != records.INVITATION:
        raise InputError(f"la campagne {parent.id} n’est pas une invitation : un suivi se rattache à une invitation")
    presets = tuple(_load(name) for name in PRESETS if name != CHANGE)  # that one: the edit page offers it
    chosen = preset(kind) if kind else None
    wanted = tuple(segments) or (parse_segments(chosen.to) if chosen and chosen.to else ())
    when = ""
    if chosen and chosen.when:
        try:
            when = f"{send_moment(chosen.when, Event.from_record(parent.event).start):%Y-%m-%d %H:%M}"
        except ValueError:  # the invitation has no date: no suggestion
            when = ""
    return Draft(parent=parent, kind=chosen.name if chosen else "", subject=chosen.subject if chosen else "",
                 segments=wanted, message=chosen.message if chosen else "", when=when, presets=presets)


def invitation_of(clients, settings, campaign_id: str) -> records.Campaign:
    """The invitation a follow-up belongs to (a follow-up's id leads to its invitation)."""
    campaign = campaigns.require(clients, settings, campaign_id)
    if campaign.parent:
        campaign = campaigns.require(clients, settings, campaign.parent)
    return campaign


def create_followup(clients, settings, parent_id: str, *, to: str | None = None, message_file: str | None = None,
                    message: str | None = None, subject: str | None = None, kind: str | None = None,
                    campaign_kind: str = records.FOLLOWUP, ics: str | None = None,
                    campaign_id: str | None = None, message_source: str | None = None) -> records.Campaign:
    """Renders and stores a follow-up of `parent_id` (status draft); send it as any campaign.

    `kind` is a ready-made follow-up (PRESETS) whose subject, segments and text apply unless given;
    `message_file` (markdown) or `message` is the text; `to` the segments ("confirmés,peut-être").
    `message` with `message_source` is a message file's text (front matter included) read elsewhere: the
    campaign function gets it so from `convier --stack`."""
    parent = invitation_of(clients, settings, parent_id)
    campaign_kind = CAMPAIGN_KIND.get(kind or "", campaign_kind)
    if cancelled_at(parent) and campaign_kind != records.CANCELLATION:
        raise InputError(f"l’événement de l’invitation {parent.id} est annulé : seul le message d’annulation peut "
                         "encore lui être envoyé")
    meta, where = {}, "message"
    chosen = (_load(kind) if kind in (PLACE, CANCEL) else preset(kind)) if kind else None
    if message_file:
        meta, text = read_message(message_file)
        where = message_file
    elif message is not None and message_source:
        meta, text = parse_message(message, message_source)
        where = message_source
    elif message is not None:
        text = message
    elif chosen:
        text, where = chosen.message, f"modèle {chosen.name}"
    else:
        raise InputError("il manque le message : --message FICHIER (markdown) ou --kind "
                         + "|".join(PRESETS))
    if not text.strip():
        raise InputError(f"{where} : le message est vide")
    segments_text = to or meta.get("to") or (chosen.to if chosen else "")
    if not segments_text:
        raise InputError("il manque les destinataires : --to confirmés,peut-être (segments : confirmés, "
                         "liste d’attente, peut-être, non, sans réponse, tous)")
    try:
        segments = parse_segments(str(segments_text))
    except ValueError as exc:
        raise InputError(f"--to {segments_text!r} : {exc}") from None
    subject_source = str(subject or meta.get("subject") or (chosen.subject if chosen else "")
                         or f"À propos de : {parent.title or parent.template.subject}")
    campaign_id = campaign_id or campaigns.new_campaign_id()
    subject, rendered = _render(parent, campaign_id=campaign_id, kind=campaign_kind, text=text, where=where,
                                subject=subject_source, ics=ics)
    warnings = list(rendered.warnings)
    if campaign_kind == records.UPDATE and not parent.event.get("changes"):
        warnings.append(f"l’invitation {parent.id} n’a pas été modifiée (convier campaign edit) : ce message "
                        "ne décrit aucun changement")
    if parent.status == records.DRAFT and campaign_kind != records.PROMOTION:
        warnings.append(f"l’invitation {parent.id} n’a pas encore été envoyée : ce suivi n’a pour l’instant "
                        "aucun destinataire")
    campaign = records.Campaign(
        id=campaign_id, list_name=parent.list_name, status=records.DRAFT, template=rendered.message,
        title=parent.title, post=parent.post, event=parent.event, capacity=None, answers=parent.answers,
        created_at=records.now_iso(), warnings=tuple(warnings), kind=campaign_kind, parent=parent.id,
        segments=segments, retention_days=parent.retention_days or settings.retention_days)
    dynamo, table = clients.dynamodb, settings.table
    records.put_campaign(dynamo, table, campaign)
    records.put_source(dynamo, table, campaign_id, {"message": text, "subject": subject_source, "where": where,
                                                    "custom_ics": ics is not None})
    ddb.batch_write(dynamo, table, [{"PK": keys.CAMPAIGNS, "SK": campaign_id, "list": parent.list_name,
                                     "created_at": campaign.created_at, "subject": subject.strip(),
                                     "kind": campaign_kind, "parent": parent.id}])
    return campaign


def _render(parent: records.Campaign, *, campaign_id: str, kind: str, text: str, where: str, subject: str,
            ics: str | None = None):
    """(subject, rendered): the placeholders filled from the invitation as it is now, then the e-mail."""
    from convier.render.followup import fill_text, render_followup

    try:
        body = fill_text(text, parent, where=where)
        subject = fill_text(subject, parent, where="objet").strip()
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return subject, render_followup(parent, campaign_id=campaign_id, kind=kind, subject=subject, message=body,
                                    ics=ics)


def cancelled_at(campaign: records.Campaign) -> str:
    """When the event of this invitation (or of a follow-up's copy of it) was cancelled ("" if it was not)."""
    return str((campaign.event or {}).get("cancelled_at") or "")


def rerender(clients, settings, followup: records.Campaign, parent: records.Campaign, *,
             ics: str | None = None) -> bool:
    """A follow-up rendered again from its source with its invitation as it is now (new date, place, .ics);
    False when it has no source to render from (created before sources were kept)."""
    dynamo, table = clients.dynamodb, settings.table
    source = records.get_source(dynamo, table, followup.id)
    if source is None and followup.kind == records.PROMOTION:
        chosen = _load(PLACE)
        source = {"message": chosen.message, "subject": chosen.subject, "where": f"modèle {PLACE}"}
    if source is None:
        return False
    if source.get("custom_ics") and ics is None:
        ics = followup.template.to_dict()["ics"]
    subject, rendered = _render(parent, campaign_id=followup.id, kind=followup.kind, text=source["message"],
                                where=source.get("where") or "message", subject=source["subject"], ics=ics)
    from dataclasses import replace

    records.replace_rendering(dynamo, table, replace(
        followup, template=rendered.message, title=parent.title, event=parent.event, answers=parent.answers,
        warnings=tuple(rendered.warnings)))
    return True


def of_invitation(clients, settings, invitation_id: str) -> list[dict]:
    """The index entries (id in `SK`, kind, subject) of every campaign about this invitation."""
    return [item for item in ddb.query(clients.dynamodb, settings.table, keys.CAMPAIGNS)
            if item.get("parent") == invitation_id]


def audience_size(clients, settings, campaign: records.Campaign) -> int:
    """How many recipients a send would enqueue now (before the per-recipient checks)."""
    from convier.services.audience import recipients

    return len(recipients(clients.dynamodb, settings.table, campaign))


def ensure_promotion(clients, settings, invitation: records.Campaign) -> records.Campaign:
    """The invitation's « place libérée » campaign, created once (status sending: the web function enqueues
    each promoted guest to it, and its claims per subscriber make each e-mail go out once; a second promotion
    of the same person goes to a copy of it, services.rsvp.tell_promoted)."""
    promotion_id = records.promotion_of(invitation.id)
    found = records.load_campaign(clients.dynamodb, settings.table, promotion_id)
    if found is not None:
        return found
    try:
        campaign = create_followup(clients, settings, invitation.id, kind=PLACE, campaign_kind=records.PROMOTION,
                                   campaign_id=promotion_id)
    except clients.dynamodb.exceptions.ConditionalCheckFailedException:  # created meanwhile
        return records.load_campaign(clients.dynamodb, settings.table, promotion_id)
    records.set_campaign_status(clients.dynamodb, settings.table, promotion_id, records.SENDING)
    return campaign
