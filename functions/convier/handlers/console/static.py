"""The DSFR files (CSS, fonts, icons), served by the function with long cache headers (the path has a version)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from convier.handlers.console.kit import Kit
from convier.web import console as pages


def static(path: str) -> Response:
    found = pages.static_file(path)
    if found is None:
        raise NotFoundError()
    content, kind = found
    text = kind.startswith("text/") or kind == "image/svg+xml"
    return Response(status_code=200, content_type=kind,
                    body=content.decode("utf-8") if text else content,
                    headers={"Cache-Control": "public, max-age=31536000, immutable",
                             "X-Content-Type-Options": "nosniff"}, compress=text)


def register(kit: Kit) -> None:
    app, base = kit.app, kit.base

    @app.get(f"{base}/static/<version>/<name>")
    def static_top(version: str, name: str):
        return static(name)

    @app.get(f"{base}/static/<version>/fonts/<name>")
    def static_font(version: str, name: str):
        return static(f"fonts/{name}")

    @app.get(f"{base}/static/<version>/icons/<folder>/<name>")
    def static_icon(version: str, folder: str, name: str):
        return static(f"icons/{folder}/{name}")
