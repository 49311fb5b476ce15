"""Staff commands: unsubscribing one address, `local reset` that asks, imports that say how far they are."""

from __future__ import annotations

from convier.domain.ids import subscriber_id
from convier.store import subscribers
from webkit import sent_campaign


def test_unsubscribe_one_address_from_every_list_or_one(cli, settings, tmp_path):
    s, c = settings
    people = tmp_path / "l.csv"
    people.write_text("email;prénom\nanne@exemple.gouv.fr;Anne\nbob@exemple.gouv.fr;Bob\n", encoding="utf-8")
    assert cli("lists", "import", "a", people).code == 0
    assert cli("lists", "import", "b", people).code == 0
    sid = subscriber_id("anne@exemple.gouv.fr", c.keys.id_key)

    one = cli("subscribers", "unsubscribe", "Anne@Exemple.gouv.fr", "--list", "a")
    assert one.code == 0 and "Désinscrit de la liste « a »" in one.out
    assert subscribers.get_subscriber(c.dynamodb, s.table, "a", sid).status == subscribers.UNSUBSCRIBED
    assert subscribers.get_subscriber(c.dynamodb, s.table, "b", sid).status == subscribers.SUBSCRIBED

    every = cli("subscribers", "unsubscribe", "anne@exemple.gouv.fr")
    assert every.code == 0 and "« b »" in every.out and "déjà désinscrit" in every.out
    assert subscribers.get_subscriber(c.dynamodb, s.table, "b", sid).status == subscribers.UNSUBSCRIBED
    bob = subscriber_id("bob@exemple.gouv.fr", c.keys.id_key)
    assert subscribers.get_subscriber(c.dynamodb, s.table, "a", bob).status == subscribers.SUBSCRIBED
    history = c.dynamodb.get_item(TableName=s.table, Key={"PK": {"S": "LIST#b"}, "SK": {"S": f"SUB#{sid}"}})
    assert "demande de désinscription" in str(history["Item"]["history"])

    for argv, words in ((("personne@exemple.gouv.fr",), "n’est inscrite dans aucune liste"),
                        (("pas-une-adresse",), "pas d'arobase"),
                        (("anne@exemple.gouv.fr", "--list", "inconnue"), "liste inconnue")):
        refused = cli("subscribers", "unsubscribe", *argv)
        assert refused.code == 2 and words in refused.err and "Traceback" not in refused.err


def test_local_reset_erases_nothing_without_a_confirmation(tmp_path, capsys, monkeypatch):
    from convier.cli.app import main

    home = tmp_path / "etat"
    home.mkdir()
    (home / "keys.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # a script: no terminal to ask on
    assert main(["--home", str(home), "local", "reset"]) == 1
    assert "Rien n'a été effacé" in capsys.readouterr().out and (home / "keys.json").exists()
    assert main(["--home", str(home), "local", "reset", "--yes"]) == 0
    assert not (home / "keys.json").exists()


def test_an_import_past_two_seconds_says_how_far_it_is(capsys):
    from convier.cli import lists as lists_cli

    now = [0.0]
    progress = lists_cli._progress(20000, clock=lambda: now[0])
    with progress:
        progress(total=20000)
        progress(advance=500)  # under two seconds: quiet
        now[0] = 3.0
        progress(advance=4500)
        now[0] = 4.0
        progress(advance=5000)  # less than five seconds after the last line
        now[0] = 9.0
        progress(advance=5000)
    err = capsys.readouterr().err
    assert err.splitlines() == ["import : 5\u202f000 / 20\u202f000 abonnés écrits…",
                                "import : 15\u202f000 / 20\u202f000 abonnés écrits…"]


def test_campaign_file_mailbox_puts_mailto_in_list_unsubscribe(cli, settings, tmp_path):
    from email import message_from_bytes, policy

    campaign_id = sent_campaign(cli, tmp_path, [("anne@exemple.gouv.fr", "Anne", "Martin")],
                                campaign_yaml="unsubscribe_mailbox: desinscription@numerique.gouv.fr\n")
    (eml,) = (settings.settings.outbox / campaign_id).glob("*.eml")
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert "<mailto:desinscription@numerique.gouv.fr?subject=unsubscribe%20" in msg["List-Unsubscribe"]
