"""Answers to an invitation as values: yes / no / maybe, the place a "yes" holds, and how an answer changes.

Standard library only. The table layout is store/answers.py; the rules that touch several answers at once
(capacity, waiting list, promotions) are services/rsvp.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

YES, NO, MAYBE = "yes", "no", "maybe"
ANSWERS = (YES, NO, MAYBE)
ANSWER_FR = {YES: "Je participe", NO: "Je ne participe pas", MAYBE: "Peut-être"}
CONFIRMED, WAITING = "confirmed", "waiting"
MAX_HISTORY = 50  # changes kept per answer


@dataclass(frozen=True)
class Rsvp:
    campaign_id: str
    sid: str
    answer: str = ""  # yes / no / maybe; "" when the subscriber has not answered
    at: str = ""
    place: str = ""  # confirmed / waiting for a "yes"; "" otherwise
    waiting_since: str = ""
    history: tuple[dict, ...] = ()  # {answer, at, place[, note]}, oldest first
    version: int = 0  # 0: no item yet
    position: int | None = None  # rank in the waiting list (computed, not stored)

    @property
    def answered(self) -> bool:
        return bool(self.answer)


def next_answer(old: Rsvp, answer: str, place: str, stamp: str, note: str = "") -> Rsvp:
    change = {"answer": answer, "at": stamp, "place": place}
    if note:
        change["note"] = note
    waiting_since = old.waiting_since if (place == WAITING and old.place == WAITING) else (
        stamp if place == WAITING else "")
    return replace(old, answer=answer, at=stamp, place=place, waiting_since=waiting_since,
                   history=(old.history + (change,))[-MAX_HISTORY:], version=old.version + 1, position=None)
