"""Reading posts: real oddities tolerated, unreadable posts refused with a message naming the file and line."""

import datetime as dt

import pytest

from convier.cli.app import main
from convier.inputs.post import PostError, parse_post, read_post
from samples import FIXTURES, QUIRK_POSTS, QUIRKS, SEED


def test_front_matter_fields():
    post = parse_post(
        "---\n"
        "title: 'Atelier '\n"
        "date: 2022-12-16 15:23:00 +01:00\n"
        "published: false\n"
        "categories: [Atelier]\n"
        "chapeau-text: Un **atelier**.\n"
        "une-ou-diaporama:\n- image: /uploads/a.jpg\n  alternative-textuelle: |-\n"
        "    Une image\n    sur deux lignes\n- image: /uploads/b.jpg\n"
        "event_start_date: 2023-01-24 09:00:00 +01:00\n"
        "event_end_date: 2023-01-24 17:30:00 +01:00\n"
        "lieu: Station F\n"
        "acces:\n- type: Métro\n  lignes:\n  - nom: 14\n  - nom: ''\n- lien:\n"
        "champs_informations:\n- intitule: 'Horaires '\n  contenu: 9h\n- intitule: null\n  contenu: 'null'\n"
        "---\nCorps.\n", "billet.md")
    assert post.title == "Atelier" and post.chapeau == "Un **atelier**." and post.body == "Corps.\n"
    assert post.published is False and post.categories == ("Atelier",)
    assert post.images[0].alt == "Une image sur deux lignes" and post.images[1].alt is None
    assert post.event_start == dt.datetime(2023, 1, 24, 9, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert post.place == "Station F"
    assert [(a.kind, a.lines) for a in post.access] == [("Métro", ("14",))]
    assert [(f.label, f.content) for f in post.info_fields] == [("Horaires", "9h")]


def test_corrupted_and_reversed_dates_are_warnings():
    post = parse_post("---\ntitle: T\nevent_start_date: 0007-08-31 23:09:21 +00:09\n---\n")
    assert post.event_start is None and any("invraisemblable" in w for w in post.warnings)
    post = parse_post("---\ntitle: T\nevent_start_date: 2021-11-18 10:12:00 +01:00\n"
                      "event_end_date: 2021-11-18 00:00:00 +01:00\n---\n")
    assert post.event_end is None and any("antérieure" in w for w in post.warnings)


def test_legacy_event_date_key_and_bom():
    post = parse_post("\ufeff---\ntitle: T\nevent_date: 2019-05-21 18:00:00 +02:00\n---\nx")
    assert post.event_start.hour == 18


@pytest.mark.parametrize("name,expected", [
    ("invalid-yaml.md", "invalid-yaml.md, ligne 4 : en-tête YAML invalide"),
    ("no-title.md", "no-title.md, ligne 1 : le billet n’a pas de titre"),
    ("no-front-matter.md", "no-front-matter.md, ligne 1 : pas d’en-tête YAML"),
    ("unclosed-front-matter.md", "unclosed-front-matter.md, ligne 1 : en-tête YAML non fermé"),
    ("empty.md", "empty.md, ligne 1 : le fichier est vide"),
    ("not-utf8.md", "not-utf8.md, ligne 2 : le fichier n’est pas en UTF-8"),
    ("list-front-matter.md", "list-front-matter.md, ligne 2 : l’en-tête YAML doit être un ensemble de clés"),
    ("text-front-matter.md", "text-front-matter.md, ligne 2 : l’en-tête YAML doit être un ensemble de clés"),
    ("does-not-exist.md", "does-not-exist.md, ligne 1 : lecture impossible : fichier ou dossier introuvable"),
])
def test_broken_posts_function_and_cli(name, expected, tmp_path, capsys):
    path = FIXTURES / name
    with pytest.raises(PostError) as err:
        read_post(path)
    assert expected in str(err.value) and str(path) in str(err.value)

    out = tmp_path / "out"
    code = main(["render", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    assert code != 0
    message = " ".join(captured.err.split())
    assert "erreur" in message and expected in message, captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not out.exists(), "nothing is half-written"


def test_cli_missing_campaign_file(tmp_path, capsys):
    code = main(["render", str(SEED), "--campaign", str(tmp_path / "absent.yaml"),
                 "--out", str(tmp_path / "out")])
    err = " ".join(capsys.readouterr().err.split())
    assert code != 0 and "absent.yaml, ligne 1 : lecture impossible" in err and "Traceback" not in err


def test_a_file_with_a_byte_order_mark():
    post = read_post(QUIRKS / "bom.md")
    assert post.title == "Petit-déjeuner du numérique" and post.place == "Station F"
    assert post.event_start == dt.datetime(2024, 5, 23, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert "\ufeff" not in post.body and post.body.strip().startswith("Un fichier enregistré")


def test_every_fixture_post_parses():
    for path in (SEED, *QUIRK_POSTS):
        post = read_post(path)
        assert post.title and post.source == str(path)
