"""The links server of the embedded default: each HTTP request becomes an API Gateway v2 event for the
web function's handler, and its answer goes back as the HTTP response.

    convier serve [--port N]      →  http://127.0.0.1:N  (default 8025; the port is kept in serve.json)

`campaign create` bakes the public URL into the stored e-mail: on the embedded default it is this
server's URL, so the port is chosen once (serve.json in the state folder) and both agree.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

DEFAULT_PORT = 8025
SERVE_FILE = "serve.json"
READ_TIMEOUT = 10.0
MAX_READ = 64 * 1024  # bytes read from a request body; the handler refuses more than a few KB anyway


def serve_port(home: Path | None) -> int:
    """The port chosen for this state folder (serve.json), else the default."""
    try:
        port = int(json.loads((Path(home) / SERVE_FILE).read_text())["port"])
        return port if 0 < port < 65536 else DEFAULT_PORT
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_PORT


def save_port(home: Path, port: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / SERVE_FILE).write_text(json.dumps({"port": port}) + "\n")


def public_url(home: Path | None, port: int | None = None) -> str:
    return f"http://127.0.0.1:{port or serve_port(home)}"


def to_event(method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str) -> dict:
    """An API Gateway HTTP API (payload format 2.0) event, as the `$default` route would pass it."""
    parts = urlsplit(target)
    merged: dict[str, str] = {}
    cookies = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = dt.datetime.now(dt.UTC)
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": parts.path or "/", "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": "anonymous", "apiId": "local", "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {"method": method, "path": parts.path or "/", "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": merged.get("user-agent", "")},
            "requestId": secrets.token_hex(8), "routeKey": "$default", "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000)},
        "isBase64Encoded": bool(body),
    }
    if query:
        event["queryStringParameters"] = query
    if cookies:
        event["cookies"] = cookies
    if body:
        event["body"] = base64.b64encode(body).decode("ascii")
    return event


def from_response(response: dict) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) from the handler's v2 response."""
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
    headers = [(k, str(v)) for k, v in (response.get("headers") or {}).items()]
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values]
    headers += [("Set-Cookie", c) for c in response.get("cookies") or ()]
    return int(response.get("statusCode", 200)), headers, raw


def web_call(current):
    """The web handler with the settings and clients `current()` gives at each request (they change when the
    embedded server restarts: see cli.target.Live)."""
    from convier.handlers.web import handle

    def call(event):
        return handle(event, None, *current())
    return call


def make_server(settings, clients, port: int = DEFAULT_PORT, host: str = "127.0.0.1", call=None,
                max_read: int = MAX_READ):
    """A ThreadingHTTPServer (not started) that calls the web handler (or `call`) for each request; port 0 picks
    one. `max_read`: the most of a body passed on (the console takes files)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    if call is None:
        call = web_call(lambda: (settings, clients))

    class Handler(BaseHTTPRequestHandler):
        server_version = "convier"
        sys_version = ""
        protocol_version = "HTTP/1.1"

        timeout = READ_TIMEOUT  # seconds a client may take to send its request (slow clients hold a thread)

        def _refuse(self, status: int = 400) -> None:
            self.close_connection = True
            raw = b"Requete invalide.\n" if status == 400 else b"Requete trop grande.\n"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> bytes | int | None:
            """The body exactly as declared, or None (400): chunked, a bad or missing length on a body-carrying
            method, or fewer bytes than announced are never read as an empty POST (which would unsubscribe)."""
            if self.headers.get("Transfer-Encoding"):
                return None
            declared = self.headers.get_all("Content-Length") or []
            if len(declared) > 1 or (declared and not declared[0].strip().isdigit()):
                return None
            if not declared:
                return None if self.command in ("POST", "PUT", "PATCH") else b""
            length = int(declared[0])
            wanted = min(length, max_read)  # past the limit, the handler answers 413 from the declared length
            if length > max_read:
                self.close_connection = True  # the rest is not read: the connection cannot be reused
            try:
                body = self.rfile.read(wanted) if wanted else b""
            except OSError:  # the read timeout
                return None
            return body if len(body) == wanted else None

        def _handle(self) -> None:
            body = self._body()
            if not isinstance(body, bytes):
                self._refuse(body or 400)
                return
            event = to_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
            try:
                response = call(event)
            except Exception:  # noqa: BLE001 - the handlers answer their own errors; this is reaching them (the
                logging.getLogger("convier.local").exception("request not handled")  # embedded server down)
                self.close_connection = True
                response = {"statusCode": 503, "headers": {"Content-Type": "text/plain; charset=utf-8"},
                            "body": "Service momentanement indisponible, reessayez dans un instant.\n"}
            status, headers, raw = from_response(response)
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

        def log_message(self, format, *args):  # tokens are in paths: never printed
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # link scanners and simultaneous answers: the default backlog (5) resets them
        daemon_threads = True

    server = Server((host, port), Handler)
    return server
