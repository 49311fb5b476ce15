"""Campaign pages: Campagnes, Nouvelle campagne, Aperçu (and its test send), Vérifier et envoyer, Suivi, the
answers and report downloads, Renvoyer aux échecs. The pause/resume/cancel controls are in `controls`."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler import Response

from convier.errors import InputError
from convier.handlers.console.kit import HTML, MAX_BODY, Kit
from convier.services import campaigns, lists, rsvp
from convier.store import records
from convier.web import console as pages
from convier.web.auth import ENVOI, Staff


def send_page(kit: Kit, who: Staff, campaign: records.Campaign, status: int = 200, error: str = "",
              schedule_error: str = "", schedule_values: dict | None = None, suggestion: str = "") -> Response:
    """Vérifier et envoyer: the dry run by reason, what blocks, the button that names the count, and the form
    that schedules the send (its date and time: as typed, the current schedule, or the ready-made suggestion).

    A campaign that is no longer a draft can send nothing from here: the page says so and points to Suivi,
    without the checks and the dry run (they would read every send record to refuse anyway)."""
    from convier.services.checks import check_campaign

    if campaign.status != records.DRAFT:
        state = pages.STATUS_FR.get(campaign.status, campaign.status)
        return kit.page("send.html.j2", who, status=status, section="campagnes", campaign=campaign, closed=True,
                        audience={}, blocking=[f"La campagne est {state} : suivez-la depuis la page Suivi."],
                        error=error)
    clients, settings = kit.clients, kit.settings
    audience = campaigns.audience(clients, settings, campaign.id)
    report = check_campaign(clients, settings, campaign.id)  # the same checks as `convier campaign check`
    audience["subscribed"] = report.audience.recipients  # what the send reaches (suppressions left out)
    blocking = [f"{p.message} ({p.where}) — {p.fix}" for p in report.blocking]
    return kit.page("send.html.j2", who, status=status, section="campagnes", campaign=campaign, closed=False,
                    audience=audience, segment_audience=report.audience, blocking=blocking, error=error,
                    schedule_error=schedule_error,
                    schedule=schedule_values or pages.schedule_fields(campaign.scheduled_at or suggestion))


def register(kit: Kit) -> None:
    app, base, clients, settings, hooks = kit.app, kit.base, kit.clients, kit.settings, kit.hooks

    @app.get(f"{base}/campagnes")
    def campaign_list():
        who = kit.current()
        rows = pages.campaign_tree(campaigns.overview(clients, settings))
        return kit.page("campaigns.html.j2", who, section="campagnes", rows=rows)

    def new_form(who: Staff, status: int = 200, error: str = "", values: dict | None = None) -> Response:
        from convier.aws.ses import sender_identities

        return kit.page("new.html.j2", who, status=status, section="campagnes", error=error,
                        lists=lists.list_names(clients, settings), senders=sender_identities(clients, settings),
                        values=values or {"answer_yes": "1", "answer_no": "1", "answer_maybe": "1"})

    @app.get(f"{base}/campagnes/nouvelle")
    def campaign_new():
        return new_form(kit.current())

    @app.post(f"{base}/campagnes")
    def campaign_create():
        from convier.inputs.campaignform import settings_from_form
        from convier.inputs.post import decode_post

        who, form = kit.post_form(MAX_BODY)
        values = dict(form.fields)
        try:
            name, text = "billet.md", form.get("post_text")
            upload = form.files.get("post_file")
            if upload and upload[1]:
                name, text = upload[0] or name, decode_post(upload[1], upload[0] or name)
            if not text.strip():
                raise InputError("billet : déposez un fichier .md ou collez le texte du billet")
            campaign, _ = campaigns.create_from_text(clients, settings, post_text=text, post_name=name,
                                                     list_name=form.get("list"),
                                                     campaign_settings=settings_from_form(form.fields),
                                                     prepare_sender=hooks.prepare_sender)
        except InputError as exc:
            return new_form(who, status=400, error=str(exc), values=values)
        kit.note(who, "create", campaign=campaign.id, list_name=campaign.list_name, detail=campaign.post)
        return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}")

    @app.get(f"{base}/campagnes/<campaign_id>")
    def campaign_preview(campaign_id: str):
        who = kit.current()
        campaign = kit.campaign_of(campaign_id)
        return kit.page("preview.html.j2", who, section="campagnes", campaign=campaign, sent_to=kit.query("test"),
                        text=campaigns.preview(campaign)[1], suggestion=kit.query("quand"),
                        done=kit.query("fait"))

    @app.get(f"{base}/campagnes/<campaign_id>/courriel")
    def campaign_email(campaign_id: str):
        kit.current()
        campaign = kit.campaign_of(campaign_id)
        return Response(status_code=200, content_type=HTML, body=campaigns.preview(campaign)[0],
                        headers=dict(pages.PREVIEW_HEADERS))

    @app.post(f"{base}/campagnes/<campaign_id>/test")
    def campaign_test(campaign_id: str):
        who, _ = kit.post_form()
        campaign = kit.campaign_of(campaign_id)
        campaigns.send_test(clients, settings, campaign.id, [who.email], on_sent=hooks.on_sent)
        kit.note(who, "test", campaign=campaign.id, list_name=campaign.list_name)
        return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}?{urlencode({'test': who.email})}")

    @app.get(f"{base}/campagnes/<campaign_id>/envoi")
    def campaign_check(campaign_id: str):
        who = kit.current()
        who.require(ENVOI)
        return send_page(kit, who, kit.campaign_of(campaign_id), suggestion=kit.query("quand"))

    @app.post(f"{base}/campagnes/<campaign_id>/envoi")
    def campaign_send(campaign_id: str):
        who, form = kit.post_form()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        from convier.services.checks import SendRefused

        stale = send_page(kit, who, campaign, status=409, error="Le nombre de destinataires a changé, la campagne "
                          "n’est plus un brouillon ou un contrôle bloque : vérifiez à nouveau avant d’envoyer.")
        count = form.get("count") or ""
        if campaign.status != records.DRAFT or not count.isdigit():
            return stale
        try:  # the service checks again and refuses a blocked send or a count that is no longer the audience
            enqueued = campaigns.start_send(clients, settings, campaign.id, confirm=int(count)).enqueued
        except SendRefused:
            return stale
        kit.note(who, "send", campaign=campaign.id, list_name=campaign.list_name, detail=f"{enqueued} destinataires")
        hooks.after_send(campaign.id)
        return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi")

    @app.get(f"{base}/campagnes/<campaign_id>/suivi")
    def campaign_progress(campaign_id: str):
        who = kit.current()
        kit.campaign_of(campaign_id)
        st = campaigns.status(clients, settings, campaign_id, answers=True)
        return kit.page("progress.html.j2", who, section="campagnes", campaign=st.campaign, st=st,
                        progress=pages.progress(st), done=kit.query("fait"))

    @app.get(f"{base}/campagnes/<campaign_id>/reponses.csv")
    def campaign_answers(campaign_id: str):
        who = kit.current()
        campaign = kit.campaign_of(campaign_id)
        header, rows = rsvp.export_rows(clients.dynamodb, settings.table, campaign)
        kit.note(who, "export", campaign=campaign.id, list_name=campaign.list_name,
                 detail=f"réponses, {len(rows)} lignes")
        return kit.download(f"reponses-{campaign.id}.csv", lists.export_text(header, rows))

    @app.get(f"{base}/campagnes/<campaign_id>/rapport.csv")
    def campaign_report(campaign_id: str):
        from convier.services.report import report

        who = kit.current()
        campaign = kit.campaign_of(campaign_id)
        found = report(clients, settings, campaign.id)
        kit.note(who, "report", campaign=campaign.id, list_name=campaign.list_name, detail=f"{len(found.rows)} lignes")
        return kit.download(f"rapport-{campaign.id}.csv", lists.export_text(found.header, found.rows))

    @app.get(f"{base}/campagnes/<campaign_id>/renvoyer")
    def retry_confirm(campaign_id: str):
        who = kit.current()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        plan = campaigns.plan_retry(clients, settings, campaign.id)
        n = len(plan.failed)
        return kit.page(
            "confirm.html.j2", who, section="campagnes", title="Renvoyer aux échecs", campaign=campaign,
            what=(f"{n} destinataire{'s' if n > 1 else ''} en échec recevr{'ont' if n > 1 else 'a'} de nouveau "
                  "l’invitation. Corrigez d’abord la cause (voir le rapport) ; les autres ne reçoivent rien."
                  if n else "Aucun destinataire en échec : rien à renvoyer."),
            action=f"{base}/campagnes/{quote(campaign.id)}/renvoyer",
            button=f"Renvoyer à {n} destinataire{'s' if n > 1 else ''}" if n else "Rien à renvoyer",
            danger=False, back=f"{base}/campagnes/{quote(campaign.id)}/suivi", disabled=not n)

    @app.post(f"{base}/campagnes/<campaign_id>/renvoyer")
    def retry(campaign_id: str):
        who, _ = kit.post_form()
        who.require(ENVOI)
        campaign = kit.campaign_of(campaign_id)
        try:
            plan = campaigns.retry(clients, settings, campaign.id)
        except InputError as exc:
            return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi?" + urlencode({"fait": str(exc)}))
        if plan.sids:
            kit.note(who, "retry", campaign=campaign.id, list_name=campaign.list_name,
                     detail=f"{len(plan.sids)} destinataires")
            hooks.after_send(campaign.id)
        return kit.redirect(f"{base}/campagnes/{quote(campaign.id)}/suivi?"
                            + urlencode({"fait": f"Renvoi à {len(plan.sids)} destinataires en échec : en cours."
                                         if plan.sids else "Rien à renvoyer : aucun échec."}))
