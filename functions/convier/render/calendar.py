"""The event as iCalendar (RFC 5545), rendered once per campaign (the web calendar links are in domain.event).

One UID per campaign, so a second download updates the same entry instead of
adding a twin. Timed events carry Europe/Paris with its VTIMEZONE; events with
no time are all-day dates.
"""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar
from icalendar import Event as VEvent

from convier.domain.event import event_span


def event_calendar(event, *, uid: str, title: str, description: str, url: str, stamp: dt.datetime | None = None) -> str:
    """The .ics text, lines unfolded (CRLF) so that markers stay whole; fold after filling."""
    cal = Calendar()
    cal.add("prodid", "-//convier//invitations//FR")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    vevent = VEvent()
    vevent.add("uid", uid)
    vevent.add("dtstamp", stamp or dt.datetime.now(dt.UTC))
    start, end = event_span(event)
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
