"""`convier serve` and `convier console` outlive the embedded moto server: after `local stop`, a restart or a
crash under them, the next request finds the new server (its address, fresh clients) and answers as before."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from convier.local import embedded
from embeddedkit import run
from test_demo import CONVIER, Output, free_port, wait_for
from webkit import SEED_CAMPAIGN, links_of

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-journee-cloud-2023.md"


def env_for(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVIER_", "MOTO_"))}
    env.update(CONVIER_HOME=str(home), COLUMNS="200", PYTHONUNBUFFERED="1")
    return env


def sent_link(home: Path, tmp_path: Path) -> str:
    """One campaign sent to one person on the embedded default; the path of their answer link."""
    people = tmp_path / "gens.csv"
    people.write_text("email,prenom\nanne@exemple.gouv.fr,Anne\n", encoding="utf-8")
    run(home, "lists", "import", "gens", people)
    created = run(home, "campaign", "create", "--post", SEED, "--list", "gens", "--campaign", SEED_CAMPAIGN)
    campaign_id = created.stdout.strip().splitlines()[-1]
    run(home, "campaign", "send", campaign_id, "--yes", "1")
    (eml,) = (home / "outbox" / campaign_id).glob("*.eml")
    return links_of(email.message_from_bytes(eml.read_bytes(), policy=email.policy.default))["rsvp"]


def get(url: str, opener=None) -> tuple[int, str]:
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=60) as page:
            return page.status, page.read().decode()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.read().decode()


def crash(home: Path) -> None:
    pid = json.loads((home / "server.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    while embedded._still_running(pid):
        time.sleep(0.05)


def test_links_server_answers_after_moto_stops_restarts_or_crashes(home, tmp_path):
    rsvp = sent_link(home, tmp_path)
    port = free_port()
    proc = subprocess.Popen([CONVIER, "serve", "--port", str(port)], env=env_for(home), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        wait_for(proc, Output(proc.stdout), "liens servis sur", timeout=120)
        url = f"http://127.0.0.1:{port}{rsvp}"
        answered = urllib.request.Request(url, data=b"answer=yes", method="POST")
        with urllib.request.urlopen(answered, timeout=60) as page:
            assert page.status == 200
        status, before = get(url)
        assert status == 200 and "checked" in before

        run(home, "local", "stop")  # `local stop`, `subscribers forget` and a restart all stop it this way
        assert get(url) == (200, before)
        first = json.loads((home / "server.json").read_text())["port"]

        crash(home)
        assert get(url) == (200, before)
        assert json.loads((home / "server.json").read_text())["port"] != first
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_console_answers_after_moto_restarts(home, tmp_path):
    proc = subprocess.Popen([CONVIER, "console", "--port", "0"], env=env_for(home), text=True, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        _, match = wait_for(proc, Output(proc.stdout), r"(?m)^(http://127\.0\.0\.1:(\d+)/console/connexion/[\w-]+)$",
                            timeout=120)
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        campaigns = f"http://127.0.0.1:{match.group(2)}/console/campagnes"
        status, page = get(match.group(1), browser)
        assert status == 200 and "<h1>Campagnes</h1>" in page

        run(home, "local", "stop")
        status, page = get(campaigns, browser)
        assert status == 200 and "<h1>Campagnes</h1>" in page  # still signed in, on the restarted server
        crash(home)
        status, page = get(campaigns, browser)
        assert status == 200 and "<h1>Campagnes</h1>" in page
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
