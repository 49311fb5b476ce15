"""Imports that cannot half-write (issue 11, « Imports »): rows too big for one DynamoDB item refused per line
before any write, header-only or all-rejected files refused without creating a list, an interrupted import
that says what it wrote and completes on a rerun, and a list's own export that re-imports to the same list.
CLI and console both."""

from __future__ import annotations

import csv
import io

import pytest

from convier.inputs import listfile
from convier.store import subscribers
from test_console import console, signed_in  # noqa: F401  (the console fixture)

BIG = ",".join(["x" * 110_000] * 4)  # four cells under the CSV reader's 128 KB field limit, together over 400 KB
COLS = "commentaire,notes,annexe,suite"


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _list_items(settings, name):
    return list(subscribers.iter_subscribers(settings.clients.dynamodb, settings.settings.table, name))


def test_a_row_over_the_item_limit_is_refused_by_line_and_field_and_the_rest_imported(cli, settings, tmp_path):
    path = tmp_path / "gros.csv"
    path.write_bytes(_csv(f"email,prénom,{COLS}", "a@exemple.gouv.fr,Anne,court,,,",
                          f"b@exemple.gouv.fr,Bruno,{BIG}", "c@exemple.gouv.fr,Chloé,court,,,"))
    result = cli("lists", "import", "gros", path)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert "ligne 3 : ligne trop grande" in result.out and "« commentaire »" in result.out
    assert sorted(s.email for s in _list_items(settings, "gros")) == ["a@exemple.gouv.fr", "c@exemple.gouv.fr"]


@pytest.mark.parametrize("size", [140_000, 500_000, 3_000_000])
def test_one_cell_over_the_csv_readers_limit_is_judged_like_any_row(cli, settings, tmp_path, size):
    """The csv module refuses a field over 128 KB on its own (« champ trop long », the whole file refused): one
    such cell, quoted and closed, is a row like the others: kept when its item fits (140 KB), else refused on
    its line, the field named, and the rest imported."""
    path = tmp_path / "cellule.csv"
    path.write_bytes(_csv("email,prénom,commentaire", "a@exemple.gouv.fr,Anne,court",
                          f'b@exemple.gouv.fr,Bruno,"{"x" * size}"', "c@exemple.gouv.fr,Chloé,court"))
    result = cli("lists", "import", "cellule", path)
    out = result.out + result.err
    assert result.code == 0, out[:2000]
    imported = sorted(s.email for s in _list_items(settings, "cellule"))
    if size < listfile.ITEM_LIMIT - listfile.ITEM_HEADROOM:
        assert "rejetés : 0" in result.out and len(imported) == 3
        return
    assert "ligne 3 : ligne trop grande" in result.out and "« commentaire »" in result.out
    assert imported == ["a@exemple.gouv.fr", "c@exemple.gouv.fr"]


@pytest.mark.parametrize("size", [10, 200_000])
def test_a_quote_never_closed_refuses_the_file_whatever_its_size(cli, settings, tmp_path, size):
    """A quote opened and never closed swallows every following line into one value: the file is refused, with
    its line, rather than those people silently left out."""
    path = tmp_path / "ouvert.csv"
    path.write_bytes(_csv("email,prénom,commentaire", "a@exemple.gouv.fr,Anne,court",
                          f'b@exemple.gouv.fr,Bruno,"{"x" * size}', "c@exemple.gouv.fr,Chloé,court"))
    result = cli("lists", "import", "ouvert", path)
    assert result.code == 2
    assert "ligne 3" in result.err and "guillemet ouvert et jamais fermé" in result.err
    assert not subscribers.list_exists(settings.clients.dynamodb, settings.settings.table, "ouvert")


@pytest.mark.parametrize("content", [_csv("email,prénom"), _csv(f"email,{COLS}", "pas-une-adresse,,,,",
                                                                   f"b@exemple.gouv.fr,{BIG}")],
                         ids=["en-têtes seuls", "tout rejeté"])
def test_a_header_only_or_all_rejected_file_exits_1_and_creates_no_list(cli, settings, tmp_path, content):
    path = tmp_path / "vide.csv"
    path.write_bytes(content)
    result = cli("lists", "import", "vide", path)
    assert result.code == 1
    assert "aucune ligne à importer" in result.out + result.err
    assert "la liste « vide » n’a pas été créée" in result.out + result.err
    assert not subscribers.list_exists(settings.clients.dynamodb, settings.settings.table, "vide")


class FailingAfter:
    """The real client, whose writes of new subscribers (transactions) fail after `allowed` calls (a throttled or
    lost connection)."""

    def __init__(self, client, allowed: int):
        self._client, self._left = client, allowed

    def __getattr__(self, name):
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs):
        if self._left <= 0:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="http://moto")
        self._left -= 1
        return self._client.transact_write_items(**kwargs)


def test_an_interrupted_import_says_what_it_wrote_and_a_rerun_completes_it(settings, tmp_path):
    from convier.errors import InputError
    from convier.inputs import listfile
    from convier.services import lists

    rows = [f"p{i}@exemple.gouv.fr,P{i}" for i in range(1200)]
    parsed = listfile.parse(_csv("email,prénom", *rows), "long.csv")
    real = settings.clients.dynamodb
    broken = type("Clients", (), {"dynamodb": FailingAfter(real, 3), "keys": settings.clients.keys})()
    with pytest.raises(InputError) as raised:
        lists.import_list(broken, settings.settings, "long", parsed, source="test")
    message = str(raised.value)
    written = len(_list_items(settings, "long"))
    assert 0 < written < 1200
    assert f"{written} abonnés sur 1200 écrits" in message and "relancez" in message
    report = lists.import_list(settings.clients, settings.settings, "long", parsed, source="test")
    assert report.added == 1200 - written and report.unchanged == written
    assert len(_list_items(settings, "long")) == 1200
    summary = lists.show_lists(settings.clients, settings.settings, "long")[0]
    assert summary.counts["subscribed"] == 1200


def test_a_lists_own_export_reimports_to_the_same_list(cli, settings, tmp_path):
    path = tmp_path / "source.csv"
    path.write_bytes(_csv("email,prénom,nom,service", "a@exemple.gouv.fr,=Anne,Dupont,+33 1 23",
                          "b@exemple.gouv.fr,Bruno,@Martin,-DSI", "c@exemple.gouv.fr,Chloé,Roux,Mer"))
    assert cli("lists", "import", "source", path).code == 0
    first = cli("lists", "export", "source")
    assert first.code == 0
    exported = tmp_path / "export.csv"
    exported.write_text(first.out, encoding="utf-8")
    result = cli("lists", "import", "copie", exported)
    assert result.code == 0, result.err
    assert "ajoutés : 3" in result.out and "rejetés : 0" in result.out
    second = cli("lists", "export", "copie")

    def table(text):
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
        return [r[:4] + r[4:-2] for r in rows]  # the consent columns tell the source (another file) apart

    assert table(second.out) == table(first.out)
    anne = next(s for s in _list_items(settings, "copie") if s.email == "a@exemple.gouv.fr")
    assert anne.first_name == "=Anne" and anne.attributes == {"service": "+33 1 23"}


def test_console_import_refuses_an_all_rejected_file_and_an_oversized_row(console, settings):  # noqa: F811
    signed_in(console)
    csrf = console.get("/console/listes").csrf()
    answer = console.post("/console/listes", {"csrf": csrf, "list": "vide"},
                          files={"file": ("vide.csv", _csv("email", "pas-une-adresse"))})
    assert answer.status == 400
    assert "aucune ligne à importer" in answer.body
    assert not subscribers.list_exists(settings.clients.dynamodb, settings.settings.table, "vide")
    answer = console.post("/console/listes", {"csrf": csrf, "list": "gros"},
                          files={"file": ("gros.csv", _csv(f"email,{COLS}", "a@exemple.gouv.fr,court,,,",
                                                            f"b@exemple.gouv.fr,{BIG}"))})
    assert answer.status == 200, answer.body
    assert "ligne trop grande" in answer.body and "commentaire" in answer.body
    assert [s.email for s in _list_items(settings, "gros")] == ["a@exemple.gouv.fr"]
