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
PROMOTED = "place libérée"  # the note of a change that gave a freed place to someone waiting


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
    promotions: int = 0  # how many times a freed place was given to them: each is told once (services.rsvp)

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
                   history=(old.history + (change,))[-MAX_HISTORY:], version=old.version + 1, position=None,
                   promotions=old.promotions + (note == PROMOTED))


def rank_fr(position: int) -> str:
    return "1re" if position == 1 else f"{position}e"


def answer_line(answer: str, place: str, position: int | None = None) -> str:
    """The recipient's current answer, as a follow-up tells it (one sentence)."""
    if place == WAITING:
        where = f", en {rank_fr(position)} position" if position else ""
        return f"Vous avez répondu « {ANSWER_FR[YES]} » : vous êtes sur la liste d’attente{where}."
    if answer == YES:
        return f"Vous avez répondu « {ANSWER_FR[YES]} » : votre place est confirmée."
    if answer in ANSWER_FR:
        return f"Vous avez répondu « {ANSWER_FR[answer]} »."
    return "Vous n’avez pas encore répondu."
