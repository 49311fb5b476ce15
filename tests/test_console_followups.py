"""Follow-ups from the console, through the real handler against a moto server: a ready-made text edited and
sent to the ticked groups (the unsubscribed left out), listed under its invitation, scheduled in Paris time,
moved, cancelled, fired once; roles, CSRF and French 4xx on bad input; the automatic pause on Suivi."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

from consolekit import as_redaction, drain_campaign, local_console, path_of
from convier.domain.dates import PARIS
from convier.services import audit, schedules
from convier.store import records, subscribers
from test_console_answers import answer, people, sid
from webkit import messages, sent_campaign


def test_a_followup_from_a_ready_made_text_to_the_ticked_groups(cli, settings, tmp_path):
    s, c = settings
    invitation = sent_campaign(cli, tmp_path, people(6), campaign_yaml="capacity: 2\n")
    answer(settings, invitation, {0: "yes", 1: "yes", 2: "yes", 3: "maybe", 4: "no"})  # 2 waits, 5 silent
    subscribers.set_status(c.dynamodb, s.table, "invites", sid(settings, 1), subscribers.UNSUBSCRIBED, "test")
    console = local_console(settings)

    form = console.get(f"/console/campagnes/{invitation}/suivis/nouveau?modele=rappel")
    assert form.status == 200, form.body
    assert 'value="Rappel : {{ titre }}, {{ quand }}"' in form.body and "pièce d’identité" in form.body
    assert re.search(r'id="to_confirmed" name="to_confirmed" value="1" checked', form.body)
    assert not re.search(r'id="to_maybe" name="to_maybe" value="1" checked', form.body)
    assert 'name="quand" value="2023-01-23 10:00"' in form.body  # J-1 10:00 of the seed's event
    from_answers = console.get(f"/console/campagnes/{invitation}/suivis/nouveau?to_waiting=1")
    assert re.search(r'id="to_waiting" name="to_waiting" value="1" checked', from_answers.body)
    assert console.get(f"/console/campagnes/{invitation}/suivis/nouveau?modele=inconnu").status == 400
    assert console.get("/console/campagnes/20990101-000000/suivis/nouveau").status == 404

    csrf = form.csrf()
    fields = {"csrf": csrf, "modele": "rappel", "quand": "2023-01-23 10:00", "subject": "Rappel : {{ titre }}",
              "message": "À demain pour **{{ titre }}** !\n", "to_confirmed": "1", "to_maybe": "1"}
    assert console.post(f"/console/campagnes/{invitation}/suivis", {**fields, "csrf": ""}).status == 403
    nobody = console.post(f"/console/campagnes/{invitation}/suivis", {**fields, "to_confirmed": "", "to_maybe": ""})
    assert nobody.status == 400 and "cochez au moins un groupe" in nobody.body
    unknown = console.post(f"/console/campagnes/{invitation}/suivis", {**fields, "message": "{{ inconnu }}"})
    assert unknown.status == 400 and "inconnu" in unknown.body and "Traceback" not in unknown.body
    assert "{{ inconnu }}" in unknown.body  # the text typed is kept
    created = console.post(f"/console/campagnes/{invitation}/suivis", fields)
    assert created.status == 303, created.body
    followup = urlsplit(created.location).path.rsplit("/", 1)[1]
    assert parse_qs(urlsplit(created.location).query) == {"quand": ["2023-01-23 10:00"]}
    campaign = records.load_campaign(c.dynamodb, s.table, followup)
    assert (campaign.kind, campaign.parent, campaign.segments) == ("followup", invitation, ("confirmed", "maybe"))

    preview = console.get(path_of(created.location))
    assert preview.status == 200 and f"l’invitation {invitation}" in preview.body
    assert "confirmés, peut-être" in preview.body and "envoi?quand=2023-01-23%2010%3A00" in preview.body
    listing = console.get("/console/campagnes").body
    rows = re.findall(r"<tr( class=\"console-children\")?>\s*<td>(.*?)</td>", listing, re.S)
    assert [bool(child) for child, _ in rows] == [False, True, True]  # under the invitation, oldest first:
    assert "Places libérées :" in rows[1][1] and f"{invitation}-place" in rows[1][1]  # the freed places' e-mails
    assert "Suivi :" in rows[2][1] and followup in rows[2][1]  # then this follow-up

    # redaction prepares, never sends nor schedules
    redac = as_redaction(console, settings)
    redac_csrf = redac.get("/console/campagnes").csrf()
    assert redac.get(f"/console/campagnes/{followup}/suivis/nouveau").status == 200
    assert redac.get(f"/console/campagnes/{followup}/envoi").status == 403
    for path in ("programmer", "deprogrammer", "envoi"):
        answer_ = redac.post(f"/console/campagnes/{followup}/{path}",
                             {"csrf": redac_csrf, "date": "2030-01-23", "time": "10:00", "count": "2"})
        assert answer_.status == 403, path
    assert redac.get(f"/console/campagnes/{followup}/deprogrammer").status == 403

    # Vérifier et envoyer: the groups' count, then a schedule in Paris time, moved, cancelled, set again
    check = console.get(f"/console/campagnes/{followup}/envoi?quand=2023-01-23 10:00")
    assert check.status == 200 and "Envoyer 2 messages" in check.body  # 0 and 3; 1 unsubscribed since
    assert 'id="date" name="date" value="2023-01-23"' in check.body  # the ready-made moment, to adjust
    for date, time, said in (("2030-13-01", "10:00", "date et heure attendues"), ("", "10:00", "indiquez les deux"),
                             ("2023-01-23", "10:00", "est déjà passé")):
        bad = console.post(f"/console/campagnes/{followup}/programmer", {"csrf": csrf, "date": date, "time": time})
        assert bad.status == 400 and said in bad.body, said
    assert not schedules.scheduled(c, s)
    done = console.post(f"/console/campagnes/{followup}/programmer", {"csrf": csrf, "date": "2030-01-23",
                                                                        "time": "10:00"})
    assert done.status == 303 and done.location.startswith(f"/console/campagnes/{followup}/suivi?fait=")
    assert schedules.scheduled(c, s) == {followup: dt.datetime(2030, 1, 23, 9, 0, tzinfo=dt.UTC)}  # 10:00 Paris
    progress = console.get(path_of(done.location))
    assert "Envoi programmé le 23 janvier 2030 à 10 h 00" in progress.body
    assert "programmée le 23 janvier 2030" in console.get("/console/campagnes").body
    moved = console.post(f"/console/campagnes/{followup}/programmer", {"csrf": csrf, "date": "2030-01-23",
                                                                         "time": "11:30"})
    assert moved.status == 303
    assert schedules.scheduled(c, s)[followup] == dt.datetime(2030, 1, 23, 11, 30, tzinfo=PARIS)
    confirm = console.get(f"/console/campagnes/{followup}/deprogrammer")
    assert confirm.status == 200 and "le 23/01/2030 à 11:30 (heure de Paris)" in confirm.body
    assert console.post(f"/console/campagnes/{followup}/deprogrammer", {"csrf": csrf}).status == 303
    assert not schedules.scheduled(c, s)
    assert "Envoi programmé le" not in console.get(f"/console/campagnes/{followup}/suivi").body
    console.post(f"/console/campagnes/{followup}/programmer", {"csrf": csrf, "date": "2030-01-23", "time": "10:00"})

    fired = schedules.fire_due(c, s, now=dt.datetime(2030, 1, 23, 9, 1, tzinfo=dt.UTC))
    assert [(f.campaign_id, f.enqueued, f.refused) for f in fired] == [(followup, 3, "")]
    drain_campaign(settings, followup)
    sent = messages(settings, followup)
    assert set(sent) == {sid(settings, 0), sid(settings, 3)}  # agent01 unsubscribed: skipped at send time
    assert all(m["Subject"].startswith("Rappel : L’État dans le nuage") for m in sent.values())
    text = sent[sid(settings, 0)].get_body(("plain",)).get_content()
    assert "À demain pour L’État dans le nuage" in text and "{{" not in text  # edited text, filled
    assert not schedules.fire_due(c, s, now=dt.datetime(2030, 1, 24, tzinfo=dt.UTC))  # once

    entries = audit.recent(c, s)
    actions = [e["action"] for e in entries]
    assert actions.count("followup") == 1 and actions.count("schedule") == 3 and actions.count("unschedule") == 1
    assert any(e["action"] == "schedule" and e["detail"].startswith("déplacé le 23/01/2030 à 11:30")
               for e in entries)
    assert not any("agent0" in str(e) for e in entries)
    journal = console.get("/console/journal").body
    for word in ("suivi créé", "envoi programmé", "programmation annulée"):
        assert f"<td>{word}</td>" in journal, word


def test_suivi_says_why_a_campaign_paused_itself(cli, settings, tmp_path):
    s, c = settings
    invitation = sent_campaign(cli, tmp_path, people(2))
    console = local_console(settings)
    free = console.get(f"/console/campagnes/{invitation}/suivis/nouveau")
    created = console.post(f"/console/campagnes/{invitation}/suivis",
                           {"csrf": free.csrf(), "modele": "libre", "message": "Un mot.", "to_none": "1"})
    followup = urlsplit(created.location).path.rsplit("/", 1)[1]
    assert records.load_campaign(c.dynamodb, s.table, followup).template.subject.startswith("À propos de : ")
    sent = console.post(f"/console/campagnes/{followup}/envoi", {"csrf": free.csrf(), "count": "2"})
    assert sent.status == 303 and console.sent == [followup]
    assert records.pause_for(c.dynamodb, s.table, followup, "2 rebonds sur 2 envois (100 %)")
    page = console.get(f"/console/campagnes/{followup}/suivi")
    assert "Mise en pause automatique : 2 rebonds sur 2 envois (100 %)" in page.body
    assert 'href="/console/campagnes/' + followup + '/reprendre"' in page.body


def test_on_a_stack_the_schedule_is_an_eventbridge_one_time_schedule(cli, settings, tmp_path):
    """The console's scheduler from the stack's environment, against moto's EventBridge Scheduler."""
    from convier.handlers.console.kit import aws_scheduler

    s, c = settings
    assert aws_scheduler({}, c) is None
    env = {"CONVIER_SCHEDULE_GROUP": "convier-envois-programmes",
           "CONVIER_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/convier-envois-programmes",
           "CONVIER_CAMPAIGN_FUNCTION_ARN": "arn:aws:lambda:eu-west-3:123456789012:function:convier-campagne"}
    scheduler = aws_scheduler(env, c)
    scheduler.client.create_schedule_group(Name=env["CONVIER_SCHEDULE_GROUP"])
    invitation = sent_campaign(cli, tmp_path, people(2))
    console = local_console(settings, scheduler=scheduler)
    free = console.get(f"/console/campagnes/{invitation}/suivis/nouveau")
    created = console.post(f"/console/campagnes/{invitation}/suivis",
                           {"csrf": free.csrf(), "modele": "libre", "message": "Un mot.", "to_none": "1"})
    followup = urlsplit(created.location).path.rsplit("/", 1)[1]
    done = console.post(f"/console/campagnes/{followup}/programmer",
                        {"csrf": free.csrf(), "date": "2030-01-23", "time": "10:00"})
    assert done.status == 303
    found = scheduler.client.get_schedule(Name=f"convier-{followup}", GroupName=env["CONVIER_SCHEDULE_GROUP"])
    assert found["ScheduleExpression"] == "at(2030-01-23T09:00:00)"  # 10:00 in Paris, in UTC
    assert found["Target"]["Arn"] == env["CONVIER_CAMPAIGN_FUNCTION_ARN"]
    assert '"scheduled-send"' in found["Target"]["Input"]
    assert console.post(f"/console/campagnes/{followup}/deprogrammer", {"csrf": free.csrf()}).status == 303
    names = [x["Name"] for x in scheduler.client.list_schedules(GroupName=env["CONVIER_SCHEDULE_GROUP"])["Schedules"]]
    assert f"convier-{followup}" not in names
