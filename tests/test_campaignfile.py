"""The campaign file: every key optional, typos and wrong kinds refused with the key's name."""

import datetime as dt
from pathlib import Path

import pytest

from convier.cli.app import main
from convier.errors import InputError
from convier.inputs.campaignfile import DEFAULT_SITE_URL, parse_campaign, read_campaign
from samples import SEED as _SEED

FIXTURES = Path(__file__).parent / "fixtures"

SEED = str(_SEED)


def test_full_file():
    s = parse_campaign(
        'subject: "Invitation : L’État dans le nuage"\n'
        'sender: "Équipe Cloud DINUM <cloud@numerique.gouv.fr>"\n'
        "reply_to: cloud@numerique.gouv.fr\n"
        "public_url: https://invitations.numerique.gouv.fr/\n"
        "event:\n  start: 2023-01-24 09:00:00 +01:00\n  end: 2023-01-24 17:30:00 +01:00\n  place: Station F\n"
        "capacity: 150\nanswers: [yes, no]\n")
    assert s.subject == "Invitation : L’État dans le nuage"
    assert s.public_url == "https://invitations.numerique.gouv.fr"
    assert s.site_url == DEFAULT_SITE_URL
    assert s.event.start.hour == 9 and s.event.place == "Station F"
    assert s.capacity == 150 and s.answers == ("yes", "no")


def test_empty_file_is_defaults():
    assert parse_campaign("").answers == ("yes", "no", "maybe")
    assert read_campaign(None).site_url == DEFAULT_SITE_URL


@pytest.mark.parametrize("text,words", [
    ("sendr: a@b.fr\n", "clé inconnue « sendr »"),
    ("event:\n  lieu: Paris\n", "clé inconnue « event.lieu »"),
    ("event: Paris\n", "« event » doit être un ensemble de clés"),
    ("capacity: beaucoup\n", "« capacity » doit être un nombre entier positif"),
    ("capacity: 0\n", "« capacity »"),
    ("capacity: true\n", "« capacity »"),
    ("answers: [oui]\n", "« answers »"),
    ("answers: [yes, peut-être]\n", "« answers »"),
    ("sender: pas une adresse\n", "« sender » n’est pas une adresse électronique"),
    ('sender: "A <a@b.fr>\\nBcc: x@y.fr"\n', "« sender » ne doit pas contenir de retour à la ligne"),
    ("public_url: http://exemple.fr\n", "« public_url » doit être une adresse https://"),
    ("site_url: [a]\n", "« site_url » doit être un texte"),
    ("event:\n  start: mardi prochain\n", "« event.start » n’est pas une date"),
    ("event:\n  start: 2023-01-24 10:00:00\n  end: 2023-01-24 09:00:00\n", "« event.end » est antérieure"),
    ("- subject\n", "doit être un ensemble de clés"),
    ('subject: "ouvert\n', "ligne 1 : YAML invalide"),
])
def test_bad_values_name_the_key(text, words):
    with pytest.raises(InputError) as err:
        parse_campaign(text, "campagne.yaml")
    assert str(err.value).startswith("campagne.yaml") and words in str(err.value)


@pytest.mark.parametrize("name,words", [
    ("campaign-unknown-key.yaml", "clé inconnue « sendr »"),
    ("campaign-bad-capacity.yaml", "« capacity »"),
    ("campaign-bad-start.yaml", "« event.start »"),
    ("campaign-invalid-yaml.yaml", "ligne 1 : YAML invalide"),
    ("absent.yaml", "lecture impossible"),
])
def test_bad_campaign_files_through_the_cli(name, words, tmp_path, capsys):
    path = FIXTURES / name
    code = main(["render", SEED, "--campaign", str(path), "--out", str(tmp_path / "out")])
    err = " ".join(capsys.readouterr().err.split())
    assert code != 0 and str(path) in err and words in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_campaign_overrides_post(tmp_path):
    campaign = tmp_path / "c.yaml"
    campaign.write_text("subject: Objet choisi\nevent:\n  start: 2023-01-24 09:00:00 +01:00\n"
                        "  end: 2023-01-24 17:30:00 +01:00\n  place: Station F\n", encoding="utf-8")
    assert main(["render", SEED, "--campaign", str(campaign), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "invitation.txt").read_text(encoding="utf-8").replace("\u00a0", " ")
    assert "Quand : mardi 24 janvier 2023 de 9 h à 17 h 30" in text and "Où : Station F" in text
    assert read_campaign(campaign).event.start == dt.datetime(2023, 1, 24, 9, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def test_documented_answers_line_is_read_as_answers_not_booleans():
    # DESIGN.md writes `answers: [yes, no, maybe]`; YAML 1.1 turns yes/no into True/False.
    assert parse_campaign("answers: [yes, no, maybe]\n").answers == ("yes", "no", "maybe")
    assert parse_campaign("answers: [yes, maybe]\n").answers == ("yes", "maybe")
    assert parse_campaign("answers: ['no', 'yes']\n").answers == ("no", "yes")
