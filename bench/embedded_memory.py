"""What the embedded server keeps after a send: the size of moto's dashboard (/moto-api/data.json, readable by
anyone on the machine) and the server's resident memory, after N e-mails sent through the real `convier`.

    .venv/bin/python bench/embedded_memory.py [--recipients 900]
Last line: `sends=N data_json_bytes=B server_rss_kb=K`. Prints figures; asserts nothing. Measured 6 December 2026
with 900 sends: before the fix 32,696,028 bytes and 150,308 kB; after it 1,710 bytes and 109,656 kB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def convier(home: Path, *argv) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVIER_", "MOTO_"))}
    env["CONVIER_HOME"] = str(home)
    done = subprocess.run([sys.executable, "-m", "convier.cli", *map(str, argv)], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=900)
    n = parser.parse_args().recipients
    with tempfile.TemporaryDirectory() as folder:
        home, people = Path(folder) / "etat", Path(folder) / "gens.csv"
        people.write_text("email,prenom\n" + "".join(f"agent{i:05d}@exemple.gouv.fr,Agent{i}\n" for i in range(n)),
                          encoding="utf-8")
        try:
            convier(home, "lists", "import", "gens", people)
            campaign = convier(home, "campaign", "create", "--post", ROOT / "examples" / "seed-journee-cloud-2023.md",
                               "--list", "gens", "--campaign", ROOT / "tests" / "fixtures" / "campagne-seed-2023.yaml"
                               ).strip().splitlines()[-1]
            convier(home, "campaign", "send", campaign, "--yes", n, "--no-wave")
            server = json.loads((home / "server.json").read_text())
            with urllib.request.urlopen(f"http://127.0.0.1:{server['port']}/moto-api/data.json", timeout=120) as r:
                size = len(r.read())
            rss = next(line.split()[1] for line in Path(f"/proc/{server['pid']}/status").read_text().splitlines()
                       if line.startswith("VmRSS"))
            print(f"sends={n} data_json_bytes={size} server_rss_kb={rss}")
        finally:
            convier(home, "local", "stop")


if __name__ == "__main__":
    main()
