"""The command line's actions in the audit log (DESIGN: every staff action, console or CLI, is in it: who, when,
what; never a recipient's address), on the embedded default's target: written once per command at the
dispatch (cli/journal.py), as « ligne de commande (system user) », and shown by the console's Journal.
(On a stack, through the campaign function: tests/test_stack.py.)"""

from __future__ import annotations

import getpass
import json

from consolekit import local_console
from convier.services import audit
from test_followups import invitation
from test_updates import MOVED_YAML

WHO = f"ligne de commande ({getpass.getuser()})"


def test_each_cli_action_is_one_entry_with_the_system_user_and_no_address(cli, settings, tmp_path):
    s, c = settings
    parent = invitation(cli, tmp_path, n=4, extra_yaml="capacity: 2\n")  # import, create, dry run, send
    assert cli("campaign", "test", parent, "--to", "agent.test@exemple.gouv.fr").code == 0
    assert cli("campaign", "pause", parent).code == 2  # refused (finished): nothing happened, nothing recorded
    assert cli("campaign", "report", parent, "--out", tmp_path / "rapport.csv").code == 0
    assert cli("rsvps", "export", parent, "--out", tmp_path / "reponses.csv").code == 0
    assert cli("rsvps", "capacity", parent, "3").code == 0
    assert cli("campaign", "status", parent).code == 0  # a read: no entry
    assert cli("subscribers", "unsubscribe", "agent01@exemple.gouv.fr").code == 0
    assert cli("subscribers", "forget", "agent02@exemple.gouv.fr").code == 0
    assert cli("lists", "export", "invites", "--out", tmp_path / "liste.csv").code == 0
    assert cli("lists", "recount", "invites").code == 0
    (tmp_path / "moved.yaml").write_text(MOVED_YAML + "capacity: 3\n", encoding="utf-8")
    assert cli("campaign", "edit", parent, "--campaign", tmp_path / "moved.yaml").code == 0
    made = cli("followup", "create", parent, "--kind", "rappel")
    assert made.code == 0, made.err
    rappel = made.out.strip().splitlines()[-1]
    assert cli("campaign", "schedule", rappel, "--at", "2030-01-23 10:00").code == 0
    assert cli("campaign", "schedule", rappel, "--cancel").code == 0
    assert cli("campaign", "schedule", rappel, "--cancel").code == 0  # nothing left to cancel: no entry
    assert cli("campaign", "cancel-event", parent).code == 0

    entries = list(reversed(audit.recent(c, s)))  # oldest first
    assert [e["action"] for e in entries] == [
        "import", "create", "send", "test", "report", "export", "capacity", "unsubscribe", "erase", "export",
        "recount", "edit", "followup", "schedule", "unschedule", "cancel_event"]
    assert {(e["who"], e["source"]) for e in entries} == {(WHO, "cli")}
    by_action = {e["action"]: e for e in entries}
    assert (by_action["create"]["campaign"], by_action["create"]["list"]) == (parent, "invites")
    assert by_action["create"]["detail"] == "seed-journee-cloud-2023.md"
    assert by_action["import"]["list"] == "invites" and "4 ajoutés" in by_action["import"]["detail"]
    assert by_action["send"]["detail"] == "4 destinataires"
    assert by_action["followup"]["campaign"] == rappel and parent in by_action["followup"]["detail"]
    assert by_action["edit"]["campaign"] == parent and "Date et horaire" in by_action["edit"]["detail"]
    assert by_action["erase"]["campaign"] == by_action["erase"]["list"] == ""
    assert by_action["erase"]["detail"].startswith("abonné ")  # the action, not the address
    assert "@" not in json.dumps(entries, ensure_ascii=False)  # no recipient's (nor test) address anywhere


def test_the_journal_shows_the_command_lines_entries_in_french(cli, settings, tmp_path):
    invitation(cli, tmp_path, n=2, send=False)
    journal = local_console(settings).get("/console/journal").body
    assert f"<td>{WHO}</td>" in journal
    for word in ("import", "création"):
        assert f"<td>{word}</td>" in journal, word
    assert "en ligne de commande" in journal
