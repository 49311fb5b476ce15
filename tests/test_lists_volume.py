"""A 10,000-row import through the CLI on a moto server over HTTP (the one large test)."""

from __future__ import annotations

import random

from convier.store import subscribers

ROWS = 10_000


def write_list(path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    first = ["Camille", "Hélène", "François", "Noël", "Zoé", "Agnès", "Loïc", "Maëlle"]
    last = ["Martin", "Lefèbvre", "Rivière", "Garcia", "Le Gall", "Dupont"]
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Adresse électronique;Prénom;Nom;Service\r\n")
        for i in range(rows):
            out.write(f"agent.{i:06d}@ministere{i % 17}.gouv.fr;{rng.choice(first)};{rng.choice(last)};"
                      f"\"Direction {i % 40}; bureau {i % 7}\"\r\n")


def test_ten_thousand_rows(cli, settings, tmp_path):
    s, c = settings
    path = tmp_path / "grande-liste.csv"
    write_list(path, ROWS - 2)
    with open(path, "a", encoding="utf-8", newline="") as out:
        out.write("agent.000001@MINISTERE1.gouv.fr;Doublon;X;Y\r\n")  # line ROWS
        out.write("pas-une-adresse;Rejet;X;Y\r\n")  # line ROWS + 1
    result = cli("lists", "import", "grande", path)
    assert result.code == 0, result.err
    assert f"ajoutés : {ROWS - 2:,}".replace(",", "\u202f") in result.out
    assert f"ligne {ROWS} : doublon de la ligne 3" in result.out
    assert f"ligne {ROWS + 1} : pas d'arobase" in result.out
    assert subscribers.count_by_status(c.dynamodb, s.table, "grande")["subscribed"] == ROWS - 2
    again = cli("lists", "import", "grande", path)
    assert f"inchangés : {ROWS - 2:,}".replace(",", "\u202f") in again.out and "ajoutés : 0" in again.out
