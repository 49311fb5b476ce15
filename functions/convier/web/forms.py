"""The forms of the HTTP functions: urlencoded or multipart bodies (with files, for the console), bounded,
read strictly."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

MAX_BODY = 4096  # bytes: the recipient forms hold one short field


class BadRequest(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name → (file name, content)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)


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
    return parse(event, MAX_BODY).fields


def parse(event: dict, max_body: int, max_fields: int = 20) -> Form:
    """Fields and uploaded files; BadRequest(413) past `max_body` bytes, BadRequest(400) for a bad body."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise BadRequest(413)
    body = raw_body(event)
    if len(body) > max_body:
        raise BadRequest(413)
    content_type = headers.get("content-type", "application/x-www-form-urlencoded")
    form = Form()
    if content_type.lower().startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace") + body)
        for part in message.iter_parts() if message.is_multipart() else ():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            content = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                form.files[str(name)] = (str(filename), content)
            else:
                form.fields[str(name)] = content.decode("utf-8", "replace").strip()
        return form
    text = body.decode("utf-8", "replace")
    for key, values in parse_qs(text, keep_blank_values=True, max_num_fields=max_fields).items():
        form.fields[key] = values[-1].strip()
    return form
