"""Link tokens: URL-safe, HMAC over campaign and subscriber ids, key rotation, tampering, other campaigns."""

from __future__ import annotations

import json
import re

from convier.domain.ids import make_token, read_token, subscriber_id
from convier.settings import Keys

OLD, NEW = b"o" * 32, b"n" * 32
SID = subscriber_id("Camille.Durand@exemple.gouv.fr ", b"i" * 32)


def test_tokens_are_url_safe_compact_and_carry_no_address():
    token = make_token("20230124-abc123", SID, (OLD,))
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token) and len(token) < 64
    assert "camille" not in token.lower() and "exemple" not in token
    assert read_token(token, (OLD,)) == ("20230124-abc123", SID)
    assert SID == subscriber_id("camille.durand@exemple.gouv.fr", b"i" * 32)  # normalised address


def test_rotation_the_first_key_signs_and_every_key_is_accepted():
    old_token = make_token("c1", SID, (OLD,))
    rotated = (NEW, OLD)
    new_token = make_token("c1", SID, rotated)
    assert new_token != old_token
    assert read_token(old_token, rotated) == ("c1", SID)  # e-mails already sent keep working
    assert read_token(new_token, rotated) == ("c1", SID)
    assert read_token(new_token, (OLD,)) is None
    assert read_token(old_token, (NEW,)) is None  # once the old key is dropped, its links stop


def test_keys_from_json_put_the_new_key_first():
    keys = Keys.from_json(json.dumps({"id_key": "11" * 32, "link_keys": [NEW.hex(), OLD.hex()]}))
    assert keys.link_keys == (NEW, OLD)
    seeded = Keys.from_json(json.dumps({"seed": "abc", "link_keys": [NEW.hex()]}))
    assert seeded.link_keys[0] == NEW and len(seeded.link_keys) == 2  # seed-derived key still accepted


def test_any_changed_character_is_refused():
    """Every single-character change fails, except the unused low bits of the id's last base64 character,
    which decode to the same id: no other subscriber or campaign can be reached that way."""
    token = make_token("c1", SID, (OLD,))
    sid_last = token.index(".") + len(token.split(".")[1])
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i, ch in enumerate(token):
        for other in alphabet:
            if other == ch or ch == ".":
                continue
            found = read_token(token[:i] + other + token[i + 1:], (OLD,))
            assert found is None or (i == sid_last and found == ("c1", SID)), (i, other)


def test_tampering_truncating_and_garbage_are_refused():
    token = make_token("c1", SID, (OLD,))
    campaign, sid_part, mac = token.split(".")
    other_sid = subscriber_id("someone@exemple.gouv.fr", b"i" * 32)
    other = make_token("c1", other_sid, (OLD,))
    bad = [f"{campaign}.{other.split('.')[1]}.{mac}",  # another subscriber with my signature
           f"{campaign}.{sid_part}.{mac[:-2]}", f"{campaign}.{sid_part}", f"{campaign}.{sid_part}.{mac}.x",
           "", "..", "c1..", f".{sid_part}.{mac}", "é.é.é", f"{campaign}.{sid_part}!.{mac}",
           f"{'c' * 65}.{sid_part}.{mac}", f"{campaign}.{sid_part[:-3]}.{mac}"]
    for value in bad:
        assert read_token(value, (OLD,)) is None, value


def test_a_token_of_one_campaign_is_not_valid_for_another():
    token = make_token("campaign-a", SID, (OLD,))
    _, sid_part, mac = token.split(".")
    assert read_token(f"campaign-b.{sid_part}.{mac}", (OLD,)) is None
    assert read_token(make_token("campaign-b", SID, (OLD,)), (OLD,)) == ("campaign-b", SID)
