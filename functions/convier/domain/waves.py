"""The safe start: a first wave, SES feedback awaited, then the rest; a campaign that bounces too much pauses.

Pure decisions over counters and times (standard library only), so that tests drive time by hand, as with
domain.pacing. SES reviews an account whose bounces pass 5 % or complaints 0.1 % of what it delivered: past
either, the campaign pauses itself, at any time, with the reason staff read in `campaign status`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

WAIT, RELEASE, PAUSE = "wait", "release", "pause"


@dataclass(frozen=True)
class Feedback:
    """What SES said so far about a campaign (or a wave)."""

    delivered: int = 0
    bounced: int = 0  # permanent bounces
    complained: int = 0
    soft_bounced: int = 0
    rejected: int = 0

    @property
    def heard(self) -> int:
        """Recipients SES told us about (a message reaches one outcome that ends its wait)."""
        return self.delivered + self.bounced + self.complained + self.soft_bounced + self.rejected


def _percent(share: float) -> str:
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + " %"


def too_many(feedback: Feedback, bounce_limit: float, complaint_limit: float) -> str:
    """The French reason to pause, or "" while the rates are under the limits (shares of what was delivered)."""
    delivered = feedback.delivered
    if feedback.bounced and (delivered == 0 or feedback.bounced / delivered > bounce_limit):
        share = feedback.bounced / delivered if delivered else 1.0
        return (f"rebonds définitifs {_percent(share)} des e-mails remis ({feedback.bounced} pour {delivered}), "
                f"au-delà de {_percent(bounce_limit)} : vérifiez la liste (adresses périmées ?) avant de reprendre")
    if feedback.complained and (delivered == 0 or feedback.complained / delivered > complaint_limit):
        share = feedback.complained / delivered if delivered else 1.0
        return (f"plaintes {_percent(share)} des e-mails remis ({feedback.complained} pour {delivered}), "
                f"au-delà de {_percent(complaint_limit)} : vérifiez le consentement de la liste avant de reprendre")
    return ""


@dataclass(frozen=True)
class Decision:
    action: str  # WAIT, RELEASE, PAUSE
    reason: str = ""
    wait: float = 0.0  # seconds left to wait (WAIT)


def after_wave(*, wave: int, sent: int, feedback: Feedback, now: dt.datetime, until: dt.datetime,
               bounce_limit: float, complaint_limit: float) -> Decision:
    """What to do once the first wave is out: pause on bad rates; release the rest when SES has told us about
    every message of the wave, or when the wait is over; else wait."""
    reason = too_many(feedback, bounce_limit, complaint_limit)
    if reason:
        return Decision(PAUSE, reason)
    if sent >= wave and feedback.heard >= sent:
        return Decision(RELEASE, "retours SES reçus pour toute la première vague")
    if now >= until:
        return Decision(RELEASE, f"attente terminée ({feedback.heard} retours SES sur {sent} envois)")
    return Decision(WAIT, wait=(until - now).total_seconds())
