"""The event an invitation announces: decided once by the renderer, stored with the campaign, read back
by the pages and the calendar file. Standard library only: the web function imports it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from convier.domain import dates


@dataclass(frozen=True)
class Event:
    start: dt.datetime | None
    end: dt.datetime | None = None
    all_day: bool = False
    place: str = ""
    address: str = ""
    access: tuple = ()  # post.Access items: shown in the e-mail, not stored with the campaign
    online_url: str = ""
    inferred_from: str = ""  # the words a date was read from, when the post gave none

    @property
    def when(self) -> str:
        return dates.when(self.start, self.end, self.all_day) if self.start else ""

    def to_record(self) -> dict:
        """As stored in the campaign item (ISO dates; `when` kept for people reading the table)."""
        return {"start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "all_day": self.all_day, "place": self.place, "address": self.address,
                "online_url": self.online_url, "when": self.when}

    @classmethod
    def from_record(cls, record: dict | None) -> Event:
        record = record or {}

        def moment(key):
            try:
                return dt.datetime.fromisoformat(record[key]) if record.get(key) else None
            except (TypeError, ValueError):
                return None

        return cls(start=moment("start"), end=moment("end"), all_day=bool(record.get("all_day")),
                   place=record.get("place") or "", address=record.get("address") or "",
                   online_url=record.get("online_url") or "")


def event_span(event) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    """Start and end as calendars want them: Paris times, or dates with an exclusive end for all-day events.

    The one rule for an event with no end time: it ends when it starts. No calendar is given an invented
    duration: the .ics carries DTSTART alone (RFC 5545 §3.6.1 reads it so, render/calendar.py), the Google
    and Outlook links give the start as the end, and `campaign check` warns that agendas show the start only
    (domain/checks.event_end_problems)."""
    start = dates.paris(event.start)
    end = dates.paris(event.end) if event.end else None
    if event.all_day:
        last = (end or start).date()
        return start.date(), last + dt.timedelta(days=1)
    return start, end or start


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def google_link(event, title: str, details: str) -> str:
    start, end = event_span(event)
    dates = (f"{start:%Y%m%d}/{end:%Y%m%d}" if event.all_day else f"{_utc(start)}/{_utc(end)}")
    location = ", ".join(p for p in (event.place, " ".join(event.address.split())) if p)
    query = {"action": "TEMPLATE", "text": title, "dates": dates, "details": details, "location": location,
             "ctz": "Europe/Paris"}
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_link(event, title: str, details: str) -> str:
    start, end = event_span(event)
    location = ", ".join(p for p in (event.place, " ".join(event.address.split())) if p)
    query = {"path": "/calendar/action/compose", "rru": "addevent", "subject": title,
             "startdt": start.isoformat(), "enddt": end.isoformat(), "allday": str(event.all_day).lower(),
             "location": location, "body": details}
    return "https://outlook.office.com/calendar/0/deeplink/compose?" + urlencode(query)
