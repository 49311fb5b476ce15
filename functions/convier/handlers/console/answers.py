"""Réponses: an invitation's answers by segment (counts, capacity, the waiting list in order, each person's
history, the promoted and whether they were told), its export, and the capacity change (role envoi, confirmed
first: raising it promotes the waiting list in order and tells each person at once)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from convier.domain.answers import WAITING
from convier.domain.segments import SEGMENT_FR, SEGMENTS
from convier.errors import InputError
from convier.handlers.console.kit import Kit
from convier.services import answers
from convier.store import records
from convier.web.auth import ENVOI, Staff

PER_PAGE = 100  # people a page shows (one Query of the answers' index; the export has everyone)


def places_of(text: str) -> int:
    """The capacity field: a whole number of places (spaces between thousands allowed)."""
    plain = text.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if not plain.isdigit() or int(plain) < 1:
        raise InputError(f"« Nombre de places » : un nombre entier d’au moins 1 est attendu, reçu « {text} »")
    return int(plain)


def register(kit: Kit) -> None:
    app, base, clients, settings = kit.app, kit.base, kit.clients, kit.settings

    def view_of(campaign_id: str) -> answers.Answers:
        """Everyone, read in full: the export only (a download, not a page view)."""
        try:
            return answers.show(clients, settings, campaign_id)
        except InputError:
            raise NotFoundError() from None

    def page_of(campaign_id: str, segment: str = "", after: str = "") -> answers.Page:
        try:
            return answers.page(clients, settings, campaign_id, segment, after, size=PER_PAGE)
        except answers.BadCursor:
            raise
        except InputError:
            raise NotFoundError() from None

    def segment_asked() -> str:
        segment = kit.query("segment")
        if segment and segment not in SEGMENTS:
            raise InputError(f"segment inconnu : « {segment} » (attendus : {', '.join(SEGMENTS)})")
        return segment

    def answers_page(who: Staff, view: answers.Page, status: int = 200, error: str = "",
                     places: str = "") -> Response:
        pages = max(1, -(-view.total // PER_PAGE))
        return kit.page("answers.html.j2", who, status=status, section="campagnes", view=view,
                        campaign=view.campaign, segment=view.segment, counts=view.counts, total=view.total,
                        people=view.people, first=view.first, page=min(pages, view.first // PER_PAGE + 1),
                        pages=pages, after=view.after, error=error, places=places, done=kit.query("fait"))

    def bad_request(who: Staff, message: str) -> Response:
        return kit.page("error.html.j2", who, status=400, code=400, reason=message)

    @app.get(f"{base}/campagnes/<campaign_id>/reponses")
    def answers_show(campaign_id: str):
        who = kit.current()
        try:
            segment = segment_asked()
            view = page_of(campaign_id, segment, kit.query("apres"))
        except InputError as exc:
            return bad_request(who, str(exc))
        if view.campaign.id != campaign_id:  # a follow-up's id: its invitation's answers
            return kit.redirect(f"{base}/campagnes/{quote(view.campaign.id)}/reponses")
        return answers_page(who, view)

    @app.get(f"{base}/campagnes/<campaign_id>/reponses/export.csv")
    def answers_export(campaign_id: str):
        who = kit.current()
        try:
            segment = segment_asked()
        except InputError as exc:
            return bad_request(who, str(exc))
        view = view_of(campaign_id)
        header, rows = answers.export_rows(view, segment)
        from convier.services.lists import export_text

        kit.note(who, "export", campaign=view.campaign.id, list_name=view.campaign.list_name,
                 detail=f"réponses ({SEGMENT_FR[segment] if segment else 'tous'}), {len(rows)} lignes")
        name = f"reponses-{view.campaign.id}{'-' + segment if segment else ''}.csv"
        return kit.download(name, export_text(header, rows))

    @app.get(f"{base}/campagnes/<campaign_id>/reponses/capacite")
    def capacity_confirm(campaign_id: str):
        who = kit.current()
        who.require(ENVOI)
        view = page_of(campaign_id)
        given = kit.query("places")
        campaign = view.campaign
        try:
            if campaign.kind != records.INVITATION:
                raise InputError("seule une invitation a une capacité")
            places = places_of(given)
            if places < view.confirmed:
                raise InputError(f"« Nombre de places » : {view.confirmed} places sont déjà confirmées ; on ne "
                                 "retire pas une place confirmée")
        except InputError as exc:
            return answers_page(who, view, status=400, error=str(exc), places=given)
        promoted = min(view.counts[WAITING], places - view.confirmed) if campaign.capacity else 0
        before = f"{campaign.capacity} places" if campaign.capacity else "sans limite"
        what = f"La capacité passe de {before} à {places} places."
        if promoted:
            what += (f" {promoted} personne{'s' if promoted > 1 else ''} de la liste d’attente "
                     f"recevr{'ont' if promoted > 1 else 'a'} une place, dans l’ordre de la liste, et aussitôt "
                     "l’e-mail « Une place s’est libérée » avec le fichier agenda.")
        else:
            what += " Personne de la liste d’attente ne reçoit de place."
        back = f"{base}/campagnes/{quote(campaign.id)}/reponses"
        return kit.page("confirm.html.j2", who, section="campagnes", title="Changer la capacité", what=what,
                        campaign=campaign, action=back + "/capacite", button=f"Passer à {places} places",
                        danger=False, fields={"places": str(places)}, back=back)

    @app.post(f"{base}/campagnes/<campaign_id>/reponses/capacite")
    def capacity_change(campaign_id: str):
        who, form = kit.post_form()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        try:
            places = places_of(form.get("places"))
            promoted = answers.set_capacity(clients, settings, campaign.id, places)
        except InputError as exc:
            return answers_page(who, page_of(campaign_id), status=400, error=str(exc), places=form.get("places"))
        kit.note(who, "capacity", campaign=campaign.id, list_name=campaign.list_name,
                 detail=f"{campaign.capacity or 'sans limite'} → {places} places, {len(promoted)} promus")
        if promoted:
            kit.hooks.after_send(records.promotion_of(campaign.id))
        done = f"Capacité : {places} places."
        if promoted:
            done += f" {len(promoted)} personne{'s' if len(promoted) > 1 else ''} de la liste d’attente " + (
                "ont reçu une place ; l’e-mail « Une place s’est libérée » leur part maintenant." if len(promoted) > 1
                else "a reçu une place ; l’e-mail « Une place s’est libérée » lui part maintenant.")
        return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}/reponses?" + urlencode({"fait": done}))
