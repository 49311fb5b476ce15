"""Before the send: the checks that block a bad campaign, the dry run, the confirmation that names the count.

Pure rules first (domain.checks, domain.dryrun), then the service and the CLI on a moto server.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from convier.domain import checks, dryrun
from convier.domain.checks import Account, Audience, OtherCampaign, Source
from convier.errors import InputError
from convier.inputs.campaignfile import parse_campaign
from convier.services import campaigns
from convier.services.checks import SendRefused, check_campaign

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SEED = EXAMPLES / "seed-journee-cloud-2023.md"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def import_examples(cli, name="invites"):
    for path in sorted(EXAMPLES.glob("*.csv")):
        assert cli("lists", "import", name, path).code == 0


def future_campaign(tmp_path, days=30, **extra) -> Path:
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).replace(microsecond=0)
    lines = ['sender: "Équipe Cloud DINUM <cloud@numerique.gouv.fr>"', "reply_to: cloud@numerique.gouv.fr",
             "event:", f"  start: {start.isoformat(sep=' ')}",
             f"  end: {(start + dt.timedelta(hours=8)).isoformat(sep=' ')}",
             "  place: Station F"] + [f"{k}: {v}" for k, v in extra.items()]
    path = tmp_path / "campagne-future.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def created(cli, *args) -> str:
    result = cli("campaign", "create", *args)
    assert result.code == 0, result.err
    return result.out.strip().splitlines()[-1]


# --- pure rules ------------------------------------------------------------------------------------------

def test_placeholders_in_the_email_are_blocking_with_their_post_line():
    source = Source("billet.md", ("---", "title: Forum", "---", "Programme à venir", "Inscription : lien à ajouter",
                                  "Nos événements à venir nous attendent."))
    problems = checks.placeholder_problems({"objet": "Forum", "texte": "Programme à venir\nInscription : lien à "
                                            "ajouter\nNos événements à venir nous attendent.\n@@GREETING@@"}, source)
    found = {p.message.split("»")[0] + "»": p.where for p in problems}
    assert found == {"texte provisoire « lien à ajouter »": "billet.md, ligne 5",
                     "texte provisoire « à venir »": "billet.md, ligne 4"}  # our own @@ markers are not placeholders
    assert all(p.blocking and p.code == "placeholder" for p in problems)
    for text in ("Date : TBD", "Lieu XXX", "{{ page.lien }}", "{% include x %}", "contact@@exemple"):
        assert checks.placeholder_problems({"texte": text}, Source("b.md", (text,)))[0].where == "b.md, ligne 1"
    assert not checks.placeholder_problems({"texte": "le XXXe siècle, à complet"}, Source("b.md", ()))


def test_the_event_time_against_a_time_written_in_the_body():
    start = dt.datetime(2026, 5, 12, 17, 30, tzinfo=dates_paris())
    source = Source("b.md", ("---", "event_start_date: 2026-05-12 17:30:00 +02:00", "---", "Ouverture des portes",
                             "Horaires : 18h30-21h30", "2h de démonstrations"))
    (problem,) = checks.time_problems(start, False, source, body_first_line=4)
    assert problem.level == checks.WARNING and problem.where == "b.md, ligne 5"
    assert "17 h 30" in problem.message and "18 h 30" in problem.message
    agreeing = Source("b.md", ("Accueil à 17 h 30, fin à 21h30",))
    assert not checks.time_problems(start, False, agreeing, body_first_line=1)


def dates_paris():
    from convier.domain.dates import PARIS
    return PARIS


def test_past_and_too_soon_events_block_and_name_the_date():
    start = dt.datetime(2023, 1, 24, tzinfo=dates_paris())
    (past,) = checks.event_timing_problems(start, None, True, NOW, NOW, "mardi 24 janvier 2023", "b.md, ligne 2")
    assert past.code == "past_event" and "mardi 24 janvier 2023" in past.message and past.blocking
    soon = NOW + dt.timedelta(minutes=30)
    (late,) = checks.event_timing_problems(soon, None, False, NOW, NOW + dt.timedelta(hours=1), "bientôt", "x")
    assert late.code == "too_soon"
    assert not checks.event_timing_problems(soon, None, False, NOW, NOW + dt.timedelta(minutes=10), "", "x")


def test_allow_turns_only_overridable_blocking_problems_into_warnings():
    problems = [checks.Problem(checks.BLOCKING, "past_event", "passé", "x", "y"),
                checks.Problem(checks.BLOCKING, "empty_audience", "vide", "x", "y")]
    out = checks.apply_allow(problems, ["past_event", "empty_audience"])
    assert [(p.code, p.level, p.allowed) for p in out] == [("past_event", "attention", True),
                                                           ("empty_audience", "bloquant", False)]
    assert parse_campaign("allow: [past_event, placeholder]").allow == ("past_event", "placeholder")
    with pytest.raises(InputError, match="empty_audience"):
        parse_campaign("allow: [empty_audience]", "c.yaml")


def test_account_rules_sandbox_quota_identity_duplicates_list_change():
    sandbox = Account(read=True, sandbox=True, max_24h=200, sent_24h=195, max_rate=1)
    assert checks.sandbox_problems(sandbox, 3)[0].code == "sandbox_unverified"
    assert not checks.sandbox_problems(Account(read=True, sandbox=False), 3)
    (quota,) = checks.quota_problems(sandbox, 13)
    assert quota.code == "quota_exceeded" and "5 envois restants" in quota.message
    assert not checks.quota_problems(Account(read=True, max_24h=-1), 10 ** 6)  # unlimited
    assert not checks.quota_problems(Account(read=False), 10 ** 6)  # unknown: SES enforces it
    assert checks.sender_identity_problems("a@b.fr", "b.fr", False)[0].code == "sender_unverified"
    assert not checks.sender_identity_problems("a@b.fr", "b.fr", None)
    others = [OtherCampaign("20260101-aaaaaa", "sent", 13, True), OtherCampaign("20260101-bbbbbb", "draft", 0, True)]
    (dup,) = checks.already_sent_problems(others, "invites")
    assert "20260101-aaaaaa" in dup.message and "bbbbbb" not in dup.message
    assert checks.list_change_problems(20, OtherCampaign("x", "sent", 13, False), "l")[0].code == "list_changed"
    assert not checks.list_change_problems(15, OtherCampaign("x", "sent", 13, False), "l")
    assert checks.audience_problems(Audience(listed=2, unsubscribed=1, bounced=1), "l")[0].code == "empty_audience"


def test_no_reply_sender_signup_links_and_http_links_are_warnings():
    (no_reply,) = checks.sender_problems("DINUM <ne-pas-repondre@numerique.gouv.fr>", "", "campagne.yaml")
    assert no_reply.code == "no_reply" and no_reply.where == "campagne.yaml, sender"
    html = ('<a href="https://www.eventbrite.fr/e/forum-123">Je m’inscris</a>'
            '<a href="https://invitations.gouv.fr/rsvp/@@TOKEN@@">Je participe</a>')
    source = Source("b.md", ("[Je m’inscris](https://www.eventbrite.fr/e/forum-123)", "voir http://exemple.fr/page"))
    problems = checks.link_problems(html, "https://invitations.gouv.fr", source, answers=True)
    assert [(p.code, p.where) for p in problems] == [("signup_link", "b.md, ligne 1"), ("http_link", "b.md, ligne 2")]
    assert [p.code for p in checks.link_problems(html, "https://invitations.gouv.fr", source, answers=False)] == [
        "http_link"]


def test_the_renderers_warnings_become_problems_with_a_code():
    problems = checks.renderer_problems(["HTML de 120 Ko : au-delà de 100 Ko, Gmail coupe le message",
                                         "image sans texte alternatif : a.png (elle sera décrite comme décorative)",
                                         "le billet n’est pas publié (published: false) sur le site"], "b.md", False)
    assert [p.code for p in problems] == ["html_size", "image_alt", "not_published"]
    assert all(not p.blocking for p in problems)


def test_dry_run_figures():
    assert dryrun.wave_size(13, dryrun.WaveSettings()) == 0  # a small list goes at once
    assert dryrun.wave_size(5000, dryrun.WaveSettings()) == 100
    assert dryrun.wave_size(100000, dryrun.WaveSettings()) == 500
    assert dryrun.wave_size(300, dryrun.WaveSettings()) == 20
    plan = dryrun.plan(14000, 14.0, NOW, quota_left=50000, wave=dryrun.WaveSettings())
    assert plan.wave == 280 and plan.seconds == pytest.approx(1000 + 600)
    assert plan.ends == NOW + dt.timedelta(seconds=1600)
    assert plan.ses_cost == pytest.approx(1.40) and plan.quota_left_after == 36000
    assert 0 < plan.aws_cost < plan.ses_cost * 0.05  # the AWS around SES stays a small share of SES's own price


# --- the service and the CLI --------------------------------------------------------------------------------

def test_a_past_dated_post_check_exits_1_naming_the_date_and_send_refuses(cli, settings):
    import_examples(cli)
    campaign_id = created(cli, "--post", SEED, "--list", "invites")
    result = cli("campaign", "check", campaign_id)
    assert result.code == 1
    assert "Vous devez corriger 1 problème" in result.out
    assert "l’événement est passé : mardi 24 janvier 2023" in result.out
    assert "seed-journee-cloud-2023.md, ligne 2" in result.out  # the title the date was read from
    assert "ne-pas-repondre@numerique.gouv.fr" in result.out  # the default sender is a no-reply: warned
    assert "destinataires : 13" in result.out
    refused = cli("campaign", "send", campaign_id, "--yes", "13")
    assert refused.code == 1 and "envoi refusé" in refused.err
    with pytest.raises(SendRefused, match="passé"):  # the rule is the service's: no caller gets around it
        campaigns.start_send(settings.clients, settings.settings, campaign_id, confirm=13)
    assert not (settings.settings.outbox / campaign_id).exists()
    assert campaigns.status(settings.clients, settings.settings, campaign_id).campaign.enqueued == 0


def test_a_placeholder_is_blocked_with_its_line(cli, tmp_path):
    import_examples(cli)
    post = tmp_path / "forum.md"
    text = SEED.read_text(encoding="utf-8").replace(
        "Au programme de cette journée :", "Inscription : lien à ajouter\n\nAu programme de cette journée :")
    post.write_text(text, encoding="utf-8")
    line = text.splitlines().index("Inscription : lien à ajouter") + 1
    campaign_id = created(cli, "--post", post, "--list", "invites", "--campaign", future_campaign(tmp_path))
    result = cli("campaign", "check", campaign_id)
    assert result.code == 1
    assert "« lien à ajouter »" in result.out and f"forum.md, ligne {line}" in result.out
    assert "passé" not in result.out


def test_the_count_must_be_confirmed_exactly(cli, settings, tmp_path):
    import_examples(cli)
    campaign_id = created(cli, "--post", SEED, "--list", "invites", "--campaign", future_campaign(tmp_path))
    check = cli("campaign", "check", campaign_id)
    assert check.code == 0, check.out
    assert "Aucun problème bloquant" in check.out
    dry = cli("campaign", "send", campaign_id, "--dry-run")
    assert dry.code == 0 and "destinataires : 13" in dry.out and "rien n’a été envoyé" in dry.out
    assert not (settings.settings.outbox / campaign_id).exists()
    typo = cli("campaign", "send", campaign_id, "--yes", "12")
    assert typo.code == 1 and "12 confirmé" in typo.err
    assert not (settings.settings.outbox / campaign_id).exists()
    unconfirmed = cli("campaign", "send", campaign_id)  # nobody at the keyboard: nothing sent
    assert unconfirmed.code == 1 and "--yes 13" in unconfirmed.err
    with pytest.raises(SendRefused, match="12 destinataires"):
        campaigns.start_send(settings.clients, settings.settings, campaign_id, confirm=12)
    sent = cli("campaign", "send", campaign_id, "--yes", "13")
    assert sent.code == 0, sent.err
    assert "Envoyés : 13" in sent.out
    assert len(list((settings.settings.outbox / campaign_id).glob("*.eml"))) == 13


def test_the_same_post_to_the_same_list_again_is_blocked_unless_allowed(cli, settings, tmp_path):
    import_examples(cli)
    first = created(cli, "--post", SEED, "--list", "invites", "--campaign", future_campaign(tmp_path))
    assert cli("campaign", "send", first, "--yes", "13").code == 0
    second = created(cli, "--post", SEED, "--list", "invites", "--campaign", future_campaign(tmp_path))
    result = cli("campaign", "check", second)
    assert result.code == 1 and f"déjà parti à la liste « invites » (campagne {first})" in result.out
    third = created(cli, "--post", SEED, "--list", "invites", "--campaign",
                    future_campaign(tmp_path, allow="[already_sent]"))
    allowed = cli("campaign", "check", third)
    assert allowed.code == 0 and "autorisé par le fichier de campagne (allow: already_sent)" in allowed.out


@dataclass
class AccountSES:
    """The real SES client, with the GetAccount answer moto lacks."""

    real: object
    account: dict

    def get_account(self):
        return self.account

    def list_email_identities(self, **kwargs):
        return {"EmailIdentities": [{"IdentityName": "numerique.gouv.fr", "SendingEnabled": True,
                                     "VerificationStatus": "SUCCESS"},
                                    {"IdentityName": "camille.martin@interieur.gouv.fr", "SendingEnabled": True,
                                     "VerificationStatus": "SUCCESS"}]}

    def __getattr__(self, name):
        return getattr(self.real, name)


@dataclass
class Wrapped:
    real: object
    ses: object

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_sandbox_and_quota_come_from_get_account(cli, settings, tmp_path):
    import_examples(cli)
    campaign_id = created(cli, "--post", SEED, "--list", "invites", "--campaign", future_campaign(tmp_path))
    ses = AccountSES(settings.clients.ses, {"ProductionAccessEnabled": False, "SendQuota": {
        "Max24HourSend": 200.0, "SentLast24Hours": 190.0, "MaxSendRate": 1.0}})
    report = check_campaign(Wrapped(settings.clients, ses), settings.settings, campaign_id)
    codes = {p.code: p for p in report.blocking}
    assert set(codes) == {"sandbox_unverified", "quota_exceeded"}
    # 13 less one verified address and one at a verified domain
    assert "11 adresses" in codes["sandbox_unverified"].message
    ses.account = {"ProductionAccessEnabled": True, "SendQuota": {"Max24HourSend": 50000.0,
                                                                  "SentLast24Hours": 1000.0, "MaxSendRate": 14.0}}
    report = check_campaign(Wrapped(settings.clients, ses), settings.settings, campaign_id)
    assert report.ok and report.plan.quota_left == 49000 and report.plan.quota_left_after == 48987


def test_an_unverified_sender_blocks(cli, settings, tmp_path):
    import_examples(cli)
    campaign_id = created(cli, "--post", SEED, "--list", "invites", "--campaign", future_campaign(tmp_path))
    ses = settings.clients.ses
    ses.delete_email_identity(EmailIdentity="numerique.gouv.fr")
    result = cli("campaign", "check", campaign_id)
    assert result.code == 1 and "n’est pas vérifié dans SES" in result.out
    ses.create_email_identity(EmailIdentity="numerique.gouv.fr")


def test_the_campaign_function_refuses_without_the_right_count(cli, settings, tmp_path, monkeypatch):
    from convier.handlers import campaign as campaign_handler

    import_examples(cli)
    campaign_id = created(cli, "--post", SEED, "--list", "invites", "--campaign", future_campaign(tmp_path))
    missing = campaign_handler.handler({"action": "send", "campaign": campaign_id}, None)
    assert missing["ok"] is False and "13" in missing["error"]
    wrong = campaign_handler.handler({"action": "send", "campaign": campaign_id, "confirm": 14}, None)
    assert wrong["ok"] is False
    assert campaign_handler.handler({"action": "send", "campaign": campaign_id, "confirm": 13}, None) == {
        "ok": True, "enqueued": 13}


def test_a_newsletter_has_no_answers_no_calendar_and_no_event_checks(cli, settings, tmp_path):
    from email import message_from_bytes, policy

    import_examples(cli)
    letter = tmp_path / "lettre.yaml"
    letter.write_text('sender: "Équipe Cloud DINUM <cloud@numerique.gouv.fr>"\nanswers: []\n', encoding="utf-8")
    campaign_id = created(cli, "--post", SEED, "--list", "invites", "--campaign", letter)
    result = cli("campaign", "check", campaign_id)
    assert result.code == 0, result.out  # the 2023 date does not matter to a newsletter
    assert "passé" not in result.out and "heure de fin" not in result.out
    assert cli("campaign", "send", campaign_id, "--yes", "13").code == 0
    raw = next((settings.settings.outbox / campaign_id).glob("*.eml")).read_bytes()
    msg = message_from_bytes(raw, policy=policy.default)
    kinds = [p.get_content_type() for p in msg.walk() if not p.is_multipart()]
    assert kinds == ["text/plain", "text/html"]  # no calendar
    html = msg.get_body(("html",)).get_content()
    assert "Je participe" not in html and "?answer=yes" not in html
    assert "désinscri" in html  # still one click away from leaving the list
