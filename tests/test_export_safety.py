"""Exports open in spreadsheets: a name or attribute that looks like a formula must stay text."""

import csv
import io

from convier.services.lists import write_export


def test_formula_like_cells_are_neutralised():
    out = io.StringIO()
    rows = [["a@b.fr", "=HYPERLINK(\"http://x\")", "+33 1 23", "-2", "@SUM(A1)", "<b>Zoé</b>", "Normal"]]
    write_export(out, ["email", "prénom", "tél", "n", "x", "html", "nom"], rows)
    got = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert got == ["a@b.fr", "'=HYPERLINK(\"http://x\")", "'+33 1 23", "'-2", "'@SUM(A1)", "<b>Zoé</b>", "Normal"]
