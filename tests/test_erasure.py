"""`subscribers forget`: one whole address, that person alone, everywhere (lists, campaigns, answers, test copies,
the embedded recording); their place given back; their opt-out kept by id so a re-import does not re-subscribe."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from convier.domain.ids import subscriber_id
from convier.services import rsvp
from convier.store import keys, records, subscribers
from embeddedkit import run

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-journee-cloud-2023.md"
PEOPLE = ["anne@exemple.gouv.fr", "marianne@exemple.gouv.fr", "jeanne@exemple.gouv.fr", "paul@exemple.gouv.fr"]


def people_csv(tmp_path: Path) -> Path:
    path = tmp_path / "gens.csv"
    path.write_text("email,prenom\n" + "".join(f"{a},{a.split('@')[0].title()}\n" for a in PEOPLE), encoding="utf-8")
    return path


def export(cli, name="gens") -> list[dict]:
    out = cli("lists", "export", name).out
    return list(csv.DictReader(io.StringIO(out.lstrip("\ufeff")), delimiter=";" if ";" in out.split("\n")[0] else ","))


def emails(rows) -> list[str]:
    return sorted(r.get("email") or r.get("adresse") or next(iter(r.values())) for r in rows)


BAD = ["", "   ", "anne", "anne@", "@exemple.gouv.fr", "exemple.gouv.fr", "anne@exemple", "Anne <anne@exemple.gouv.fr>",
       "anne@exemple.gouv.fr, paul@exemple.gouv.fr", "*@exemple.gouv.fr anne@exemple.gouv.fr", "%"]


def test_forget_refuses_what_is_not_one_whole_address_and_changes_nothing(cli, tmp_path):
    assert cli("lists", "import", "gens", people_csv(tmp_path)).code == 0
    before = export(cli)
    for bad in BAD:
        result = cli("subscribers", "forget", bad)
        assert result.code != 0, bad
        assert "adresse" in result.err and "Traceback" not in result.err + result.out, bad
    assert export(cli) == before and len(before) == len(PEOPLE)


def campaign_with_capacity(cli, tmp_path, capacity=1) -> str:
    spec = tmp_path / "campagne.yaml"
    spec.write_text(f"capacity: {capacity}\n", encoding="utf-8")
    result = cli("campaign", "create", "--post", SEED, "--list", "gens", "--campaign", spec)
    assert result.code == 0, result.err
    return result.out.strip().splitlines()[-1]


def test_forget_frees_the_place_removes_test_copies_and_keeps_the_opt_out(cli, settings, tmp_path):
    s, c = settings
    csv_file = people_csv(tmp_path)
    assert cli("lists", "import", "gens", csv_file).code == 0
    campaign_id = campaign_with_capacity(cli, tmp_path)
    campaign = records.load_campaign(c.dynamodb, s.table, campaign_id)
    sid = {a: subscriber_id(a, c.keys.id_key) for a in PEOPLE}
    anne, marianne, jeanne, paul = (sid[a] for a in PEOPLE)
    assert rsvp.record_answer(c.dynamodb, s.table, campaign, anne, "yes").rsvp.place == rsvp.CONFIRMED
    assert rsvp.record_answer(c.dynamodb, s.table, campaign, marianne, "yes").rsvp.place == rsvp.WAITING
    assert rsvp.record_answer(c.dynamodb, s.table, campaign, jeanne, "yes").rsvp.place == rsvp.WAITING
    assert cli("campaign", "test", campaign_id, "--to", PEOPLE[0]).code == 0
    tests = s.outbox / campaign_id / "tests"
    assert (tests / f"{anne}.eml").exists()

    result = cli("subscribers", "forget", "  Anne@Exemple.gouv.fr ")
    assert result.code == 0, result.err
    assert "1 abonnement" in result.out and "1 réponse" in result.out and "place confirmée libérée" in result.out
    assert "1 personne" in result.out and "boîte d'envoi locale : 2 fichiers" in result.out
    assert not list(tests.glob(f"{anne}.*"))
    assert rsvp.counters(c.dynamodb, s.table, campaign_id) == (1, 1)  # Marianne took the place, Jeanne waits
    assert rsvp.get_rsvp(c.dynamodb, s.table, campaign_id, marianne).place == rsvp.CONFIRMED
    assert rsvp.get_rsvp(c.dynamodb, s.table, campaign_id, jeanne).place == rsvp.WAITING
    assert emails(export(cli)) == sorted(PEOPLE[1:])  # marianne, jeanne (containing « anne ») stay

    # Paul unsubscribes, is forgotten, and the same file is imported again: he stays out.
    assert subscribers.set_status(c.dynamodb, s.table, "gens", paul, subscribers.UNSUBSCRIBED, "lien")
    result = cli("subscribers", "forget", PEOPLE[3])
    assert result.code == 0 and "un nouvel import ne réinscrira pas" in result.out
    kept = c.dynamodb.get_item(TableName=s.table, Key={"PK": {"S": keys.SUPPRESSED}, "SK": {"S": paul}})["Item"]
    assert "paul" not in repr(kept).lower() and kept["reason"]["S"] == subscribers.UNSUBSCRIBED
    again = cli("lists", "import", "gens", csv_file)
    assert again.code == 0
    assert subscribers.get_subscriber(c.dynamodb, s.table, "gens", paul).status == subscribers.UNSUBSCRIBED
    assert subscribers.get_subscriber(c.dynamodb, s.table, "gens", anne).status == subscribers.SUBSCRIBED


def test_forget_on_the_embedded_default_erases_that_person_alone_even_a_campaign_sender(home, tmp_path):
    run(home, "lists", "import", "gens", people_csv(tmp_path))
    spec = tmp_path / "campagne.yaml"
    spec.write_text('sender: "Anne <anne@exemple.gouv.fr>"\n', encoding="utf-8")
    campaign_id = run(home, "campaign", "create", "--post", SEED, "--list", "gens",
                      "--campaign", spec).stdout.strip().splitlines()[-1]
    out = run(home, "subscribers", "forget", "anne@exemple.gouv.fr").stdout
    assert "historique du serveur local" in out
    # after the restart from the scrubbed recording: only Anne is gone, and her campaign still reads
    exported = run(home, "lists", "export", "gens").stdout.lower()
    for other in PEOPLE[1:]:
        assert other in exported
    assert "\nanne@" not in exported and not exported.startswith("anne@")
    status = run(home, "campaign", "status", campaign_id)
    assert "Objet" in status.stdout and "Traceback" not in status.stderr
    assert campaign_id in run(home, "campaign", "list").stdout
