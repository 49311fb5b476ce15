"""Subscriber ids and link tokens: keyed hashes, so that no link ever carries an address.

Standard library only: the send and web paths import this at cold start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_SID_BYTES = 16  # 128 bits: collisions are out of reach for any mailing list
_MAC_BYTES = 12  # 96-bit truncated HMAC-SHA256 tag, well beyond online guessing


def normalise_address(address: str) -> str:
    """Trimmed and lower-cased: staff lists differ only by case, and providers ignore it."""
    return address.strip().lower()


def subscriber_id(address: str, id_key: bytes) -> str:
    digest = hmac.new(id_key, normalise_address(address).encode(), hashlib.sha256).digest()
    return digest[:_SID_BYTES].hex()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _unb64(text: str) -> bytes:
    """Exact decoding of the canonical form only: URL-safe alphabet, no padding, nothing the encoder would not
    write (b64decode would skip extra characters and accept `==`, so a modified link would still open)."""
    if not text or not set(text) <= _B64URL:
        raise ValueError("jeton : caractères hors de l'alphabet")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(raw) != text:
        raise ValueError("jeton : forme non canonique")
    return raw


def _mac(key: bytes, campaign_id: str, sid: str) -> bytes:
    return hmac.new(key, f"convier-link\x00{campaign_id}\x00{sid}".encode(), hashlib.sha256).digest()[:_MAC_BYTES]


def make_token(campaign_id: str, sid: str, link_keys: tuple[bytes, ...]) -> str:
    """`<campaign>.<sid>.<mac>`, URL-safe; signed with the first key."""
    return f"{campaign_id}.{_b64(bytes.fromhex(sid))}.{_b64(_mac(link_keys[0], campaign_id, sid))}"


def read_token(token: str, link_keys: tuple[bytes, ...]) -> tuple[str, str] | None:
    """(campaign id, subscriber id) when any accepted key signed the token, else None. Constant time per key."""
    try:
        campaign_id, sid_part, mac_part = token.split(".")
        sid = _unb64(sid_part).hex()
        mac = _unb64(mac_part)
    except (ValueError, TypeError, UnicodeError):
        return None
    if (len(sid) != 2 * _SID_BYTES or len(mac) != _MAC_BYTES or not campaign_id or len(campaign_id) > 64
            or not campaign_id.isascii() or not set(campaign_id) <= _B64URL):
        return None
    ok = False
    for key in link_keys:
        ok |= hmac.compare_digest(_mac(key, campaign_id, sid), mac)
    return (campaign_id, sid) if ok else None
