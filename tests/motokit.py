"""A moto server in its own process, for the fixtures (shared by conftest and modules that need another kind).

It runs with the embedded default's patch (local/motopatch.py): moto's own TransactWriteItems copies the whole
table once per action, and puts that copy back when cancelled; the product writes with transactions.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

_SERVER = r"""
import logging, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from convier.local.motopatch import serialise_dynamodb
serialise_dynamodb()  # as the embedded default's server: isolated transactions that never copy a table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server
server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app),
                     threaded=sys.argv[1] == "threaded", request_handler=MotoRequestHandler)
print(server.server_port, flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def running_moto(threaded: bool = True):
    """A moto server in its own process on a port the OS picks; yields its endpoint URL, stops it after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTO_")}
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, "threaded" if threaded else "serial"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env,
                            text=True)
    try:
        port = proc.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"le serveur moto n'a pas démarré (code {proc.poll()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
