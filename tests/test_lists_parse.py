"""The pure CSV parsing of list files (no AWS): every kind of fault staff files have."""

from __future__ import annotations

import pytest

from convier.errors import InputError
from convier.inputs.listfile import parse, read
from samples import FIXTURE_LISTS, LISTS


def emails(result):
    return [r.email for r in result.rows]


# --- encodings ---------------------------------------------------------------------------------

def test_utf8_with_and_without_bom():
    text = "email,prénom,nom\nfrancois@a.fr,François,Rivière\n"
    for data in (text.encode(), b"\xef\xbb\xbf" + text.encode()):
        result = parse(data, "l.csv")
        assert result.rows[0].first_name == "François" and result.rows[0].last_name == "Rivière"
        assert result.columns[0] == "email"  # no BOM left in the first header
    assert parse(b"\xef\xbb\xbf" + text.encode()).encoding == "UTF-8 (avec BOM)"


def test_windows_1252():
    result = parse("email;prénom;nom\nceline@a.fr;Céline;Œuvré\n".encode("cp1252"), "l.csv")
    assert result.encoding == "Windows-1252"
    assert (result.rows[0].first_name, result.rows[0].last_name) == ("Céline", "Œuvré")


def test_utf16_with_bom_as_excel_unicode_text():
    result = parse("email\tprénom\nnoel@a.fr\tNoël\n".encode("utf-16"), "l.txt")
    assert result.delimiter == "\t" and result.rows[0].first_name == "Noël"


def test_sample_windows_file():
    result = read(LISTS / "export-windows-1252.csv")
    assert [(r.first_name, r.last_name) for r in result.rows] == [("François", "Rivière"), ("Céline", "Girard")]


def test_windows_1252_file_with_semicolons():
    result = read(FIXTURE_LISTS / "windows-1252.csv")  # œ and ’ are cp1252's own bytes (0x9c, 0x92), not Latin-1's
    assert (result.encoding, result.delimiter) == ("Windows-1252", ";")
    assert [(r.email, r.first_name, r.last_name, r.attributes) for r in result.rows] == [
        ("elodie.coeur@exemple.gouv.fr", "Élodie", "Cœur", {"service": "Bureau d’études"}),
        ("noel.garcia@exemple.gouv.fr", "Noël", "García", {"service": "SG"})]


def test_spreadsheet_file_with_a_byte_order_mark_semicolons_and_french_headers():
    result = read(FIXTURE_LISTS / "tableur-bom.csv")
    assert (result.encoding, result.delimiter) == ("UTF-8 (avec BOM)", ";")
    assert result.columns[0] == "Adresse électronique"  # no BOM left in the first header
    assert emails(result) == ["lea.moreau@exemple.gouv.fr", "hugo.petit@exemple.gouv.fr"]
    assert (result.rows[0].first_name, result.rows[0].last_name) == ("Léa", "Moreau")
    assert [(d.line, d.first_line) for d in result.duplicates] == [(4, 2)]


# --- separators and quoting ------------------------------------------------------------------

@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separators(sep):
    data = sep.join(["email", "nom", "service"]) + "\n" + sep.join(["a@b.fr", "Durand", "SG"]) + "\n"
    result = parse(data.encode())
    assert result.delimiter == sep
    assert result.rows[0].last_name == "Durand" and result.rows[0].attributes == {"service": "SG"}


def test_quoted_separator_and_line_breaks_keep_physical_line_numbers():
    data = (b'email,nom,service\n'
            b'a@b.fr,"Durand, Jean","ligne un\nligne deux\r\nligne trois"\n'
            b'pas-une-adresse,X,Y\n'
            b'"c@d.fr",Petit,"un ""guillemet"""\n')
    result = parse(data)
    assert result.rows[0].last_name == "Durand, Jean"
    assert result.rows[0].attributes["service"] == "ligne un\nligne deux\r\nligne trois"
    assert result.rejected[0].line == 5
    assert result.rows[1].line == 6 and result.rows[1].attributes["service"] == 'un "guillemet"'


def test_windows_line_endings_and_blank_lines():
    result = parse(b"email;nom\r\n\r\na@b.fr;A\r\n\r\nbad;B\r\n")
    assert [r.line for r in result.rows] == [3]
    assert [r.line for r in result.rejected] == [5]


def test_sample_invites_cloud_lines():
    result = read(LISTS / "invites-cloud.csv")
    assert [r.line for r in result.rejected] == [6, 7, 9]
    assert [(d.line, d.first_line) for d in result.duplicates] == [(4, 3)]
    assert len(result.rows) == 8 and result.records == 12
    yann = next(r for r in result.rows if r.email.startswith("yann"))
    assert yann.line == 11 and "\n" in yann.attributes["organisation"]


# --- headers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["email", "E-mail", "Courriel", "Adresse électronique", "ADRESSE ELECTRONIQUE",
                                    "adresse_mail", "Email address", " Mél "])
def test_address_header_names(header):
    result = parse(f"{header};Prénom;Nom;Organisation\na@b.fr;Anne;Petit;DINUM\n".encode())
    row = result.rows[0]
    assert (row.email, row.first_name, row.last_name, row.attributes) == ("a@b.fr", "Anne", "Petit",
                                                                          {"Organisation": "DINUM"})


def test_english_headers_and_full_name():
    row = parse(b"First Name,Last Name,Email\nAnne,Petit,a@b.fr\n").rows[0]
    assert (row.first_name, row.last_name) == ("Anne", "Petit")
    row = parse(b"Nom complet;Courriel\nMarie-Claire de La Fontaine;a@b.fr\n").rows[0]
    assert (row.first_name, row.last_name) == ("Marie-Claire", "de La Fontaine")


def test_no_address_column_is_a_clear_error_naming_the_file():
    with pytest.raises(InputError) as err:
        parse("prénom;nom\nAnne;Petit\n".encode(), "contacts.csv")
    message = str(err.value)
    assert "contacts.csv" in message and "aucune colonne d'adresse" in message and "« prénom »" in message


def test_a_file_without_header_uses_the_column_holding_addresses():
    result = parse(b"Anne;a@b.fr\nBen;c@d.fr\n")
    assert emails(result) == ["a@b.fr", "c@d.fr"] and result.rows[0].line == 1


def test_header_only_file_has_no_rows():
    result = parse(b"email;nom\n")
    assert result.rows == [] and result.rejected == []


# --- addresses ------------------------------------------------------------------------------------

def test_addresses_are_trimmed_and_duplicates_are_case_insensitive():
    result = parse(b"email\n  Jean.Dupont@DGFIP.fr \njean.dupont@dgfip.fr\nJEAN.DUPONT@dgfip.FR\n")
    assert emails(result) == ["Jean.Dupont@dgfip.fr"]
    assert [(d.line, d.first_line) for d in result.duplicates] == [(3, 2), (4, 2)]


@pytest.mark.parametrize("value, reason", [
    ("", "adresse manquante"),
    ("pas-une-adresse", "pas d'arobase"),
    ("a@b", "le domaine n'a pas de point"),
    ("a@@b.fr", "caractère(s) interdit(s) après l'arobase"),
    ("a b@c.fr", "caractère(s) interdit(s) avant l'arobase"),
    (".a@b.fr", "commence par un point"),
    ("a..b@c.fr", "deux points qui se suivent"),
    ('zoe@ex"ample.fr', "caractère(s) interdit(s) après l'arobase"),
])
def test_invalid_addresses_are_rejected_with_a_french_reason(value, reason):
    quoted = '"' + value.replace('"', '""') + '"'
    result = parse(f"email,nom\n{quoted},X\n".encode())
    assert result.rows == []
    assert result.rejected[0].line == 2 and reason in result.rejected[0].reason


def test_too_many_fields_is_rejected_not_truncated():
    result = parse(b"email,nom\na@b.fr,Durand,Jean\nc@d.fr\n")
    assert result.rejected[0].line == 2 and "3 champs au lieu de 2" in result.rejected[0].reason
    assert emails(result) == ["c@d.fr"]  # a short row is padded


def test_markup_in_names_is_stripped_and_reported():
    result = parse("email,prénom,nom\nh@s.fr,<b>Héloïse</b>,<script>x</script>Roux\n".encode())
    row = result.rows[0]
    assert (row.first_name, row.last_name) == ("Héloïse", "xRoux")
    assert [line for line, _ in result.warnings] == [2, 2]


# --- files that cannot be read ----------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"   \n\r\n  ", b"\xef\xbb\xbf"])
def test_empty_file(data):
    with pytest.raises(InputError, match="vide.csv, ligne 1 : fichier vide"):
        parse(data, "vide.csv")


def test_binary_file():
    with pytest.raises(InputError, match="liste.xlsx, ligne 1 : fichier binaire"):
        parse(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)), "liste.xlsx")
    with pytest.raises(InputError, match="image.png, ligne 1 : fichier binaire"):
        parse(bytes(range(1, 32)) * 50 + bytes(range(128, 256)) * 10, "image.png")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="introuvable"):
        read(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="dossier"):
        read(tmp_path)
