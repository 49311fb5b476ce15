"""The console's « Réponses » page through the real handler against a moto server: segments with their counts,
the waiting list in order, history, the capacity change (envoi only, confirmed first) that promotes and tells
exactly once, the export in the French Excel format, the way to write to a segment."""

from __future__ import annotations

import re

from consolekit import as_redaction, drain_campaign, local_console
from convier.domain.ids import subscriber_id
from convier.services import audit, rsvp
from convier.store import records
from webkit import messages, sent_campaign


def sid(settings, i: int) -> str:
    return subscriber_id(f"agent{i:02d}@exemple.gouv.fr", settings.clients.keys.id_key)


def answer(settings, campaign_id: str, answers: dict[int, str]) -> None:
    """As the web function answers a POST: recorded, and a promoted guest told through the queue."""
    s, c = settings
    campaign = records.load_campaign(c.dynamodb, s.table, campaign_id)
    for i, value in answers.items():
        outcome = rsvp.record_answer(c.dynamodb, s.table, campaign, sid(settings, i), value)
        rsvp.tell_promoted(c, s, campaign, outcome.promoted)


def people(n: int):
    return [(f"agent{i:02d}@exemple.gouv.fr", f"Agent{i:02d}", "Martin") for i in range(n)]


def rows_of(body: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_answers_by_segment_and_the_capacity_change_that_tells_the_promoted(cli, settings, tmp_path):
    s, c = settings
    invitation = sent_campaign(cli, tmp_path, people(6), campaign_yaml="capacity: 2\n")
    answer(settings, invitation, {0: "yes", 1: "yes", 2: "yes", 3: "yes", 4: "no"})  # 2 and 3 wait; 5 silent
    answer(settings, invitation, {1: "maybe"})  # a place freed: 2 promoted (and told), 3 still waits
    console = local_console(settings)
    drain_campaign(settings, records.promotion_of(invitation))
    page = console.get(f"/console/campagnes/{invitation}/reponses")
    assert page.status == 200, page.body
    assert "<dt>Places</dt><dd>2 / 2</dd>" in page.body
    for label, n in (("Confirmés", 2), ("Liste d’attente", 1), ("Peut-être", 1), ("Non", 1), ("Sans réponse", 1)):
        assert f"{label} ({n})" in page.body, label
    assert "prévenu·e par e-mail le" in page.body  # agent02 got the freed place and its e-mail
    history = page.body.split("agent01@exemple.gouv.fr")[1].split("</tr>")[0]
    assert "2 réponses" in history and "Je participe" in history and "Peut-être" in history

    waiting = console.get(f"/console/campagnes/{invitation}/reponses?segment=waiting")
    assert [r for r in rows_of(waiting.body) if "@" in r][0].count("agent03@") == 1
    assert "Rang" in waiting.body and 'href="/console/campagnes/' + invitation + '/suivis/nouveau?to_waiting=1"' \
        in waiting.body
    assert console.get(f"/console/campagnes/{invitation}/reponses?segment=tous").status == 400
    assert console.get("/console/campagnes/20990101-000000/reponses").status == 404

    # the export: the BOM, `;`, French headers, the segment only
    export = console.get(f"/console/campagnes/{invitation}/reponses/export.csv?segment=confirmed")
    assert export.status == 200 and export.body.startswith("\ufeffSegment;Rang;Adresse e-mail")
    assert "attachment" in export.headers["content-disposition"]
    lines = export.body.strip().splitlines()[1:]
    assert sorted(line.split(";")[2] for line in lines) == ["agent00@exemple.gouv.fr", "agent02@exemple.gouv.fr"]

    # redaction may look, not change the capacity
    redac = as_redaction(console, settings)
    assert redac.get(f"/console/campagnes/{invitation}/reponses").status == 200
    assert "Changer la capacité" not in redac.get(f"/console/campagnes/{invitation}/reponses").body
    assert redac.get(f"/console/campagnes/{invitation}/reponses/capacite?places=3").status == 403
    csrf = redac.get("/console/campagnes").csrf()
    assert redac.post(f"/console/campagnes/{invitation}/reponses/capacite",
                      {"csrf": csrf, "places": "3"}).status == 403

    # bad input: French 400 on the page, nothing changed
    bad = console.get(f"/console/campagnes/{invitation}/reponses/capacite?places=trois")
    assert bad.status == 400 and "un nombre entier d’au moins 1" in bad.body
    fewer = console.get(f"/console/campagnes/{invitation}/reponses/capacite?places=1")
    assert fewer.status == 400 and "2 places sont déjà confirmées" in fewer.body
    # raising it: confirm first (a GET changes nothing), then one person promoted and told once
    confirm = console.get(f"/console/campagnes/{invitation}/reponses/capacite?places=3")
    assert confirm.status == 200 and "1 personne de la liste d’attente recevra une place" in confirm.body
    assert records.load_campaign(c.dynamodb, s.table, invitation).capacity == 2
    assert console.post(f"/console/campagnes/{invitation}/reponses/capacite", {"places": "3"}).status == 403
    done = console.post(f"/console/campagnes/{invitation}/reponses/capacite", {"csrf": confirm.csrf(), "places": "3"})
    assert done.status == 303 and "reponses?fait=" in done.location
    assert console.sent == [records.promotion_of(invitation)]
    drain_campaign(settings, records.promotion_of(invitation))
    told = messages(settings, records.promotion_of(invitation))
    assert set(told) == {sid(settings, 2), sid(settings, 3)}  # one e-mail each, the earlier one included
    after = console.get(done.location.replace("http://127.0.0.1:8026", ""))
    assert "a reçu une place" in after.body and "<dt>Places</dt><dd>3 / 3</dd>" in after.body
    assert "Liste d’attente (0)" in after.body

    entries = audit.recent(c, s)
    capacity = [e for e in entries if e["action"] == "capacity"]
    assert len(capacity) == 1 and capacity[0]["detail"] == "2 → 3 places, 1 promus"
    assert not any("agent0" in str(e) for e in entries)
    journal = console.get("/console/journal")
    assert "<td>capacité modifiée</td>" in journal.body


def next_page(body: str) -> str:
    found = re.search(r'href="([^"]*apres=[^"]*)">Page suivante', body)
    return found.group(1).replace("&amp;", "&") if found else ""


def test_a_long_segment_is_shown_page_by_page(cli, settings, tmp_path, monkeypatch):
    from convier.handlers.console import answers as answers_pages

    monkeypatch.setattr(answers_pages, "PER_PAGE", 4)  # 6 guests: two pages
    invitation = sent_campaign(cli, tmp_path, people(6))
    console = local_console(settings)
    first = console.get(f"/console/campagnes/{invitation}/reponses")
    assert first.status == 200 and "1 à 4 sur 6 · page 1 sur 2" in first.body
    assert len([r for r in rows_of(first.body) if "@exemple" in r]) == 4
    assert next_page(first.body).startswith(f"/console/campagnes/{invitation}/reponses?apres=")
    second = console.get(next_page(first.body))
    assert "5 à 6 sur 6 · page 2 sur 2" in second.body and "Page suivante" not in second.body
    assert len([r for r in rows_of(second.body) if "@exemple" in r]) == 2
    shown = {m for page in (first, second) for m in re.findall(r"agent0\d@exemple.gouv.fr", page.body)}
    assert len(shown) == 6  # everyone once
    assert console.get(f"/console/campagnes/{invitation}/reponses?apres=zéro").status == 400
    assert console.get(f"/console/campagnes/{invitation}/reponses?segment=maybe&"
                       f"{next_page(first.body).split('?')[1]}").status == 400  # another segment's address
    none = console.get(f"/console/campagnes/{invitation}/reponses?segment=none")
    later = console.get(next_page(none.body))
    assert later.status == 200 and "page 2 sur 2" in later.body and 'reponses?segment=none">Première page' in later.body
