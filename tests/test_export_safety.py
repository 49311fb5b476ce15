"""Exports open in French Excel (`;`, UTF-8 with BOM) and a formula-like cell stays text, then re-imports as data."""

import csv
import io

from convier.domain.exports import write_csv
from convier.inputs import listfile


def test_formula_like_cells_are_neutralised_and_read_back_as_they_were():
    out = io.StringIO()
    rows = [["a@b.fr", "=HYPERLINK(\"http://x\")", "+33 1 23", "-2", "@SUM(A1)", "<b>Zoé</b>", "Normal"]]
    write_csv(out, ["adresse électronique", "prénom", "tél", "n", "x", "html", "nom"], rows)
    text = out.getvalue()
    assert text.startswith("\ufeffadresse électronique;prénom;")
    got = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))[1]
    assert got == ["a@b.fr", "'=HYPERLINK(\"http://x\")", "'+33 1 23", "'-2", "'@SUM(A1)", "<b>Zoé</b>", "Normal"]
    back = listfile.parse(text.encode("utf-8"), "export.csv")
    (row,) = back.rows
    assert row.first_name == '=HYPERLINK("http://x")' and row.last_name == "Normal"
    assert row.attributes == {"tél": "+33 1 23", "n": "-2", "x": "@SUM(A1)", "html": "<b>Zoé</b>"}
    assert not back.rejected and back.delimiter == ";" and back.encoding == "UTF-8 (avec BOM)"
