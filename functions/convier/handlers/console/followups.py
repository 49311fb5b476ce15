"""Nouveau suivi: a follow-up of an invitation, from a ready-made text (Rappel, Relance, Merci, Liste d'attente)
that staff edit, or a free text, to the groups they tick; then the same Aperçu → Vérifier et envoyer → Suivi as
any campaign. Choosing a ready-made text is a GET (it only fills the form), creating it a POST."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler import Response

from convier.domain.segments import SEGMENTS, segments_fr
from convier.errors import InputError
from convier.handlers.console.kit import Kit
from convier.services import followups
from convier.web.auth import Staff

FREE = "libre"  # the form's value for a free text


def ticked(values: dict) -> tuple[str, ...]:
    """The groups ticked in the form (`to_confirmed=1`...), in the segments' order."""
    return tuple(s for s in SEGMENTS if values.get(f"to_{s}"))


def register(kit: Kit) -> None:
    app, base, clients, settings = kit.app, kit.base, kit.clients, kit.settings

    def form_page(who: Staff, draft: followups.Draft, values: dict, status: int = 200, error: str = "") -> Response:
        return kit.page("followup.html.j2", who, status=status, section="campagnes", draft=draft,
                        campaign=draft.parent, values=values, error=error)

    def draft_of(who: Staff, campaign_id: str, kind: str, segments: tuple[str, ...]) -> followups.Draft | Response:
        try:
            return followups.draft(clients, settings, campaign_id, kind=kind, segments=segments)
        except InputError as exc:
            return kit.page("error.html.j2", who, status=400, code=400, reason=str(exc))

    @app.get(f"{base}/campagnes/<campaign_id>/suivis/nouveau")
    def followup_new(campaign_id: str):
        who = kit.current()
        kit.campaign_of(campaign_id)  # 404 for an unknown campaign
        query = dict(app.current_event.query_string_parameters or {})
        kind = query.get("modele", "")
        draft = draft_of(who, campaign_id, "" if kind == FREE else kind, ticked(query))
        if isinstance(draft, Response):
            return draft
        values = {"modele": draft.kind or FREE, "subject": draft.subject, "message": draft.message,
                  "quand": draft.when, **{f"to_{s}": "1" for s in draft.segments}}
        return form_page(who, draft, values)

    @app.post(f"{base}/campagnes/<campaign_id>/suivis")
    def followup_create(campaign_id: str):
        who, form = kit.post_form()
        values = dict(form.fields)
        kind = values.get("modele", "")
        kind = "" if kind == FREE else kind
        parent = kit.campaign_of(campaign_id)
        try:
            segments = ticked(values)
            if not segments:
                raise InputError("« Destinataires » : cochez au moins un groupe")
            if not values.get("message", "").strip():
                raise InputError("« Message » : écrivez le message (il ne peut pas être vide)")
            created = followups.create_followup(clients, settings, parent.id, kind=kind or None,
                                                message=values["message"], subject=values.get("subject") or None,
                                                to=segments_fr(segments))
        except InputError as exc:
            draft = draft_of(who, parent.id, kind if kind in followups.PRESETS else "", ticked(values))
            if isinstance(draft, Response):
                return draft
            return form_page(who, draft, values, status=400, error=str(exc))
        kit.note(who, "followup", campaign=created.id, list_name=created.list_name,
                 detail=f"suivi de {parent.id} ({kind or 'texte libre'}) pour : {segments_fr(created.segments)}")
        suggestion = values.get("quand", "")
        return kit.redirect(f"{base}/campagnes/{quote(created.id)}"
                            + (f"?{urlencode({'quand': suggestion})}" if suggestion else ""))
