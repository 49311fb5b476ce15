"""Every corpus post renders into a sound e-mail, through the real CLI and through the functions.

The seed's text part is compared with tests/snapshots/seed.txt, reviewed by eye;
after a deliberate change, regenerate it with CONVIER_UPDATE_SNAPSHOTS=1 make test
and review the diff in git.
"""

import difflib
import email
import os
import re
from email import policy
from html.parser import HTMLParser
from pathlib import Path

import pytest

from convier.cli.app import main
from convier.inputs.post import read_post
from convier.render import style
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation
from corpus import CORPUS

POSTS = sorted(p for p in CORPUS.iterdir() if p.suffix in (".md", ".markdown")) if CORPUS.is_dir() else []
SEED = CORPUS / "seed-journee-cloud-2023.md"
SNAPSHOT = Path(__file__).parent / "snapshots" / "seed.txt"
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


def check_html(html: str, preheader: str):
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


def check_text(text: str):
    assert not TEXT_TAG.search(text), TEXT_TAG.search(text).group(0)
    for leftover in LEFTOVERS + ("&amp;", "&nbsp;", "&#", "\n\n\n"):
        assert leftover not in text, leftover
    assert set(re.findall(r"@@\w+@@", text)) <= {"@@GREETING@@", "@@TOKEN@@"}
    assert text.startswith("@@GREETING@@\n\n") and "\n-- \n" in text


@pytest.mark.parametrize("path", POSTS, ids=[p.stem[:50] for p in POSTS])
def test_corpus_post_through_the_cli(path, tmp_path, capsys):
    assert len(POSTS) >= 42, f"corpus not found under {CORPUS}"
    code = main(["render", str(path), "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    html = (tmp_path / "invitation.html").read_text(encoding="utf-8")
    text = (tmp_path / "invitation.txt").read_text(encoding="utf-8")
    assert (tmp_path / "invitation.mjml").read_text(encoding="utf-8").startswith("<mjml")
    check_html(html, build_invitation(read_post(path)).preheader)
    check_text(text)

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


@pytest.mark.parametrize("path", POSTS, ids=[p.stem[:50] for p in POSTS])
def test_corpus_post_through_the_functions(path):
    invitation = build_invitation(read_post(path))
    rendered = render_invitation(invitation)
    check_html(rendered.html, invitation.preheader)
    check_text(rendered.text)
    assert invitation.title in rendered.text.replace("\n", " ") or invitation.title[:30] in rendered.text
    if invitation.event and invitation.event.start:
        assert rendered.ics.startswith("BEGIN:VCALENDAR") and invitation.event.when in rendered.text
    size_warnings = [w for w in rendered.warnings if "Ko" in w]
    assert not size_warnings


def seed():
    return render_invitation(build_invitation(read_post(SEED)))


def test_seed_date_in_both_parts():
    r = seed()
    assert "mardi 24 janvier 2023" in r.html and "Quand : mardi 24 janvier 2023\n" in r.text
    assert "DTSTART;VALUE=DATE:20230124" in r.ics and "DTEND;VALUE=DATE:20230125" in r.ics
    assert any("déduite du texte « mardi 24 janvier 2023 »" in w for w in r.warnings)


def test_seed_programme_is_six_items():
    r = seed()
    programme = r.html[r.html.index("Au programme"):]
    items = re.findall(r"<li>(.*?)</li>", programme[:programme.index("</ul>")], re.S)
    assert len(items) == 6
    assert items[0].startswith("Intervention de Philippe Merle") and items[-1] == "Ateliers participatifs."
    assert r.text.count("\n  * ") == 6


def test_seed_encadre_is_a_highlighted_box():
    r = seed()
    assert "[Encadré]" not in r.html and "[Encadré]" not in r.text
    start = r.html.index("Passez au Cloud pour accélérer")
    # The box is its own column: blue-tinted background, blue-France left border, its title as a heading.
    column = r.html[r.html.rindex("<td", 0, r.html.rindex(style.BLUE_BG, 0, start)):start]
    assert f"border-left:4px solid {style.BLUE_FRANCE}" in column and "<h2" in column
    assert "Intitulée « Cloud au centre »" in r.html[start:]
    body_before_box = r.html[:r.html.rindex(style.BLUE_BG, 0, start)]
    assert "Ateliers participatifs." in body_before_box


def test_seed_text_snapshot():
    text = seed().text
    if os.environ.get("CONVIER_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            "tests/snapshots/seed.txt", "rendu actuel"))
        print(diff)
        pytest.fail("the seed's text part changed (diff above); "
                    "if intended: CONVIER_UPDATE_SNAPSHOTS=1 make test\n" + diff)
