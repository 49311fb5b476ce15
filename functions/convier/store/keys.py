"""Every key of the one table, built and parsed here and nowhere else.

| PK                 | SK                | holds                                                          |
| ------------------ | ----------------- | -------------------------------------------------------------- |
| `LIST#{list}`      | `META`            | name, created/updated, last import, `counted` (counts are kept)|
| `LIST#{list}`      | `COUNTS#{n}`      | subscribers by status (shards), moved in each change's write   |
| `LIST#{list}`      | `SUB#{sid}`       | address, names, attributes, status (+ history), consent        |
| `LISTS`            | `LIST#{list}`     | index of lists (+ `INDEXED` once built): never a Scan          |
| `SUBSCRIBER#{sid}` | `LIST#{list}`     | membership index: erasure and suppression find every list      |
| `SUPPRESSED`       | `{sid}`           | reason (bounced, complained, forgotten opt-out), time          |
| `SCHEDULES`        | `{id}`            | a scheduled send: when (UTC), set by, until it fires           |
| `CAMPAIGNS`        | `{id}`            | index of campaigns: list, subject, created (lists and erasure) |
| `CAMPAIGN#{id}`    | `META`            | list, subject, sender, status, audience, event, answers (small)|
| `CAMPAIGN#{id}`    | `PARTS`           | the rendered parts (HTML, text, calendar), read once per worker|
| `CAMPAIGN#{id}`    | `SOURCE`          | what it was rendered from (post text, settings; a follow-up's  |
|                    |                   | message): an edit renders it again (services/updates.py)       |
| `CAMPAIGN#{id}`    | `COUNTERS`        | answers by segment: confirmed, waiting (the capacity condition |
|                    |                   | reads them on one item), maybe, no; `indexed` once ANSWER# is  |
|                    |                   | complete                                                       |
| `CAMPAIGN#{id}`    | `COUNTERS#{n}`    | sent, skipped, failed, unknown, delivered, bounced... (shards) |
| `CAMPAIGN#{id}`    | `SEND#{sid}`      | claimed / sent / failed / unknown / skipped, SES id, feedback  |
| `CAMPAIGN#{id}`    | `RSVP#{sid}`      | answer, time, place (confirmed / waiting), history             |
| `CAMPAIGN#{id}`    | `ANSWER#{segment}#| index of answers by segment (confirmed, waiting, maybe, no) in |
|                    | {order}#{sid}`    | order (time of the answer; the waiting list's first come):     |
|                    |                   | moved with its RSVP item, one page is one Query (an entry left |
|                    |                   | is marked `gone`, expiring: the web function never deletes)    |
| `AUDIT#{yyyy-mm}`  | `{time}#{random}` | staff action: who, what, campaign or list (never an address)   |
| `SIGNIN`           | `{sha256}`        | a one-time console sign-in (hash of its token), expiry         |
| `CREATES`          | `{request id}`    | the campaign a create request made (a retried request finds it)|
| `REQUESTS`         | `{request id}`    | the answer of an edit or cancel-event request (idem, retried)  |

A subscriber id (`sid`) is a keyed hash of the normalised address (domain.ids): keys never hold an address.
Standard library only: every runtime imports this.
"""

from __future__ import annotations

META = "META"
CAMPAIGNS = "CAMPAIGNS"
SUPPRESSED = "SUPPRESSED"
SCHEDULES = "SCHEDULES"  # SCHEDULES / {campaign id}: a campaign's scheduled send (at, UTC), until it fires
LIST = "LIST#"
SUB = "SUB#"
SUBSCRIBER = "SUBSCRIBER#"
CAMPAIGN = "CAMPAIGN#"
SEND = "SEND#"
RSVP = "RSVP#"
ANSWER = "ANSWER#"  # CAMPAIGN#{id} / ANSWER#{segment}#{order}#{sid}: the answers page's index
AUDIT = "AUDIT#"
SIGNIN = "SIGNIN"
CREATES = "CREATES"
REQUESTS = "REQUESTS"
PARTS = "PARTS"
SOURCE = "SOURCE"
COUNTERS = "COUNTERS"
COUNTER_SHARD = "COUNTERS#"
LISTS = "LISTS"  # LISTS / LIST#{list}: the index of lists (the Listes page and erasure query it)
LISTS_INDEXED = "INDEXED"  # LISTS / INDEXED: the index holds every list (written once it was built)
LIST_COUNTS = "COUNTS#"  # LIST#{list} / COUNTS#{n}: subscribers by status, one shard of them
EXPIRES = "expires_at"  # the TTL attribute (template.yaml's TimeToLiveSpecification), on SEND# and RSVP# items


def list_pk(list_name: str) -> str:
    return LIST + list_name


def sub_sk(sid: str) -> str:
    return SUB + sid


def list_index_key(list_name: str) -> tuple[str, str]:
    return LISTS, list_pk(list_name)


def list_counts_key(list_name: str, shard: int) -> tuple[str, str]:
    return list_pk(list_name), f"{LIST_COUNTS}{shard}"


def member_pk(sid: str) -> str:
    return SUBSCRIBER + sid


def campaign_pk(campaign_id: str) -> str:
    return CAMPAIGN + campaign_id


def send_sk(sid: str) -> str:
    return SEND + sid


def rsvp_sk(sid: str) -> str:
    return RSVP + sid


def answer_prefix(segment: str) -> str:
    return f"{ANSWER}{segment}#"


def answer_sk(segment: str, order: str, sid: str) -> str:
    """An answer's entry in its segment's index: sorted by `order` (a time), then the id."""
    return f"{answer_prefix(segment)}{order}#{sid}"


def subscriber_key(list_name: str, sid: str) -> tuple[str, str]:
    return list_pk(list_name), sub_sk(sid)


def suppression_key(sid: str) -> tuple[str, str]:
    return SUPPRESSED, sid


def campaign_key(campaign_id: str) -> tuple[str, str]:
    return campaign_pk(campaign_id), META


def parts_key(campaign_id: str) -> tuple[str, str]:
    return campaign_pk(campaign_id), PARTS


def source_key(campaign_id: str) -> tuple[str, str]:
    return campaign_pk(campaign_id), SOURCE


def counters_key(campaign_id: str, shard: int | None = None) -> tuple[str, str]:
    """The answers' counters item (no shard), or one shard of the send and feedback counters."""
    return campaign_pk(campaign_id), COUNTERS if shard is None else f"{COUNTER_SHARD}{shard}"


def send_key(campaign_id: str, sid: str) -> tuple[str, str]:
    return campaign_pk(campaign_id), send_sk(sid)


def after(prefix: str, key: str) -> str:
    """The name or id inside a key: after(SUB, 'SUB#ab12') == 'ab12'."""
    if not key.startswith(prefix):
        raise ValueError(f"clé {key!r} : {prefix!r} attendu")
    return key[len(prefix):]


def belongs_to(pk: str, sk: str, sid: str) -> bool:
    """True when the item at (pk, sk) is that subscriber's own: a list entry, the membership index, a send or
    answer record, a suppression. Erasure removes these and nothing else (a campaign whose sender is that
    address is not that person's record)."""
    if not sid:
        return False
    return (pk == member_pk(sid) or sk in (sub_sk(sid), send_sk(sid), rsvp_sk(sid))
            or (sk.startswith(ANSWER) and sk.endswith(f"#{sid}"))
            or (pk == SUPPRESSED and sk == sid))


def audit_pk(month: str) -> str:
    """month: yyyy-mm (one partition a month: the Journal is one Query, newest first)."""
    return AUDIT + month


def audit_key(stamp: str, nonce: str) -> tuple[str, str]:
    return audit_pk(stamp[:7]), f"{stamp}#{nonce}"


def signin_key(digest: str) -> tuple[str, str]:
    return SIGNIN, digest


def schedule_key(campaign_id: str) -> tuple[str, str]:
    return SCHEDULES, campaign_id


def create_request_key(request: str) -> tuple[str, str]:
    """A create request (the campaign function's `request_id`): the id of the campaign it made."""
    return CREATES, request


def request_key(request: str) -> tuple[str, str]:
    """An edit or cancel-event request of the campaign function (`request_id`): its answer, once done."""
    return REQUESTS, request
