"""ruff over the whole tree, with the config in pyproject.toml, so that a plain `pytest` run catches what
`make test` and `make lint` would refuse (`make test` runs ruff first and stops there)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
