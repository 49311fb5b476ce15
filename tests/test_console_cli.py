"""`convier console`: prints its one-time sign-in address alone on a line, serves it, stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request

from test_demo import CONVIER, Output, wait_for


def test_convier_console_prints_its_address_and_serves(settings, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVIER_")}
    env.update(settings.env, PYTHONUNBUFFERED="1", COLUMNS="80")
    proc = subprocess.Popen([CONVIER, "console", "--port", "0"], env=env, text=True, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        out, match = wait_for(proc, Output(proc.stdout), r"(?m)^(http://127\.0\.0\.1:(\d+)/console/connexion/[\w-]+)$",
                              timeout=60)
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(match.group(1), timeout=10) as page:
            assert page.url.endswith("/console/campagnes") and "<h1>Campagnes</h1>" in page.read().decode()
        try:  # used: refused
            urllib.request.urlopen(match.group(1), timeout=10)
            raise AssertionError("une adresse de connexion a servi deux fois")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401 and "n’est plus valable" in refused.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read()
