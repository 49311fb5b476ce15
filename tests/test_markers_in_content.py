"""Personalisation markers written in a post or a campaign file are refused at create (and render): only the
markers the renderer places are filled, so no third-party URL can carry a recipient's token."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-journee-cloud-2023.md"


def test_markers_in_a_post_or_a_campaign_file_are_refused_with_their_line(cli, tmp_path):
    people = tmp_path / "gens.csv"
    people.write_text("email\nzoe@exemple.gouv.fr\n", encoding="utf-8")
    assert cli("lists", "import", "gens", people).code == 0
    text = SEED.read_text(encoding="utf-8")
    lines = text.splitlines()
    where = len(lines) - 1
    lines[where] += ' ![](https://pixel.exemple.com/p.gif?t=@@TOKEN@@)'
    post = tmp_path / "billet.md"
    post.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for argv in (("campaign", "create", "--post", post, "--list", "gens"), ("render", post, "--out", tmp_path / "o")):
        result = cli(*argv)
        assert result.code == 2 and f"ligne {where + 1}" in result.err and "@@TOKEN@@" in result.err, result.err
    spec = tmp_path / "campagne.yaml"
    spec.write_text("event:\n  place: Salle @@greeting@@\n", encoding="utf-8")
    result = cli("campaign", "create", "--post", SEED, "--list", "gens", "--campaign", spec)
    assert result.code == 2 and "ligne 2" in result.err and "Traceback" not in result.err
    assert cli("campaign", "create", "--post", SEED, "--list", "gens").code == 0
