"""French typography on the e-mail and the pages: spaces that do not break, elision, and nothing else touched."""

import pytest

from convier.domain import typography as t

N, F = "\u00a0", "\u202f"  # no-break space, narrow no-break space


@pytest.mark.parametrize("before,after", [
    ("Vous venez ?", f"Vous venez{F}?"),
    ("Vous venez?", f"Vous venez{F}?"),
    ("Bienvenue !", f"Bienvenue{F}!"),
    ("Quoi ?!", f"Quoi{F}?!"),
    ("un ; deux", f"un{F}; deux"),
    ("Horaires : 9 h", f"Horaires{N}: 9{N}h"),
    ("Horaires: de 17h30 à 21h", f"Horaires{N}: de 17{N}h{N}30 à 21{N}h"),
    ("« Le Cloud »", f"«{F}Le Cloud{F}»"),
    ("«Le Cloud»", f"«{F}Le Cloud{F}»"),
    ("18h30-21h30", f"18{N}h{N}30-21{N}h{N}30"),
    ("à 17 h 30.", f"à 17{N}h{N}30."),
    ("il est 17:30", "il est 17:30"),
    ("10 heures", "10 heures"),
    ("voir https://exemple.fr/a?b=c;d!e:f et www.x.fr/?q", "voir https://exemple.fr/a?b=c;d!e:f et www.x.fr/?q"),
    ("écrivez à anne@exemple.gouv.fr !", f"écrivez à anne@exemple.gouv.fr{F}!"),
    ("@@GREETING@@ : bienvenue", f"@@GREETING@@{N}: bienvenue"),
    ("a &amp; b", "a &amp; b"),
])
def test_text_rules(before, after):
    assert t.text(before) == after
    assert t.text(after) == after  # idempotent


def test_html_touches_text_only():
    source = ('<p class="a:b" title="Vous venez ?">Vous <strong>venez</strong> ? '
              '<a href="https://x.fr/?a=1">lien !</a></p><code>a ? b : c</code><pre>x ; y</pre>'
              '<style>a:hover{color:red}</style><!--[if mso]><b>x ?</b><![endif]-->'
              '<p>pour nous écrire&nbsp;: <em>Cloud</em> »</p>')
    out = t.html(source)
    assert '<p class="a:b" title="Vous venez ?">' in out and 'href="https://x.fr/?a=1"' in out
    assert f"</strong>{F}? " in out and f"lien{F}!</a>" in out
    assert "<code>a ? b : c</code><pre>x ; y</pre>" in out and "a:hover{color:red}" in out
    assert "<!--[if mso]><b>x ?</b><![endif]-->" in out
    assert f"écrire{N}:" in out and f"</em>{F}»" in out and "&nbsp;" not in out.split("écrire")[1][:8]
    assert t.html(out) == out


@pytest.mark.parametrize("name,de,par", [
    ("Équipe Cloud DINUM", "de l’Équipe Cloud DINUM", "par l’Équipe Cloud DINUM"),
    ("Ministère de la Culture", "du Ministère de la Culture", "par le Ministère de la Culture"),
    ("Direction du numérique", "de la Direction du numérique", "par la Direction du numérique"),
    ("Agence nationale", "de l’Agence nationale", "par l’Agence nationale"),
    ("Haut Conseil", "du Haut Conseil", "par le Haut Conseil"),
    ("Etalab", "d’Etalab", "par Etalab"),
    ("DINUM", "de DINUM", "par DINUM"),
])
def test_articles_and_elision(name, de, par):
    assert t.of(name) == de and t.of(name, "par") == par
