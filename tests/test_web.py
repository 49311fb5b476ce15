"""The web function through the sample events in events/ (API Gateway v2), on a moto server:
the links of real outbox e-mails, answers, calendar, unsubscribe, and every kind of bad request."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest
from icalendar import Calendar

from convier.domain.ids import make_token
from convier.handlers import web
from convier.store import ddb, keys, records, subscribers
from samples import SEED
from webkit import SEED_AGAIN, SEED_CAMPAIGN, event, form, links_of, messages, send, sent_campaign, write_list


def call(settings, ev):
    return web.handle(ev, None, *settings)


def ok_page(response, status=200):
    assert response["statusCode"] == status, response
    assert response["headers"]["Content-Type"].startswith("text/html")
    body = response["body"]
    assert '<html lang="fr">' in body and "Traceback" not in body
    return body


def export(cli, campaign_id) -> list[dict]:
    result = cli("rsvps", "export", campaign_id)
    assert result.code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out.removeprefix("\ufeff")), delimiter=";"))


def rsvp_items(settings, campaign_id):
    return list(ddb.query(settings.clients.dynamodb, settings.settings.table, keys.campaign_pk(campaign_id), "RSVP#"))


@pytest.fixture
def sent(cli, settings, tmp_path):
    rows = [("camille.durand@exemple.gouv.fr", "Camille", "Durand"), ("lou.bernard@exemple.gouv.fr", "Lou", "Bernard")]
    campaign_id = sent_campaign(cli, tmp_path, rows)
    return campaign_id, messages(settings, campaign_id)


def test_rsvp_from_an_outbox_email_get_changes_nothing_post_is_exported(cli, settings, sent):
    campaign_id, mails = sent
    sid, message = next(iter(mails.items()))
    links = links_of(message)
    body = ok_page(call(settings, event("web-rsvp-get.json", links["token"])))
    assert "L’État dans le nuage" in body and "mardi 24 janvier 2023" in body
    assert 'value="yes" checked' in body  # ?answer=yes preselects it
    pending = "Votre réponse n’est pas encore enregistrée"
    assert pending in body and body.index(pending) < body.index('<button type="submit"')  # says the 2nd click matters
    assert rsvp_items(settings, campaign_id) == []  # GET changes nothing
    body = ok_page(call(settings, form({"answer": "yes"}, event("web-rsvp-post.json", links["token"]))))
    assert "Votre réponse est enregistrée" in body and "event.ics" in body
    assert "calendar.google.com" in body and "outlook.office.com" in body
    rows = {r["adresse électronique"]: r for r in export(cli, campaign_id)}
    answered = [r for r in rows.values() if r["réponse"]]
    assert len(answered) == 1 and answered[0]["réponse"] == "oui" and answered[0]["place"] == "confirmée"
    assert answered[0]["répondu le"].startswith("20")
    # the page now shows the current answer
    body = ok_page(call(settings, event("web-rsvp-get.json", links["token"], rawQueryString="",
                                       queryStringParameters=None)))
    assert "Votre réponse actuelle" in body and "Je participe" in body
    assert pending not in body


def test_answer_changes_are_kept_with_their_time_last_one_wins(settings, sent):
    campaign_id, mails = sent
    token = links_of(next(iter(mails.values())))["token"]
    for answer in ("yes", "maybe", "no"):
        ok_page(call(settings, form({"answer": answer}, event("web-rsvp-post.json", token))))
    (item,) = rsvp_items(settings, campaign_id)
    assert item["answer"] == "no" and item["place"] == ""
    assert [h["answer"] for h in item["history"]] == ["yes", "maybe", "no"]
    assert all(h["at"] for h in item["history"])


def test_the_calendar_parses_and_carries_the_event_date(settings, sent):
    campaign_id, mails = sent
    token = links_of(next(iter(mails.values())))["token"]
    response = call(settings, event("web-ics-get.json", token))
    assert response["statusCode"] == 200 and response["headers"]["Content-Type"].startswith("text/calendar")
    text = response["body"]
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cal = Calendar.from_ical(text)
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["UID"]) == "seed-journee-cloud-2023-20230124@numerique.gouv.fr"  # the event's, not the campaign's
    start = vevent.decoded("DTSTART")
    assert start.isoformat().startswith("2023-01-24")
    assert f"/rsvp/{token}" in str(vevent["URL"])
    again = Calendar.from_ical(call(settings, event("web-ics-get.json", token))["body"])
    assert str(again.walk("VEVENT")[0]["UID"]) == str(vevent["UID"])  # stable: a second download updates


def test_a_tampered_token_gets_a_french_404_for_get_and_post_and_changes_nothing(settings, sent):
    campaign_id, mails = sent
    token = links_of(next(iter(mails.values())))["token"]
    campaign, sid_part, mac = token.split(".")
    tampered = [f"{campaign}.{sid_part}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}", f"{campaign}.{sid_part}",
                "x", f"{campaign}.{sid_part[::-1]}.{mac}", token + "A", "..", "%00", "a" * 300]
    for bad in tampered:
        for name in ("web-rsvp-get.json", "web-ics-get.json", "web-unsubscribe-get.json"):
            body = ok_page(call(settings, event(name, bad)), 404)
            assert "Ce lien n’est pas valable" in body
        for name, data in (("web-rsvp-post.json", {"answer": "yes"}),
                           ("web-unsubscribe-post.json", {"action": "unsubscribe"}),
                           ("web-unsubscribe-one-click.json", "List-Unsubscribe=One-Click")):
            response = call(settings, form(data, event(name, bad)))
            assert response["statusCode"] == 404, (bad, name)
    assert rsvp_items(settings, campaign_id) == []
    s, c = settings
    assert subscribers.count_by_status(c.dynamodb, s.table, "invites")["subscribed"] == 2


def test_a_token_of_another_campaign_or_for_another_subscriber_is_refused(cli, settings, sent, tmp_path):
    campaign_a, mails = sent
    (sid, message), (other_sid, _) = list(mails.items())[:2]
    token = links_of(message)["token"]
    campaign_b = sent_campaign(cli, tmp_path, [("x@exemple.gouv.fr", "X", "Y")], list_name="autre",
                               csv_name="autre.csv")
    _, sid_part, mac = token.split(".")
    swapped = f"{campaign_b}.{sid_part}.{mac}"  # campaign A's signature on campaign B
    assert call(settings, event("web-rsvp-get.json", swapped))["statusCode"] == 404
    assert call(settings, form({"answer": "yes"}, event("web-rsvp-post.json", swapped)))["statusCode"] == 404
    # validly signed for campaign B, but the subscriber is not on B's list: unknown
    keys = settings.clients.keys.link_keys
    assert call(settings, event("web-rsvp-get.json", make_token(campaign_b, sid, keys)))["statusCode"] == 404
    # a forged token for an unknown campaign, signed with a key we do not hold
    assert call(settings, event("web-rsvp-get.json", make_token(campaign_a, sid, (b"k" * 32,))))["statusCode"] == 404
    assert rsvp_items(settings, campaign_a) == [] and rsvp_items(settings, campaign_b) == []


def test_a_replayed_answer_is_idempotent_and_a_replayed_unsubscribe_stays_unsubscribed(settings, sent):
    campaign_id, mails = sent
    links = links_of(next(iter(mails.values())))
    for _ in range(3):
        ok_page(call(settings, form({"answer": "yes"}, event("web-rsvp-post.json", links["token"]))))
    (item,) = rsvp_items(settings, campaign_id)
    assert item["answer"] == "yes" and item["place"] == "confirmed"
    for _ in range(2):
        assert call(settings, form("List-Unsubscribe=One-Click",
                                   event("web-unsubscribe-one-click.json", links["token"])))["statusCode"] == 200
    s, c = settings
    assert subscribers.count_by_status(c.dynamodb, s.table, "invites")["unsubscribed"] == 1


def test_missing_or_unknown_answer_wrong_method_and_oversized_body_are_4xx(settings, sent):
    campaign_id, mails = sent
    token = links_of(next(iter(mails.values())))["token"]
    for data in ({}, {"answer": ""}, {"answer": "peut-être"}, {"answer": "<script>"}, "%%%", "answer"):
        body = ok_page(call(settings, form(data, event("web-rsvp-post.json", token))), 400)
        assert "Choisissez une réponse" in body and "<script>" not in body
    response = call(settings, form({"answer": "yes" * 2000}, event("web-rsvp-post.json", token)))
    assert response["statusCode"] == 413 and "trop volumineuse" in response["body"]
    not_base64 = {**event("web-rsvp-post.json", token), "body": "@@@", "isBase64Encoded": True}
    assert 400 <= call(settings, not_base64)["statusCode"] < 500
    for method in ("PUT", "DELETE", "PATCH"):
        ev = event("web-rsvp-get.json", token)
        ev["requestContext"]["http"]["method"] = method
        response = call(settings, ev)
        assert response["statusCode"] == 405 and "GET, POST" in response["headers"]["Allow"]
    ev = event("web-ics-get.json", token)
    ev["requestContext"]["http"]["method"] = "POST"
    assert call(settings, ev)["statusCode"] == 405
    ev = event("web-rsvp-get.json", token, rawPath="/ailleurs")
    ev["requestContext"]["http"]["path"] = "/ailleurs"
    assert ok_page(call(settings, ev), 404)
    assert rsvp_items(settings, campaign_id) == []


def test_unsubscribe_page_then_post_then_undo(settings, sent):
    campaign_id, mails = sent
    s, c = settings
    sid, message = next(iter(mails.items()))
    token = links_of(message)["token"]
    body = ok_page(call(settings, event("web-unsubscribe-get.json", token)))
    assert "Me désinscrire" in body and body.count("<button") == 1
    assert subscribers.get_subscriber(c.dynamodb, s.table, "invites", sid).status == "subscribed"
    body = ok_page(call(settings, form({"action": "unsubscribe"}, event("web-unsubscribe-post.json", token))))
    assert "Vous êtes désinscrit" in body and 'value="resubscribe"' in body
    sub = subscribers.get_subscriber(c.dynamodb, s.table, "invites", sid)
    assert sub.status == "unsubscribed"
    body = ok_page(call(settings, form({"action": "resubscribe"}, event("web-unsubscribe-post.json", token))))
    assert "de nouveau inscrit" in body
    assert subscribers.get_subscriber(c.dynamodb, s.table, "invites", sid).status == "subscribed"


def test_one_click_unsubscribes_and_the_next_campaign_skips_them(cli, settings, sent, tmp_path):
    campaign_id, mails = sent
    s, c = settings
    sid, message = next(iter(mails.items()))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = links_of(message)["unsubscribe"]
    token = path.rsplit("/", 1)[1]
    response = call(settings, form("List-Unsubscribe=One-Click", event("web-unsubscribe-one-click.json", token)))
    assert response["statusCode"] == 200 and response["headers"]["Content-Type"].startswith("text/plain")
    assert "désinscrit" in response["body"]
    assert subscribers.get_subscriber(c.dynamodb, s.table, "invites", sid).status == "unsubscribed"
    # multipart, as some mail clients send it
    other_sid, other = list(mails.items())[1]
    boundary = "----convier"
    multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
                 f"One-Click\r\n--{boundary}--\r\n")
    ev = form(multipart, event("web-unsubscribe-one-click.json", links_of(other)["token"]))
    ev["headers"]["content-type"] = f"multipart/form-data; boundary={boundary}"
    assert call(settings, ev)["statusCode"] == 200
    assert subscribers.get_subscriber(c.dynamodb, s.table, "invites", other_sid).status == "unsubscribed"
    # the next campaign to that list skips both (a newcomer keeps its audience from being empty)
    assert cli("lists", "import", "invites", write_list(tmp_path, [("nouveau@exemple.gouv.fr", "Noa", "Petit")],
                                                        "nouveau.csv")).code == 0
    result = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_AGAIN)
    next_id = result.out.strip().splitlines()[-1]
    assert send(cli, next_id).code == 0
    sends = records.send_records(c.dynamodb, s.table, next_id)
    assert sends[sid]["state"] == "skipped" and sends[sid]["reason"] == "unsubscribed"
    assert not list((s.outbox / next_id).glob(f"{sid}.eml"))


def test_html_in_names_and_attributes_is_escaped_on_every_page(cli, settings, tmp_path):
    evil = '<script>alert(1)</script>'
    s, c = settings
    list_file = write_list(tmp_path, [("evil@exemple.gouv.fr", "Eve", "Durand")])
    assert cli("lists", "import", "invites", list_file).code == 0
    # the import strips tags; names can still come from elsewhere (an older import, another tool): put them raw
    (sub,) = subscribers.iter_subscribers(c.dynamodb, s.table, "invites")
    raw = replace(sub, first_name=f'{evil}"><img src=x onerror=alert(2)>', last_name="<b>Durand</b>",
                  attributes={"service": "<i>DINUM</i>"})
    c.dynamodb.put_item(TableName=s.table, Item=ddb.to_item(raw.to_item()))
    result = cli("campaign", "create", "--post", SEED, "--list", "invites", "--campaign", SEED_CAMPAIGN)
    campaign_id = result.out.strip().splitlines()[-1]
    assert send(cli, campaign_id).code == 0
    (message,) = messages(settings, campaign_id).values()
    token = links_of(message)["token"]
    bodies = [call(settings, event("web-rsvp-get.json", token))["body"],
              call(settings, form({"answer": "yes"}, event("web-rsvp-post.json", token)))["body"],
              call(settings, event("web-unsubscribe-get.json", token))["body"],
              call(settings, form({"action": "unsubscribe"}, event("web-unsubscribe-post.json", token)))["body"]]
    for body in bodies:
        assert "<script>alert" not in body and "<img src=x" not in body and "<b>Durand" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in bodies[0]
    # the CSV export is data: the name comes back exactly as imported
    (row,) = export(cli, campaign_id)
    assert row["prénom"].startswith(evil) and row["nom"] == "<b>Durand</b>" and row["service"] == "<i>DINUM</i>"
    html = next((s.outbox / campaign_id).glob("*.html")).read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html  # the e-mail's greeting too


def test_a_name_with_line_breaks_never_adds_a_header_through_the_send_path(cli, settings, tmp_path):
    path = tmp_path / "injection.csv"
    path.write_text('email,prénom,nom\r\ninj@exemple.gouv.fr,"Eve\r\nBcc: victim@exemple.org","X\nSubject: pwned"\r\n',
                    encoding="utf-8")
    assert cli("lists", "import", "inj", path).code == 0
    result = cli("campaign", "create", "--post", SEED, "--list", "inj", "--campaign", SEED_CAMPAIGN)
    campaign_id = result.out.strip().splitlines()[-1]
    assert send(cli, campaign_id).code == 0
    (raw_path,) = (settings.settings.outbox / campaign_id).glob("*.eml")
    raw = raw_path.read_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n") if line and line[:1] not in b" \t"]
    assert b"bcc" not in names and names.count(b"subject") == 1 and names.count(b"to") == 1
    (message,) = messages(settings, campaign_id).values()
    assert "\n" not in str(message["To"]) and "inj@exemple.gouv.fr" in str(message["To"])


def test_the_lambda_entry_point_reads_its_settings_from_the_environment(settings, sent, monkeypatch):
    campaign_id, mails = sent
    token = links_of(next(iter(mails.values())))["token"]
    for key, value in settings.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(web, "_process", None)
    response = web.handler(event("web-rsvp-get.json", token), None)
    assert response["statusCode"] == 200 and "24 janvier 2023" in response["body"]
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in response["headers"]["Content-Security-Policy"]
    assert response["headers"]["Strict-Transport-Security"].startswith("max-age=")


def test_sample_events_are_api_gateway_v2_requests():
    from webkit import EVENTS

    names = sorted(p.name for p in EVENTS.glob("web-*.json"))
    assert len(names) == 6
    for name in names:
        data = json.loads((EVENTS / name).read_text())
        assert data["version"] == "2.0" and "TOKEN" in data["rawPath"]
        assert data["requestContext"]["http"]["method"] in ("GET", "POST")
