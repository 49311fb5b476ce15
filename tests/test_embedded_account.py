"""On the embedded default, `campaign check` reads a real SES account (moto's server is taught GetAccount):
production access, the embedded send rate, a daily quota from the settings, and what was sent counted in it."""

from __future__ import annotations

from embeddedkit import run
from samples import SEED
from webkit import SEED_CAMPAIGN

QUOTA = {"CONVIER_LOCAL_DAILY_QUOTA": "10", "CONVIER_LOCAL_SEND_RATE": "7"}


def campaign(home, tmp_path, name: str, people: int) -> str:
    path = tmp_path / f"{name}.csv"
    path.write_text("email,prenom\n" + "".join(f"{name}{i}@exemple.gouv.fr,P{i}\n" for i in range(people)),
                    encoding="utf-8")
    run(home, "lists", "import", name, path, env=QUOTA)
    return run(home, "campaign", "create", "--post", SEED, "--list", name, "--campaign", SEED_CAMPAIGN,
               env=QUOTA).stdout.strip().splitlines()[-1]


def test_check_reads_the_quota_and_counts_what_was_sent(home, tmp_path):
    first = campaign(home, tmp_path, "trois", 3)
    check = run(home, "campaign", "check", first, env=QUOTA)
    assert "non lu" not in check.stdout
    assert "quota SES sur 24 h : 10 envois restants, 7 après cet envoi" in check.stdout
    assert "à 7 e-mails/s" in check.stdout  # the account's rate paces the send
    assert "bac à sable" not in check.stdout.lower() and "sandbox" not in check.stdout.lower()
    run(home, "campaign", "send", first, "--yes", 3, env=QUOTA)

    second = campaign(home, tmp_path, "huit", 8)
    check = run(home, "campaign", "check", second, env=QUOTA, check=False)
    assert "quota SES sur 24 h : 7 envois restants" in check.stdout
    assert check.returncode == 1 and "8 destinataires pour 7 envois restants" in check.stdout
