"""List imports (the difference between a file and the table, then the writes), exports and erasure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from convier.domain.ids import subscriber_id
from convier.errors import InputError
from convier.inputs.listfile import ListFile
from convier.store import ddb, keys, subscribers
from convier.store.subscribers import SUBSCRIBED, Subscriber

CHUNK = 500  # items per progress step
WRITERS = 4  # batch writes in flight at once


@dataclass
class ImportReport:
    list_name: str
    file: ListFile
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_status: list[tuple[int, str]] = field(default_factory=list)  # (line, status) not re-subscribed
    suppressed: list[int] = field(default_factory=list)  # new rows whose address is suppressed
    opted_out: list[int] = field(default_factory=list)  # new rows of an erased person who had unsubscribed

    @property
    def duplicated(self) -> int:
        return len(self.file.duplicates)

    @property
    def rejected(self) -> int:
        return len(self.file.rejected)


def _merge(existing: Subscriber, row) -> Subscriber:
    """Non-empty values from the file win; an empty cell never erases what the table knows."""
    attributes = {**existing.attributes, **row.attributes}
    return Subscriber(sid=existing.sid, email=row.email or existing.email,
                      first_name=row.first_name or existing.first_name,
                      last_name=row.last_name or existing.last_name, attributes=attributes,
                      status=existing.status, consent_source=existing.consent_source,
                      consent_at=existing.consent_at, list_name=existing.list_name)


class NothingToImport(InputError):
    """A file without one importable row (header only, or every line rejected): no list is created."""


class ImportInterrupted(InputError):
    """The writes stopped midway (DynamoDB unreachable, throttled for good): what was written is said, and the
    same import run again completes it (rows already written are found unchanged, nothing is doubled)."""


def nothing_to_import(list_name: str, parsed: ListFile) -> str:
    why = (f"{len(parsed.rejected)} ligne(s) rejetée(s)" if parsed.rejected
           else "une ligne d'en-têtes sans données")
    return (f"{parsed.name} : aucune ligne à importer ({why}) ; la liste « {list_name} » n’a pas été créée")


def import_rows(ddb_client, table: str, list_name: str, parsed: ListFile, id_key: bytes, *,
                source: str, progress=None) -> ImportReport:
    """Adds new subscribers, updates changed ones, leaves the rest; unsubscribed stay unsubscribed.

    Every row was validated by the parse (address, size of its item) before this first write. A file with no
    importable row raises NothingToImport and creates nothing; writes that fail midway raise ImportInterrupted
    saying how many subscribers were written (a rerun of the same file completes the import).
    `progress(total=None, advance=0)` is called with the number of rows to write, then after each chunk.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    if not parsed.rows:
        raise NothingToImport(nothing_to_import(list_name, parsed))
    report = ImportReport(list_name, parsed)
    subscribers.ensure_list(ddb_client, table, list_name)
    existing = {s.sid: s for s in subscribers.iter_subscribers(ddb_client, table, list_name)}
    suppressed = subscribers.suppressions(ddb_client, table)
    stamp = subscribers.now_iso()
    new_items, updates = [], []
    for row in parsed.rows:
        sid = subscriber_id(row.email, id_key)
        old = existing.get(sid)
        if old is None:
            status = SUBSCRIBED
            if sid in suppressed:
                reason = suppressed[sid]
                status = reason if reason in subscribers.STATUSES else subscribers.BOUNCED
                (report.opted_out if status == subscribers.UNSUBSCRIBED else report.suppressed).append(row.line)
            sub = Subscriber(sid=sid, email=row.email, first_name=row.first_name, last_name=row.last_name,
                             attributes=row.attributes, status=status, consent_source=source,
                             consent_at=stamp, list_name=list_name)
            new_items.append(sub.to_item(created_at=stamp, updated_at=stamp,
                                         history=[{"status": status, "at": stamp, "reason": source}]))
            report.added += 1
            continue
        if old.status != SUBSCRIBED:
            report.kept_status.append((row.line, old.status))
        merged = _merge(old, row)
        if merged == old:
            report.unchanged += 1
        else:
            updates.append(merged)
            report.updated += 1
    if progress:
        progress(total=len(new_items) + len(updates))
    chunks = _transactions(new_items)
    done = {"added": 0, "updated": 0}

    def write(numbered):
        # each subscriber with its membership entry and the list's counts, in one transaction (a shard of the
        # counts per writer): the counts never drift from the items, an interrupted import leaves none half-made
        index, chunk = numbered
        present = subscribers.add_new(ddb_client, table, list_name, chunk, shard=index % subscribers.COUNT_SHARDS)
        done["added"] += len(chunk) - len(present)
        return len(chunk), len(present)

    try:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:  # the client is thread-safe; the server is parallel
            for written, present in pool.map(write, enumerate(chunks)):
                report.added -= present  # added meanwhile by another import: there already, left as they were
                report.unchanged += present
                if progress:
                    progress(advance=written)
        for sub in updates:
            _update(ddb_client, table, sub, stamp)
            done["updated"] += 1
            if progress:
                progress(advance=1)
    except (BotoCoreError, ClientError, RuntimeError) as exc:
        raise ImportInterrupted(_interrupted(ddb_client, table, list_name, parsed, done, len(existing),
                                             len(updates), exc)) from None
    subscribers.update_list_meta(ddb_client, table, list_name, updated_at=stamp,
                                 last_import={"source": source, "at": stamp, "added": report.added,
                                              "updated": report.updated, "unchanged": report.unchanged,
                                              "duplicated": report.duplicated, "rejected": report.rejected})
    return report


def _transactions(items: list[dict]) -> list[list[dict]]:
    """New subscribers in groups one transaction holds: each with its membership entry, plus the counts'
    update (at most 100 actions), under DynamoDB's 4 MB a transaction (an item's size estimated high)."""
    import json

    most = (subscribers.TRANSACTION_ITEMS - 1) // 2
    budget = subscribers.TRANSACTION_BYTES * 3 // 4
    chunks, current, size = [], [], 0
    for item in items:
        weight = len(json.dumps(item, ensure_ascii=False).encode()) + 200
        if current and (len(current) == most or size + weight > budget):
            chunks.append(current)
            current, size = [], 0
        current.append(item)
        size += weight
    if current:
        chunks.append(current)
    return chunks


def _interrupted(ddb_client, table, list_name, parsed, done, before, updates, exc) -> str:
    """What an interrupted import wrote, counted again from the table when it still answers."""
    try:
        present = sum(subscribers.count_by_status(ddb_client, table, list_name).values()) - before
    except Exception:  # noqa: BLE001 - the table may be the thing that failed: the chunks known written
        present = done["added"]
    return (f"{parsed.name} : import interrompu ({type(exc).__name__}) : {present} abonnés sur "
            f"{len(parsed.rows)} écrits dans la liste « {list_name} » ({present} ajoutés, {done['updated']} mis à "
            f"jour sur {updates}) ; relancez le même import : il complète la liste sans doublon")


def _update(ddb_client, table: str, sub: Subscriber, stamp: str) -> None:
    """Names, address and attributes only: a concurrent unsubscribe is never overwritten."""
    ddb_client.update_item(
        TableName=table, Key=ddb.key(*keys.subscriber_key(sub.list_name, sub.sid)),
        UpdateExpression="SET email = :e, first_name = :f, last_name = :l, attributes = :a, updated_at = :t",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":e": {"S": sub.email}, ":f": {"S": sub.first_name},
                                   ":l": {"S": sub.last_name}, ":a": ddb.to_value(sub.attributes),
                                   ":t": {"S": stamp}})


# --- export -------------------------------------------------------------------------------------

EMAIL_HEADER = "adresse électronique"
EXPORT_HEAD = [EMAIL_HEADER, "prénom", "nom", "statut"]
EXPORT_TAIL = ["source du consentement", "date du consentement"]


def export_rows(ddb_client, table: str, list_name: str) -> tuple[list[str], list[list[str]]]:
    """The list as staff read it (French headers and statuses, Paris time), for `exports.write_csv`."""
    from convier.domain.dates import sheet_moment

    subs = list(subscribers.iter_subscribers(ddb_client, table, list_name))
    reserved = set(EXPORT_HEAD + EXPORT_TAIL)
    attributes = sorted({k for s in subs for k in s.attributes if k not in reserved})
    header = EXPORT_HEAD + attributes + EXPORT_TAIL
    rows = [[s.email, s.first_name, s.last_name, subscribers.STATUS_FR.get(s.status, s.status),
             *(s.attributes.get(a, "") for a in attributes), s.consent_source, sheet_moment(s.consent_at)]
            for s in sorted(subs, key=lambda s: s.email.lower())]
    return header, rows


def export_text(header: list[str], rows: list[list[str]]) -> str:
    """The export as text, without the BOM (a download: the caller adds it); the same cells as `write_csv`."""
    import io

    from convier.domain.exports import BOM, write_csv

    out = io.StringIO()
    write_csv(out, header, rows)
    return out.getvalue().removeprefix(BOM)


# --- erasure ------------------------------------------------------------------------------------

@dataclass
class Forgotten:
    """What one erasure removed, per kind (the CLI prints each count)."""

    sid: str
    lists: list[str] = field(default_factory=list)
    campaign_records: list[tuple[str, str]] = field(default_factory=list)  # (campaign id, SEND|RSVP)
    places_freed: list[tuple[str, str]] = field(default_factory=list)  # (campaign id, confirmed|waiting)
    promoted: list[tuple[str, str]] = field(default_factory=list)  # (campaign id, sid given the freed place)
    suppression: bool = False  # a bounce or complaint entry existed (kept, by id only, as `opt_out`)
    opt_out: str = ""  # unsubscribed / bounced / complained: kept as a suppression keyed by the id (no address)
    elsewhere: dict[object, int] = field(default_factory=dict)  # eraser label → things it removed

    @property
    def anything(self) -> bool:
        return bool(self.lists or self.campaign_records or self.suppression or any(self.elsewhere.values()))


def _delete(ddb_client, table: str, pk: str, sk: str) -> dict | None:
    """Deletes one item; returns what it held (None when there was nothing)."""
    out = ddb_client.delete_item(TableName=table, Key=ddb.key(pk, sk), ReturnValues="ALL_OLD")
    return ddb.from_item(out["Attributes"]) if "Attributes" in out else None


# What erasure must also reach outside the table (the embedded default's outbox and recording): a label (any
# hashable the caller prints) and a callable (normalised address, subscriber id) → how many things it removed.
# The CLI's composition root hands them in (services never import convier.local).
Eraser = Callable[[str, str], int]

# The strongest opt-out wins when a person had several statuses across lists.
_OPT_OUTS = (subscribers.COMPLAINED, subscribers.BOUNCED, subscribers.UNSUBSCRIBED)


def erasable_address(value: str) -> str:
    """The one whole, valid address an erasure works on, normalised; InputError (in French) otherwise:
    never a prefix, a suffix, an empty string or a pattern (erasure matches whole addresses only)."""
    from convier.errors import InputError
    from convier.inputs.listfile import check_address

    text = (value or "").strip()
    if not text:
        raise InputError("effacement : adresse vide ; donnez une adresse électronique complète "
                         "(ex. : prenom.nom@exemple.gouv.fr)")
    address, reason = check_address(text)
    if address is None or text.startswith(("<", "mailto:")) or any(c in text for c in " ,;\t"):
        raise InputError(f"effacement : « {text} » n'est pas une adresse électronique complète "
                         f"({reason or 'une seule adresse, sans nom ni chevrons'}) ; rien n'a été effacé")
    return address


def forget(ddb_client, table: str, address: str, id_key: bytes,
           erasers: Mapping[object, Eraser] | None = None) -> Forgotten:
    """Erasure of one person: every list entry, the membership index, every campaign's send and answer
    records (a confirmed place is given back and the first waiting promoted), then whatever the erasers
    reach. Only that person's own records are touched. An opt-out (unsubscribed, bounced, complained) is kept
    as a suppression keyed by the subscriber id alone, so that re-importing the address does not re-subscribe
    it. `address` must be one whole valid address (InputError otherwise, before anything is changed)."""
    from convier.services import rsvp

    address = erasable_address(address)
    sid = subscriber_id(address, id_key)
    done = Forgotten(sid)
    statuses = set()
    lists = set(subscribers.lists_of(ddb_client, table, sid)) | set(subscribers.list_names(ddb_client, table))
    for list_name in sorted(lists):
        old = subscribers.remove(ddb_client, table, list_name, sid)  # with its membership entry and its count
        if old is not None:
            done.lists.append(list_name)
            statuses.add(old.get("status", SUBSCRIBED))
    for item in ddb.query(ddb_client, table, keys.CAMPAIGNS, consistent=True):
        campaign_id = item["SK"]
        if _delete(ddb_client, table, keys.campaign_pk(campaign_id), keys.send_sk(sid)) is not None:
            done.campaign_records.append((campaign_id, "SEND"))
        campaign = None
        if ddb.get(ddb_client, table, keys.campaign_pk(campaign_id), keys.rsvp_sk(sid), projection="SK"):
            from convier.store import records

            try:
                campaign = records.load_campaign(ddb_client, table, campaign_id)
            except (KeyError, TypeError, ValueError):  # a damaged campaign record: its answer is still erased
                campaign = None
        if campaign is not None:
            withdrawn = rsvp.withdraw(ddb_client, table, campaign, sid)
            if withdrawn.deleted:
                done.campaign_records.append((campaign_id, "RSVP"))
            if withdrawn.freed:
                done.places_freed.append((campaign_id, withdrawn.freed))
            done.promoted += [(campaign_id, promoted) for promoted in withdrawn.promoted]
        elif _delete(ddb_client, table, keys.campaign_pk(campaign_id), keys.rsvp_sk(sid)) is not None:
            done.campaign_records.append((campaign_id, "RSVP"))
    old_suppression = ddb.get(ddb_client, table, *keys.suppression_key(sid))
    if old_suppression is not None:
        statuses.add(old_suppression.get("reason") or subscribers.BOUNCED)
        done.suppression = not old_suppression.get(subscribers.FORGOTTEN)
    done.opt_out = next((s for s in _OPT_OUTS if s in statuses), "")
    if done.opt_out:
        subscribers.keep_opt_out(ddb_client, table, sid, done.opt_out)
    elif old_suppression is not None:
        _delete(ddb_client, table, *keys.suppression_key(sid))
    for label, erase in (erasers or {}).items():
        done.elsewhere[label] = erase(address, sid)
    return done


# --- one call per staff action (CLI, console) ----------------------------------------------------

@dataclass(frozen=True)
class ListSummary:
    """A list as `lists show` and the console's list page show it."""

    name: str
    counts: dict[str, int]  # by status, zeros included
    last_import_at: str = ""
    last_import_source: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def require_list(clients, settings, list_name: str) -> None:
    if not subscribers.list_exists(clients.dynamodb, settings.table, list_name):
        raise InputError(f"liste inconnue : « {list_name} » (voir convier lists show)")


def show_lists(clients, settings, list_name: str | None = None) -> list[ListSummary]:
    """Every list (or the one named) with its counts by status and its last import."""
    dynamo, table = clients.dynamodb, settings.table
    if list_name:
        require_list(clients, settings, list_name)
    names = [list_name] if list_name else subscribers.list_names(dynamo, table)
    found = []
    states = subscribers.list_states(dynamo, table, names)  # one read for every list, whatever their size
    for name in names:
        if name not in states:
            continue
        meta, counts = states[name]
        last = meta.get("last_import") or {}
        found.append(ListSummary(name, counts, last.get("at", ""), last.get("source", "")))
    return found


@dataclass(frozen=True)
class Recounted:
    name: str
    kept: dict[str, int]  # the counts as they were kept
    counted: dict[str, int]  # counted from the list's items, now kept

    @property
    def repaired(self) -> dict[str, int]:
        return {s: n - self.kept.get(s, 0) for s, n in self.counted.items() if n != self.kept.get(s, 0)}


def recount_lists(clients, settings, list_name: str | None = None) -> list[Recounted]:
    """Counts every list's (or the one named) subscribers from its items and repairs the kept counts (an
    operator's check: the counts move in each change's own write and should never need it)."""
    dynamo, table = clients.dynamodb, settings.table
    if list_name:
        require_list(clients, settings, list_name)
    done = []
    for name in [list_name] if list_name else subscribers.list_names(dynamo, table):
        kept = subscribers.list_counts(dynamo, table, name)
        done.append(Recounted(name, kept, subscribers.recount(dynamo, table, name)))
    return done


def import_list(clients, settings, list_name: str, parsed: ListFile, *, source: str, progress=None) -> ImportReport:
    """A parsed list file into the list (created if new): the difference, then the writes."""
    return import_rows(clients.dynamodb, settings.table, list_name, parsed, clients.keys.id_key,
                       source=source, progress=progress)


def export_list(clients, settings, list_name: str) -> tuple[list[str], list[list[str]]]:
    require_list(clients, settings, list_name)
    return export_rows(clients.dynamodb, settings.table, list_name)


def forget_address(clients, settings, address: str, erasers: Mapping[object, Eraser] | None = None) -> Forgotten:
    """`forget`, then whoever got the place this person held is told at once (services.rsvp.tell_promoted)."""
    done = forget(clients.dynamodb, settings.table, address, clients.keys.id_key, erasers=erasers)
    from convier.services import rsvp
    from convier.store import records

    for campaign_id in dict.fromkeys(c for c, _ in done.promoted):
        campaign = records.load_campaign(clients.dynamodb, settings.table, campaign_id, parts=False)
        if campaign is not None:
            rsvp.tell_promoted(clients, settings, campaign, [sid for c, sid in done.promoted if c == campaign_id])
    return done


def list_names(clients, settings) -> list[str]:
    return subscribers.list_names(clients.dynamodb, settings.table)


@dataclass
class Found:
    sid: str
    address: str
    memberships: list[Subscriber] = field(default_factory=list)


def find(clients, settings, address: str) -> Found:
    """A subscriber by address: every list they are on, with their status there."""
    from convier.inputs.listfile import check_address

    normalised, _ = check_address(address)
    sid = subscriber_id(normalised or address.strip(), clients.keys.id_key)
    found = Found(sid=sid, address=normalised or address.strip())
    for name in subscribers.lists_of(clients.dynamodb, settings.table, sid):
        sub = subscribers.get_subscriber(clients.dynamodb, settings.table, name, sid)
        if sub is not None:
            found.memberships.append(sub)
    return found


# --- unsubscribing one address (a request by e-mail, by phone, at the desk) --------------------------

@dataclass
class Unsubscribed:
    sid: str
    changed: list[str] = field(default_factory=list)  # lists where the address is now unsubscribed
    already: list[tuple[str, str]] = field(default_factory=list)  # (list, status) left as they were


def unsubscribe_address(clients, settings, address: str, *, list_name: str | None = None,
                        reason: str = "demande de désinscription reçue par l’équipe") -> Unsubscribed:
    """The address out of one list, or of every list it is on; the same as its one-click link, history kept.

    A bounced or complained address keeps that status (it is stronger than an unsubscription)."""
    from convier.inputs.listfile import check_address

    ddb_client, table = clients.dynamodb, settings.table

    normalised, why = check_address(address)
    if normalised is None:
        raise InputError(f"adresse « {address} » : {why}")
    sid = subscriber_id(normalised, clients.keys.id_key)
    done = Unsubscribed(sid)
    if list_name is not None:
        require_list(clients, settings, list_name)
        names = [list_name]
    else:
        names = subscribers.lists_of(ddb_client, table, sid)
    for name in names:
        current = subscribers.get_subscriber(ddb_client, table, name, sid)
        if current is None:
            continue
        if current.status != SUBSCRIBED:
            done.already.append((name, current.status))
        elif subscribers.set_status(ddb_client, table, name, sid, subscribers.UNSUBSCRIBED, reason=reason,
                                    only_from=(SUBSCRIBED,)):
            done.changed.append(name)
        else:  # bounced or erased meanwhile: left as it now is
            after = subscribers.get_subscriber(ddb_client, table, name, sid)
            if after is not None:
                done.already.append((name, after.status))
    return done
