"""Segments of an invitation's recipients by their answer: who a follow-up goes to.

Staff name them in French (`confirmés`, `liste d'attente`, `peut-être`, `non`, `sans réponse`, `tous`), alone or
joined by commas; a recipient is in exactly one of the first five. Standard library only.
"""

from __future__ import annotations

import unicodedata

from convier.domain.answers import CONFIRMED, MAYBE, NO, WAITING, YES

NONE, ALL = "none", "all"
SEGMENTS = (CONFIRMED, WAITING, MAYBE, NO, NONE)
SEGMENT_FR = {CONFIRMED: "confirmés", WAITING: "liste d’attente", MAYBE: "peut-être", NO: "non",
              NONE: "sans réponse", ALL: "tous"}
_ALIASES = {"confirmes": CONFIRMED, "confirme": CONFIRMED, "oui": CONFIRMED, "inscrits": CONFIRMED,
            "liste d'attente": WAITING, "attente": WAITING, "en attente": WAITING,
            "peut-etre": MAYBE, "non": NO, "sans reponse": NONE, "sans-reponse": NONE, "aucune reponse": NONE,
            "tous": ALL, "tout le monde": ALL}


def _plain(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.strip().lower().replace("’", "'"))
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def parse_segments(text: str) -> tuple[str, ...]:
    """`"confirmés,peut-être"` → ("confirmed", "maybe"), in the order of SEGMENTS; ValueError names the bad one."""
    wanted: set[str] = set()
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key = _ALIASES.get(_plain(part))
        if key is None:
            raise ValueError(f"segment inconnu : « {part.strip()} » (attendus : "
                             + ", ".join(SEGMENT_FR[s] for s in SEGMENTS + (ALL,)) + ")")
        wanted |= set(SEGMENTS) if key == ALL else {key}
    if not wanted:
        raise ValueError("aucun segment : indiquez par exemple « confirmés,peut-être »")
    return tuple(s for s in SEGMENTS if s in wanted)


def segments_fr(segments: tuple[str, ...]) -> str:
    if set(segments) == set(SEGMENTS):
        return SEGMENT_FR[ALL]
    return ", ".join(SEGMENT_FR[s] for s in segments)


def segment_of(answer: str, place: str) -> str:
    """The segment of one recipient, from their answer to the invitation ("" when they have none)."""
    if place == WAITING:
        return WAITING
    if answer == YES:
        return CONFIRMED
    if answer in (NO, MAYBE):
        return answer
    return NONE


def select(recipients, answers: dict[str, tuple[str, str]], segments: tuple[str, ...]) -> list[str]:
    """The recipients (sids) in one of `segments`; `answers` maps a sid to its (answer, place)."""
    return [sid for sid in recipients if segment_of(*answers.get(sid, ("", ""))) in segments]
