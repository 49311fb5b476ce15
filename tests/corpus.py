"""Where the shared corpus is: `shared/` beside the checkout (as in CI), or $CONVIER_CORPUS."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = Path(os.environ.get("CONVIER_CORPUS") or ROOT.parent / "shared" / "corpus")
CORPUS = CORPUS_DIR / "posts"
LISTS = CORPUS_DIR / "lists"
SEED = CORPUS / "seed-journee-cloud-2023.md"
