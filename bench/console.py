"""Console pages' server time for a campaign of 10,000 recipients (goal: under 50 ms a page).

A moto server in its own process (the embedded default's kind, with its patch), a list of N subscribers (its
counts by status repaired by `recount`, as a list made before they were kept), a campaign rendered from the
example post (capacity N/5) with N send records and a realistic mix of answers written directly
(tests/consolekit.invitation_with_answers: 20 % confirmed, 5 % waiting, 10 % maybe, 20 % no; the send path is
bench/campaign.py's business) then indexed once (store.answers.repair), and a second campaign of the same list
still a draft; then each console page through the real handler, signed in, timed over several calls (median and
min–max, in ms, after one warm-up): in all, and without the time spent in DynamoDB calls (moto is far slower
than DynamoDB on volume: a Query there reads the whole table), with how many requests a page makes and how many
items they return (what grows with the campaign). The pages that read the list's counts are timed again with the
list read instead (what they did before the counts were kept: « lecture » lines), and the Réponses page is timed
again reading every answer, send record and contact (« tout lire », what it did before its index), in the same
run. Also the peak memory of the process (what the console function's MemorySize is sized on). Prints figures;
asserts nothing about time.

    .venv/bin/python bench/console.py [--recipients 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from consolekit import Browser, invitation_with_answers  # noqa: E402
from convier.aws.resources import ensure_resources, ensure_sender_identity  # noqa: E402
from convier.handlers.console import ConsoleConfig, Hooks, handle  # noqa: E402
from convier.local import embedded  # noqa: E402
from convier.services import campaigns, checks, staff  # noqa: E402
from convier.settings import Clients, Settings  # noqa: E402
from convier.store import answers as answer_store  # noqa: E402
from convier.store import subscribers  # noqa: E402
from motokit import running_moto  # noqa: E402

EXAMPLES = ROOT / "examples"


def build(settings, clients, n: int) -> tuple[str, str]:
    """The sent invitation with its answers (consolekit.invitation_with_answers) and a draft of the same list."""
    campaign_id = invitation_with_answers((settings, clients), n, "bench")
    draft, _ = campaigns.create_campaign(clients, settings, post_path=str(EXAMPLES / "seed-journee-cloud-2023.md"),
                                         list_name="bench",
                                         campaign_file=str(EXAMPLES / "campagne-journee-cloud.yaml"),
                                         prepare_sender=ensure_sender_identity)
    return campaign_id, draft.id


@contextlib.contextmanager
def reading_the_list():
    """The pages as they were before the counts were kept: every count read from the list's items."""
    kept_states, kept_audience = subscribers.list_states, checks.audience_counted

    def list_states(dynamo, table, names):
        return {n: (subscribers.list_meta(dynamo, table, n) or {}, subscribers.count_by_status(dynamo, table, n))
                for n in names}

    subscribers.list_states = list_states
    checks.audience_counted = lambda dynamo, table, campaign: checks.audience_read(dynamo, table, campaign)[0]
    try:
        yield
    finally:
        subscribers.list_states, checks.audience_counted = kept_states, kept_audience


@contextlib.contextmanager
def reading_every_answer():
    """The Réponses page as it was before its index: every send record, contact and answer read (`show`),
    one page of it shown."""
    from convier.services import answers

    kept = answers.page

    def page(clients, settings, campaign_id, segment="", after="", size=100):
        view = answers.show(clients, settings, campaign_id)
        shown = view.segment(segment) if segment else view.people
        counts = view.counts
        return answers.Page(campaign=view.campaign, counts=counts, invited=len(view.people),
                            confirmed=view.confirmed, segment=segment, people=tuple(shown[:size]), first=0,
                            after="")

    answers.page = page
    try:
        yield
    finally:
        answers.page = kept


class AwsMeter:
    """Time spent in AWS calls (DynamoDB and SES: botocore events), how many DynamoDB requests and SES calls,
    and how many items the DynamoDB requests returned."""

    def __init__(self, clients):
        self.reset()
        for client in (clients.dynamodb, clients.ses):
            service = client.meta.service_model.service_name
            client.meta.events.register(f"before-call.{service}.*", self._before)
            client.meta.events.register(f"after-call.{service}.*", self._after)

    def reset(self):
        self.seconds, self.calls, self.ses, self.items, self._start = 0.0, 0, 0, 0, 0.0

    def _before(self, **kwargs):
        self._start = time.perf_counter()

    def _after(self, parsed=None, model=None, **kwargs):
        self.seconds += time.perf_counter() - self._start
        if model.service_model.service_name != "dynamodb":
            self.ses += 1
            return
        self.calls += 1
        parsed = parsed or {}
        self.items += len(parsed.get("Items", ())) + sum(len(v) for v in parsed.get("Responses", {}).values())
        self.items += 1 if "Item" in parsed else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with running_moto() as url, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        name = f"b{uuid.uuid4().hex[:8]}"
        base = Settings(endpoint_url=url, table=name, queue_url=f"{url}/123456789012/{name}-send",
                        dead_letter_queue_url=f"{url}/123456789012/{name}-dlq", configuration_set=name, home=home,
                        keys_file=embedded.ensure_keys(home), outbox=home / "outbox",
                        public_url="http://127.0.0.1:8025")
        settings = ensure_resources(base, Clients(base))
        clients = Clients(settings)
        started = time.perf_counter()
        campaign_id, draft_id = build(settings, clients, args.recipients)
        indexing = time.perf_counter()
        counted = answer_store.repair(clients.dynamodb, settings.table, campaign_id)  # the answers' index, once
        print(f"données : {args.recipients} abonnés, envois et {sum(counted.values())} réponses en "
              f"{indexing - started:.0f} s ; index des réponses construit en {time.perf_counter() - indexing:.1f} s "
              f"({', '.join(f'{k} {v}' for k, v in counted.items())})")
        config = ConsoleConfig(secure=False)
        hooks = Hooks(prepare_sender=ensure_sender_identity)
        browser = Browser(lambda event: handle(event, None, settings, clients, config, hooks))
        browser.get(f"/console/connexion/{staff.open_signin(clients, settings)}")
        pages = [
            ("Campagnes", "/console/campagnes", None),
            ("Aperçu", f"/console/campagnes/{campaign_id}", None),
            ("Aperçu, cadre de l’e-mail", f"/console/campagnes/{campaign_id}/courriel", None),
            ("Vérifier et envoyer", f"/console/campagnes/{draft_id}/envoi", None),
            ("  lecture de la liste", f"/console/campagnes/{draft_id}/envoi", reading_the_list),
            ("Vérifier, campagne partie", f"/console/campagnes/{campaign_id}/envoi", None),
            ("Suivi", f"/console/campagnes/{campaign_id}/suivi", None),
            ("Réponses (tous)", f"/console/campagnes/{campaign_id}/reponses", None),
            ("Réponses, confirmés", f"/console/campagnes/{campaign_id}/reponses?segment=confirmed", None),
            ("Réponses, liste d’attente", f"/console/campagnes/{campaign_id}/reponses?segment=waiting", None),
            ("Réponses, sans réponse", f"/console/campagnes/{campaign_id}/reponses?segment=none", None),
            ("  tout lire (avant)", f"/console/campagnes/{campaign_id}/reponses", reading_every_answer),
            ("Listes", "/console/listes", None),
            ("  lecture de la liste", "/console/listes", reading_the_list),
            ("Journal", "/console/journal", None),
        ]
        aws = AwsMeter(clients)
        print(f"{'page':27} {'total':>8} {'hors AWS':>9} {'(min–max)':>13} {'DynamoDB':>9} {'éléments lus':>13}"
              f" {'SES':>4}   (ms, médiane de {args.repeat} appels ; AWS = moto en HTTP ; requêtes par page)")
        for label, path, mode in pages:
            with mode() if mode else contextlib.nullcontext():
                assert browser.get(path).status == 200, path
                totals, own, calls, items, ses = [], [], 0, 0, 0
                for _ in range(args.repeat):
                    aws.reset()
                    t = time.perf_counter()
                    answer = browser.get(path)
                    totals.append((time.perf_counter() - t) * 1000)
                    own.append(totals[-1] - aws.seconds * 1000)
                    calls, items, ses = aws.calls, aws.items, aws.ses
                    assert answer.status == 200, path
            spread = f"({min(own):.1f}–{max(own):.1f})"
            flag = "" if statistics.median(own) < 50 else "   > 50 ms hors AWS"
            print(f"{label:27} {statistics.median(totals):8.1f} {statistics.median(own):9.1f} {spread:>13} "
                  f"{calls:9} {items:13} {ses:4}{flag}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"mémoire maximale du processus : {peak:.0f} Mo")


if __name__ == "__main__":
    main()
