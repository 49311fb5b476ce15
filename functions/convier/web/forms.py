"""The forms of the HTTP functions: urlencoded or multipart bodies, bounded, read strictly."""

from __future__ import annotations

import base64
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

MAX_BODY = 4096  # bytes: the recipient forms hold one short field


class BadRequest(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def raw_body(event: dict) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=False)
        except (ValueError, TypeError):
            raise BadRequest(400) from None
    return body.encode("utf-8", "surrogateescape")


def form_fields(event: dict) -> dict[str, str]:
    """The form's fields (urlencoded, or multipart as some mail clients send the one-click POST)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BadRequest(413)
    body = raw_body(event)
    if len(body) > MAX_BODY:
        raise BadRequest(413)
    content_type = headers.get("content-type", "application/x-www-form-urlencoded").lower()
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {headers['content-type']}\r\n\r\n".encode("latin-1", "replace") + body)
        fields = {}
        for part in message.iter_parts() if message.is_multipart() else ():
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[str(name)] = part.get_payload(decode=True).decode("utf-8", "replace").strip()
        return fields
    text = body.decode("utf-8", "replace")
    return {k: v[-1].strip() for k, v in parse_qs(text, keep_blank_values=True, max_num_fields=20).items()}
