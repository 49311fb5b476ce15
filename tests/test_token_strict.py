"""Tokens are exact: only the canonical form the encoder writes opens a page; anything else is the French 404
(never 200, never 405); HEAD is answered wherever GET is."""

from __future__ import annotations

import copy

import pytest

from convier.domain.ids import make_token, read_token
from convier.handlers import web
from webkit import event, form, links_of, messages, sent_campaign

KEYS = (b"k" * 32,)


def variants(token: str) -> list[str]:
    campaign, sid_part, mac = token.split(".")
    return [token + "==", token + "=", token + "!", token + "~", token + " ", f"{campaign}.{sid_part}=.{mac}",
            f"{campaign}.{sid_part}.{mac}é", f"{campaign}é.{sid_part}.{mac}", f"{campaign}.{sid_part}.{mac}\u00a0",
            f"{campaign}.{sid_part}.+{mac[1:]}", token.replace("-", "+").replace("_", "/")]


def test_only_the_canonical_token_reads_back():
    token = make_token("20261202-abc123", "0123456789abcdef0123456789abcdef", KEYS)
    assert read_token(token, KEYS) == ("20261202-abc123", "0123456789abcdef0123456789abcdef")
    for bad in variants(token):
        if bad != token:
            assert read_token(bad, KEYS) is None, bad


@pytest.fixture
def sent(cli, settings, tmp_path):
    rows = [("camille.durand@exemple.gouv.fr", "Camille", "Durand")]
    campaign_id = sent_campaign(cli, tmp_path, rows)
    return campaign_id, messages(settings, campaign_id)


def head(ev: dict) -> dict:
    ev = copy.deepcopy(ev)
    ev["requestContext"]["http"]["method"] = "HEAD"
    return ev


def test_modified_links_are_404_and_head_works_where_get_does(settings, sent):
    _, mails = sent
    token = links_of(next(iter(mails.values())))["token"]
    for name in ("web-rsvp-get.json", "web-ics-get.json", "web-unsubscribe-get.json"):
        got = web.handle(event(name, token), None, *settings)
        assert got["statusCode"] == 200
        headed = web.handle(head(event(name, token)), None, *settings)
        assert headed["statusCode"] == 200 and headed["body"] == "", name
        assert headed["headers"]["Content-Type"] == got["headers"]["Content-Type"]
        for bad in variants(token):
            for ev in (event(name, bad), head(event(name, bad))):
                response = web.handle(ev, None, *settings)
                assert response["statusCode"] == 404, (name, bad, response["statusCode"])
    for bad in variants(token):
        response = web.handle(form({"answer": "yes"}, event("web-rsvp-post.json", bad)), None, *settings)
        assert response["statusCode"] == 404, bad
