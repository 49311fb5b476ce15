"""`convier lists ...` and `subscribers forget` through the real command line, on a moto server over HTTP."""

from __future__ import annotations

import csv
import io

from convier.domain.ids import subscriber_id
from convier.store import ddb, subscribers
from samples import LISTS

FILES = ["invites-cloud.csv", "export-tableur.csv", "export-windows-1252.csv"]


def export(cli, name="cloud") -> list[dict]:
    result = cli("lists", "export", name)
    assert result.code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out.removeprefix("\ufeff")), delimiter=";"))


def import_samples(cli, name="cloud"):
    return [cli("lists", "import", name, LISTS / f) for f in FILES]


def test_the_three_sample_files_give_13_subscribers_with_accents_intact(cli, settings):
    results = import_samples(cli)
    assert all(r.code == 0 for r in results), [r.err for r in results]
    rows = export(cli)
    assert len(rows) == 13
    names = {(r["prénom"], r["nom"]) for r in rows}
    assert ("François", "Rivière") in names and ("Céline", "Girard") in names
    assert ("Noël", "García") in names and ("Héloïse", "Roux") in names  # tags stripped
    assert ("Lucie", "Bonnet") in names
    addresses = {r["adresse électronique"].lower() for r in rows}
    assert "jean.dupont@dgfip.finances.gouv.fr" in addresses and "ops+cloud@numerique.gouv.fr" in addresses
    assert "sophie.lefebvre@culture.gouv.fr" in addresses  # trimmed
    yann = next(r for r in rows if r["adresse électronique"] == "yann.le-gall@mer.gouv.fr")
    assert yann["organisation"] == "Secrétariat d'État\nchargé de la Mer"
    counts = subscribers.count_by_status(settings.clients.dynamodb, settings.settings.table, "cloud")
    assert counts["subscribed"] == 13


def test_report_names_the_rejected_lines_and_their_reasons(cli):
    result = cli("lists", "import", "cloud", LISTS / "invites-cloud.csv")
    assert result.code == 0
    out = result.out
    assert "ajoutés : 8" in out and "rejetés : 3" in out and "doublons dans le fichier : 1" in out
    assert "ligne 6 : pas d'arobase (@)" in out and "pas-une-adresse" in out
    assert "ligne 7 : adresse manquante" in out
    assert "ligne 9 : adresse invalide" in out and 'zoe@ex"ample.fr' in out
    assert "ligne 4 : doublon de la ligne 3" in out
    assert "ligne 10 : balises retirées" in out


def test_importing_twice_changes_nothing(cli, settings):
    first = cli("lists", "import", "cloud", LISTS / "invites-cloud.csv")
    before = export(cli)
    again = cli("lists", "import", "cloud", LISTS / "invites-cloud.csv")
    assert again.code == 0
    assert "ajoutés : 0" in again.out and "mis à jour : 0" in again.out and "inchangés : 8" in again.out
    assert export(cli) == before
    assert first.out != again.out


def test_changed_rows_are_updated_and_empty_cells_erase_nothing(cli, tmp_path):
    cli("lists", "import", "l", LISTS / "export-windows-1252.csv")
    changed = tmp_path / "changed.csv"
    changed.write_text("courriel;prénom;nom;service\nceline.girard@sports.gouv.fr;;Girard-Roy;SG\n", encoding="utf-8")
    result = cli("lists", "import", "l", changed)
    assert "mis à jour : 1" in result.out and "inchangés : 0" in result.out
    celine = next(r for r in export(cli, "l") if r["adresse électronique"] == "celine.girard@sports.gouv.fr")
    assert (celine["prénom"], celine["nom"], celine["service"]) == ("Céline", "Girard-Roy", "SG")


def test_an_unsubscribed_address_stays_unsubscribed_when_reimported(cli, settings):
    s, c = settings
    cli("lists", "import", "cloud", LISTS / "export-windows-1252.csv")
    sid = subscriber_id("francois.riviere@ecologie.gouv.fr", c.keys.id_key)
    assert subscribers.set_status(c.dynamodb, s.table, "cloud", sid, subscribers.UNSUBSCRIBED, reason="lien")
    result = cli("lists", "import", "cloud", LISTS / "export-windows-1252.csv")
    assert "ligne 2 : adresse désinscrit, elle le reste" in result.out
    assert subscribers.get_subscriber(c.dynamodb, s.table, "cloud", sid).status == subscribers.UNSUBSCRIBED
    shown = cli("lists", "show", "cloud")
    assert shown.code == 0 and "cloud" in shown.out


def test_a_suppressed_address_is_added_without_being_sendable(cli, settings):
    s, c = settings
    subscribers.suppress(c.dynamodb, s.table, "celine.girard@sports.gouv.fr", subscribers.BOUNCED, id_key=c.keys.id_key)
    result = cli("lists", "import", "l", LISTS / "export-windows-1252.csv")
    assert "ligne 3 : adresse bloquée" in result.out
    statuses = {r["adresse électronique"]: r["statut"] for r in export(cli, "l")}
    assert statuses["celine.girard@sports.gouv.fr"] == subscribers.STATUS_FR[subscribers.BOUNCED]


def test_an_unreadable_file_exits_non_zero_and_writes_nothing(cli, settings, tmp_path):
    s, c = settings
    binary = tmp_path / "liste.xlsx"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4)
    result = cli("lists", "import", "cloud", binary)
    assert result.code == 2 and "liste.xlsx" in result.err and "binaire" in result.err
    missing = cli("lists", "import", "cloud", tmp_path / "absent.csv")
    assert missing.code == 2 and "introuvable" in missing.err
    no_column = tmp_path / "noms.csv"
    no_column.write_text("prénom,nom\nAnne,Petit\n", encoding="utf-8")
    result = cli("lists", "import", "cloud", no_column)
    assert result.code == 2 and "noms.csv" in result.err and "aucune colonne d'adresse" in result.err
    assert not subscribers.list_exists(c.dynamodb, s.table, "cloud")
    assert c.dynamodb.scan(TableName=s.table)["Count"] == 0


def test_export_to_a_file_reads_back_the_same(cli, tmp_path):
    cli("lists", "import", "cloud", LISTS / "invites-cloud.csv")
    out = tmp_path / "export.csv"
    assert cli("lists", "export", "cloud", "--out", out).code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets read UTF-8 with a BOM
    header = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("adresse électronique;prénom;nom;statut;")
    assert header.endswith("source du consentement;date du consentement")
    again = cli("lists", "import", "copie", out)
    assert "ajoutés : 8" in again.out and "rejetés : 0" in again.out
    addresses = [r["adresse électronique"] for r in export(cli, "cloud")]
    assert [r["adresse électronique"] for r in export(cli, "copie")] == addresses
    rows = export(cli, "copie")
    assert rows[0]["statut"] == "inscrit"
    assert set(rows[0]) == set(export(cli, "cloud")[0])  # no column turned into an attribute


def test_show_without_a_list_shows_every_list(cli):
    cli("lists", "import", "a", LISTS / "export-windows-1252.csv")
    cli("lists", "import", "b", LISTS / "export-tableur.csv")
    result = cli("lists", "show")
    assert result.code == 0
    # one table row per list: its name, a count per status, the total, the last import's date and file
    rows = {cells[0]: cells for cells in ([c.strip() for c in line.strip("│┃ ").split("│")]
                                          for line in result.out.splitlines() if line.startswith("│"))}
    assert set(rows) == {"a", "b"}, result.out
    header = next(line for line in result.out.splitlines() if "liste" in line and "total" in line)
    columns = [c.strip() for c in header.strip("┃│ ").split("┃" if "┃" in header else "│")]
    a, b = dict(zip(columns, rows["a"], strict=True)), dict(zip(columns, rows["b"], strict=True))
    assert (a["inscrit"], a["désinscrit"], a["total"]) == ("2", "0", "2")
    assert (b["inscrit"], b["total"]) == ("3", "3")  # the tableur file's exact duplicate counts once
    assert a["dernier import"].endswith("export-windows-1252.csv")
    assert b["dernier import"].endswith("export-tableur.csv")
    assert cli("lists", "show", "inconnue").code == 2
    assert cli("lists", "export", "inconnue").code == 2


def test_forget_leaves_no_trace_of_the_address(cli, settings):
    s, c = settings
    address = "Francois.Riviere@ecologie.gouv.fr"
    for name in ("cloud", "autre"):
        cli("lists", "import", name, LISTS / "export-windows-1252.csv")
    sid = subscriber_id(address, c.keys.id_key)
    other = subscriber_id("celine.girard@sports.gouv.fr", c.keys.id_key)
    # campaign records as the campaign code writes them, for this subscriber and another
    ddb.batch_write(c.dynamodb, s.table, [
        {"PK": "CAMPAIGNS", "SK": "20260101-abc123", "list": "cloud"},
        {"PK": "CAMPAIGN#20260101-abc123", "SK": "META", "list": "cloud", "status": "sent"},
        {"PK": "CAMPAIGN#20260101-abc123", "SK": f"SEND#{sid}", "state": "sent"},
        {"PK": "CAMPAIGN#20260101-abc123", "SK": f"RSVP#{sid}", "answer": "yes"},
        {"PK": "CAMPAIGN#20260101-abc123", "SK": f"SEND#{other}", "state": "sent"},
        {"PK": "SUPPRESSED", "SK": sid, "reason": "complained"},
    ])
    folder = s.outbox / "20260101-abc123"
    folder.mkdir(parents=True)
    (folder / f"{sid}.eml").write_text(f"To: {address}\n\nBonjour")
    (folder / f"{sid}.html").write_text("<p>Bonjour François</p>")
    (folder / f"{other}.eml").write_text("To: celine.girard@sports.gouv.fr\n\nBonjour")

    result = cli("subscribers", "forget", address)
    assert result.code == 0, result.err
    assert "liste autre" in result.out and "liste cloud" in result.out
    assert "campagne 20260101-abc123 : enregistrement d'envoi supprimé" in result.out
    assert "réponse supprimé" in result.out and "conservée comme blocage, par identifiant seul" in result.out
    assert "2 fichiers" in result.out
    assert address.lower() not in result.out.lower()

    for name in ("cloud", "autre"):
        text = cli("lists", "export", name).out.lower()
        assert "riviere" not in text and "rivière" not in text and "celine.girard" in text
    items = c.dynamodb.scan(TableName=s.table)["Items"]
    kept = [i for i in items if sid in repr(i)]  # the complaint stays, keyed by the id alone (no address)
    assert kept == [{"PK": {"S": "SUPPRESSED"}, "SK": {"S": sid}, "reason": {"S": "complained"},
                     "at": kept[0]["at"], "forgotten": {"BOOL": True}}]
    dump = repr([i for i in items if i not in kept]).lower()
    assert sid not in dump and "riviere" not in dump and other in dump
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{other}.eml", "index.html"])
    assert "riviere" not in (folder / "index.html").read_text().lower()
    again = cli("subscribers", "forget", address)
    assert "rien à effacer" in again.out


def test_export_opens_in_french_excel_with_paris_times(cli, settings, tmp_path):
    import re

    from convier.domain.dates import sheet_moment

    s, c = settings
    source = tmp_path / "l.csv"
    source.write_text("email;prénom;tél\nanne@exemple.gouv.fr;Anne;+33 1 40 00 00 00\n", encoding="utf-8")
    cli("lists", "import", "l", source)
    out = tmp_path / "export.csv"
    assert cli("lists", "export", "l", "--out", out).code == 0
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    (row,) = rows
    assert list(row)[:4] == ["adresse électronique", "prénom", "nom", "statut"] and row["statut"] == "inscrit"
    stored = next(subscribers.iter_subscribers(c.dynamodb, s.table, "l")).consent_at
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["date du consentement"])
    assert row["date du consentement"] == sheet_moment(stored)
    assert row["tél"] == "'+33 1 40 00 00 00"  # Excel would compute it
    again = cli("lists", "import", "copie", out)
    assert "ajoutés : 1" in again.out and "rejetés : 0" in again.out
    copy = next(subscribers.iter_subscribers(c.dynamodb, s.table, "copie"))
    assert copy.attributes == {"tél": "+33 1 40 00 00 00"} and copy.first_name == "Anne"
