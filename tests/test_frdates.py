"""French dates: formatting the Imprimerie nationale way, and reading them back from free text."""

import datetime as dt

import pytest

from convier.domain import dates
from convier.inputs.campaignfile import CampaignSettings
from convier.inputs.post import parse_post
from convier.render.invitation import build_invitation

PARIS = dates.PARIS


def at(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=PARIS)


def test_long_date_lower_case_day_and_month():
    assert dates.long_date(dt.date(2023, 1, 24)) == "mardi 24 janvier 2023"
    assert dates.long_date(dt.date(2023, 1, 24), weekday=False) == "24 janvier 2023"


def test_first_of_month_is_1er():
    assert dates.long_date(dt.date(2021, 12, 1)) == "mercredi 1er décembre 2021"
    assert dates.day_number(1) == "1er" and dates.day_number(2) == "2"


@pytest.mark.parametrize("hour,minute,text", [(9, 0, "9 h"), (17, 30, "17 h 30"), (18, 5, "18 h 05"), (0, 0, "0 h")])
def test_clock(hour, minute, text):
    assert dates.clock(dt.time(hour, minute)) == text


def test_one_day_with_hours():
    assert dates.when(at(2023, 1, 24, 9), at(2023, 1, 24, 17, 30), all_day=False) == \
        "mardi 24 janvier 2023 de 9 h à 17 h 30"


def test_start_only():
    assert dates.when(at(2023, 1, 24, 9), None, all_day=False) == "mardi 24 janvier 2023 à 9 h"


def test_ranges():
    assert dates.date_range(dt.date(2022, 11, 16), dt.date(2022, 11, 18)) == "du 16 au 18 novembre 2022"
    assert dates.date_range(dt.date(2022, 11, 30), dt.date(2022, 12, 2)) == "du 30 novembre au 2 décembre 2022"
    assert dates.date_range(dt.date(2022, 12, 30), dt.date(2023, 1, 2)) == "du 30 décembre 2022 au 2 janvier 2023"
    assert dates.date_range(dt.date(2021, 9, 1), dt.date(2021, 9, 3)) == "du 1er au 3 septembre 2021"


def test_multi_day_with_times():
    assert dates.when(at(2021, 11, 29, 9), at(2021, 12, 16, 18), all_day=False) == \
        "du lundi 29 novembre 2021 à 9 h au jeudi 16 décembre 2021 à 18 h"


def test_times_shown_in_paris_whatever_the_offset():
    utc = dt.datetime(2023, 1, 24, 8, 0, tzinfo=dt.UTC)  # 9 h in Paris (winter)
    assert dates.when(utc, None, all_day=False) == "mardi 24 janvier 2023 à 9 h"
    summer = dt.datetime(2022, 6, 14, 16, 30, tzinfo=dt.UTC)  # 18 h 30 in Paris (summer)
    assert dates.clock(dates.paris(summer)) == "18 h 30"


def post_with(front: str, body: str = "Texte.") -> str:
    return f"---\n{front}\n---\n{body}\n"


def test_all_day_when_times_are_midnight():
    post = parse_post(post_with("title: Hackathon\nevent_start_date: 2024-06-05 00:00:00 +02:00\n"
                                "event_end_date: 2024-06-06 00:00:00 +02:00"))
    inv = build_invitation(post)
    assert inv.event.all_day
    assert inv.event.when == "du 5 au 6 juin 2024"


def test_timed_event_is_not_all_day():
    post = parse_post(post_with("title: Atelier\nevent_start_date: 2023-01-24 09:00:00 +01:00\n"
                                "event_end_date: 2023-01-24 17:30:00 +01:00"))
    inv = build_invitation(post)
    assert not inv.event.all_day
    assert inv.event.when == "mardi 24 janvier 2023 de 9 h à 17 h 30"


@pytest.mark.parametrize("text,first,last,words", [
    ("une journée dédiée au Cloud le mardi 24 janvier 2023", dt.date(2023, 1, 24), dt.date(2023, 1, 24),
     "mardi 24 janvier 2023"),
    ("Rendez-vous du 16 au 18 novembre 2022 à Nantes", dt.date(2022, 11, 16), dt.date(2022, 11, 18),
     "du 16 au 18 novembre 2022"),
    ("du 30 novembre au 2 décembre 2022", dt.date(2022, 11, 30), dt.date(2022, 12, 2),
     "du 30 novembre au 2 décembre 2022"),
    ("Le 1er mars 2022", dt.date(2022, 3, 1), dt.date(2022, 3, 1), "1er mars 2022"),
    ("à Lille les 7, 8 et 9 septembre 2021", dt.date(2021, 9, 7), dt.date(2021, 9, 9), "les 7, 8 et 9 septembre 2021"),
    ("les 1er et 2 mars 2022", dt.date(2022, 3, 1), dt.date(2022, 3, 2), "les 1er et 2 mars 2022"),
    ("le 15 aout 2023, sans accent", dt.date(2023, 8, 15), dt.date(2023, 8, 15), "15 aout 2023"),
    ("Jeudi 5 Octobre 2023", dt.date(2023, 10, 5), dt.date(2023, 10, 5), "Jeudi 5 Octobre 2023"),
])
def test_find_dates(text, first, last, words):
    assert dates.find_dates(text) == (first, last, words)


@pytest.mark.parametrize("text", ["", "pas de date ici", "le 31 février 2023", "en janvier 2023", "24/01/2023"])
def test_find_dates_none(text):
    assert dates.find_dates(text) is None


def test_date_inferred_from_title_with_a_warning_naming_it():
    post = parse_post(post_with("title: 'Journée Cloud le mardi 24 janvier 2023'"))
    inv = build_invitation(post)
    assert inv.event.start == at(2023, 1, 24) and inv.event.all_day
    assert inv.event.inferred_from == "mardi 24 janvier 2023"
    [warning] = [w for w in inv.warnings if "déduite" in w]
    assert "« mardi 24 janvier 2023 »" in warning and "event.start" in warning


def test_date_inferred_from_chapeau_when_title_has_none():
    post = parse_post(post_with("title: Forum\n"
                                "chapeau-text: Le forum se tient **du 16 au 18 novembre 2022** à Nantes."))
    inv = build_invitation(post)
    assert inv.event.when == "du 16 au 18 novembre 2022"
    assert any("du 16 au 18 novembre 2022" in w and "déduite" in w for w in inv.warnings)


def test_campaign_file_date_wins_over_inference():
    post = parse_post(post_with("title: 'Journée le mardi 24 janvier 2023'"))
    settings = CampaignSettings(event=CampaignSettings().event.__class__(start=at(2023, 1, 24, 9),
                                                                         end=at(2023, 1, 24, 17, 30)))
    inv = build_invitation(post, settings)
    assert inv.event.when == "mardi 24 janvier 2023 de 9 h à 17 h 30"
    assert not any("déduite" in w for w in inv.warnings)


def test_staff_moments_numbers_and_rates_are_french():
    from convier.domain.dates import decimal, number, sheet_moment, short_moment

    assert short_moment("2026-12-02T02:02:11.123+00:00") == "2 déc. 2026 à 03 h 02"  # winter: UTC+1
    assert short_moment("2026-07-01T12:00:00+00:00") == "1er juil. 2026 à 14 h 00"  # summer: UTC+2
    assert short_moment("") == "" and short_moment(None) == ""
    assert sheet_moment("2026-07-01T12:00:00.456+00:00") == "2026-07-01 14:00:00"
    assert number(1234) == "1\u202f234" and number(12) == "12" and number(1234567) == "1\u202f234\u202f567"
    assert decimal(0.2) == "0,2" and decimal(1234.56, 2) == "1\u202f234,56"
