"""Pacing to the SES send rate: every worker takes its share, and slows down when throttled.

Pure logic with an injected clock and sleep, so tests drive time by hand.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field


HEADROOM = 0.97  # pace a little under the quota: network jitter bunches requests, and SES counts arrivals


def worker_rate(total_rate: float, workers: int) -> float:
    """Each of `workers` concurrent senders gets an equal share, so that together they stay under the quota."""
    return max(total_rate, 0.01) * HEADROOM / max(workers, 1)


def recipients_per_message(total_rate: float, workers: int, seconds: float = 20.0, most: int = 50) -> int:
    """As many recipients as one worker sends in `seconds`: a message fits well within one invocation."""
    return max(1, min(most, int(worker_rate(total_rate, workers) * seconds)))


@dataclass
class Pacer:
    """A slot every 1/rate seconds; slows by a quarter on throttling, climbs back 5 % per success."""

    rate: float
    clock: callable = time.monotonic
    sleep: callable = time.sleep
    floor: float = 0.2
    current: float = field(init=False)
    _next: float = field(init=False, default=0.0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self):
        self.current = self.rate

    def wait(self) -> float:
        """Blocks until this caller's slot (slots are handed out in order across threads); returns the wait."""
        with self._lock:
            now = self.clock()
            interval = 1.0 / self.current
            slot = max(self._next, now - interval)  # a caller just late may still take the slot it missed
            self._next = slot + interval
        delay = slot - now
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
