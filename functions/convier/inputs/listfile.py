"""Mailing-list files as staff really have them: bytes in, rows and rejections out. No AWS here.

Reads comma, semicolon, tab or pipe separated text; UTF-8 with or without BOM, UTF-16 with BOM,
Windows-1252 (older spreadsheet exports), or whatever charset-normalizer recognises; header names
in French or English; quoted fields with line breaks. Other columns become attributes.

Every record is accounted for: kept (`rows`), `rejected` (line and reason, in French) or a
`duplicates` entry (line and the line it repeats). Line numbers are the physical line of the
file where the record starts. A file that cannot be read at all raises `InputError` naming it.
Markup in names (`<b>Héloïse</b>`) is stripped of its tags, and a warning names the line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from convier.domain.exports import unprotect
from convier.domain.ids import normalise_address
from convier.errors import InputError, os_error

EMAIL, FIRST, LAST, FULL, IGNORED = "email", "first_name", "last_name", "full_name", "ignored"

# Header names, compared after folding (lower case, no accents, separators as spaces).
HEADERS = {
    EMAIL: {"email", "e mail", "mail", "courriel", "adresse electronique", "adresse email", "adresse e mail",
            "adresse mail", "adresse courriel", "adresse de courriel", "email address", "e mail address",
            "adresse", "address", "mel", "adresse mel"},
    FIRST: {"prenom", "prenoms", "first name", "firstname", "given name", "forename"},
    LAST: {"nom", "nom de famille", "last name", "lastname", "surname", "family name", "nom d usage"},
    FULL: {"nom complet", "full name", "fullname", "name", "display name", "nom et prenom", "prenom et nom",
           "prenom nom", "nom prenom", "identite"},
    # written by `lists export`: read back without turning into attributes
    IGNORED: {"statut", "status", "consentement", "source du consentement", "date du consentement",
              "consent", "consent source", "consent at"},
}
DELIMITERS = ",;\t|"
SAMPLE = 64 * 1024
MAX_NAME = 200
# DynamoDB refuses an item over 400 KB; a subscriber's item also holds keys, status, consent and up to
# MAX_HISTORY status changes: a row must leave that much room (refused at parse time, before any write).
ITEM_LIMIT = 400 * 1024
ITEM_HEADROOM = 8 * 1024
TAG = re.compile(r"</?[A-Za-z][^<>]*>")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Row:
    line: int
    email: str  # trimmed, domain lower-cased (email-validator's normalised form)
    first_name: str = ""
    last_name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return normalise_address(self.email)


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str
    value: str = ""  # what was in the address column


@dataclass(frozen=True)
class Duplicate:
    line: int
    first_line: int


@dataclass
class ListFile:
    name: str
    encoding: str
    delimiter: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def records(self) -> int:
        return len(self.rows) + len(self.rejected) + len(self.duplicates)


def fold(header: str) -> str:
    text = unicodedata.normalize("NFKD", header.strip().strip("\ufeff").lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[\s_\-.'’:()*]+", " ", text)
    return text.strip()


def role_of(header: str) -> str | None:
    folded = fold(header)
    for role, names in HEADERS.items():
        if folded in names:
            return role
    return None


# --- bytes → text ------------------------------------------------------------------------------

def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding name). Refuses binary files with a message naming the file."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "UTF-8 (avec BOM)"
        except UnicodeDecodeError as exc:
            line = data[:3 + exc.start].count(b"\n") + 1
            raise InputError(f"{name}, ligne {line} : encodage UTF-8 annoncé (BOM) mais octet invalide ; "
                             "réenregistrez le fichier en « CSV UTF-8 »") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise InputError(f"{name}, ligne 1 : encodage UTF-16 annoncé mais texte illisible ; "
                             "réenregistrez le fichier en « CSV UTF-8 »") from None
    head = data[:SAMPLE]
    if b"\x00" in head or len(CONTROL.findall(head.decode("latin-1"))) > max(3, len(head) // 100):
        raise InputError(f"{name}, ligne 1 : fichier binaire (tableur .xlsx ou .ods, image ?) ; "
                         "enregistrez-le au format CSV")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise InputError(f"{name}, ligne 1 : encodage des caractères non reconnu ; "
                             "enregistrez le fichier en CSV UTF-8") from None
        text, encoding = str(best), best.encoding
    return text, encoding


def sniff_delimiter(text: str) -> str:
    """csv.Sniffer on the header line, checked against a plain count of the candidates."""
    first = text.split("\n", 1)[0].rstrip("\r")
    try:
        found = csv.Sniffer().sniff(first, delimiters=DELIMITERS).delimiter
        if found in DELIMITERS and first.count(found) > 0:
            return found
    except csv.Error:
        pass
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


# --- text → records ------------------------------------------------------------------------------

def records(text: str, delimiter: str):
    """(start line, fields) for each non-empty record; the start line is the physical line.

    No field is too long for the reader (its 128 KB default would refuse the whole file for one big cell):
    an over-long row is refused on its line by `parse`, like any row too big to store. A quote never
    closed would swallow every following line into one value: that is refused, naming its line."""
    if csv.field_size_limit() <= len(text):
        csv.field_size_limit(len(text) + 1)  # process-wide, and only ever raised
    source = io.StringIO(text, newline="")
    reader = csv.reader(source, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    previous = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"ligne {previous + 1} : CSV illisible ({_csv_french(exc)})") from None
        start, previous = previous + 1, reader.line_num
        if source.tell() == len(text) and _open_quote(text, start):
            raise InputError(f"ligne {start} : guillemet ouvert et jamais fermé (la valeur court jusqu’à la fin "
                             "du fichier et emporterait les lignes suivantes) ; fermez-le ou retirez-le")
        if any(f.strip() for f in fields):
            yield start, fields


def _open_quote(text: str, start: int) -> bool:
    """True when the last record, from its physical line `start`, leaves a quote open at the end of the file:
    inside a closed quoted value quotes come in pairs (opening, closing, doubled)."""
    offset = 0
    for _ in range(start - 1):
        offset = text.index("\n", offset) + 1
    return text.count('"', offset) % 2 == 1


def _csv_french(exc: csv.Error) -> str:
    text = str(exc)
    if "NUL" in text or "null byte" in text:
        return "caractère nul dans le texte"
    if "field larger than field limit" in text:
        return "champ trop long"
    if "new-line character seen in unquoted field" in text:
        return "retour à la ligne dans une valeur sans guillemets"
    return "guillemets mal appariés"


def clean_name(value: str) -> tuple[str, bool]:
    """Tags stripped, control characters and runs of spaces removed; (text, had markup)."""
    stripped = TAG.sub("", value)
    text = " ".join(CONTROL.sub(" ", stripped).split())[:MAX_NAME]
    return text, stripped != value


def check_address(value: str) -> tuple[str | None, str]:
    """(normalised address, "") or (None, reason in French)."""
    from email_validator import EmailNotValidError, validate_email

    address = value.strip().strip("<>").strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    if not address:
        return None, "adresse manquante"
    if "@" not in address:
        return None, f"pas d'arobase (@) : « {value.strip()} » n'est pas une adresse électronique"
    try:
        return validate_email(address, check_deliverability=False).normalized, ""
    except EmailNotValidError as exc:
        return None, f"adresse invalide « {value.strip()} » : {french_reason(str(exc))}"


_REASONS = [
    (r"after the @-sign contains invalid characters: (.*)\.", "caractère(s) interdit(s) après l'arobase : {0}"),
    (r"invalid characters before the @-sign: (.*)\.", "caractère(s) interdit(s) avant l'arobase : {0}"),
    (r"after the @-sign is not valid\. It should have a period", "le domaine n'a pas de point (ex. : gouv.fr)"),
    (r"There must be something before the @-sign", "rien avant l'arobase"),
    (r"There must be something after the @-sign", "rien après l'arobase"),
    (r"cannot start with a period", "commence par un point"),
    (r"cannot end with a period", "finit par un point"),
    (r"cannot have two periods in a row", "deux points qui se suivent"),
    (r"too long", "trop longue"),
    (r"special-use or reserved name", "nom de domaine réservé, qui ne reçoit pas de courriel"),
]


def french_reason(message: str) -> str:
    for pattern, french in _REASONS:
        match = re.search(pattern, message)
        if match:
            return french.format(*match.groups())
    return "syntaxe non valable"


def parse(data: bytes, name: str = "fichier") -> ListFile:
    """The whole file, or InputError when it cannot be read at all (nothing partial)."""
    if not data.strip():
        raise InputError(f"{name}, ligne 1 : fichier vide (attendu : une ligne d'en-têtes, « email », puis une "
                         "adresse par ligne)")
    text, encoding = decode(data, name)
    if not text.strip():
        raise InputError(f"{name}, ligne 1 : fichier vide (attendu : une ligne d'en-têtes, « email », puis une "
                         "adresse par ligne)")
    delimiter = sniff_delimiter(text)
    try:
        found = list(records(text, delimiter))
    except InputError as exc:
        raise InputError(f"{name}, {exc}") from exc
    if not found:
        raise InputError(f"{name}, ligne 1 : aucune ligne de données")
    header_line, header = found[0]
    roles = [role_of(h) for h in header]
    if EMAIL not in roles:
        address_column = _headerless_email_column(header)
        if address_column is None:
            shown = ", ".join(f"« {h.strip()} »" for h in header[:8])
            raise InputError(
                f"{name}, ligne {header_line} : aucune colonne d'adresse électronique (en-têtes lus : {shown}) ; "
                "nommez-la « email », « courriel » ou « adresse électronique »")
        roles = [EMAIL if i == address_column else None for i in range(len(header))]
        header = [("email" if i == address_column else f"colonne {i + 1}") for i in range(len(header))]
        body = found
    else:
        body = found[1:]
    result = ListFile(name=name, encoding=encoding, delimiter=delimiter, columns=[h.strip() for h in header])
    seen: dict[str, int] = {}
    email_index = roles.index(EMAIL)
    for line, fields in body:
        fields = [unprotect(f) for f in fields]  # our own exports protect formula-like cells
        if len(fields) > len(header) and any(f.strip() for f in fields[len(header):]):
            result.rejected.append(Rejected(line, f"{len(fields)} champs au lieu de {len(header)} : séparateur "
                                                  "dans une valeur sans guillemets ?",
                                            fields[email_index] if email_index < len(fields) else ""))
            continue
        fields = fields + [""] * (len(header) - len(fields))
        raw = fields[email_index]
        address, reason = check_address(raw)
        if address is None:
            result.rejected.append(Rejected(line, reason, raw.strip()))
            continue
        key = normalise_address(address)
        if key in seen:
            result.duplicates.append(Duplicate(line, seen[key]))
            continue
        seen[key] = line
        row, marked = _row(line, address, header, roles, fields)
        too_big = _oversized(row)
        if too_big:
            result.rejected.append(Rejected(line, too_big, raw.strip()))
            continue
        for what in marked:
            result.warnings.append((line, f"balises retirées du champ « {what} »"))
        result.rows.append(row)
    return result


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _oversized(row: Row) -> str:
    """Why this row's item would not fit in DynamoDB (its biggest field named), or "" when it fits."""
    fields = {"adresse électronique": row.email, "prénom": row.first_name, "nom": row.last_name,
              **row.attributes}
    total = sum(_size(name) + _size(value) + 3 for name, value in row.attributes.items())
    total += _size(row.email) + _size(row.first_name) + _size(row.last_name)
    if total <= ITEM_LIMIT - ITEM_HEADROOM:
        return ""
    biggest = max(fields, key=lambda name: _size(fields[name]))
    return (f"ligne trop grande pour être enregistrée ({total // 1024} ko, au plus "
            f"{(ITEM_LIMIT - ITEM_HEADROOM) // 1024} ko par abonné) : le champ « {biggest} » fait "
            f"{_size(fields[biggest]) // 1024} ko ; raccourcissez-le ou retirez cette colonne")


def _headerless_email_column(first: list[str]) -> int | None:
    """A file without a header: the first column holding an address in its first record."""
    for i, value in enumerate(first):
        if check_address(value)[0]:
            return i
    return None


def _row(line: int, address: str, header: list[str], roles: list[str | None], fields: list[str]):
    first = last = full = ""
    attributes: dict[str, str] = {}
    marked = []
    for column, role, value in zip(header, roles, fields, strict=False):
        if role in (EMAIL, IGNORED):
            continue
        if role in (FIRST, LAST, FULL):
            text, had_markup = clean_name(value)
            if had_markup:
                marked.append(column.strip())
            if role == FIRST:
                first = first or text
            elif role == LAST:
                last = last or text
            else:
                full = full or text
        elif column.strip() and value.strip():
            attributes[column.strip()[:MAX_NAME]] = value.strip()
    if full and not (first or last):
        first, _, last = full.partition(" ")
    return Row(line, address, first, last, attributes), marked


def read(path: str | Path) -> ListFile:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise os_error(path, exc) from None
    return parse(data, str(path))
