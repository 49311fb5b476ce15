"""The dry run: how many, how long, until when, for how much, and what the SES quota keeps. Pure.

Costs
-----
SES: $0.10 per 1,000 e-mails (its public price, the same in every region).

AWS around SES, per recipient, from the requests the send path makes for one recipient
(services/sending.py; bench/cost.py of issue 12 is to measure them on the embedded default and replace
these figures):
- DynamoDB: one BatchGetItem share (subscriber + suppression: 2 eventually consistent reads of
  under 4 KB = 1 read unit), one conditional PutItem (the claim: 1 write unit), one BatchWriteItem
  share (the result: 1 write unit);
- SQS: SendMessageBatch, ReceiveMessage and DeleteMessage for a message of up to 50 recipients:
  3 requests / 50;
- Lambda (arm64, 512 MB): the send function is paced, so it runs about 1/rate seconds per recipient;
  at 14 e-mails/s, 0.071 s × 0.5 GB.
Prices are eu-west-3 (Paris) on-demand list prices: DynamoDB $0.7069 per million write units and
$0.1413 per million read units, SQS $0.40 per million requests, Lambda arm64 $0.0000133334 per GB-s.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

SES_PER_1000 = 0.10
DDB_WRITE_UNIT = 0.7069e-6
DDB_READ_UNIT = 0.1413e-6
SQS_REQUEST = 0.40e-6
LAMBDA_GB_SECOND = 0.0000133334
SEND_MEMORY_GB = 0.5

WRITE_UNITS_PER_RECIPIENT = 2  # claim + result
READ_UNITS_PER_RECIPIENT = 1  # subscriber + suppression, eventually consistent
SQS_REQUESTS_PER_RECIPIENT = 3 / 50


def aws_cost_per_recipient(rate: float) -> float:
    """Dollars of DynamoDB, SQS and Lambda one recipient costs at `rate` e-mails per second."""
    lambda_seconds = 1 / max(rate, 0.1)
    return (WRITE_UNITS_PER_RECIPIENT * DDB_WRITE_UNIT + READ_UNITS_PER_RECIPIENT * DDB_READ_UNIT
            + SQS_REQUESTS_PER_RECIPIENT * SQS_REQUEST + lambda_seconds * SEND_MEMORY_GB * LAMBDA_GB_SECOND)


# --- the first wave (safe start) ---------------------------------------------------------------------

@dataclass(frozen=True)
class WaveSettings:
    share: float = 0.02  # of the audience
    least: int = 20
    most: int = 500
    wait: float = 600.0  # seconds of SES feedback awaited after the wave, at most
    bounce_limit: float = 0.05  # bounces / delivered past which the campaign pauses itself
    complaint_limit: float = 0.001  # complaints / delivered


def wave_size(recipients: int, wave: WaveSettings) -> int:
    """The first wave: 2 % of the audience, at least 20, at most 500; 0 when the list is that small."""
    size = min(wave.most, max(wave.least, math.ceil(recipients * wave.share)))
    return size if size < recipients else 0


@dataclass(frozen=True)
class SendPlan:
    recipients: int
    rate: float  # e-mails per second
    starts: dt.datetime
    wave: int  # recipients in the first wave (0: no wave)
    wave_wait: float  # seconds waited for SES feedback after it
    quota_left: float | None  # the 24 h quota left now (None: unknown or unlimited)

    @property
    def sending_seconds(self) -> float:
        return self.recipients / max(self.rate, 0.01)

    @property
    def seconds(self) -> float:
        return self.sending_seconds + (self.wave_wait if self.wave else 0)

    @property
    def ends(self) -> dt.datetime:
        return self.starts + dt.timedelta(seconds=self.seconds)

    @property
    def ses_cost(self) -> float:
        return self.recipients * SES_PER_1000 / 1000

    @property
    def aws_cost(self) -> float:
        return self.recipients * aws_cost_per_recipient(self.rate)

    @property
    def quota_left_after(self) -> float | None:
        return None if self.quota_left is None else self.quota_left - self.recipients


def plan(recipients: int, rate: float, now: dt.datetime, quota_left: float | None,
         wave: WaveSettings | None) -> SendPlan:
    size = wave_size(recipients, wave) if wave else 0
    return SendPlan(recipients=recipients, rate=rate, starts=now, wave=size,
                    wave_wait=wave.wait if (wave and size) else 0.0, quota_left=quota_left)
