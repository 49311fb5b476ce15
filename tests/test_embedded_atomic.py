"""The embedded default is as atomic as DynamoDB: 20 simultaneous « oui » at capacity 3, posted to the links
server over HTTP against the moto server the CLI starts, leave exactly 3 confirmed and 17 waiting in order."""

from __future__ import annotations

import argparse
import os
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from convier.cli.target import resolve, sender_preparer
from convier.domain.ids import make_token, subscriber_id
from convier.inputs import listfile
from convier.local import embedded, linkserver
from convier.services import campaigns, lists, rsvp

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-journee-cloud-2023.md"
PEOPLE = [f"agent{i:02d}@exemple.gouv.fr" for i in range(20)]


@pytest.fixture
def embedded_target(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith(("CONVIER_", "MOTO_"))]:
        monkeypatch.delenv(key)
    home = tmp_path / "etat"
    settings, clients = resolve(argparse.Namespace(home=str(home)))  # starts the embedded server
    yield settings, clients
    embedded.stop_server(home)


errors: list = []


def post(url: str, results: list, index: int, barrier: threading.Barrier) -> None:
    data = urllib.parse.urlencode({"answer": "yes"}).encode()
    barrier.wait()
    try:
        _post(url, data, results, index)
    except Exception as exc:  # reported by the assertion on the results
        errors.append(repr(exc))


def _post(url, data, results, index) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"), timeout=180) as response:
        results[index] = (response.status, response.read().decode("utf-8"))


def test_twenty_simultaneous_yes_at_capacity_three_five_runs_out_of_five(embedded_target, tmp_path):
    settings, clients = embedded_target
    people = tmp_path / "gens.csv"
    people.write_text("email\n" + "\n".join(PEOPLE) + "\n", encoding="utf-8")
    lists.import_rows(clients.dynamodb, settings.table, "gens", listfile.read(people), clients.keys.id_key,
                      source="test")
    spec = tmp_path / "campagne.yaml"
    spec.write_text("capacity: 3\n", encoding="utf-8")
    server = linkserver.make_server(settings, clients, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        for run in range(5):
            campaign, _ = campaigns.create_campaign(clients, settings, post_path=str(SEED), list_name="gens",
                                                    campaign_file=str(spec),
                                                    prepare_sender=sender_preparer(settings))
            sids = [subscriber_id(a, clients.keys.id_key) for a in PEOPLE]
            urls = [f"{base}/rsvp/{make_token(campaign.id, sid, clients.keys.link_keys)}" for sid in sids]
            results: list = [None] * len(urls)
            barrier = threading.Barrier(len(urls))
            threads = [threading.Thread(target=post, args=(u, results, i, barrier)) for i, u in enumerate(urls)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            assert all(r and r[0] == 200 for r in results), (run, [r and r[0] for r in results], errors)
            found = rsvp.all_rsvps(clients.dynamodb, settings.table, campaign.id)
            assert len(found) == 20, run  # every answer stored
            confirmed = [s for s, r in found.items() if r.place == rsvp.CONFIRMED]
            waiting = sorted((r for r in found.values() if r.place == rsvp.WAITING), key=lambda r: r.position)
            assert (len(confirmed), len(waiting)) == (3, 17), run
            assert rsvp.counters(clients.dynamodb, settings.table, campaign.id) == (3, 17), run
            assert [r.position for r in waiting] == list(range(1, 18))
            stamps = [r.waiting_since for r in waiting]
            assert stamps == sorted(stamps), run  # arrival order (a tie within a millisecond goes by id)
            for sid, (_, page) in zip(sids, results, strict=True):  # what each one was shown is what is stored
                shown_waiting = "liste d’attente" in page and "Vous êtes sur la liste" in page
                assert shown_waiting == (found[sid].place == rsvp.WAITING), (run, sid)
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_on_a_capacity_campaign_does_not_copy_the_table(embedded_target, tmp_path):
    """Each answer costs the same whatever the table holds (figures printed, not asserted on time)."""
    settings, clients = embedded_target
    from convier.store import ddb

    people = tmp_path / "gens.csv"
    people.write_text("email\n" + "\n".join(PEOPLE[:4]) + "\n", encoding="utf-8")
    lists.import_rows(clients.dynamodb, settings.table, "gens", listfile.read(people), clients.keys.id_key,
                      source="test")
    spec = tmp_path / "campagne.yaml"
    spec.write_text("capacity: 1\n", encoding="utf-8")
    campaign, _ = campaigns.create_campaign(clients, settings, post_path=str(SEED), list_name="gens",
                                            campaign_file=str(spec),
                                                    prepare_sender=sender_preparer(settings))
    sids = [subscriber_id(a, clients.keys.id_key) for a in PEOPLE[:4]]
    timings = []
    for size, sid in zip((0, 4000), sids[1:3], strict=True):
        ddb.batch_write(clients.dynamodb, settings.table, [
            {"PK": f"BOURRE#{i // 100}", "SK": f"{size}-{i}", "texte": "x" * 200} for i in range(size)])
        if not timings:
            rsvp.record_answer(clients.dynamodb, settings.table, campaign, sids[0], "yes")
        started = time.perf_counter()
        assert rsvp.record_answer(clients.dynamodb, settings.table, campaign, sid, "yes").rsvp.place == rsvp.WAITING
        timings.append(time.perf_counter() - started)
    print(f"answer at capacity (full path): {timings[0] * 1000:.0f} ms small table, "
          f"{timings[1] * 1000:.0f} ms with 4,000 more items")
    server_log = (Path(settings.home) / embedded.LOG_FILE).read_text()
    assert "Traceback" not in server_log
