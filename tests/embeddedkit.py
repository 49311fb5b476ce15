"""The real `convier` command in its own process on an embedded default of its own (a state folder per test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONVIER = [sys.executable, "-m", "convier.cli"]


def run(home: Path, *argv, check=True, env: dict | None = None) -> subprocess.CompletedProcess:
    """`convier ARGV…` with CONVIER_HOME=home and nothing else of this process's convier or moto settings
    (but `env`, added)."""
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVIER_", "MOTO_"))}
    env.update(CONVIER_HOME=str(home), COLUMNS="200", **extra)
    result = subprocess.run([*CONVIER, *map(str, argv)], env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result
