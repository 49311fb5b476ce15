"""The one CSV writer for everything staff download (lists, answers, campaign reports).

French Excel opens it as is: `;` between cells, UTF-8 with a BOM, CRLF line ends. Cells that come
from outside (names, attributes) and start like a formula get a protective apostrophe (OWASP); the
list importer removes that apostrophe again, so an export re-imports to the same list. Times are
written with `dates.sheet_moment` (Paris time, no milliseconds), statuses in French by the callers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

DELIMITER = ";"
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell) -> str:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading apostrophe."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


def unprotect(cell: str) -> str:
    """What `spreadsheet_safe` wrote, read back: the apostrophe it added is not data."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in _FORMULA_START and cell[1:2] else cell


def write_csv(out: TextIO, header: list[str], rows: Iterable[Iterable]) -> int:
    """Writes the BOM, the header and the rows to a text stream opened with newline=""; returns the row count.

    Open files with `encoding="utf-8"` (the BOM is written here, once)."""
    out.write(BOM)
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        count += 1
    return count


def write_csv_file(path, header: list[str], rows: Iterable[Iterable]) -> int:
    with open(path, "w", encoding="utf-8", newline="") as out:
        return write_csv(out, header, rows)
