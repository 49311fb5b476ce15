"""Pacing to the SES send rate: every worker takes its share, and slows down when throttled.

Pure logic with an injected clock and sleep, so tests drive time by hand.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field

HEADROOM = 0.98  # pace a little under the quota: network jitter bunches requests, and SES counts arrivals
CATCH_UP = 0.99  # after a stall, owed slots are made up at this share of the quota, never at the quota itself


def worker_rate(total_rate: float, workers: int) -> float:
    """Each of `workers` concurrent senders gets an equal share, so that together they stay under the quota."""
    return max(total_rate, 0.01) * HEADROOM / max(workers, 1)


def worker_ceiling(total_rate: float, workers: int) -> float:
    """The fastest a worker ever sends, even while making up for a stall."""
    return max(total_rate, 0.01) * CATCH_UP / max(workers, 1)


def recipients_per_message(total_rate: float, workers: int, seconds: float = 20.0, most: int = 50) -> int:
    """As many recipients as one worker sends in `seconds`: a message fits well within one invocation."""
    return max(1, min(most, int(worker_rate(total_rate, workers) * seconds)))


@dataclass
class Pacer:
    """A slot every 1/rate seconds, and never two closer than 1/ceiling (the quota's share).

    Slots missed during a stall (a slow request, a pause of the server) are still owed, up to
    `catch_up` seconds' worth, and are made up at the ceiling's pace, never faster: the headroom
    between rate and ceiling is what makes up for stalls. Longer behind means the sender was idle:
    nothing is owed. Slows by a quarter on throttling, climbs back 5 % per success.
    """

    rate: float
    clock: callable = time.monotonic
    sleep: callable = time.sleep
    floor: float = 0.2
    catch_up: float = 0.5
    ceiling: float | None = None  # e-mails per second at most; default: the rate
    current: float = field(init=False)
    _next: float = field(init=False, default=-math.inf)
    _last: float = field(init=False, default=-math.inf)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self):
        self.current = self.rate

    def wait(self) -> float:
        """Blocks until this caller's slot (slots are handed out in order across threads); returns the wait."""
        with self._lock:
            now = self.clock()
            owed = self._next if now - self._next <= self.catch_up else now
            spacing = 1.0 / max(self.current, min(self.ceiling or self.rate, self.current * CATCH_UP / HEADROOM))
            at = max(owed, self._last + spacing, now)
            self._last = at
            self._next = owed + 1.0 / self.current
        delay = at - now
        if delay > 0:
            self.sleep(delay)
            return delay
        return 0.0

    def throttled(self) -> None:
        self.current = max(self.floor, self.current * 0.75)

    def succeeded(self) -> None:
        if self.current < self.rate:
            self.current = min(self.rate, self.current * 1.05)


def backoff(attempt: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Exponential backoff with full jitter (attempt 0, 1, 2...)."""
    return random.uniform(0, min(cap, base * 2 ** attempt))
