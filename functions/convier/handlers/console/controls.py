"""Suspendre, Reprendre, Annuler: a confirmation page, then the service call. Registered last: its
`<campaign_id>/<word>` route would otherwise take every other campaign sub-page."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from convier.handlers.console.kit import Kit
from convier.services import campaigns
from convier.web.auth import ENVOI

CONTROLS = {  # path word → (service call, title, what it does, refused because); the service call is the audit action
    "suspendre": ("pause", "Suspendre l’envoi", "Les e-mails pas encore partis attendront la reprise.",
                  "elle n’est pas en cours d’envoi"),
    "reprendre": ("resume", "Reprendre l’envoi", "L’envoi reprend là où il s’était arrêté, sans doublon.",
                  "elle n’est pas en pause"),
    "annuler": ("cancel", "Annuler l’envoi", "Définitif : les e-mails pas encore partis ne partiront jamais.",
                "elle est déjà terminée ou annulée"),
}


def register(kit: Kit) -> None:
    app, base = kit.app, kit.base

    @app.get(f"{base}/campagnes/<campaign_id>/<word>")
    def control_confirm(campaign_id: str, word: str):
        if word not in CONTROLS:
            raise NotFoundError()
        who = kit.current()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        _, title, what, _ = CONTROLS[word]
        return kit.page("confirm.html.j2", who, section="campagnes", title=title, what=what, campaign=campaign,
                        action=f"{base}/campagnes/{quote(campaign.id)}/{word}", button=title,
                        danger=word == "annuler", back=f"{base}/campagnes/{quote(campaign.id)}/suivi")

    @app.post(f"{base}/campagnes/<campaign_id>/<word>")
    def control(campaign_id: str, word: str):
        if word not in CONTROLS:
            raise NotFoundError()
        who, _ = kit.post_form()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        action, title, _, refused = CONTROLS[word]
        changed = getattr(campaigns, action)(kit.clients, kit.settings, campaign.id)
        if changed:
            kit.note(who, action, campaign=campaign.id, list_name=campaign.list_name)
            if action == "resume":
                kit.hooks.after_send(campaign.id)
        return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi?"
                            + urlencode({"fait": f"{title} : fait." if changed
                                         else f"{title} : impossible, {refused}."}))
