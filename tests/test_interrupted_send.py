"""SIGTERM or Ctrl-C halfway through `campaign send` (a real process), then `campaign send` again: every recipient
has exactly one e-mail, none stays `unknown`; and a second campaign's send counts its own recipients."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from convier.cli.target import resolve
from convier.services import campaigns
from convier.store import records
from webkit import SEED_AGAIN, SEED_CAMPAIGN

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-journee-cloud-2023.md"
PEOPLE = [f"agent{i:02d}@exemple.gouv.fr" for i in range(24)]
CONVIER = [sys.executable, "-m", "convier.cli"]


def env_for(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVIER_", "MOTO_"))}
    env.update(CONVIER_HOME=str(home), COLUMNS="200", CONVIER_SEND_RATE="6")
    return env


def run(home: Path, *argv) -> subprocess.CompletedProcess:
    result = subprocess.run([*CONVIER, *map(str, argv)], env=env_for(home), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    return result


def sent_files(home: Path, campaign_id: str) -> int:
    return len(list((home / "outbox" / campaign_id).glob("*.eml")))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_send_resumes_with_one_email_each_and_no_unknown(home, tmp_path, signum):
    people = tmp_path / "gens.csv"
    people.write_text("email\n" + "\n".join(PEOPLE) + "\n", encoding="utf-8")
    run(home, "lists", "import", "gens", people)
    campaign_id = run(home, "campaign", "create", "--post", SEED, "--list", "gens", "--campaign",
                      SEED_CAMPAIGN).stdout.strip().splitlines()[-1]
    proc = subprocess.Popen([*CONVIER, "campaign", "send", campaign_id, "--yes", str(len(PEOPLE))],
                            env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while sent_files(home, campaign_id) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "Envoi interrompu" in out
    settings, clients = resolve(argparse.Namespace(home=str(home)))
    halfway = records.send_records(clients.dynamodb, settings.table, campaign_id)
    assert not [r for r in halfway.values() if r["state"] == records.CLAIMED]  # what was started is marked
    assert 0 < sum(r["state"] == records.SENT for r in halfway.values()) < len(PEOPLE)
    assert sent_files(home, campaign_id) == sum(r["state"] == records.SENT for r in halfway.values())

    left = re.search(r"destinataires : (\d+)", run(home, "campaign", "send", campaign_id, "--dry-run").stdout)
    again = run(home, "campaign", "send", campaign_id, "--yes", left.group(1))  # the rest, confirmed
    assert "Traceback" not in again.stderr
    final = records.send_records(clients.dynamodb, settings.table, campaign_id)
    assert len(final) == len(PEOPLE) and all(r["state"] == records.SENT for r in final.values())
    for sid, record in halfway.items():  # nobody sent before the interruption was sent again
        if record["state"] == records.SENT:
            assert final[sid]["message_id"] == record["message_id"]
    assert len({r["message_id"] for r in final.values()}) == len(PEOPLE)
    st = campaigns.status(clients, settings, campaign_id)
    assert (st.sent, st.unknown, st.failed) == (len(PEOPLE), 0, 0)


def test_one_queue_two_campaigns_each_progress_counts_its_own(cli, settings, tmp_path):
    from convier.local.worker import drain
    from convier.services.sending import sender_for

    s, c = settings
    people = tmp_path / "gens.csv"
    people.write_text("email\n" + "\n".join(PEOPLE[:6]) + "\n", encoding="utf-8")
    assert cli("lists", "import", "gens", people).code == 0
    ids = [cli("campaign", "create", "--post", SEED, "--list", "gens", "--campaign", SEED_AGAIN  # the same post twice
               ).out.strip().splitlines()[-1] for _ in "ab"]
    for campaign_id in ids:
        campaigns.fan_out(c, s, campaign_id)
    seen = []
    result = drain(sender_for(s, c), campaign_id=ids[1], on_batch=lambda counts: seen.append(counts.sent),
                   retry_visibility=0)
    assert sum(seen) == result.own.sent == 6  # B's bar counts B's recipients only
    for campaign_id in ids:  # and the worker progressed both campaigns of the queue
        assert campaigns.status(c, s, campaign_id).sent == 6
