"""One rule for an event with no end time, everywhere a calendar is given: it ends when it starts. The .ics
carries DTSTART alone, the Google and Outlook links give the start as the end, and the check that warns about
it says the same; no calendar gets an invented hour."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from convier.domain import checks
from convier.domain.dates import PARIS
from convier.domain.event import Event, event_span, google_link, outlook_link
from convier.render.calendar import event_calendar

START = dt.datetime(2031, 5, 6, 14, 0, tzinfo=PARIS)
NO_END = Event(start=START, place="Ségur")


def test_an_event_without_an_end_ends_when_it_starts_in_every_calendar():
    start, end = event_span(NO_END)
    assert end == start == START

    google = parse_qs(urlsplit(google_link(NO_END, "Journée", "")).query)
    first, last = google["dates"][0].split("/")
    assert first == last == "20310506T120000Z"

    outlook = parse_qs(urlsplit(outlook_link(NO_END, "Journée", "")).query)
    assert outlook["startdt"] == outlook["enddt"] == [START.isoformat()]

    ics = event_calendar(NO_END, uid="u@exemple.gouv.fr", title="Journée", description="", url="https://x.fr")
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "DTSTART;TZID=Europe/Paris:20310506T140000" in ics and "DTEND" not in ics and "DURATION" not in ics

    (warning,) = checks.event_end_problems(START, None, False, "billet.md, ligne 3")
    assert "que le début" in warning.message and "14 h" in warning.message
    assert "inventée" not in warning.message and "15 h" not in warning.message


def test_an_event_with_an_end_keeps_it_everywhere():
    event = Event(start=START, end=START + dt.timedelta(hours=3))
    assert event_span(event) == (START, START + dt.timedelta(hours=3))
    assert parse_qs(urlsplit(google_link(event, "J", "")).query)["dates"] == ["20310506T120000Z/20310506T150000Z"]
    assert checks.event_end_problems(START, event.end, False, "") == []
