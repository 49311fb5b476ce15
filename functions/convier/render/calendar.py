"""The event as iCalendar (RFC 5545) and as add-to-calendar links for web calendars.

One UID per campaign, so a second download updates the same entry instead of
adding a twin. Timed events carry Europe/Paris with its VTIMEZONE; events with
no time are all-day dates.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from icalendar import Calendar, Event as VEvent

from . import frdates


def _span(event) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    start = frdates.paris(event.start)
    end = frdates.paris(event.end) if event.end else None
    if event.all_day:
        last = (end or start).date()
        return start.date(), last + dt.timedelta(days=1)
    return start, end or start + dt.timedelta(hours=1)


def event_calendar(event, *, uid: str, title: str, description: str, url: str, stamp: dt.datetime | None = None) -> str:
    """The .ics text, lines unfolded (CRLF) so that markers stay whole; fold after filling."""
    cal = Calendar()
    cal.add("prodid", "-//convier//invitations//FR")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    vevent = VEvent()
    vevent.add("uid", uid)
    vevent.add("dtstamp", stamp or dt.datetime.now(dt.timezone.utc))
    start, end = _span(event)
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    vevent.add("summary", title)
    location = ", ".join(p for p in (event.place, " ".join(event.address.split())) if p)
    if event.online_url:
        location = ", ".join(p for p in (location, event.online_url) if p)
    if location:
        vevent.add("location", location)
    vevent.add("description", f"{description}\n\nRépondre ou changer de réponse : {url}".strip())
    vevent.add("url", url)
    vevent.add("transp", "OPAQUE")
    cal.add_component(vevent)
    if not event.all_day:
        cal.add_missing_timezones()
    text = cal.to_ical().decode()
    return text.replace("\r\n ", "")


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def google_link(event, title: str, details: str) -> str:
    start, end = _span(event)
    dates = (f"{start:%Y%m%d}/{end:%Y%m%d}" if event.all_day else f"{_utc(start)}/{_utc(end)}")
    location = ", ".join(p for p in (event.place, " ".join(event.address.split())) if p)
    query = {"action": "TEMPLATE", "text": title, "dates": dates, "details": details, "location": location,
             "ctz": "Europe/Paris"}
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_link(event, title: str, details: str) -> str:
    start, end = _span(event)
    location = ", ".join(p for p in (event.place, " ".join(event.address.split())) if p)
    query = {"path": "/calendar/action/compose", "rru": "addevent", "subject": title,
             "startdt": start.isoformat(), "enddt": end.isoformat(), "allday": str(event.all_day).lower(),
             "location": location, "body": details}
    return "https://outlook.office.com/calendar/0/deeplink/compose?" + urlencode(query)
