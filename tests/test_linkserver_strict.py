"""The links server reads bodies strictly (chunked, a bad or short Content-Length: 400, never an empty POST that
unsubscribes), times out slow clients, and `serve --port N` saves N only once it is bound."""

from __future__ import annotations

import socket
import threading

from convier.local import linkserver


def raw_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_bad_bodies_are_400_and_never_reach_the_handler(monkeypatch):
    calls = []
    monkeypatch.setattr(linkserver, "READ_TIMEOUT", 1.0)
    server = linkserver.make_server(None, None, port=0, call=lambda ev: calls.append(ev) or {"statusCode": 200,
                                                                                              "body": "ok"})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    try:
        start = b"POST /unsubscribe/abc HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        for bad in (start + b"Transfer-Encoding: chunked\r\n\r\n1a\r\nList-Unsubscribe=One-Click\r\n0\r\n\r\n",
                    start + b"Content-Length: abc\r\n\r\nList-Unsubscribe=One-Click",
                    start + b"Content-Length: 26\r\nContent-Length: 0\r\n\r\nList-Unsubscribe=One-Click",
                    start + b"\r\n",  # no length at all
                    start + b"Content-Length: 100\r\n\r\nList-Unsubscribe=One-Click"):  # short: the timeout ends it
            assert raw_request(port, bad).startswith(b"HTTP/1.1 400"), bad
        assert calls == []
        good = start + b"Content-Length: 26\r\n\r\nList-Unsubscribe=One-Click"
        assert raw_request(port, good).startswith(b"HTTP/1.1 200") and len(calls) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_serve_on_a_busy_port_does_not_save_it(cli, settings):
    home = settings.settings.home
    linkserver.save_port(home, 8123)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.code == 2 and "n’est pas disponible" in result.err
    assert linkserver.serve_port(home) == 8123
