"""Non-ASCII in what a campaign is made of (list name, reply-to name, sender domain): encoded per RFC 2047 and
IDNA and parsed back identical, or refused at create in French; never a send that burns claims in silence."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from convier.domain.mime import build_message, prepare
from convier.inputs.campaignfile import CampaignSettings
from convier.inputs.post import read_post
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation
from convier.services import campaigns

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-journee-cloud-2023.md"
SENDER = "Équipe Cloud DINUM <cloud@numérique.gouv.fr>"
REPLY_TO = "« Équipe Cloud DINUM » – réponses <reponses@numérique.gouv.fr>"
PEOPLE = [("heloise.roux@santé.gouv.fr", "Héloïse", "Roux"), ("zoe@exemple.gouv.fr", "Zoé", "Lefèvre")]


def parsed(raw: bytes):
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    return message_from_bytes(raw, policy=policy.default)


def unidna(domain: str) -> str:
    return domain.encode("ascii").decode("idna")


def check_headers(msg, to=("heloise.roux@santé.gouv.fr", "Héloïse Roux")):
    sender = msg["From"].addresses[0]
    assert sender.display_name == "Équipe Cloud DINUM"
    assert sender.username == "cloud" and unidna(sender.domain) == "numérique.gouv.fr"
    reply = msg["Reply-To"].addresses[0]
    assert reply.display_name == "« Équipe Cloud DINUM » – réponses" and unidna(reply.domain) == "numérique.gouv.fr"
    recipient = msg["To"].addresses[0]
    assert recipient.display_name == to[1] and f"{recipient.username}@{unidna(recipient.domain)}" == to[0]
    assert str(msg["List-Id"]) == "invités <invites.xn--numrique-d1a.gouv.fr>"
    assert str(msg["Feedback-ID"]).split(":")[1:] == ["invites", "convier", "xn--numrique-d1a.gouv.fr"]


def test_accented_list_reply_to_and_idn_sender_parse_back_identical():
    settings = CampaignSettings(public_url="https://invitations.numerique.gouv.fr", sender=SENDER, reply_to=REPLY_TO)
    template = render_invitation(build_invitation(read_post(SEED), settings), campaign_id="20230101-abcdef",
                                 list_id="invités").message
    raw = build_message(template, prepare(template), to_address=PEOPLE[0][0], to_name="Héloïse Roux",
                        first_name="Héloïse", token="t.t.t", subscriber_id="s")
    check_headers(parsed(raw))


def campaign_file(tmp_path: Path, sender=SENDER, reply_to=REPLY_TO) -> Path:
    path = tmp_path / "campagne.yaml"
    path.write_text(f'sender: "{sender}"\nreply_to: "{reply_to}"\nallow: [past_event]  # the 2023 seed\n',
                    encoding="utf-8")
    return path


def test_a_campaign_with_accents_everywhere_goes_out_correctly_encoded(cli, settings, tmp_path):
    s, c = settings
    people = tmp_path / "gens.csv"
    people.write_text("email,prénom,nom\n" + "".join(f"{a},{f},{n}\n" for a, f, n in PEOPLE), encoding="utf-8")
    assert cli("lists", "import", "invités", people).code == 0
    created = cli("campaign", "create", "--post", SEED, "--list", "invités", "--campaign", campaign_file(tmp_path))
    assert created.code == 0, created.err
    campaign_id = created.out.strip().splitlines()[-1]
    test = cli("campaign", "test", campaign_id, "--to", "moi@numérique.gouv.fr")
    assert test.code == 0 and "Traceback" not in test.err, test.err
    sent = cli("campaign", "send", campaign_id, "--yes", "2")
    assert sent.code == 0, sent.err
    st = campaigns.status(c, s, campaign_id)
    assert (st.sent, st.failed, st.unknown, st.queued) == (2, 0, 0, 0)
    messages = sorted((s.outbox / campaign_id).glob("*.eml"))
    assert len(messages) == 2
    by_to = {}
    for path in messages:
        msg = parsed(path.read_bytes())
        by_to[msg["To"].addresses[0].display_name] = msg
    check_headers(by_to["Héloïse Roux"])
    check_headers(by_to["Zoé Lefèvre"], to=("zoe@exemple.gouv.fr", "Zoé Lefèvre"))
    rendered = cli("render", SEED, "--campaign", campaign_file(tmp_path), "--out", tmp_path / "apercu")
    assert rendered.code == 0 and "Traceback" not in rendered.err, rendered.err


def test_an_address_that_cannot_be_encoded_is_refused_at_create_in_french(cli, tmp_path):
    people = tmp_path / "gens.csv"
    people.write_text("email\nzoe@exemple.gouv.fr\n", encoding="utf-8")
    assert cli("lists", "import", "invités", people).code == 0
    for spec in (campaign_file(tmp_path, sender="Équipe <équipe@numerique.gouv.fr>"),
                 campaign_file(tmp_path, reply_to="Réponses <réponses@numerique.gouv.fr>")):
        created = cli("campaign", "create", "--post", SEED, "--list", "invités", "--campaign", spec)
        assert created.code == 2 and "accent" in created.err and "Traceback" not in created.err, created.err
        rendered = cli("render", SEED, "--campaign", spec, "--out", tmp_path / "apercu")
        assert rendered.code == 2 and "accent" in rendered.err
    assert "Aucune" in cli("campaign", "list").out or cli("campaign", "list").out.count("invités") == 0
