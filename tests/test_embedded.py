"""The embedded default through the real `convier` command: start on demand, reuse, restart with replay,
two processes at once, erasure in the recording, stop and reset."""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from convier.cli.target import resolve
from convier.local import embedded
from embeddedkit import CONVIER, run
from samples import LISTS


def server_pid(home: Path) -> int:
    return json.loads((home / "server.json").read_text())["pid"]


def exported(home: Path, name="cloud") -> list[dict]:
    out = run(home, "lists", "export", name).stdout.removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(out), delimiter=";"))


def test_start_reuse_restart_with_replay_stop_and_reset(home):
    first = run(home, "lists", "import", "cloud", LISTS / "export-windows-1252.csv")
    assert "démarrage du serveur local" in first.stderr and "ajoutés : 2" in first.stdout
    pid = server_pid(home)
    assert stat.S_IMODE((home / "keys.json").stat().st_mode) == 0o600

    again = run(home, "lists", "import", "cloud", LISTS / "export-tableur.csv")
    assert "démarrage" not in again.stderr and server_pid(home) == pid  # reused

    os.kill(pid, signal.SIGKILL)  # a crash, or a restarted machine
    time.sleep(0.2)
    rows = exported(home)
    assert server_pid(home) != pid
    assert len(rows) == 5 and {"François", "Lucie"} <= {r["prénom"] for r in rows}
    assert "inchangés : 3" in run(home, "lists", "import", "cloud", LISTS / "export-tableur.csv").stdout

    status = run(home, "local", "status").stdout
    assert "en marche" in status and str(home) in status
    stopped = run(home, "local", "stop").stdout
    assert "arrêté" in stopped and not (home / "server.json").exists()
    assert "Aucun serveur" in run(home, "local", "stop").stdout
    assert len(exported(home)) == 5  # restarted from the recording

    reset = run(home, "local", "reset", "--yes").stdout
    assert "keys.json" in reset and "moto-recording.jsonl" in reset and "état effacé" in reset
    assert not home.exists()
    assert run(home, "lists", "show", "cloud", check=False).returncode == 2  # a fresh, empty state


def test_two_processes_on_the_same_home_share_one_server(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVIER_", "MOTO_"))}
    env.update(CONVIER_HOME=str(home))
    procs = [subprocess.Popen([*CONVIER, "lists", "import", "cloud", LISTS / f], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for f in ("export-windows-1252.csv", "export-tableur.csv", "invites-cloud.csv")]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert sum("démarrage du serveur local" in err for _, err in outputs) == 1
    assert len(exported(home)) == 13
    keys = (home / "keys.json").read_text()
    assert json.loads(keys)["id_key"]


def recorded_text(home: Path) -> str:
    text = []
    for line in (home / embedded.RECORDING_FILE).read_text().splitlines():
        entry = json.loads(line)
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8", errors="replace")
        text.append(body + entry.get("url", ""))
    return "\n".join(text).lower()


def test_forget_removes_the_address_from_the_recording_too(home):
    run(home, "lists", "import", "cloud", LISTS / "export-windows-1252.csv")
    assert "francois.riviere" in recorded_text(home)
    out = run(home, "subscribers", "forget", "francois.riviere@ecologie.gouv.fr").stdout
    assert "liste cloud" in out and "historique du serveur local" in out
    assert "francois.riviere" not in recorded_text(home)
    assert "celine.girard" in recorded_text(home)
    rows = exported(home)  # the server restarts from the scrubbed recording
    assert [r["adresse électronique"] for r in rows] == ["celine.girard@sports.gouv.fr"]


def test_endpoint_url_flag_uses_that_server(cli, settings):
    s, _ = settings
    result = cli("--endpoint-url", s.endpoint_url, "lists", "import", "x", LISTS / "export-tableur.csv")
    assert result.code == 0 and "ajoutés : 3" in result.out


def test_an_unknown_stack_is_a_clear_error(cli, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-3")  # CONVIER_ENDPOINT_URL (the fixture's moto) answers DescribeStacks
    result = cli("--stack", "convier-prod", "lists", "show")
    assert result.code == 2 and "convier-prod : pile introuvable dans la région eu-west-3" in result.err


def test_without_moto_the_cli_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "moto_available", lambda: False)
    for key in [k for k in os.environ if k.startswith("CONVIER_")]:
        monkeypatch.delenv(key)
    with pytest.raises(embedded.EmbeddedUnavailable, match=r"pip install 'convier\[local\]'"):
        resolve(argparse.Namespace(home=str(tmp_path / "h"), endpoint_url=None, stack=None))


def test_reset_refuses_a_folder_that_is_not_a_state_folder(tmp_path):
    (tmp_path / "rapport.odt").write_text("important")
    with pytest.raises(embedded.InputError, match="rien n'est supprimé"):
        embedded.reset(tmp_path)
    assert (tmp_path / "rapport.odt").exists()
