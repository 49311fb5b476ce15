"""The text part keeps the spaces around a link's words where the sentence had them
(issue 11: `sur[ la plateforme ](url)`)."""

import pytest

from convier.render.body import markdown_to_html
from convier.render.plaintext import html_to_text

SITE = "https://site.gouv.fr"


@pytest.mark.parametrize("html, text", [
    # inscriptis keeps the spaces inside the brackets when the HTML has them inside the link
    ('<p>sur<a href="https://x.fr"> la plateforme </a>avant jeudi</p>', "sur la plateforme <https://x.fr> avant jeudi"),
    ('<p>sur <a href="https://x.fr"> la plateforme </a> avant jeudi</p>',
     "sur la plateforme <https://x.fr> avant jeudi"),
    ('<p><a href="https://x.fr"> Début</a> de ligne</p>', "Début <https://x.fr> de ligne"),
    ('<p>Voir :<a href="https://x.fr"> ce lien</a>.</p>', "Voir : ce lien <https://x.fr>."),
    ('<p>écrire à<a href="mailto:a@x.fr"> a@x.fr </a>ou</p>', "écrire à a@x.fr ou"),
])
def test_spaces_inside_a_link_go_back_outside(html, text):
    assert html_to_text(html) == text


@pytest.mark.parametrize("markdown, text", [
    ("Inscrivez-vous sur [la plateforme](https://x.fr/a) avant jeudi.",
     "Inscrivez-vous sur la plateforme <https://x.fr/a> avant jeudi."),
    ("[Début](https://x.fr) de ligne", "Début <https://x.fr> de ligne"),
    ("Voir : [ce lien](https://x.fr).", "Voir : ce lien <https://x.fr>."),
    ("(voir [le programme](https://x.fr/p)), puis", "(voir le programme <https://x.fr/p>), puis"),
    ("a [![logo](https://x.fr/i.png) texte](https://x.fr) b", "a texte <https://x.fr> b"),
    ("sur [la *belle* plateforme](https://x.fr) ici", "sur la belle plateforme <https://x.fr> ici"),
])
def test_markdown_links_in_the_text_part(markdown, text):
    html, _ = markdown_to_html(markdown, SITE)
    assert html_to_text(html) == text
