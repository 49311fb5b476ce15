"""The seed and one small post per trap of the real corpus (tests/fixtures/quirks/) render into a sound e-mail,
through the real CLI and through the functions. The same checks over the 43 real posts: `make corpus`.

The seed's text part is compared with tests/snapshots/seed.txt, reviewed by eye;
after a deliberate change, regenerate it with CONVIER_UPDATE_SNAPSHOTS=1 make test
and review the diff in git.
"""

import difflib
import os
import re
from pathlib import Path

import pytest

from convier.inputs.post import read_post
from convier.render import style
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation
from rendercheck import check_through_the_cli, check_through_the_functions, plain
from samples import QUIRK_POSTS, SEED

POSTS = [SEED, *QUIRK_POSTS]
SNAPSHOT = Path(__file__).parent / "snapshots" / "seed.txt"


def test_there_is_a_fixture_per_trap():
    assert {p.stem for p in QUIRK_POSTS} >= {"iframe-video", "site-chrome-ial", "span-lang-early-time",
                                              "mail-address-link", "trailing-space-link", "markdown-in-raw-html",
                                              "liquid-tags", "bom"}


@pytest.mark.parametrize("path", POSTS, ids=[p.stem for p in POSTS])
def test_post_through_the_cli(path, tmp_path, capsys):
    check_through_the_cli(path, tmp_path, capsys)


@pytest.mark.parametrize("path", POSTS, ids=[p.stem for p in POSTS])
def test_post_through_the_functions(path):
    check_through_the_functions(path)


def seed():
    import dataclasses

    r = render_invitation(build_invitation(read_post(SEED)))
    return dataclasses.replace(r, html=plain(r.html), text=plain(r.text))


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
    text = render_invitation(build_invitation(read_post(SEED))).text  # with its no-break spaces
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
