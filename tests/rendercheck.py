"""What every rendered post must satisfy, in both parts and through the CLI: shared by tests/test_render.py
(the seed and the fixture posts) and tests/corpus/ (the real posts, `make corpus`)."""

from __future__ import annotations

import email
import re
from email import policy
from html.parser import HTMLParser
from pathlib import Path

from convier.cli.app import main
from convier.inputs.post import read_post
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation

LEFTOVERS = ("{:", "{%", "{{", "**", "<iframe", "<script", "javascript:", "](")
# In the text part, links are written <https://…> and mail addresses <a@b.fr>; anything else in angle brackets is HTML.
TEXT_TAG = re.compile(r"<(?!https://|[^<>\s@]+@[^<>\s]+>)/?[a-zA-Z][^>]*>")


class Audit(HTMLParser):
    """Every href and src, and images without alt."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.images_without_alt = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls += [attrs[k] or "" for k in ("href", "src") if k in attrs]
        if tag == "img" and attrs.get("alt") is None:
            self.images_without_alt += 1


def plain(text: str) -> str:
    """French typography's no-break spaces read as spaces (tests/test_typography.py checks where they are)."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def check_html(html: str, preheader: str):
    html = plain(html)
    assert re.search(r'<html[^>]*\blang="fr"', html)
    hidden = re.search(r'<div style="display:none;[^"]*">(.*?)</div>', html, re.S)
    assert hidden and hidden.group(1).strip(), "no preheader"
    assert preheader[:40].replace("'", "&#39;") in hidden.group(1) or preheader[:40] in hidden.group(1)
    for leftover in LEFTOVERS:
        assert leftover not in html, leftover
    audit = Audit()
    audit.feed(html)
    bad = [u for u in audit.urls if not u.startswith(("https://", "mailto:"))]
    assert not bad, bad
    assert audit.images_without_alt == 0
    assert len(html.encode()) < 100 * 1024


def check_text(text: str, greeting: str = "@@GREETING@@"):
    text = plain(text)
    assert not TEXT_TAG.search(text), TEXT_TAG.search(text).group(0)
    for leftover in LEFTOVERS + ("&amp;", "&nbsp;", "&#", "\n\n\n"):
        assert leftover not in text, leftover
    assert set(re.findall(r"@@\w+@@", text)) <= {"@@GREETING@@", "@@TOKEN@@"}
    assert text.startswith(f"{greeting}\n\n") and "\n-- \n" in text


def check_through_the_cli(path: Path, tmp_path: Path, capsys):
    """`convier render POST --out DIR`: the HTML, text, MJML and .eml files, sound and filled for a sample person."""
    code = main(["render", str(path), "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    html = (tmp_path / "invitation.html").read_text(encoding="utf-8")
    text = (tmp_path / "invitation.txt").read_text(encoding="utf-8")
    assert (tmp_path / "invitation.mjml").read_text(encoding="utf-8").startswith("<mjml")
    check_html(html, build_invitation(read_post(path)).preheader)
    check_text(text, greeting="Bonjour Camille,")
    assert "@@" not in html + text  # the preview is the sample recipient's e-mail
    assert "@@GREETING@@" in (tmp_path / "invitation-modele.html").read_text(encoding="utf-8")
    assert (tmp_path / "invitation.html").resolve().as_uri() in captured.out

    message = email.message_from_bytes((tmp_path / "invitation.eml").read_bytes(), policy=policy.default)
    assert message.get_content_type() == "multipart/mixed"
    [alternative] = [p for p in message.iter_parts() if p.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    filled_html = message.get_body(("html",)).get_content()
    filled_text = message.get_body(("plain",)).get_content()
    assert "@@" not in filled_html and "@@" not in filled_text
    assert filled_text.startswith("Bonjour Camille,")
    check_html(filled_html, build_invitation(read_post(path)).preheader)
    calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    has_date = "ni fichier .ics" not in " ".join(captured.err.split())
    assert len(calendars) == (1 if has_date else 0)


def check_through_the_functions(path: Path):
    """read_post → build_invitation → render_invitation: both parts sound, the title and date in the text."""
    invitation = build_invitation(read_post(path))
    rendered = render_invitation(invitation)
    check_html(rendered.html, invitation.preheader)
    check_text(rendered.text)
    text = plain(rendered.text)
    assert invitation.title in text.replace("\n", " ") or invitation.title[:30] in text
    if invitation.event and invitation.event.start:
        assert rendered.ics.startswith("BEGIN:VCALENDAR") and invitation.event.when in text
    size_warnings = [w for w in rendered.warnings if "Ko" in w]
    assert not size_warnings
