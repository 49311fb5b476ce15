"""Programmer l'envoi (role envoi): a draft campaign or follow-up sent at a date and time, Paris time; moved by
scheduling it again, cancelled until it fires. The checks run again when it fires (services/schedules.py)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from convier.domain import dates
from convier.errors import InputError
from convier.handlers.console.campaigns import send_page
from convier.handlers.console.kit import Kit
from convier.services import schedules
from convier.web.auth import ENVOI


def moment_of(day: str, hour: str) -> dt.datetime:
    """The form's date and time (Paris) → an aware datetime; French errors naming the field."""
    day, hour = day.strip(), hour.strip()
    if not day or not hour:
        raise InputError("« Date » et « Heure » de l’envoi : indiquez les deux (heure de Paris)")
    try:
        return dates.send_moment(f"{day} {hour}")
    except ValueError as exc:
        raise InputError(f"« Date » et « Heure » de l’envoi : {exc}") from None


def register(kit: Kit) -> None:
    app, base, clients, settings = kit.app, kit.base, kit.clients, kit.settings

    def aws():
        if kit.config.scheduler is None and not settings.embedded:
            raise InputError("la programmation des envois n’est pas configurée pour cette console "
                             "(CONVIER_SCHEDULE_GROUP manque) : envoyez maintenant ou avec convier campaign schedule")
        return kit.config.scheduler

    @app.post(f"{base}/campagnes/<campaign_id>/programmer")
    def schedule(campaign_id: str):
        who, form = kit.post_form()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        try:
            when = moment_of(form.get("date"), form.get("time"))
            at = schedules.schedule(clients, settings, campaign.id, when, aws=aws())
        except InputError as exc:
            return send_page(kit, who, campaign, status=400, schedule_error=str(exc),
                             schedule_values={"date": form.get("date"), "time": form.get("time")})
        paris = dates.paris(at)
        said = f"le {paris:%d/%m/%Y à %H:%M} (heure de Paris)"
        kit.note(who, "schedule", campaign=campaign.id, list_name=campaign.list_name,
                 detail=("déplacé " if campaign.scheduled_at else "") + said)
        done = "Envoi programmé" + (" : en local, convier serve (ou make demo) l’envoie à l’heure dite."
                                    if settings.embedded else ".")
        return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi?" + urlencode({"fait": done}))

    @app.get(f"{base}/campagnes/<campaign_id>/deprogrammer")
    def unschedule_confirm(campaign_id: str):
        who = kit.current()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        when = kit_moment(campaign.scheduled_at)
        back = f"{base}/campagnes/{quote(campaign.id)}/suivi"
        return kit.page("confirm.html.j2", who, section="campagnes", title="Annuler l’envoi programmé",
                        what=(f"L’envoi prévu {when} n’aura pas lieu ; la campagne reste un brouillon, que vous "
                              "pourrez envoyer ou programmer de nouveau." if when else
                              "Cette campagne n’a pas d’envoi programmé."),
                        campaign=campaign, action=f"{base}/campagnes/{quote(campaign.id)}/deprogrammer",
                        button="Annuler l’envoi programmé", danger=False, back=back, disabled=not when)

    @app.post(f"{base}/campagnes/<campaign_id>/deprogrammer")
    def unschedule(campaign_id: str):
        who, _ = kit.post_form()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        try:
            changed = schedules.unschedule(clients, settings, campaign.id, aws=aws())
        except InputError as exc:
            changed, done = False, str(exc)
        else:
            done = ("Envoi programmé annulé : la campagne reste un brouillon." if changed
                    else "Aucun envoi programmé à annuler (il est peut-être déjà parti).")
        if changed:
            kit.note(who, "unschedule", campaign=campaign.id, list_name=campaign.list_name)
        return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi?" + urlencode({"fait": done}))


def kit_moment(stamp: str) -> str:
    """« le 23/01/2030 à 10:00 (heure de Paris) », or "" for none."""
    if not stamp:
        return ""
    moment = dates.parse_moment(stamp)
    return f"le {dates.paris(moment):%d/%m/%Y à %H:%M} (heure de Paris)" if moment else ""
