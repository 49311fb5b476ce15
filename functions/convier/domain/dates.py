"""Dates written and read the French way, without depending on the machine's locale.

"mardi 24 janvier 2023 de 9 h à 17 h 30", "du 16 au 18 novembre 2022": the
typographic conventions of the Imprimerie nationale (lower-case day and month,
"1er", "h" with spaces). Times are shown in Europe/Paris whatever offset the
post used.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def paris(moment: dt.datetime) -> dt.datetime:
    """A moment in Paris time; a naive one is taken as already in Paris."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS)


def day_number(day: int) -> str:
    return "1er" if day == 1 else str(day)


def long_date(day: dt.date, weekday: bool = True) -> str:
    text = f"{day_number(day.day)} {MONTHS[day.month - 1]} {day.year}"
    return f"{DAYS[day.weekday()]} {text}" if weekday else text


def clock(moment: dt.time | dt.datetime) -> str:
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def date_range(first: dt.date, last: dt.date) -> str:
    """ "mardi 24 janvier 2023", "du 16 au 18 novembre 2022", "du 30 novembre au 2 décembre 2022"."""
    if first == last:
        return long_date(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"du {day_number(first.day)} au {long_date(last, weekday=False)}"
    if first.year == last.year:
        return f"du {day_number(first.day)} {MONTHS[first.month - 1]} au {long_date(last, weekday=False)}"
    return f"du {long_date(first, weekday=False)} au {long_date(last, weekday=False)}"


def hours(start: dt.datetime, end: dt.datetime | None) -> str:
    """ "de 9 h à 17 h 30", or "à 9 h" without an end."""
    if end is None or end == start:
        return f"à {clock(start)}"
    return f"de {clock(start)} à {clock(end)}"


def when(start: dt.datetime, end: dt.datetime | None, all_day: bool) -> str:
    """The whole sentence fragment for an event's time."""
    start = paris(start)
    end = paris(end) if end else None
    days = date_range(start.date(), (end or start).date())
    if all_day:
        return days
    if end and end.date() != start.date():
        return f"du {long_date(start.date())} à {clock(start)} au {long_date(end.date())} à {clock(end)}"
    return f"{days} {hours(start, end)}"


_MONTH_RE = "|".join(MONTHS + ("fevrier", "aout", "decembre"))
_DAY_RE = "|".join(DAYS)
_NUM = r"(1er|[0-3]?\d)"
_SINGLE = re.compile(
    rf"(?:\b(?:{_DAY_RE})\s+)?\b{_NUM}\s+({_MONTH_RE})\s+(\d{{4}})\b", re.I)
_RANGE = re.compile(
    rf"\bdu\s+(?:(?:{_DAY_RE})\s+)?{_NUM}(?:\s+({_MONTH_RE}))?\s+au\s+(?:(?:{_DAY_RE})\s+)?{_NUM}\s+({_MONTH_RE})\s+(\d{{4}})\b",
    re.I)
_NUM_PLAIN = r"(?:1er|[0-3]?\d)"
_LIST = re.compile(rf"\bles\s+{_NUM}((?:\s*(?:,|-|et)\s*{_NUM_PLAIN})+)\s+({_MONTH_RE})\s+(\d{{4}})\b", re.I)


def _month(name: str) -> int:
    plain = name.lower().replace("é", "e").replace("û", "u")
    return [m.replace("é", "e").replace("û", "u") for m in MONTHS].index(plain) + 1


def _day(text: str) -> int:
    return 1 if text.lower() == "1er" else int(text)


def find_dates(text: str) -> tuple[dt.date, dt.date, str] | None:
    """The first French date or date range in free text: (first day, last day, the words matched)."""
    candidates = []
    for match in _RANGE.finditer(text):
        d1, m1, d2, m2, year = match.groups()
        try:
            last = dt.date(int(year), _month(m2), _day(d2))
            first = dt.date(int(year), _month(m1 or m2), _day(d1))
        except ValueError:
            continue
        if first > last:
            first = first.replace(year=first.year - 1)
        candidates.append((match.start(), first, last, match.group(0)))
    for match in _LIST.finditer(text):
        d1, rest, month, year = match.groups()
        numbers = [_day(d1)] + [_day(n) for n in re.findall(r"1er|\d+", rest)]
        try:
            first = dt.date(int(year), _month(month), min(numbers))
            last = dt.date(int(year), _month(month), max(numbers))
        except ValueError:
            continue
        candidates.append((match.start(), first, last, match.group(0)))
    for match in _SINGLE.finditer(text):
        d1, month, year = match.groups()
        try:
            day = dt.date(int(year), _month(month), _day(d1))
        except ValueError:
            continue
        candidates.append((match.start(), day, day, match.group(0)))
    if not candidates:
        return None
    # The earliest mention wins; at one position, the widest form (a range) wins.
    _, first, last, words = min(candidates, key=lambda c: (c[0], -(c[2] - c[1]).days))
    return first, last, words


_RELATIVE = re.compile(r"^J\s*([+-])\s*(\d{1,3})(?:\s+(?:à\s+)?(\d{1,2})[h:](\d{2})?)?$", re.I)
_ABSOLUTE = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%Y-%m-%d %H:%M:%S")


def send_moment(text: str, event_start: dt.datetime | None = None) -> dt.datetime:
    """When to send, in Paris time: « 2023-01-23 10:00 », « 23/01/2023 10:00 », or relative to the event's day,
    « J-1 10:00 », « J+1 » (9:00 when no time is given). ValueError in French otherwise."""
    text = " ".join((text or "").split())
    found = _RELATIVE.match(text)
    if found:
        if event_start is None:
            raise ValueError(f"« {text} » : l’événement n’a pas de date, indiquez une date et une heure")
        sign, days, hour, minute = found.groups()
        day = paris(event_start).date() + dt.timedelta(days=int(days) * (1 if sign == "+" else -1))
        try:
            clock_time = dt.time(int(hour or 9), int(minute or 0))
        except ValueError:
            raise ValueError(f"« {text} » : heure impossible") from None
        return dt.datetime.combine(day, clock_time, tzinfo=PARIS)
    for pattern in _ABSOLUTE:
        try:
            return dt.datetime.strptime(text, pattern).replace(tzinfo=PARIS)
        except ValueError:
            continue
    raise ValueError(f"« {text} » : date et heure attendues, par exemple « 2023-01-23 10:00 » ou « J-1 10:00 » "
                     "(heure de Paris)")


# --- moments staff read: terminal tables, exports ------------------------------------------------

SHORT_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


def parse_moment(value) -> dt.datetime | None:
    """A stored time stamp (ISO 8601, with or without offset; naive is UTC) or a datetime; None if unreadable."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value or "").strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def short_moment(value) -> str:
    """ "2 déc. 2026 à 03 h 02", in Paris time (stored stamps are UTC); "" when there is none."""
    moment = parse_moment(value)
    if moment is None:
        return ""
    local = moment.astimezone(PARIS)
    day = f"{day_number(local.day)} {SHORT_MONTHS[local.month - 1]} {local.year}"
    return f"{day} à {local.hour:02d} h {local.minute:02d}"


def sheet_moment(value) -> str:
    """ "2026-12-02 03:02:11" in Paris time, no milliseconds nor offset: what a French spreadsheet reads as a date."""
    moment = parse_moment(value)
    return moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


NNBSP = "\u202f"  # narrow no-break space: thousands separator and before ; ! ? in French


def number(n: int) -> str:
    """1234567 -> "1 234 567" (narrow no-break spaces, as the Imprimerie nationale writes them)."""
    return f"{int(n):,}".replace(",", NNBSP)


def decimal(x: float, places: int = 1) -> str:
    """0.2 -> "0,2"; 1234.5 -> "1 234,5"."""
    whole, _, frac = f"{x:,.{places}f}".partition(".")
    return whole.replace(",", NNBSP) + ("," + frac if frac else "")
