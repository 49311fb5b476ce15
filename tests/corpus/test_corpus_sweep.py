"""The sweep over the real posts of the shared corpus: `make corpus` (collected only when CONVIER_CORPUS is set).

Every post parses, renders into a sound e-mail through the CLI and through the functions, and the posts that
/work/shared/corpus/README.md names for a trap still get past it. `make test` covers each trap with a small
fixture of ours (tests/fixtures/quirks/); this sweep checks that the real posts agree.
"""

import dataclasses
import os
import re
from pathlib import Path

import pytest

from convier.inputs.post import read_post
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation
from rendercheck import check_through_the_cli, check_through_the_functions

CORPUS = Path(os.environ["CONVIER_CORPUS"]) / "posts"  # set by `make corpus`, which runs only when it exists
FILES = sorted(CORPUS.iterdir())
POSTS = [p for p in FILES if p.suffix in (".md", ".markdown")]


def test_the_corpus_is_there():
    assert len(POSTS) >= 42, f"corpus not found under {CORPUS}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem[:50] for p in FILES])
def test_post_parses(path):
    post = read_post(path)
    assert post.title and post.source == str(path)


@pytest.mark.parametrize("path", POSTS, ids=[p.stem[:50] for p in POSTS])
def test_post_through_the_cli(path, tmp_path, capsys):
    check_through_the_cli(path, tmp_path, capsys)


@pytest.mark.parametrize("path", POSTS, ids=[p.stem[:50] for p in POSTS])
def test_post_through_the_functions(path):
    check_through_the_functions(path)


# --- the posts named in the corpus README for each trap, rendered whole -------------------------------

def rendered(name: str):
    """The rendered post, its no-break spaces (French typography) read as spaces, as in tests/test_body.py."""
    r = render_invitation(build_invitation(read_post(CORPUS / name)))
    return dataclasses.replace(r, html=r.html.replace("\u00a0", " ").replace("\u202f", " "),
                               text=r.text.replace("\u00a0", " ").replace("\u202f", " "))


def hrefs(text: str) -> list[str]:
    return re.findall(r'\b(?:href|src)="([^"]*)"', text)


def test_iframe_ethics_by_design():
    r = rendered("ethics-by-design-2022.markdown")
    assert "<iframe" not in r.html
    assert 'href="https://peertube.designersethiques.org/videos/watch/55d9c156-22fc-4f83-8fe2-47a68e3c3690"' in r.html
    assert "Voir la vidéo : La DINUM soutient Ethics by design" in r.text
    assert r.html.count("background-color:#000091;color:#ffffff") >= 2  # the post's HTML buttons


def test_section_nav_ial_forum_2021():
    r = rendered("forum-emploi-tech-etat-2021.markdown")
    for leftover in ("<nav", "<section", "{:", "Au menu", "margin 30px", "> >", "](", "**"):
        assert leftover not in r.html, leftover
    assert "Créez le service public de demain" in r.text and "> >" not in r.text
    assert not re.search(r'src="/', r.html)
    assert all(u.startswith(("https://", "mailto:")) for u in hrefs(r.html))


def test_span_lang_design_public_meetup_5():
    r = rendered("design-public-meetup-5.markdown")
    assert r.html.count('<span lang="en">meetup</span>') >= 3
    assert any("heure de début inhabituelle : 6 h 30" in w for w in r.warnings)


def test_mail_address_as_link_guichet():
    r = rendered("guichet-adoption-du-cloud-computing-webinaire-dinformation.markdown")
    assert 'href="mailto:infonuage.dinum@modernisation.gouv.fr"' in r.html
    assert "infonuage.dinum@modernisation.gouv.fr" in r.text and "mailto:" not in r.text
    assert 'href="https://infonuage' not in r.html


def test_trailing_space_link_hackathon():
    r = rendered("hackathon-declaration-sociale-nominative-dsn.markdown")
    assert 'href="https://www.demarches-simplifiees.fr/commencer/inscription-hackathon-dsn"' in r.html
    assert "inscription-hackathon-dsn%20" not in r.html and "inscription-hackathon-dsn " not in r.html
    assert "du 5 au 6 juin 2024" in r.text or re.search(r"Quand : du \d+ au \d+ \w+ 2024", r.text)


def test_literal_markdown_link_in_raw_html_barometre():
    r = rendered("barometre-numerique-agent-2022.markdown")
    assert "](" not in r.html and "](" not in r.text
    assert 'href="https://www.data.gouv.fr/fr/datasets/barometre-numerique-de-lagent-resultats-2021/"' in r.html
