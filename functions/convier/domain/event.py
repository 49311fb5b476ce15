"""The event an invitation announces: decided once by the renderer, stored with the campaign, read back
by the pages and the calendar file. Standard library only: the web function imports it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import frdates


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
        return frdates.when(self.start, self.end, self.all_day) if self.start else ""

    def to_record(self) -> dict:
        """As stored in the campaign item (ISO dates; `when` kept for people reading the table)."""
        return {"start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "all_day": self.all_day, "place": self.place, "address": self.address,
                "online_url": self.online_url, "when": self.when}

    @classmethod
    def from_record(cls, record: dict | None) -> "Event":
        record = record or {}

        def moment(key):
            try:
                return dt.datetime.fromisoformat(record[key]) if record.get(key) else None
            except (TypeError, ValueError):
                return None

        return cls(start=moment("start"), end=moment("end"), all_day=bool(record.get("all_day")),
                   place=record.get("place") or "", address=record.get("address") or "",
                   online_url=record.get("online_url") or "")
