"""The event as iCalendar (RFC 5545), rendered once per campaign (the web calendar links are in domain.event).

- UID from the event itself: the post and the day it starts, at the sender's domain
  (`seed-journee-cloud-2023-20230124@numerique.gouv.fr`), so the invitation, a reminder and a second
  campaign for the same event update one agenda entry instead of adding twins.
- SEQUENCE: given by the caller (stored per event UID, raised when time, place or title change).
- Timed events in Europe/Paris with a VTIMEZONE of the two yearly rules (last Sunday of March and
  of October): what Outlook and ical.js read right; a list of RDATEs makes ical.js an hour late.
- No end time: DTSTART alone (RFC 5545: the event ends when it starts), never an invented hour.
- An event over several days: an all-day span, shown free (TRANSP:TRANSPARENT), not one busy block.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard
from icalendar import Event as VEvent

from convier.domain import dates

TZID = "Europe/Paris"


def event_uid(source: str, event, sender_domain: str) -> str:
    """`{post}-{first day}@{sender domain}`: the same for every campaign about this event."""
    stem = re.sub(r"[^a-z0-9-]+", "-", Path(source or "evenement").stem.lower()).strip("-")[:60] or "evenement"
    day = dates.paris(event.start).strftime("%Y%m%d") if event and event.start else "sans-date"
    return f"{stem}-{day}@{sender_domain or 'convier.invalid'}"


def event_fingerprint(event, title: str) -> str:
    """What agendas show: a change here raises SEQUENCE."""
    parts = [event.start.isoformat() if event.start else "", event.end.isoformat() if event.end else "",
             str(event.all_day), event.place, " ".join(event.address.split()), event.online_url, title]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def multi_day(event) -> bool:
    return bool(event.end) and dates.paris(event.end).date() > dates.paris(event.start).date()


def paris_timezone() -> Timezone:
    tz = Timezone()
    tz.add("tzid", TZID)
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("dtstart", dt.datetime(1981, 3, 29, 2, 0, 0))
    summer.add("tzoffsetfrom", dt.timedelta(hours=1))
    summer.add("tzoffsetto", dt.timedelta(hours=2))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("dtstart", dt.datetime(1996, 10, 27, 3, 0, 0))
    winter.add("tzoffsetfrom", dt.timedelta(hours=2))
    winter.add("tzoffsetto", dt.timedelta(hours=1))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    tz.add_component(summer)
    tz.add_component(winter)
    return tz


def uid_of(ics: str) -> str:
    """The UID of a stored .ics ("" when there is none)."""
    found = re.search(r"^UID:(.*?)\r?$", ics or "", re.M)
    return found.group(1).strip() if found else ""


def sequence_of(ics: str) -> int:
    found = re.search(r"^SEQUENCE:(\d+)\r?$", ics or "", re.M)
    return int(found.group(1)) if found else 0


def event_calendar(event, *, uid: str, title: str, description: str, url: str, sequence: int = 0,
                   stamp: dt.datetime | None = None, cancelled: bool = False) -> str:
    """The .ics text, lines unfolded (CRLF) so that markers stay whole; fold after filling.

    The invitation is published (METHOD:PUBLISH, no attendees): an update is the same UID published again
    with a higher SEQUENCE (RFC 5546 3.2.1); `cancelled` gives METHOD:CANCEL and STATUS:CANCELLED (3.2.5),
    which agendas read as « remove this entry »."""
    cal = Calendar()
    cal.add("prodid", "-//convier//invitations//FR")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    vevent = VEvent()
    vevent.add("uid", uid)
    vevent.add("sequence", sequence)
    if cancelled:
        vevent.add("status", "CANCELLED")
    vevent.add("dtstamp", stamp or dt.datetime.now(dt.UTC))
    start = dates.paris(event.start)
    timed = not event.all_day and not multi_day(event)
    if timed:
        vevent.add("dtstart", start.replace(tzinfo=None), parameters={"TZID": TZID})
        if event.end and event.end != event.start:
            vevent.add("dtend", dates.paris(event.end).replace(tzinfo=None), parameters={"TZID": TZID})
    else:
        last = dates.paris(event.end).date() if event.end else start.date()
        vevent.add("dtstart", start.date())
        vevent.add("dtend", last + dt.timedelta(days=1))
    vevent.add("summary", title)
    location = ", ".join(p for p in (event.place, " ".join(event.address.split())) if p)
    if event.online_url:
        location = ", ".join(p for p in (location, event.online_url) if p)
    if location:
        vevent.add("location", location)
    link = "Plus d’informations" if cancelled else "Répondre ou changer de réponse"
    vevent.add("description", f"{description}\n\n{link} : {url}".strip())
    vevent.add("url", url)
    vevent.add("transp", "OPAQUE" if timed or not multi_day(event) else "TRANSPARENT")
    if timed:
        cal.add_component(paris_timezone())
    cal.add_component(vevent)
    text = cal.to_ical().decode()
    return text.replace("\r\n ", "")
