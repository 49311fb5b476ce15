"""What one campaign costs in AWS requests per recipient, beside SES's own $0.10 per 1,000 e-mails.

On the embedded default (moto), a campaign is created, sent through the real send path, then each
recipient's SES events (Send, Delivery) go through the real feedback handler, and `status` is read
as `--watch` would. botocore event hooks count every request by service and operation, and the
DynamoDB capacity units each one consumes (computed from the item sizes, as on-demand DynamoDB bills
them: writes 1 WRU per KB, 2× in a transaction; strongly consistent reads 1 RRU per 4 KB).
Lambda time: the send function is paced (it waits for its SES slot), so it is billed
workers / rate seconds per recipient at least; the measured CPU time of the send path is printed
beside it. Prices: eu-west-3, on demand, public list prices (2025), written below.

    .venv/bin/python bench/cost.py [--recipients 200]
Last line: `aws_per_1000_usd=X vs_ses=Y` (Y = X / 0.10). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from convier.cli import app, target
from convier.domain.ids import subscriber_id
from convier.handlers import feedback as feedback_handler
from convier.local.worker import drain
from convier.services import campaigns
from convier.services.sending import sender_for

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-journee-cloud-2023.md"
EVENTS = ROOT / "events"

PRICE = {  # USD, eu-west-3 (Paris), on demand
    "dynamodb_wru": 0.7068e-6, "dynamodb_rru": 0.1413e-6,  # per request unit (after the November 2024 cut)
    "sqs_request": 0.40e-6, "sns_publish": 0.50e-6,  # SNS → Lambda deliveries are free
    "lambda_request": 0.20e-6, "lambda_gb_second": 0.0000133334,  # arm64
    "ses_per_1000": 0.10,
}
SES_EVENTS = ("send", "delivery")  # what SES publishes for a delivered e-mail (the configuration set's types)


def item_kb(item: dict | None) -> float:
    return len(json.dumps(item or {})) / 1024


class Meter:
    """Counts requests per (service, operation) and DynamoDB's capacity units, through botocore events."""

    def __init__(self):
        self.requests: Counter = Counter()
        self.wru = 0.0
        self.rru = 0.0
        self.params: dict = {}  # operation → its last API parameters

    def attach(self, client) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-call.{service}.*", self._before(service))
        if service == "dynamodb":  # the API parameters, then the parsed answer (one thread calls at a time)
            client.meta.events.register("before-parameter-build.dynamodb.*", self._params)
            client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, service):
        def hook(model, **_):
            self.requests[(service, model.name)] += 1
        return hook

    def _params(self, params, model, **_):
        self.params[model.name] = dict(params)

    def _after(self, http_response, parsed, model, **_):
        name, params = model.name, self.params.get(model.name, {})
        units = lambda kb, per: max(1, math.ceil(kb / per))  # noqa: E731
        if name in ("PutItem",):
            self.wru += units(item_kb(params.get("Item")), 1)
        elif name in ("UpdateItem", "DeleteItem"):
            self.wru += units(item_kb(parsed.get("Attributes")) + 0.1, 1)
        elif name == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                self.wru += sum(units(item_kb(r.get("PutRequest", {}).get("Item")), 1) for r in requests)
        elif name == "TransactWriteItems":
            self.wru += 2 * len(params["TransactItems"])
        elif name == "GetItem":
            self.rru += units(item_kb(parsed.get("Item")), 4) * (1 if params.get("ConsistentRead") else 0.5)
        elif name == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                self.rru += sum(units(item_kb(i), 4) for i in items) or 1
        elif name == "Query":
            kb = sum(item_kb(i) for i in parsed.get("Items", ()))
            self.rru += units(kb, 4) * (1 if params.get("ConsistentRead") else 0.5)


def ses_event(name: str, campaign_id: str, address: str, sid: str) -> dict:
    event = json.loads((EVENTS / f"sns-ses-{name}.json").read_text(encoding="utf-8"))
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"].replace("camille.durand@interieur.gouv.fr", address))
        message["mail"]["tags"].update(campaign=[campaign_id], sid=[sid])
        record["Sns"]["Message"] = json.dumps(message)
    return event


def memory_mb(function: str) -> int:
    """The function's MemorySize in template.yaml (else the Globals one)."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    block = re.search(rf"\n  {function}:\n(.*?)(?=\n  [A-Za-z]+:\n)", text, re.S)
    found = re.search(r"MemorySize: (\d+)", block.group(1)) if block else None
    default = re.search(r"Globals:.*?MemorySize: (\d+)", text, re.S)
    return int(found.group(1) if found else default.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=14.0, help="MaxSendRate of the stack (template default 14)")
    parser.add_argument("--workers", type=int, default=2, help="SendWorkers of the stack (template default 2)")
    opts = parser.parse_args()
    n = opts.recipients
    home = Path(tempfile.mkdtemp(prefix="convier-cost-"))
    source = home / "liste.csv"
    source.write_text("email;prénom\n" + "".join(f"agent{i}@exemple.gouv.fr;Agent{i}\n" for i in range(n)),
                      encoding="utf-8")
    assert app.main(["--home", str(home), "lists", "import", "cout", str(source)]) == 0
    settings, clients = target.resolve(argparse.Namespace(home=str(home), endpoint_url=None, stack=None), env={})
    settings = replace(settings, send_rate=100_000.0, workers=1)
    clients = replace(clients, settings=settings)
    campaign, _ = campaigns.create_campaign(clients, settings, post_path=str(SEED), list_name="cout",
                                            prepare_sender=target.sender_preparer(settings))

    meter = Meter()
    for service in ("dynamodb", "sqs", "sesv2"):
        meter.attach(clients.client(service))
    campaigns.fan_out(clients, settings, campaign.id)
    sender = sender_for(settings, clients)
    cpu = time.process_time()
    drain(sender, campaign_id=campaign.id, threads=1)
    send_cpu = (time.process_time() - cpu) / n
    send_requests = sum(meter.requests.values())
    for i in range(n):
        address = f"agent{i}@exemple.gouv.fr"
        sid = subscriber_id(address, clients.keys.id_key)
        for name in SES_EVENTS:
            feedback_handler.handle(ses_event(name, campaign.id, address, sid), settings, clients)
    for _ in range(10):  # `status --watch` during the send, every 2 s: a few reads
        campaigns.status(clients, settings, campaign.id)
    st = campaigns.status(clients, settings, campaign.id)
    assert st.sent == n, st

    by_service: dict[str, float] = defaultdict(float)
    by_service["dynamodb"] = (meter.wru * PRICE["dynamodb_wru"] + meter.rru * PRICE["dynamodb_rru"]) / n
    by_service["sqs"] = sum(v for (s, _), v in meter.requests.items() if s == "sqs") * PRICE["sqs_request"] / n
    send_seconds = max(opts.workers / opts.rate, send_cpu)  # paced: waits for its SES slot
    send_gb = memory_mb("SendFunction") / 1024
    feedback_gb = memory_mb("FeedbackFunction") / 1024
    messages = math.ceil(n / 50)
    by_service["lambda (envoi)"] = (send_seconds * send_gb * PRICE["lambda_gb_second"]
                                    + messages / 2 * PRICE["lambda_request"] / n)
    feedback_seconds = 0.03  # per event, a GetItem and a transaction at ~10 ms each, billed by the ms
    by_service["lambda (retours)"] = len(SES_EVENTS) * (PRICE["lambda_request"]
                                                        + feedback_seconds * feedback_gb * PRICE["lambda_gb_second"])
    by_service["sns"] = len(SES_EVENTS) * PRICE["sns_publish"]
    total = sum(by_service.values()) * 1000

    print(f"{n} destinataires, envoyés {st.sent}, état {st.campaign.status}; débit {opts.rate}/s, "
          f"{opts.workers} fonctions d'envoi")
    print("requêtes AWS par destinataire :")
    for (service, op), count in sorted(meter.requests.items()):
        print(f"  {service:9} {op:22} {count / n:6.3f}")
    print(f"  (envoi seul : {send_requests / n:.2f} requêtes ; SES : "
          f"{meter.requests[('sesv2', 'SendEmail')] / n:.2f} SendEmail)")
    print(f"DynamoDB : {meter.wru / n:.2f} WRU et {meter.rru / n:.2f} RRU par destinataire")
    print(f"Lambda envoi : {send_seconds * 1000:.0f} ms facturées par destinataire à {send_gb * 1024:.0f} Mo "
          f"(rythme {opts.workers}/{opts.rate:g} s ; CPU mesuré du chemin d'envoi {send_cpu * 1000:.1f} ms)")
    for service, usd in by_service.items():
        print(f"  {service:18} {usd * 1000:.5f} $ / 1000 e-mails")
    print(f"aws_per_1000_usd={total:.5f} vs_ses={total / PRICE['ses_per_1000']:.3f}")
    from convier.local import embedded
    embedded.stop_server(home)


if __name__ == "__main__":
    main()
