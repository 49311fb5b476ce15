"""The per-recipient message: markers filled into pre-rendered parts, MIME assembled by hand.

This module is on the send path: standard library only, no Jinja2, MJML or
markdown. The campaign's parts are rendered once; per recipient we substitute
a token and a greeting into parts quoted-printable-encoded once, and join them
with pre-encoded headers, which
is more than an order of magnitude cheaper than `email.message.EmailMessage`
and parses back to the same structure.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
import unicodedata
from dataclasses import dataclass
from email.header import Header
from email.utils import formatdate, parseaddr

TOKEN = "@@TOKEN@@"
GREETING = "@@GREETING@@"
ANSWER = "@@ANSWER@@"  # a follow-up's sentence telling the recipient's current answer (domain.answers.answer_line)
_MARKER = re.compile(r"@@(TOKEN|GREETING|ANSWER)@@")
CRLF = "\r\n"


def marker_line(text: str) -> int:
    """The 1-based line of the first personalisation marker written in `text` (0 when there is none): only the
    markers the renderer places may be filled per recipient, or a third-party URL would carry each token."""
    found = re.search(r"@@\s*(TOKEN|GREETING)\s*@@", text, re.IGNORECASE)
    return text.count("\n", 0, found.start()) + 1 if found else 0


def split_markers(text: str) -> tuple[str, ...]:
    """Literal text and marker names alternating: ('<p>', 'GREETING', '</p>...')."""
    return tuple(_MARKER.split(text))


def fill(segments: tuple[str, ...], values: dict[str, str]) -> str:
    out = list(segments)
    for i in range(1, len(out), 2):
        out[i] = values[out[i]]
    return "".join(out)


def header_text(value: str) -> str:
    """A header value in one line, RFC 2047-encoded when it is not plain ASCII."""
    value = " ".join(_clean_line(value).split())
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=998).encode(linesep=CRLF)


def _clean_line(value: str) -> str:
    """No line breaks or control characters: a name must never add a header."""
    return "".join(ch if ch >= " " and ch != "\x7f" else " " for ch in value)


def ascii_domain(domain: str) -> str:
    """A domain as it goes in a header or to SES: IDNA (punycode) when it is not ASCII (stdlib codec)."""
    domain = _clean_line(domain).strip().rstrip(".")
    if domain.isascii():
        return domain.lower()
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError(f"domaine « {domain} » impossible à écrire en IDNA ({exc})") from None


def ascii_address(address: str) -> str:
    """`local@domain` with the domain in IDNA; ValueError for a non-ASCII local part (SES does not take
    SMTPUTF8 addresses)."""
    local, at, domain = _clean_line(address).strip().rpartition("@")
    if not at:
        return _clean_line(address).strip()
    if not local.isascii():
        raise ValueError(f"adresse « {address} » : SES n’accepte pas de lettres accentuées avant l’arobase")
    return f"{local}@{ascii_domain(domain)}"


def slug(text: str, default: str = "liste") -> str:
    """An ASCII token for headers that allow no encoding (List-Id, Feedback-ID): « Invités 2026 » → invites-2026."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:60] or default


def mailbox(name: str, address: str) -> str:
    """`"Name" <address>` for a header: the name RFC 2047-encoded when not ASCII, the domain in IDNA."""
    name = " ".join(_clean_line(name).split())
    address = ascii_address(address)
    if not name:
        return address
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    return f"{header_text(name)} <{address}>"


def greeting(first_name: str) -> str:
    first_name = " ".join(_clean_line(first_name or "").split())
    return f"Bonjour {first_name}," if first_name else "Bonjour,"


def fold_ics(text: str) -> str:
    """RFC 5545 line folding at 75 octets, never inside a UTF-8 sequence."""
    out = []
    for line in text.split(CRLF):
        raw = line.encode()
        if len(raw) <= 75:
            out.append(line)
            continue
        chunks, limit = [], 75
        while raw:
            cut = min(limit, len(raw))
            while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:
                cut -= 1
            chunks.append(raw[:cut].decode())
            raw, limit = raw[cut:], 74
        out.append((CRLF + " ").join(chunks))
    return CRLF.join(out)


@dataclass(frozen=True)
class MessageTemplate:
    """What a campaign stores once: the rendered parts with their markers, and its fixed headers."""

    campaign_id: str
    sender: str  # "Name <address>"
    subject: str
    html: tuple[str, ...]
    text: tuple[str, ...]
    ics: tuple[str, ...]  # unfolded; folded per recipient once the token is in
    public_url: str
    reply_to: str = ""
    list_id: str = ""
    unsubscribe_mailbox: str = ""  # a monitored address: only then does List-Unsubscribe carry a mailto:

    @classmethod
    def from_parts(cls, *, campaign_id, sender, subject, html, text, ics, public_url, reply_to="", list_id="",
                   unsubscribe_mailbox=""):
        return cls(campaign_id=campaign_id, sender=sender, subject=subject, html=split_markers(html),
                   text=split_markers(text), ics=split_markers(ics), public_url=public_url.rstrip("/"),
                   reply_to=reply_to, list_id=list_id, unsubscribe_mailbox=unsubscribe_mailbox)

    def to_dict(self) -> dict:
        return {"campaign_id": self.campaign_id, "sender": self.sender, "subject": self.subject,
                "html": "".join(_joined(self.html)), "text": "".join(_joined(self.text)),
                "ics": "".join(_joined(self.ics)), "public_url": self.public_url, "reply_to": self.reply_to,
                "list_id": self.list_id, "unsubscribe_mailbox": self.unsubscribe_mailbox}

    @classmethod
    def from_dict(cls, data: dict) -> MessageTemplate:
        return cls.from_parts(**data)

    @property
    def sender_address(self) -> str:
        """The sender's address as SES and headers take it (domain in IDNA)."""
        return ascii_address(parseaddr(self.sender)[1])

    @property
    def domain(self) -> str:
        return self.sender_address.rpartition("@")[2] or "convier.invalid"


def _joined(segments: tuple[str, ...]):
    for i, part in enumerate(segments):
        yield f"@@{part}@@" if i % 2 else part


def _qp(data: str) -> str:
    """Quoted-printable with CRLF line ends; C speed (binascii)."""
    return binascii.b2a_qp(data.encode(), istext=True).decode("ascii").replace("\n", CRLF).replace("\r\r\n", CRLF)


QP_LINE = 76  # RFC 2045: encoded lines of at most 76 characters, the soft break's "=" included


def _closed(encoded: str) -> str:
    """Quoted-printable text ended by a soft line break, its last line cut so that none passes 76 characters."""
    head, sep, last = encoded.rpartition(CRLF)
    lines = []
    while len(last) > QP_LINE - 1:
        cut = QP_LINE - 1
        while "=" in last[cut - 2:cut]:  # never cut an =XX escape
            cut -= 1
        lines.append(last[:cut] + "=")
        last = last[cut:]
    return head + sep + CRLF.join(lines + [last]) + "=" + CRLF


def qp_value(value: str) -> str:
    """A marker's value, encoded on lines of its own (between soft breaks) by `build_message`."""
    return _closed(_qp(value))


def encode_segments(segments: tuple[str, ...]) -> tuple[str, ...]:
    """Literal segments quoted-printable-encoded once, each closed by a soft line break.

    A marker's value (`qp_value`) then has lines of its own, so per recipient only the few bytes of
    each value are encoded, and no line passes 76 characters whatever the token or the name; the
    decoded text is exactly the filled template (soft breaks vanish on decoding).
    """
    return tuple(_closed(_qp(part)) if i % 2 == 0 else part for i, part in enumerate(segments))


def _split_ics(segments: tuple[str, ...]) -> tuple[str, tuple[str, ...], str]:
    """The calendar as (lines before, the lines holding markers, lines after), folded where fixed."""
    text = "".join(_joined(segments))
    lines = text.split(CRLF)
    marked = [i for i, line in enumerate(lines) if _MARKER.search(line)]
    if not marked:
        return fold_ics(text), (), ""
    first, last = marked[0], marked[-1]
    head = fold_ics(CRLF.join(lines[:first])) + CRLF if first else ""
    middle = tuple(split_markers(CRLF.join(lines[first:last + 1])))
    tail = CRLF + fold_ics(CRLF.join(lines[last + 1:])) if last + 1 < len(lines) else ""
    return head, middle, tail


@dataclass(frozen=True)
class Prepared:
    """Everything fixed for a campaign, encoded once per process and reused for every recipient."""

    head: str
    boundary_mixed: str
    boundary_alt: str
    domain: str
    html_qp: tuple[str, ...]
    text_qp: tuple[str, ...]
    ics: tuple[str, tuple[str, ...], str]


def prepare(template: MessageTemplate) -> Prepared:
    name, address = parseaddr(template.sender)
    lines = [f"From: {mailbox(name, address)}", f"Subject: {header_text(template.subject)}", "MIME-Version: 1.0"]
    if template.reply_to:
        lines.append(f"Reply-To: {mailbox(*parseaddr(template.reply_to))}")
    list_slug = slug(template.list_id)
    if template.list_id:
        label = "" if template.list_id == list_slug else header_text(template.list_id) + " "
        lines.append(f"List-Id: {label}<{list_slug}.{template.domain}>")
    lines.append(f"Feedback-ID: {slug(template.campaign_id, 'campagne')}:{list_slug}:convier:{template.domain}")
    stamp = secrets.token_hex(8)
    return Prepared(head=CRLF.join(lines) + CRLF, boundary_mixed=f"=_mixed_{stamp}", boundary_alt=f"=_alt_{stamp}",
                    domain=template.domain, html_qp=encode_segments(template.html),
                    text_qp=encode_segments(template.text), ics=_split_ics(template.ics))


def list_unsubscribe(template: MessageTemplate, url: str, token: str) -> str:
    """The HTTPS one-click link (RFC 8058, what Gmail and Yahoo require); a mailto: only to a monitored mailbox,
    never to the sender (a no-reply address nobody reads)."""
    value = f"<{url}>"
    mailbox = _clean_line(template.unsubscribe_mailbox).strip()
    if mailbox:
        value += f", <mailto:{mailbox}?subject=unsubscribe%20{token}>"
    return value


def links(public_url: str, token: str) -> dict[str, str]:
    """The recipient's own links; the token carries no address."""
    return {
        "rsvp": f"{public_url}/rsvp/{token}",
        "unsubscribe": f"{public_url}/unsubscribe/{token}",
        "ics": f"{public_url}/rsvp/{token}/event.ics",
    }


def personalise(template: MessageTemplate, token: str, first_name: str, answer: str = "") -> tuple[str, str, str]:
    """The recipient's HTML, text and calendar: markers filled, nothing re-rendered."""
    hello = greeting(first_name)
    answer = _clean_line(answer)
    return (fill(template.html, {"TOKEN": token, "GREETING": html.escape(hello), "ANSWER": html.escape(answer)}),
            fill(template.text, {"TOKEN": token, "GREETING": hello, "ANSWER": answer}),
            calendar_file(template, token))


def ics_method(ics: str) -> str:
    """The calendar's METHOD (iMIP, RFC 6047: the Content-Type's `method` must be the same): PUBLISH or CANCEL."""
    found = re.search(r"^METHOD:([A-Z-]+)\r?$", ics, re.M)
    return found.group(1) if found else "PUBLISH"


def calendar_file(template: MessageTemplate, token: str) -> str:
    """The recipient's .ics as the e-mail carries it (the `/event.ics` route serves the same bytes)."""
    return fold_ics(fill(template.ics, {"TOKEN": token, "GREETING": "", "ANSWER": ""}))


def build_message(template: MessageTemplate, prepared: Prepared, *, to_address: str, to_name: str = "",
                  first_name: str = "", token: str, subscriber_id: str = "", test: bool = False,
                  message_id: str | None = None, date: str | None = None, answer: str = "",
                  calendar: bool = True) -> bytes:
    """The complete raw message for one recipient, ready for SES `SendEmail` (Raw).

    Only the values are encoded here; the parts were encoded by `prepare`. `answer` fills a follow-up's
    ANSWER marker; `calendar` False leaves the .ics out (a follow-up's recipient without a confirmed place).
    """
    hello = greeting(first_name)
    answer = _clean_line(answer)
    html_values = {"TOKEN": qp_value(token), "GREETING": qp_value(html.escape(hello)),
                   "ANSWER": qp_value(html.escape(answer))}
    text_values = {"TOKEN": html_values["TOKEN"], "GREETING": qp_value(hello), "ANSWER": qp_value(answer)}
    head_ics, marked_ics, tail_ics = prepared.ics
    urls = links(template.public_url, token)
    message_id = message_id or (f"<{template.campaign_id}.{subscriber_id or secrets.token_hex(6)}."
                                f"{secrets.token_hex(6)}@{prepared.domain}>")
    mixed, alt = prepared.boundary_mixed, prepared.boundary_alt
    head = prepared.head
    if test:
        head = head.replace("Subject: ", "Subject: [TEST] ", 1) + "X-Convier-Test: oui" + CRLF
    parts = [
        head,
        f"To: {mailbox(to_name, to_address)}", CRLF,
        f"Date: {date or formatdate(usegmt=True)}", CRLF,
        f"Message-ID: {message_id}", CRLF,
        f"List-Unsubscribe: {list_unsubscribe(template, urls['unsubscribe'], token)}", CRLF,
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click", CRLF,
        f'Content-Type: multipart/mixed; boundary="{mixed}"', CRLF,
        CRLF,
        f"--{mixed}", CRLF,
        f'Content-Type: multipart/alternative; boundary="{alt}"', CRLF,
        CRLF,
        f"--{alt}", CRLF,
        "Content-Type: text/plain; charset=utf-8", CRLF,
        "Content-Transfer-Encoding: quoted-printable", CRLF,
        CRLF,
        fill(prepared.text_qp, text_values), CRLF,
        f"--{alt}", CRLF,
        "Content-Type: text/html; charset=utf-8", CRLF,
        "Content-Transfer-Encoding: quoted-printable", CRLF,
        CRLF,
        fill(prepared.html_qp, html_values), CRLF,
        f"--{alt}--", CRLF,
    ]
    if calendar and (head_ics or marked_ics):
        ics_text = (head_ics + fold_ics(fill(marked_ics, {"TOKEN": token, "GREETING": "", "ANSWER": ""})) + tail_ics
                    if marked_ics else head_ics)
        parts += [
            f"--{mixed}", CRLF,
            f'Content-Type: text/calendar; charset=utf-8; method={ics_method(head_ics or "".join(marked_ics))}; '
            'name="invitation.ics"', CRLF,
            'Content-Disposition: attachment; filename="invitation.ics"', CRLF,
            "Content-Transfer-Encoding: quoted-printable", CRLF,
            CRLF,
            _qp(ics_text), CRLF,
        ]
    parts += [f"--{mixed}--", CRLF]
    return "".join(parts).encode("ascii")
