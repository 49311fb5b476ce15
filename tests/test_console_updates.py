"""« Modifier », « Information de changement » and « Annuler l'événement » through the real console handler
against a moto server: the new-campaign form reused and prefilled, settings the form does not show kept, the
notice's calendar file with the invitation's UID and a higher SEQUENCE, the cancellation; roles, CSRF, French 4xx."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from consolekit import as_redaction, drain_campaign, local_console, path_of
from convier.services import audit
from convier.store import records
from samples import SEED
from test_console_answers import answer, people, sid
from webkit import messages, sent_campaign, write_list

EVENT = """capacity: 2
event:
  start: 2030-01-24 09:00:00 +01:00
  end: 2030-01-24 17:30:00 +01:00
  place: Station F
"""


def calendar(message) -> str:
    return next(p.get_content() for p in message.walk() if p.get_content_type() == "text/calendar")


def field(ics: str, name: str) -> str:
    return re.search(rf"^{name}:(.+?)\r?$", ics, re.M).group(1)


def test_a_draft_is_edited_by_redaction_and_keeps_what_the_form_does_not_show(cli, settings, tmp_path):
    s, c = settings
    assert cli("lists", "import", "invites", write_list(tmp_path, people(2))).code == 0
    (tmp_path / "c.yaml").write_text("allow: [past_event]\nsite_url: https://www.exemple.gouv.fr\n", encoding="utf-8")
    created = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", tmp_path / "c.yaml")
    draft = created.out.strip().splitlines()[-1]
    redac = as_redaction(local_console(settings), settings)
    form = redac.get(f"/console/campagnes/{draft}/modifier")
    assert form.status == 200 and "<h1>Modifier la campagne</h1>" in form.body
    assert re.search(r'<select class="fr-select" id="list" name="list" required disabled', form.body)
    assert 'id="start_date" name="start_date" value="2023-01-24"' in form.body  # the post's own date
    values = {"csrf": form.csrf(), "subject": "Invitation : la journée du nuage", "start_date": "2023-01-24",
              "start_time": "09:00", "answer_yes": "1", "answer_no": "1"}
    assert redac.post(f"/console/campagnes/{draft}/modifier", {**values, "csrf": ""}).status == 403
    bad = redac.post(f"/console/campagnes/{draft}/modifier", {**values, "capacity": "beaucoup"})
    assert bad.status == 400 and "« Capacité »" in bad.body and "beaucoup" in bad.body
    done = redac.post(f"/console/campagnes/{draft}/modifier", values)
    assert done.status == 303 and "fait=Campagne+modifi" in done.location, done.body
    page = redac.get(path_of(done.location))
    assert "Objet : Invitation : la journée du nuage" in page.body
    campaign = records.load_campaign(c.dynamodb, s.table, draft)
    assert campaign.template.subject == "Invitation : la journée du nuage" and campaign.answers == ("yes", "no")
    given = records.get_source(c.dynamodb, s.table, draft)["settings"]
    assert given["allow"] == ["past_event"] and given["site_url"] == "https://www.exemple.gouv.fr"
    assert [e["action"] for e in audit.recent(c, s)].count("edit") == 1


def test_a_sent_invitation_moved_then_cancelled(cli, settings, tmp_path):
    s, c = settings
    invitation = sent_campaign(cli, tmp_path, people(4), campaign_yaml=EVENT)
    answer(settings, invitation, {0: "yes", 1: "maybe", 2: "no"})
    console = local_console(settings)
    redac = as_redaction(console, settings)
    assert redac.get(f"/console/campagnes/{invitation}/modifier").status == 403  # it went out: role envoi
    assert "/modifier" not in redac.get(f"/console/campagnes/{invitation}").body

    form = console.get(f"/console/campagnes/{invitation}/modifier")
    assert form.status == 200 and 'value="Station F"' in form.body and 'value="09:00"' in form.body
    assert "Cette invitation est déjà partie" in form.body
    values = {"csrf": form.csrf(), "subject": "Invitation : la journée", "start_date": "2030-01-24",
              "start_time": "10:00", "end_date": "2030-01-24", "end_time": "17:30", "place": "Ground Control",
              "capacity": "2", "answer_yes": "1", "answer_no": "1", "answer_maybe": "1"}
    fewer = console.post(f"/console/campagnes/{invitation}/modifier", {**values, "capacity": ""})
    assert fewer.status == 400 and "liste d’attente ne s’ajoute ni ne se retire" in fewer.body
    assert records.load_campaign(c.dynamodb, s.table, invitation).event["place"] == "Station F"
    moved = console.post(f"/console/campagnes/{invitation}/modifier", values)
    assert moved.status == 303 and moved.location == f"/console/campagnes/{invitation}/changement", moved.body
    offer = console.get(moved.location)
    assert offer.status == 200 and "Lieu : Ground Control (au lieu de : Station F)" in offer.body
    assert console.post(moved.location, {"csrf": offer.csrf(), "to": "personne"}).status == 400
    created = console.post(moved.location, {"csrf": offer.csrf(), "to": "reponses"})
    assert created.status == 303
    notice = urlsplit(created.location).path.rsplit("/", 1)[1]
    campaign = records.load_campaign(c.dynamodb, s.table, notice)
    assert (campaign.kind, campaign.parent, campaign.segments) == ("update", invitation,
                                                                   ("confirmed", "waiting", "maybe"))
    check = console.get(f"/console/campagnes/{notice}/envoi")
    assert "Envoyer 2 messages" in check.body  # agent00 (oui), agent01 (peut-être)
    assert console.post(f"/console/campagnes/{notice}/envoi", {"csrf": offer.csrf(), "count": "2"}).status == 303
    drain_campaign(settings, notice)
    sent = messages(settings, notice)
    assert set(sent) == {sid(settings, 0), sid(settings, 1)}
    before = calendar(messages(settings, invitation)[sid(settings, 0)])
    after = calendar(sent[sid(settings, 0)])
    assert field(after, "UID") == field(before, "UID")  # the same agenda entry, updated in place
    assert int(field(after, "SEQUENCE")) > int(field(before, "SEQUENCE"))
    assert "Ground Control" in after

    # Annuler l'événement: envoi only, confirmed, then the Annulation to review and send
    csrf = offer.csrf()
    assert redac.get(f"/console/campagnes/{invitation}/annuler-evenement").status == 403
    assert redac.post(f"/console/campagnes/{invitation}/annuler-evenement",
                      {"csrf": redac.get("/console/campagnes").csrf(), "to": "tous"}).status == 403
    progress = console.get(f"/console/campagnes/{invitation}/suivi")
    assert f'href="/console/campagnes/{invitation}/annuler-evenement"' in progress.body
    confirm = console.get(f"/console/campagnes/{invitation}/annuler-evenement")
    assert confirm.status == 200 and "Définitif" in confirm.body
    assert not records.load_campaign(c.dynamodb, s.table, invitation).event.get("cancelled_at")
    assert console.post(f"/console/campagnes/{invitation}/annuler-evenement", {"to": "tous"}).status == 403
    done = console.post(f"/console/campagnes/{invitation}/annuler-evenement", {"csrf": csrf, "to": "tous"})
    assert done.status == 303 and "fait=" in done.location
    annulation = urlsplit(done.location).path.rsplit("/", 1)[1]
    assert records.load_campaign(c.dynamodb, s.table, annulation).kind == "cancellation"
    assert "Événement annulé" in console.get(path_of(done.location)).body
    assert records.load_campaign(c.dynamodb, s.table, invitation).event.get("cancelled_at")
    page = console.get(f"/console/campagnes/{invitation}/suivi").body
    assert "Événement annulé le" in page and "annuler-evenement" not in page
    again = console.get(f"/console/campagnes/{invitation}/modifier")
    assert again.status == 400 and "annulé" in again.body
    assert console.post(f"/console/campagnes/{invitation}/annuler-evenement",
                        {"csrf": csrf, "to": "tous"}).status == 400  # once

    entries = audit.recent(c, s)
    actions = [e["action"] for e in entries]
    assert actions.count("edit") == 1 and actions.count("cancel_event") == 1 and actions.count("followup") == 1
    assert not any("agent0" in str(e) for e in entries)
    assert "<td>annulation de l’événement</td>" in console.get("/console/journal").body
