"""The body made e-mail-safe: crafted inputs first, then whole posts, one per trap of the real corpus
(tests/fixtures/quirks/, written for these tests; `make corpus` runs the same checks on the real posts)."""

import re

import pytest

from convier.inputs.post import read_post
from convier.render.body import markdown_to_html, programme_lists, render_body, video_link
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation
from samples import QUIRKS

SITE = "https://www.numerique.gouv.fr"


def html(markdown: str) -> str:
    return markdown_to_html(markdown, SITE)[0]


def hrefs(text: str) -> list[str]:
    return re.findall(r'\b(?:href|src)="([^"]*)"', text)


def test_script_and_style_dropped_with_their_content():
    out = html('Avant <script>alert("x")</script> après\n\n<style>.a{color:red}</style>\n\nFin')
    assert "<script" not in out and "alert" not in out and "color:red" not in out
    assert "Avant" in out and "Fin" in out


def test_iframe_becomes_a_link_to_the_video():
    out = html('<div><iframe title="Entretien" src="https://www.youtube.com/embed/abc_123" width="560"></iframe></div>')
    assert "<iframe" not in out
    assert '<a href="https://www.youtube.com/watch?v=abc_123">▶ Voir la vidéo : Entretien</a>' in out


@pytest.mark.parametrize("src,page", [
    ("https://www.youtube-nocookie.com/embed/XYZ", "https://www.youtube.com/watch?v=XYZ"),
    ("//player.vimeo.com/video/12345", "https://vimeo.com/12345"),
    ("https://peertube.example.org/videos/embed/uuid", "https://peertube.example.org/videos/watch/uuid"),
])
def test_video_link(src, page):
    assert video_link(src) == page


def test_section_with_nav_site_chrome_dropped():
    md = ('<section id="menu" class="cell">\n<h2>Au menu</h2>\n<nav class="grid"><a href="#a">A</a></nav>\n</section>\n'
          "> #### **Titre après le menu**\n\nTexte.")
    out = html(md)
    assert "<nav" not in out and "<section" not in out and "Au menu" not in out
    assert "<h4>" in out and "<strong>Titre après le menu</strong>" in out and "&gt;" not in out


def test_kramdown_attribute_lists_and_liquid_removed():
    out = html('Texte{:target="_blank"}\n{: .encadre role="presentation" }\n\n'
               '{% include bouton.html %} {{ page.title }} fin')
    assert "{:" not in out and "{%" not in out and "{{" not in out and "target" not in out
    assert "Texte" in out and "fin" in out


def test_javascript_and_data_links_dropped():
    out = html('[a](javascript:alert(1)) <a href="JavaScript:void(0)">b</a> '
               '<img src="data:image/png;base64,AAA" alt="x">')
    assert "javascript" not in out.lower() and "data:" not in out
    assert all(u.startswith(("https://", "mailto:")) for u in hrefs(out))


def test_relative_links_and_images_made_absolute():
    out = html('[Agenda](/agenda/) ![Logo](/uploads/logo%20bleu.png) <a href="services/x">x</a> [http](http://exemple.fr/a)')
    assert hrefs(out) == [f"{SITE}/agenda/", f"{SITE}/uploads/logo%20bleu.png", f"{SITE}/services/x", "https://exemple.fr/a"]
    custom = markdown_to_html("[a](/agenda/)", "https://www.exemple.gouv.fr")[0]
    assert 'href="https://www.exemple.gouv.fr/agenda/"' in custom


def test_mail_addresses_become_mailto_and_anchors_drop():
    out = html('[écrire](contact@numerique.gouv.fr) [haut](#haut) [m](mailto:a@b.fr)')
    assert hrefs(out) == ["mailto:contact@numerique.gouv.fr", "mailto:a@b.fr"]
    assert "haut" in out  # the text stays, the dead anchor goes


def test_placeholder_link_dropped_with_a_warning():
    out, warnings = markdown_to_html('<a href="lien à ajouter" class="button">S’inscrire</a>', SITE)
    assert "href" not in out and "S’inscrire" in out
    assert warnings == ["lien non valable retiré : « lien à ajouter »"]


def test_span_lang_kept():
    assert '<span lang="en">meetup</span>' in html('Le <span lang="en">meetup</span> design')
    assert '<span lang="en">Design</span>' in html('<span lang="EN">Design</span>')


def test_button_class_becomes_an_inline_styled_button():
    out = html('<div align="center"><a href="/inscription" class="button" title="S’inscrire">'
               '<b>S’inscrire</b></a></div>')
    anchor = re.search(r"<a [^>]*>", out).group(0)
    assert 'href="https://www.numerique.gouv.fr/inscription"' in anchor
    assert "background-color:#000091" in anchor and "color:#ffffff" in anchor and "class=" not in anchor


def test_encadre_class_becomes_a_box_and_unknown_classes_go():
    out = html('<div class="encadre noir"><p>Important</p></div>\n\n<p class="text-center">x</p>')
    assert "border-left:4px solid #000091" in out and "class=" not in out


def test_images_get_alt_and_fluid_style():
    out = html('<img src="/uploads/a.png">')
    assert 'alt=""' in out and "max-width:100%" in out


def test_unpaired_emphasis_and_literal_markdown_inside_raw_html():
    out = html('<div>**Gras dans du HTML** et [un lien](https://exemple.fr/a "titre") et **seul</div>')
    assert "**" not in out and "<strong>Gras dans du HTML</strong>" in out
    assert '<a href="https://exemple.fr/a">un lien</a>' in out and "](" not in out


def test_spacer_placeholders_dropped():
    out = html('<div class="margina"> margin 30px </div>Cet atelier\n<br>\n* **Capter l’attention**')
    assert "margin 30px" not in out and "<strong>Capter l’attention</strong>" in out and "*" not in out
    inside = html('<div>Ateliers :<br>\n* **Capter l’attention**<br>\n* Pitch</div>')
    assert "• <strong>Capter l’attention</strong>" in inside and "• Pitch" in inside and "*" not in inside


def test_programme_lines_become_items():
    md = "Au programme :\n> Accueil ;\n> Table ronde : « Le Cloud » ;\n> Ateliers."
    assert programme_lists(md) == "Au programme :\n\n- Accueil ;\n- Table ronde : « Le Cloud » ;\n- Ateliers.\n"
    assert html(programme_lists(md)).count("<li>") == 3


def test_a_real_quote_stays_a_quote():
    md = "> Une citation qui continue\n> sur la ligne suivante sans ponctuation"
    assert programme_lists(md) == md


def test_encadre_marker_makes_a_box_with_its_title():
    body = render_body("Avant.\n[Encadré]\nTitre de l’encadré\n\nPremier paragraphe.\n\nSecond.", SITE)
    assert "Avant." in body.html and "Premier" not in body.html
    assert body.box_title == "Titre de l’encadré"
    assert body.box_html.count("<p>") == 2


# One short post per trap that the corpus README names, rendered whole (the real posts: tests/corpus/).

def rendered(name: str):
    """Typography's no-break spaces read as spaces here (tests/test_typography.py checks them)."""
    import dataclasses

    r = render_invitation(build_invitation(read_post(QUIRKS / name)))
    return dataclasses.replace(r, html=r.html.replace("\u00a0", " ").replace("\u202f", " "),
                               text=r.text.replace("\u00a0", " ").replace("\u202f", " "))


def test_post_with_an_iframe_video_and_html_buttons():
    r = rendered("iframe-video.md")
    assert "<iframe" not in r.html
    assert 'href="https://videos.exemple.gouv.fr/videos/watch/0b6f1c2e-7d4a-4e1b-9a55-3c2d1e0f9a11"' in r.html
    assert "Voir la vidéo : Trois minutes pour comprendre l’écoconception" in r.text
    assert r.html.count("background-color:#000091;color:#ffffff") >= 2  # the post's HTML buttons


def test_post_with_section_nav_chrome_and_kramdown_attribute_lists():
    r = rendered("site-chrome-ial.md")
    for leftover in ("<nav", "<section", "{:", "Au menu", "margin 30px", "> >", "](", "**"):
        assert leftover not in r.html, leftover
    assert "Préparez votre venue et rencontrez les recruteurs !" in r.text and "> >" not in r.text
    assert "Cet atelier vous aide" in r.text and "margin 30px" not in r.text
    assert not re.search(r'src="/', r.html)
    assert 'src="https://www.numerique.gouv.fr/uploads/plan-acces.png"' in r.html
    assert all(u.startswith(("https://", "mailto:")) for u in hrefs(r.html))


def test_post_with_span_lang_and_a_utc_looking_start_time():
    r = rendered("span-lang-early-time.md")
    assert r.html.count('<span lang="en">meetup</span>') >= 3
    assert any("heure de début inhabituelle : 6 h 30" in w for w in r.warnings)


def test_post_with_a_mail_address_as_link():
    r = rendered("mail-address-link.md")
    assert 'href="mailto:appel.projets@exemple.gouv.fr"' in r.html
    assert "appel.projets@exemple.gouv.fr" in r.text and "mailto:" not in r.text
    assert 'href="https://appel.projets' not in r.html


def test_post_with_a_trailing_space_in_a_link():
    r = rendered("trailing-space-link.md")
    assert 'href="https://www.demarches-simplifiees.fr/commencer/inscription-hackathon-donnees"' in r.html
    assert "inscription-hackathon-donnees%20" not in r.html and "inscription-hackathon-donnees " not in r.html
    assert "Quand : du 5 au 6 juin 2024\n" in r.text  # two days at 00:00: dates only


def test_post_with_a_literal_markdown_link_inside_raw_html():
    r = rendered("markdown-in-raw-html.md")
    assert "](" not in r.html and "](" not in r.text
    assert 'href="https://www.data.gouv.fr/fr/datasets/enquete-annuelle-resultats-2024/"' in r.html
    assert 'href="https://www.numerique.gouv.fr/uploads/enquete-2024.pdf"' in r.html


def test_post_with_liquid_tags():
    r = rendered("liquid-tags.md")
    for part in (r.html, r.text):
        for leftover in ("{%", "%}", "{{", "}}", "bouton.html", "page.title", "site.inscriptions"):
            assert leftover not in part, leftover
    assert "Les inscriptions sont ouvertes." in r.text and "Rendez-vous à 10 h." in r.text
