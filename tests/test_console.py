"""The console through its handler (API Gateway v2 events), against a moto server: sign-in, pages, roles, CSRF,
the campaign flow from a post to its report, lists and the audit log."""

from __future__ import annotations

import pytest

from consolekit import Browser
from convier.aws.resources import ensure_sender_identity
from convier.handlers.console import ConsoleConfig, Hooks, handle
from convier.local.outbox import sent_hook
from convier.services import audit
from convier.services.staff import open_signin
from samples import SEED
from webkit import people, write_list


@pytest.fixture
def console(settings):
    """A browser on the local console, and a way to get a one-time sign-in address."""
    config = ConsoleConfig(secure=False, local_email="agent.test@exemple.gouv.fr")
    sent = []
    hooks = Hooks(after_send=sent.append, prepare_sender=ensure_sender_identity,
                  on_sent=sent_hook(settings.settings.outbox))  # test copies in the outbox, as the CLI hands in
    browser = Browser(lambda event: handle(event, None, settings.settings, settings.clients, config, hooks))
    browser.sent = sent
    browser.signin = lambda: f"/console/connexion/{open_signin(settings.clients, settings.settings)}"
    return browser


def signed_in(console) -> Browser:
    answer = console.get(console.signin())
    assert answer.status == 303 and answer.location == "/console/campagnes"
    return console


def test_without_a_session_pages_redirect_to_sign_in_and_posts_get_401(console):
    for path in ("/console/campagnes", "/console/campagnes/nouvelle", "/console/listes", "/console/journal",
                 "/console/campagnes/x/suivi", "/console/abonnes?adresse=a@b.fr"):
        answer = console.get(path)
        assert answer.status == 303 and answer.location == "/console/connexion", path
    for path in ("/console/campagnes", "/console/campagnes/x/envoi", "/console/listes", "/console/abonnes/effacer"):
        assert console.post(path, {"csrf": "x"}).status == 401, path
    page = console.get("/console/connexion")
    assert page.status == 200 and "convier console" in page.body


def test_one_time_address_signs_in_once(console, settings):
    address = console.signin()
    first = console.get(address)
    assert first.status == 303
    cookie = first.cookies[0]
    assert cookie.startswith("convier-session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # http://127.0.0.1: a browser would refuse a Secure or __Host- cookie
    campaigns = console.get("/console/campagnes")
    assert campaigns.status == 200 and "<h1>Campagnes</h1>" in campaigns.body
    other = Browser(console.call)
    replay = other.get(address)
    assert replay.status == 401 and "n’est plus valable" in replay.body
    assert not other.jar
    actions = [e["action"] for e in audit.recent(settings.clients, settings.settings)]
    assert actions == ["signin"]


def test_campaign_flow_from_a_list_file_to_the_report(console, settings, tmp_path):
    from convier.handlers.send import sender_for
    from convier.local.worker import drain

    signed_in(console)
    lists_page = console.get("/console/listes")
    csrf = lists_page.csrf()
    bad = write_list(tmp_path, people(3)).read_text() + "pas-une-adresse,Jean,Dupont\n"
    report = console.post("/console/listes", {"csrf": csrf, "list": "invites"},
                          files={"file": ("invites.csv", bad.encode())})
    assert report.status == 200, report.body
    assert "3 ajoutés" in report.body and "1 ligne n’a pas été importée" in report.body
    assert "<th scope=\"row\">5</th>" in report.body  # the spreadsheet's row number (header = row 1)

    form = console.get("/console/campagnes/nouvelle")
    assert "invites" in form.body
    fields = {"csrf": csrf, "list": "invites", "subject": "Invitation : la journée", "start_date": "2030-01-24",
              "start_time": "09:00", "end_date": "2030-01-24", "end_time": "17:30", "place": "Station F",
              "answer_yes": "1", "answer_no": "1"}
    broken = console.post("/console/campagnes", fields, files={"post_file": ("billet.md", b"---\ntitle: [\n---\n")})
    assert broken.status == 400 and "billet.md" in broken.body and "ligne" in broken.body
    created = console.post("/console/campagnes", fields,
                           files={"post_file": ("seed.md", open(SEED, "rb").read())})
    assert created.status == 303, created.body
    preview_path = created.location
    campaign_id = preview_path.rsplit("/", 1)[1]
    preview = console.get(preview_path)
    assert preview.status == 200 and "Invitation : la journée" in preview.body
    assert 'sandbox="allow-popups' in preview.body and "console-frame--390" in preview.body
    frame = console.get(f"{preview_path}/courriel")
    assert frame.status == 200 and "sandbox" in frame.headers["content-security-policy"]

    tested = console.post(f"{preview_path}/test", {"csrf": csrf})
    assert tested.status == 303 and "test=agent.test" in tested.location
    assert list((settings.settings.outbox / campaign_id / "tests").glob("*.eml"))

    check = console.get(f"{preview_path}/envoi")
    assert "Envoyer 3 invitations" in check.body and "disabled" not in check.body.split("Envoyer 3")[0][-200:]
    stale = console.post(f"{preview_path}/envoi", {"csrf": csrf, "count": "4"})
    assert stale.status == 409
    sent = console.post(f"{preview_path}/envoi", {"csrf": csrf, "count": "3"})
    assert sent.status == 303 and sent.location.endswith("/suivi")
    assert console.sent == [campaign_id]
    drain(sender_for(settings.settings, settings.clients), campaign_id=campaign_id)
    progress = console.get(sent.location)
    assert 'id="compteur-envoyes">3<' in progress.body and "3 sur 3" in progress.body
    again = console.get(f"{preview_path}/envoi")  # no longer a draft: nothing can be sent twice from here
    assert "suivez-la depuis la page Suivi" in again.body and f'{preview_path}/suivi"' in again.body
    assert f'action="{preview_path}/envoi"' not in again.body and "Envoyer 3" not in again.body

    report = console.get(f"{preview_path}/reponses.csv")
    assert report.status == 200 and report.body.startswith("\ufeff") and "agent00@exemple.gouv.fr" in report.body
    sends = console.get(f"{preview_path}/rapport.csv")
    assert sends.status == 200 and "agent02@exemple.gouv.fr" in sends.body and "envoyé" in sends.body
    nothing = console.get(f"{preview_path}/renvoyer")
    assert "Aucun destinataire en échec" in nothing.body and "disabled" in nothing.body
    retried = console.post(f"{preview_path}/renvoyer", {"csrf": csrf})
    assert retried.status == 303 and "Rien+%C3%A0+renvoyer" in retried.location
    listing = console.get("/console/campagnes")
    assert "Invitation : la journée" in listing.body and ("terminée" in listing.body or "en cours" in listing.body)

    journal = console.get("/console/journal")
    for word in ("connexion", "import", "création", "envoi de test", "envoi", "export", "rapport téléchargé"):
        assert f"<td>{word}</td>" in journal.body, word
    entries = audit.recent(settings.clients, settings.settings)
    assert not any("agent0" in str(e) for e in entries)  # never a recipient's address


def test_post_without_csrf_changes_nothing(console, settings, tmp_path):
    signed_in(console)
    csrf = console.get("/console/listes").csrf()
    answer = console.post("/console/listes", {"list": "x"}, files={"file": ("a.csv", b"email\na@exemple.gouv.fr\n")})
    assert answer.status == 403
    answer = console.post("/console/listes", {"list": "x", "csrf": csrf[:-2] + "00"},
                          files={"file": ("a.csv", b"email\na@exemple.gouv.fr\n")})
    assert answer.status == 403
    from convier.store import subscribers
    assert not subscribers.list_exists(settings.clients.dynamodb, settings.settings.table, "x")


def test_redaction_member_gets_403_on_every_send_route(console, settings):
    from convier.web import auth

    key = auth.local_key(settings.clients.keys.link_keys[0])
    token = auth.issue_local(key, email="redac@exemple.gouv.fr", groups=(auth.REDACTION,))
    console.jar["convier-session"] = token
    page = console.get("/console/campagnes")
    assert page.status == 200
    csrf = page.csrf()
    for path in ("/console/campagnes/x/envoi", "/console/campagnes/x/suspendre", "/console/campagnes/x/reprendre",
                 "/console/campagnes/x/annuler", "/console/campagnes/x/renvoyer",
                 "/console/abonnes/effacer?adresse=a@b.fr"):
        assert console.get(path).status == 403, path
    for path in ("/console/campagnes/x/envoi", "/console/campagnes/x/suspendre", "/console/campagnes/x/reprendre",
                 "/console/campagnes/x/annuler", "/console/campagnes/x/renvoyer", "/console/abonnes/effacer"):
        assert console.post(path, {"csrf": csrf, "adresse": "a@b.fr", "count": "1"}).status == 403, path
    nobody = auth.issue_local(key, email="x@exemple.gouv.fr", groups=())
    console.jar["convier-session"] = nobody
    assert console.get("/console/campagnes").status == 403


def test_static_files_are_cached_for_a_year(console):
    from convier.web.console import static_base

    css = console.get(f"{static_base()}/dsfr.min.css")
    assert css.status == 200 and "immutable" in css.headers["cache-control"] and ".fr-btn" in css.body
    font = console.get(f"{static_base()}/fonts/Marianne-Regular.woff2")
    assert font.status == 200 and font.headers["content-type"] == "font/woff2"
    assert console.get(f"{static_base()}/..%2Fconsole.py").status == 404
    assert console.get(f"{static_base()}/nothing.css").status == 404
