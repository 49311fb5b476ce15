"""Modifier (an invitation's settings, rendered again), the « Information de changement » it offers once a sent
invitation's date, time or place moved, and « Annuler l'événement » (role envoi, confirmed first). All three call
services/updates.py; a sent invitation's edit and the cancellation need the role envoi, as a send does."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from convier.errors import InputError
from convier.handlers.console.kit import MAX_BODY, Kit
from convier.services import audit, updates
from convier.store import records
from convier.web import console as pages
from convier.web.auth import ENVOI, Staff

TO = {"reponses": None, "tous": "tous"}  # the notice's audience: who answered (the preset's groups), or everyone


def register(kit: Kit) -> None:
    app, base, clients, settings, hooks = kit.app, kit.base, kit.clients, kit.settings, kit.hooks

    def source_of(who: Staff, campaign_id: str) -> tuple[records.Campaign, dict] | Response:
        kit.campaign_of(campaign_id)  # 404 for an unknown campaign
        try:
            campaign, given = updates.edit_source(clients, settings, campaign_id)
        except InputError as exc:
            return kit.page("error.html.j2", who, status=400, code=400, reason=str(exc))
        if campaign.status != records.DRAFT:
            who.require(ENVOI)  # recipients see it at once: answer pages, calendar file, freed places
        return campaign, given

    def edit_form(who: Staff, campaign: records.Campaign, values: dict, status: int = 200,
                  error: str = "") -> Response:
        from convier.aws.ses import sender_identities

        return kit.page("new.html.j2", who, status=status, section="campagnes", error=error, editing=campaign,
                        lists=[campaign.list_name], senders=sender_identities(clients, settings), values=values)

    @app.get(f"{base}/campagnes/<campaign_id>/modifier")
    def edit_page(campaign_id: str):
        who = kit.current()
        found = source_of(who, campaign_id)
        if isinstance(found, Response):
            return found
        campaign, _ = found
        return edit_form(who, campaign, pages.settings_fields(campaign))

    @app.post(f"{base}/campagnes/<campaign_id>/modifier")
    def edit(campaign_id: str):
        from convier.inputs.campaignform import settings_from_form
        from convier.inputs.post import decode_post

        who, form = kit.post_form(MAX_BODY)
        found = source_of(who, campaign_id)
        if isinstance(found, Response):
            return found
        campaign, given = found
        values = {**dict(form.fields), "list": campaign.list_name}
        try:
            name, text = None, form.get("post_text") or None
            upload = form.files.get("post_file")
            if upload and upload[1]:
                name, text = upload[0] or "billet.md", decode_post(upload[1], upload[0] or "billet.md")
            elif text:
                name = "billet.md"
            edited = updates.edit(clients, settings, campaign.id, settings_from_form(form.fields, kept=given),
                                  post_text=text, post_name=name, prepare_sender=hooks.prepare_sender)
        except InputError as exc:
            return edit_form(who, campaign, values, status=400, error=str(exc))
        said = "; ".join(c.line for c in edited.changes) or "aucun changement"
        kit.note(who, "edit", campaign=campaign.id, list_name=campaign.list_name, detail=said[:500])
        if edited.promoted:
            hooks.after_send(records.promotion_of(campaign.id))
        if edited.notice:
            return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}/changement")
        done = f"Campagne modifiée : {said}." if edited.changes else "Campagne rendue à nouveau : aucun changement."
        if edited.promoted:
            done += f" {len(edited.promoted)} personne(s) de la liste d’attente reçoivent une place."
        return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}?" + urlencode({"fait": done}))

    @app.get(f"{base}/campagnes/<campaign_id>/changement")
    def notice_offer(campaign_id: str):
        who = kit.current()
        campaign = kit.campaign_of(campaign_id)
        if campaign.kind != records.INVITATION or campaign.status == records.DRAFT:
            raise NotFoundError()
        return kit.page("notice.html.j2", who, section="campagnes", campaign=campaign, cancel=False,
                        changes=list((campaign.event or {}).get("changes") or ()))

    @app.post(f"{base}/campagnes/<campaign_id>/changement")
    def notice_create(campaign_id: str):
        who, form = kit.post_form()
        campaign = kit.campaign_of(campaign_id)
        if form.get("to") not in TO:
            return kit.page("error.html.j2", who, status=400, code=400,
                            reason=f"« Prévenir » : choisissez {' ou '.join(TO)}")
        try:
            notice = updates.change_notice(clients, settings, campaign.id, to=TO[form.get("to")])
        except InputError as exc:
            return kit.page("error.html.j2", who, status=400, code=400, reason=str(exc))
        kit.note(who, "followup", campaign=notice.id, list_name=notice.list_name,
                 detail=f"information de changement de {campaign.id}")
        return kit.redirect(f"{base}/campagnes/{quote(notice.id)}")

    @app.get(f"{base}/campagnes/<campaign_id>/annuler-evenement")
    def cancel_confirm(campaign_id: str):
        who = kit.current()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        if campaign.kind != records.INVITATION:
            raise NotFoundError()
        return kit.page("notice.html.j2", who, section="campagnes", campaign=campaign, cancel=True, changes=[])

    @app.post(f"{base}/campagnes/<campaign_id>/annuler-evenement")
    def cancel_event(campaign_id: str):
        who, form = kit.post_form()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        if form.get("to") not in TO:
            return kit.page("error.html.j2", who, status=400, code=400,
                            reason=f"« Prévenir » : choisissez {' ou '.join(TO)}")
        try:
            done = updates.cancel_event(clients, settings, campaign.id, to=TO[form.get("to")],
                                        aws=kit.config.scheduler)
        except InputError as exc:
            return kit.page("error.html.j2", who, status=400, code=400, reason=str(exc))
        kit.note(who, "cancel_event", campaign=campaign.id, list_name=campaign.list_name,
                 detail=audit.cancel_detail(done.stopped, done.unscheduled, done.annulation.id))
        message = ("Événement annulé : les pages de réponse le disent et les envois en cours ou programmés sont "
                   "arrêtés. Relisez l’annulation ci-dessous, puis envoyez-la.")
        return kit.redirect(f"{base}/campagnes/{quote(done.annulation.id)}?" + urlencode({"fait": message}))
