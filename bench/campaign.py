"""A 10,000-recipient campaign on the embedded default, against a bare boto3 SendEmail loop; then pacing.

1. Throughput: the campaign (fan-out to SQS, local worker running the real
   send handler: claim, personalise, MIME, SES, mark) divided by a bare loop
   of `sesv2.send_email` sending the same 10,000 pre-built messages to the
   same moto server, one after the other. Target: ratio <= 1.25.
2. Pacing: a wrapper around the real SES client that throttles anything over
   the rate in any one-second window (as SES does); the sender, configured at
   14/s and at 50/s, should reach >= 0.97 of it with 0 lost and 0 duplicates.
3. Status: the requests (and time) of one `campaign status` at 1,000 and
   10,000 recipients (send records and counters written with batch writes),
   counted with botocore event hooks: the same count at both sizes.
Prints figures, last line `status_requests_1000=N status_requests_10000=M`; asserts nothing about time.
The defaults fit a shared 2-core machine (a few minutes); `--recipients 10000` is the full run.

    .venv/bin/python bench/campaign.py [--recipients 2000] [--paced 700] [--threads 4] [--paced-threads 8]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import replace
from pathlib import Path

from botocore.exceptions import ClientError

from convier.cli import app, target
from convier.domain.ids import make_token
from convier.domain.mime import build_message, prepare
from convier.local.worker import drain
from convier.services import campaigns
from convier.services.sending import sender_for
from convier.settings import Clients
from convier.store import records

SEED = Path(__file__).resolve().parents[1] / "examples" / "seed-journee-cloud-2023.md"
SEED_CAMPAIGN = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "campagne-seed-2023.yaml"


class PacedSES:
    """Real SES client behind a 50/s limit, as SES applies its quota: more than 50 accepted in any
    one-second window, and the call fails with TooManyRequestsException."""

    def __init__(self, real, rate: float):
        self.real, self.rate, self.lock = real, int(rate), threading.Lock()
        self.window: deque[float] = deque()
        self.accepted: Counter = Counter()
        self.throttled = 0
        self.times: list[float] = []

    def send_email(self, **kwargs):
        with self.lock:
            now = time.monotonic()
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            if len(self.window) >= self.rate:
                self.throttled += 1
                raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "rate"}}, "SendEmail")
            self.window.append(now)
        response = self.real.send_email(**kwargs)
        with self.lock:
            self.accepted[kwargs["Destination"]["ToAddresses"][0]] += 1
            self.times.append(time.monotonic())
        return response

    def __getattr__(self, name):
        return getattr(self.real, name)


class WithSES:
    def __init__(self, real, ses):
        self.real, self.ses = real, ses

    def __getattr__(self, name):
        return getattr(self.real, name)


def make_list(path: Path, n: int, prefix: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["email", "prénom", "nom"])
        for i in range(n):
            writer.writerow([f"{prefix}{i}@exemple.gouv.fr", f"Agent{i}", "Bench"])


def campaign_for(home: Path, settings, clients, list_name: str, n: int) -> str:
    source = home / f"{list_name}.csv"
    make_list(source, n, list_name)
    assert app.main(["--home", str(home), "lists", "import", list_name, str(source)]) == 0
    campaign, _ = campaigns.create_campaign(clients, settings, post_path=str(SEED), list_name=list_name,
                                            prepare_sender=target.sender_preparer(settings),
                                            campaign_file=str(SEED_CAMPAIGN))  # allows the 2023 date
    return campaign.id


def seeded_campaign(settings, clients, size: int) -> str:
    """A sending campaign whose `size` recipients are all `sent`, written with batch writes (no SES)."""
    from convier.domain.mime import MessageTemplate
    from convier.store import ddb, keys

    campaign_id = f"20990101-{size:06x}"
    template = MessageTemplate.from_parts(campaign_id=campaign_id, sender="É <a@numerique.gouv.fr>", subject="x",
                                          html="<p>x</p>", text="x", ics="", public_url="http://127.0.0.1")
    records.put_campaign(clients.dynamodb, settings.table, records.Campaign(
        id=campaign_id, list_name="bench", status=records.SENDING, template=template, audience=size))
    now = records.now_iso()
    ddb.batch_write(clients.dynamodb, settings.table, [
        {"PK": keys.campaign_pk(campaign_id), "SK": keys.send_sk(f"{i:032x}"), "state": records.SENT, "sent_at": now}
        for i in range(size)])
    for shard in range(records.COUNTER_SHARDS):
        share = size // records.COUNTER_SHARDS + (shard < size % records.COUNTER_SHARDS)
        records.add_counts(clients.dynamodb, settings.table, campaign_id, {"sent": share}, shard=shard)
    return campaign_id


def chunk_rates(times: list[float], size: int = 1000) -> list[float]:
    times = sorted(times)
    size = min(size, max(2, len(times) // 5))
    return [size / (times[i + size - 1] - times[i]) for i in range(0, len(times) - size + 1, size)
            if times[i + size - 1] > times[i]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--paced", type=int, default=700, help="recipients of the 50/s run (the 14/s run: 2/7 of it)")
    parser.add_argument("--threads", type=int, default=4, help="local worker threads for the throughput run")
    parser.add_argument("--paced-threads", type=int, default=8,
                        help="threads for the paced run: enough that one is always ready when a slot comes")
    opts = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="convier-bench-"))
    args = argparse.Namespace(home=str(home), endpoint_url=None, stack=None)
    settings, clients = target.resolve(args, env={})
    settings = replace(settings, send_rate=100_000.0, workers=1)
    clients = replace(clients, settings=settings)
    n = opts.recipients

    # 1. throughput against the bare loop, same server, same messages
    campaign_id = campaign_for(home, settings, clients, "bench", n)
    campaign = records.load_campaign(clients.dynamodb, settings.table, campaign_id)
    prepared = prepare(campaign.template)
    keys = clients.keys.link_keys
    bare_messages = [build_message(campaign.template, prepared, to_address=f"bare{i}@exemple.gouv.fr",
                                   first_name=f"Agent{i}", token=make_token(campaign_id, f"{i:032x}", keys))
                     for i in range(n)]
    ses = clients.ses
    start = time.perf_counter()
    bare_times = []
    for i, raw in enumerate(bare_messages):
        ses.send_email(FromEmailAddress=campaign.template.sender_address,
                       Destination={"ToAddresses": [f"bare{i}@exemple.gouv.fr"]}, Content={"Raw": {"Data": raw}},
                       ConfigurationSetName=settings.configuration_set)
        bare_times.append(time.monotonic())
    bare = time.perf_counter() - start

    start = time.perf_counter()
    campaigns.fan_out(clients, settings, campaign_id)
    fanned = time.perf_counter() - start
    sender = sender_for(settings, clients)
    times = []
    result = drain(sender, campaign_id=campaign_id, threads=opts.threads,
                   on_batch=lambda c: times.extend([time.monotonic()] * c.sent))
    ours = time.perf_counter() - start
    st = campaigns.status(clients, settings, campaign_id)
    print(f"bare boto3 SendEmail loop: {n} messages in {bare:.1f} s ({n / bare:.0f}/s; "
          f"per-chunk rate median {statistics.median(chunk_rates(bare_times)):.0f}/s)")
    ours_rates = chunk_rates(times) or [n / ours]
    print(f"convier campaign ({opts.threads} worker threads): {result.counts.sent} sent in {ours:.1f} s "
          f"({n / ours:.0f}/s; per-chunk rate median {statistics.median(ours_rates):.0f}/s, "
          f"min {min(ours_rates):.0f}, max {max(ours_rates):.0f}); status sent={st.sent} failed={st.failed} "
          f"unknown={st.unknown}")
    first_to_last = max(times) - min(times) if len(times) > 1 else ours
    print(f"  of which fan-out {fanned:.1f} s, first to last batch {first_to_last:.1f} s")
    ratio = ours / bare

    # 2. pacing against the SES limit, at 14/s and at 50/s
    ratios = {}
    for rate, size in ((14.0, max(50, opts.paced * 2 // 7)), (50.0, opts.paced)):
        paced_id = campaign_for(home, settings, clients, f"paced{int(rate)}", size)
        paced_settings = replace(settings, send_rate=rate)
        wrapper = PacedSES(clients.ses, rate)
        paced_clients = WithSES(replace(clients, settings=paced_settings), wrapper)
        campaigns.fan_out(clients, paced_settings, paced_id)
        sender = sender_for(paced_settings, paced_clients)  # paced as the send function paces itself
        drain(sender, campaign_id=paced_id, threads=opts.paced_threads)
        achieved = (len(wrapper.times) - 1) / (max(wrapper.times) - min(wrapper.times))
        st = campaigns.status(clients, settings, paced_id)
        lost = size - st.sent
        duplicates = sum(1 for c in wrapper.accepted.values() if c > 1)
        ratios[rate] = achieved / rate
        print(f"paced {rate:g}/s: {len(wrapper.times)} sent at {achieved:.2f}/s, ratio {achieved / rate:.3f}, "
              f"{wrapper.throttled} throttled calls, lost={lost} duplicates={duplicates}, status {st.campaign.status}")
    print(f"campaign_vs_bare={ratio:.2f} paced_rate_ratio_14={ratios[14.0]:.3f} paced_rate_ratio_50={ratios[50.0]:.3f}")

    # 3. status at 1,000 and 10,000 recipients: requests counted by botocore's event hooks
    figures = {}
    for size in (1000, 10_000):
        status_id = seeded_campaign(settings, clients, size)
        fresh = Clients(settings)
        campaigns.status(fresh, settings, status_id)  # finds it complete: one recount, then `done`
        seen = Counter()
        fresh.dynamodb.meta.events.register("before-call.dynamodb.*",
                                            lambda model, seen=seen, **_: seen.update([model.name]))
        start = time.perf_counter()
        for _ in range(5):
            campaigns.status(fresh, settings, status_id)
        took = (time.perf_counter() - start) / 5
        figures[size] = sum(seen.values()) // 5
        print(f"status at {size} recipients: {figures[size]} requests ({dict(seen)} over 5 calls), "
              f"{took * 1000:.0f} ms per call")
    print(f"status_requests_1000={figures[1000]} status_requests_10000={figures[10_000]}")
    from convier.local import embedded
    embedded.stop_server(home)


if __name__ == "__main__":
    main()
