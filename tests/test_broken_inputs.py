"""A library of broken inputs (tests/fixtures/broken/) through every command that reads files.

Each one: exit code 2, one French line naming the file and its line, never a traceback, nothing written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from convier.cli.app import main

ROOT = Path(__file__).resolve().parents[1]
BROKEN = Path(__file__).parent / "fixtures" / "broken"
POSTS = sorted((BROKEN / "posts").iterdir())
CAMPAIGNS = sorted((BROKEN / "campaigns").iterdir())
LISTS = sorted((BROKEN / "lists").iterdir())
GOOD_POST = ROOT / "examples" / "seed-journee-cloud-2023.md"
ENGLISH = re.compile(r"Traceback|Error\b|No such file|Is a directory|found unexpected|\bexpected\b|could not|"
                     r"while scanning|out of range|\binvalid\b|usage:|\bline\b", re.I)


def assert_clean_refusal(code: int, out: str, err: str, path: Path) -> None:
    text = " ".join((out + err).split())
    assert code == 2, text
    assert "Traceback" not in out + err
    assert str(path) in text, text
    assert re.search(rf"{re.escape(str(path))}, ligne \d+ : ", text), text
    assert not ENGLISH.search(text), text


@pytest.fixture
def quiet_env(monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("CONVIER_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("path", POSTS, ids=lambda p: p.name)
def test_render_refuses_broken_posts(path, tmp_path, capsys, quiet_env):
    code = main(["render", str(path), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert_clean_refusal(code, captured.out, captured.err, path)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.name)
def test_render_refuses_broken_campaign_files(path, tmp_path, capsys, quiet_env):
    code = main(["render", str(GOOD_POST), "--campaign", str(path), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert_clean_refusal(code, captured.out, captured.err, path)


def test_a_folder_or_a_missing_file_is_named_in_french(tmp_path, capsys, quiet_env):
    folder = tmp_path / "billet.md"
    folder.mkdir()
    for path, words in ((folder, "c’est un dossier"), (tmp_path / "absent.md", "introuvable")):
        code = main(["render", str(path), "--out", str(tmp_path / "out")])
        captured = capsys.readouterr()
        assert_clean_refusal(code, captured.out, captured.err, path)
        assert words in captured.err


def test_render_into_a_file_instead_of_a_folder(tmp_path, capsys, quiet_env):
    target = tmp_path / "out"
    target.write_text("déjà là", encoding="utf-8")
    code = main(["render", str(GOOD_POST), "--out", str(target)])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err and str(target) in captured.err
    assert not ENGLISH.search(captured.err), captured.err


def test_argparse_speaks_french(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["campaign", "create"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "utilisation : convier campaign create" in err and "arguments obligatoires manquants : --post" in err
    with pytest.raises(SystemExit):
        main(["campaign", "send", "--help"])
    out = capsys.readouterr().out
    assert "affiche cette aide et quitte" in out and "arguments positionnels" in out
    assert "usage:" not in out and "show this help" not in out and "positional arguments" not in out


def _walk(parser, path=("convier",)):
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, path + (name,))


def test_every_option_and_command_has_a_help_line():
    import argparse

    from convier.cli.app import parser

    missing = []
    for path, p in _walk(parser()):
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{' '.join(path)} {c.dest}" for c in action._choices_actions if not c.help]
            elif action.help is None:
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing


# --- the commands that need the table: campaign create, lists import ---------------------------------

@pytest.fixture
def with_list(cli, tmp_path):
    good = tmp_path / "invites.csv"
    good.write_text("email;prénom\nanne@exemple.gouv.fr;Anne\n", encoding="utf-8")
    assert cli("lists", "import", "invites", good).code == 0
    return cli


def test_campaign_create_refuses_every_broken_input(with_list):
    cli = with_list
    for path in POSTS:
        result = cli("campaign", "create", "--post", path, "--list", "invites")
        assert_clean_refusal(result.code, result.out, result.err, path)
    for path in CAMPAIGNS:
        result = cli("campaign", "create", "--post", GOOD_POST, "--list", "invites", "--campaign", path)
        assert_clean_refusal(result.code, result.out, result.err, path)


def test_lists_import_refuses_every_broken_file(cli, tmp_path):
    for path in LISTS + [tmp_path]:
        result = cli("lists", "import", "invites", path)
        assert_clean_refusal(result.code, result.out, result.err, path)
    assert "invites" not in cli("lists", "show").out


def test_exports_into_a_missing_folder(with_list, tmp_path):
    target = tmp_path / "absent" / "liste.csv"
    result = with_list("lists", "export", "invites", "--out", target)
    assert result.code == 2 and "Traceback" not in result.err and str(target) in result.err
    assert "introuvable" in result.err
