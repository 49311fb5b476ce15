"""The files the tests read, all inside the repository (a clone with nothing beside it passes).

- `SEED` and `LISTS`: the seed post and the three sample lists that `examples/` ships (`make demo` uses them too).
- `FIXTURES`: small files written for the tests; `QUIRKS` holds one short post per trap of the real corpus
  (iframes, site chrome and kramdown attribute lists, liquid, `<span lang>`, a mail address as a link, a link with
  a trailing space, markdown left literal inside raw HTML, a byte-order mark), `FIXTURE_LISTS` list files
  (Windows-1252, byte-order mark, `;`).

The sweep over the real posts is `make corpus` (tests/corpus/), not part of `make test`.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SEED = EXAMPLES / "seed-journee-cloud-2023.md"
LISTS = EXAMPLES  # invites-cloud.csv, export-tableur.csv, export-windows-1252.csv
FIXTURES = ROOT / "tests" / "fixtures"
QUIRKS = FIXTURES / "quirks"
FIXTURE_LISTS = FIXTURES / "lists"
QUIRK_POSTS = sorted(QUIRKS.glob("*.md"))
