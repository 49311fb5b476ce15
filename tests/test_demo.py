"""`convier demo` on a fresh state folder, then the README's tour word for word, then Ctrl-C."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONVIER = str(Path(sys.executable).parent / "convier")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tour_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- tour -->", 1)[1].split("<!-- /tour -->", 1)[0]
    return [shlex.split(line) for line in block.splitlines() if line.startswith(".venv/bin/convier ")]


class Output:
    """Collects a process's output in a thread, so that waiting for a line never blocks the test."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True)
        self.thread.start()

    @property
    def text(self) -> str:
        return "".join(self.lines)


def wait_for(proc, output: Output, pattern: str, timeout: float) -> tuple[str, re.Match]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if match := re.search(pattern, output.text):
            return output.text, match
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not seen in time:\n{output.text}")


def test_demo_then_the_readme_tour(tmp_path):
    home, port = tmp_path / "etat", free_port()
    env = {**os.environ, "CONVIER_HOME": str(home), "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("CONVIER_") or k == "CONVIER_HOME"}
    demo = subprocess.Popen([CONVIER, "demo", "--port", str(port)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        output = Output(demo.stdout)
        out, match = wait_for(demo, output, r"liens servis sur (http://127\.0\.0\.1:\d+)", timeout=120)
        assert "13 e-mails envoyés" in out
        campaign_id = re.search(r"Campagne (\d{8}-[0-9a-f]{6})", out).group(1)
        index = re.search(r"Boîte d’envoi : (file://\S+)", out).group(1)
        outbox = Path(index.removeprefix("file://")).parent
        assert len(list(outbox.glob("*.eml"))) == 13
        url = match.group(1)
        assert url == f"http://127.0.0.1:{port}"
        link = re.search(r'href="(http://127\.0\.0\.1:\d+/rsvp/[^"?]+)\?answer=yes"',
                         next(outbox.glob("*.html")).read_text()).group(1)
        with urllib.request.urlopen(link + "?answer=yes", timeout=10) as page:
            assert page.status == 200 and "Je participe" in page.read().decode()
        signin = re.search(r"^(http://127\.0\.0\.1:\d+/console/connexion/[\w-]+)$", out, re.M).group(1)
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(signin, timeout=10) as page:  # signs in, then the campaigns
            assert page.url.endswith("/console/campagnes") and campaign_id in page.read().decode()

        shutil.copytree(ROOT / "examples", tmp_path / "examples")  # the tour runs from a checkout's root
        for argv in tour_commands():
            argv = [CONVIER] + [campaign_id if a == "ID" else a for a in argv[1:]]
            result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                                    input="")
            assert result.returncode == 0, (argv, result.stdout, result.stderr)
            if argv[1:3] == ["campaign", "status"]:
                assert re.search(r"Envoyés\s*│\s*13", result.stdout), result.stdout
        assert (tmp_path / "apercu" / "invitation.html").is_file()
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            raise
    assert demo.returncode == 0, demo.stderr.read()
    assert not (home / "server.json").exists()  # the moto server it started is stopped


def test_demo_twice_reuses_the_state(tmp_path):
    home = tmp_path / "etat"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVIER_")}
    env.update(CONVIER_HOME=str(home), COLUMNS="200")
    for expected in ("nouveau", "réutilisé"):
        demo = subprocess.Popen([CONVIER, "demo", "--port", str(free_port())], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            out, _ = wait_for(demo, Output(demo.stdout), r"liens servis sur", timeout=120)
            assert expected in out
            assert "13 e-mails envoyés" in out
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=30)
        assert demo.returncode == 0
