"""Cold start of the send function: a fresh interpreter importing the handler, then making its clients.

Baseline in the same run: a fresh interpreter doing nothing (`python -c pass`), so the figure is the
handler's own cost. Also checks which heavy modules the send path pulled in (it must pull none).
Prints figures; asserts nothing about time.

    .venv/bin/python bench/cold_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import convier.handlers.send as h
t1 = time.perf_counter()
from convier.settings import Clients, Settings
c = Clients(Settings(endpoint_url="http://127.0.0.1:9", region="eu-west-3"))
c.dynamodb; c.sqs; c.ses
t2 = time.perf_counter()
heavy = [m for m in ("jinja2", "mjml", "markdown_it", "nh3", "icalendar", "inscriptis", "yaml", "rich",
                     "email_validator", "frontmatter", "aws_lambda_powertools") if m in sys.modules]
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "clients_ms": (t2 - t1) * 1e3, "heavy": heavy}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    samples, bare = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
        samples.append(json.loads(out))
        t = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True)
        bare.append(sum(int(line.split("|")[1]) for line in t.stderr.splitlines()[1:]) / 1e3)
    imports = [s["import_ms"] for s in samples]
    clients = [s["clients_ms"] + s["import_ms"] for s in samples]

    def show(name, values):
        q = statistics.quantiles(values, n=4)
        return f"{name}: median {statistics.median(values):.0f} ms (IQR {q[0]:.0f}–{q[2]:.0f}, n={len(values)})"

    print(show("import convier.handlers.send", imports))
    print(show("import + boto3 clients (dynamodb, sqs, sesv2)", clients))
    print(show("baseline: interpreter start-up imports", bare))
    print(f"heavy modules imported by the send path: {samples[0]['heavy'] or 'none'}")
    print(f"send_handler_import_ms={statistics.median(imports):.0f} "
          f"with_clients_ms={statistics.median(clients):.0f}")


if __name__ == "__main__":
    main()
