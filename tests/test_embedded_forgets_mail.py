"""The embedded server keeps no sent e-mail in memory (the outbox has the copies): moto's dashboard at
/moto-api/data.json, readable by anyone on the machine, shows no message, no body and no address after a send."""

from __future__ import annotations

import json
import urllib.request

from embeddedkit import run
from samples import SEED
from webkit import SEED_CAMPAIGN

PEOPLE = 12


def test_sent_messages_are_not_kept_by_the_server(home, tmp_path):
    people = tmp_path / "gens.csv"
    people.write_text("email,prenom\n" + "".join(f"agent{i:02d}@exemple.gouv.fr,Agent{i}\n" for i in range(PEOPLE)),
                      encoding="utf-8")
    run(home, "lists", "import", "gens", people)
    campaign_id = run(home, "campaign", "create", "--post", SEED, "--list", "gens",
                      "--campaign", SEED_CAMPAIGN).stdout.strip().splitlines()[-1]
    run(home, "campaign", "send", campaign_id, "--yes", PEOPLE, "--no-wave")
    assert len(list((home / "outbox" / campaign_id).glob("*.eml"))) == PEOPLE  # the copies are in the outbox

    port = json.loads((home / "server.json").read_text())["port"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=60) as answer:
        dashboard = answer.read().decode()
    # no recipient, no subscriber record, no message (a boolean each: pytest's diff of 0.5 MB takes minutes)
    kept = [word for word in ("exemple.gouv.fr", "Subject:", "raw_data", "MIME-Version") if word in dashboard]
    assert kept == [], f"{len(dashboard)} octets"
