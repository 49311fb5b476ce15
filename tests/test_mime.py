"""The hand-built message parses back to exactly what was personalised, with every header of the contract."""

from email import message_from_bytes, policy

import pytest

from convier.domain.ids import make_token, read_token, subscriber_id
from convier.domain.mime import build_message, fold_ics, personalise, prepare
from convier.inputs.campaignfile import CampaignSettings
from convier.inputs.post import read_post
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation
from samples import SEED

KEYS = (b"k" * 32,)


@pytest.fixture(scope="module")
def template():
    post = read_post(SEED)
    settings = CampaignSettings(public_url="https://invitations.numerique.gouv.fr",
                                sender="Équipe Cloud DINUM <cloud@numerique.gouv.fr>")
    return render_invitation(build_invitation(post, settings), campaign_id="20230101-abcdef").message


def parts(msg):
    found = {}
    for part in msg.walk():
        if not part.is_multipart():
            found[part.get_content_type()] = part.get_content()
    return found


@pytest.mark.parametrize("first_name", ["Héloïse", "", "<b>Zoé</b> & Cie", "Jean\r\nBcc: pirate@exemple.fr"])
def test_message_parses_back_identical(template, first_name):
    sid = subscriber_id("heloise.roux@sante.gouv.fr", b"i" * 32)
    token = make_token(template.campaign_id, sid, KEYS)
    raw = build_message(template, prepare(template), to_address="heloise.roux@sante.gouv.fr",
                        to_name=f"{first_name} Roux", first_name=first_name, token=token, subscriber_id=sid)
    msg = message_from_bytes(raw, policy=policy.default)
    html, text, ics = personalise(template, token, first_name)
    got = {kind: body.replace("\r\n", "\n") for kind, body in parts(msg).items()}  # MIME text is CRLF on the wire
    assert got["text/html"] == html.replace("\r\n", "\n")
    assert got["text/plain"] == text.replace("\r\n", "\n")
    assert got["text/calendar"].replace("\n ", "") == ics.replace("\r\n", "\n").replace("\n ", "")
    assert msg.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["multipart/alternative", "text/calendar"]
    assert msg["Bcc"] is None and "pirate" not in str(msg["To"]).split("<")[1]
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_headers_of_the_contract(template):
    sid = subscriber_id("a@b.fr", b"i" * 32)
    token = make_token(template.campaign_id, sid, KEYS)
    raw = build_message(template, prepare(template), to_address="a@b.fr", to_name="François Rivière",
                        first_name="François", token=token, subscriber_id=sid)
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["From"].addresses[0].display_name == "Équipe Cloud DINUM"
    assert b"From: =?utf-8?" in raw  # RFC 2047 encoded display name
    assert msg["To"].addresses[0].display_name == "François Rivière"
    assert msg["Subject"] == template.subject
    assert msg["Message-ID"].startswith("<20230101-abcdef.")
    assert msg["Date"]
    unsubscribe = msg["List-Unsubscribe"]
    assert f"<https://invitations.numerique.gouv.fr/unsubscribe/{token}>" in unsubscribe
    assert "mailto:" not in unsubscribe  # no monitored mailbox in this template (see below)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Feedback-ID"].startswith("20230101-abcdef:")
    assert "a@b.fr" not in unsubscribe and "a%40b.fr" not in raw.decode()
    assert read_token(token, KEYS) == ("20230101-abcdef", sid)


def test_test_copies_are_marked(template):
    raw = build_message(template, prepare(template), to_address="a@b.fr", token="t.t.t", test=True)
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"].startswith("[TEST] ")
    assert msg["X-Convier-Test"] == "oui"


def test_fold_ics_keeps_utf8_whole():
    line = "DESCRIPTION:" + "é" * 80
    folded = fold_ics(line)
    assert all(len(chunk.encode()) <= 75 for chunk in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def _qp_lines(raw: bytes) -> list[str]:
    """Every line of the quoted-printable parts, as sent."""
    lines, in_qp, in_body = [], False, False
    for line in raw.decode("ascii").split("\r\n"):
        if line.startswith("--=_"):
            in_qp = in_body = False
        elif line.lower() == "content-transfer-encoding: quoted-printable":
            in_qp = True
        elif in_qp and not in_body and line == "":
            in_body = True
        elif in_qp and in_body:
            lines.append(line)
    return lines


@pytest.mark.parametrize("first_name", ["Héloïse", "",
                                        "Marie-Éléonore-Anne-Charlotte-Joséphine-Geneviève-Béatrice de la Tour",
                                        "é" * 120])
def test_every_encoded_line_fits_76_characters_after_personalisation(template, first_name):
    for campaign_id in ("20230101-abcdef", "c" * 64):  # the longest campaign id a token may carry
        sid = subscriber_id("heloise.roux@sante.gouv.fr", b"i" * 32)
        token = make_token(campaign_id, sid, KEYS)
        raw = build_message(template, prepare(template), to_address="heloise.roux@sante.gouv.fr",
                            first_name=first_name, token=token, subscriber_id=sid)
        lines = _qp_lines(raw)
        assert len(lines) > 100
        too_long = [line for line in lines if len(line) > 76]
        assert not too_long, (len(too_long), max(map(len, too_long)))
        msg = message_from_bytes(raw, policy=policy.default)
        html, text, _ = personalise(template, token, first_name)
        got = {kind: body.replace("\r\n", "\n") for kind, body in parts(msg).items()}
        assert got["text/html"] == html.replace("\r\n", "\n") and got["text/plain"] == text.replace("\r\n", "\n")


def test_list_unsubscribe_carries_mailto_only_to_a_monitored_mailbox(template):
    import dataclasses

    sid = subscriber_id("a@b.fr", b"i" * 32)
    token = make_token(template.campaign_id, sid, KEYS)
    plain = message_from_bytes(build_message(template, prepare(template), to_address="a@b.fr", token=token),
                               policy=policy.default)
    assert plain["List-Unsubscribe"] == f"<https://invitations.numerique.gouv.fr/unsubscribe/{token}>"
    monitored = dataclasses.replace(template, unsubscribe_mailbox="desinscription@numerique.gouv.fr")
    msg = message_from_bytes(build_message(monitored, prepare(monitored), to_address="a@b.fr", token=token),
                             policy=policy.default)
    assert msg["List-Unsubscribe"] == (f"<https://invitations.numerique.gouv.fr/unsubscribe/{token}>, "
                                       f"<mailto:desinscription@numerique.gouv.fr?subject=unsubscribe%20{token}>")
    assert "cloud@numerique.gouv.fr" not in msg["List-Unsubscribe"]
