"""`convier serve`: HTTP requests become API Gateway v2 events for the web handler; the port it serves on
is the one the e-mails' links point to."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from argparse import Namespace

import pytest

from convier.cli.target import resolve
from convier.local import linkserver


def test_a_request_becomes_a_v2_event():
    event = linkserver.to_event("POST", "/rsvp/abc?answer=yes&x=1&x=2",
                              [("Host", "127.0.0.1:8025"), ("Content-Type", "application/x-www-form-urlencoded"),
                               ("Cookie", "a=1; b=2"), ("X-Test", "1"), ("x-test", "2")], b"answer=no", "127.0.0.1")
    assert event["version"] == "2.0" and event["rawPath"] == "/rsvp/abc"
    assert event["rawQueryString"] == "answer=yes&x=1&x=2"
    assert event["queryStringParameters"] == {"answer": "yes", "x": "1,2"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["x-test"] == "1,2" and event["cookies"] == ["a=1", "b=2"]
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"answer=no"
    status, headers, body = linkserver.from_response({"statusCode": 404, "headers": {"Content-Type": "text/html"},
                                                    "body": "é", "cookies": ["c=1"]})
    assert status == 404 and ("Set-Cookie", "c=1") in headers and body == "é".encode()


def test_the_public_url_follows_the_chosen_port(moto_server, tmp_path):
    home = tmp_path / "home"
    name = f"t{uuid.uuid4().hex[:12]}"
    env = {"CONVIER_TABLE": name}
    args = Namespace(home=str(home), endpoint_url=moto_server, stack=None)
    settings, _ = resolve(args, env=env)
    assert settings.public_url == f"http://127.0.0.1:{linkserver.DEFAULT_PORT}"
    linkserver.save_port(home, 9123)
    settings, _ = resolve(args, env=env)
    assert settings.public_url == "http://127.0.0.1:9123"
    settings, _ = resolve(args, env={**env, "CONVIER_PUBLIC_URL": "https://invitations.exemple.gouv.fr"})
    assert settings.public_url == "https://invitations.exemple.gouv.fr"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_convier_serve_answers_with_french_pages_until_interrupted(moto_server, tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVIER_")}
    env.update(CONVIER_HOME=str(tmp_path / "home"), CONVIER_TABLE=f"t{uuid.uuid4().hex[:12]}", COLUMNS="200")
    proc = subprocess.Popen([sys.executable, "-m", "convier.cli", "--endpoint-url", moto_server, "serve",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert f"liens servis sur http://127.0.0.1:{port}" in line, (line, proc.stderr.read() if proc.poll() else "")
        for path in ("/rsvp/pas-un-jeton", "/unsubscribe/x.y.z", "/"):
            with pytest.raises(urllib.error.HTTPError) as answer:  # a 200 here would be a bug: no such link exists
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)
            assert answer.value.code == 404, path
            page = answer.value.read().decode()
            assert "Ce lien n’est pas valable" in page and 'lang="fr"' in page
        request = urllib.request.Request(f"http://127.0.0.1:{port}/rsvp/x.y.z", data=b"a" * 100_000, method="POST")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=10)
        assert answer.value.code == 413
        assert "trop volumineuse" in answer.value.read().decode()
        assert (tmp_path / "home" / "serve.json").read_text().strip() == f'{{"port": {port}}}'
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "serveur de liens arrêté" in out
