"""Per-recipient cost of the send path: personalise + build one 45 KB invitation with its .ics.

Baseline, same run: the same message built the naive way with the standard
library's EmailMessage (set_content / add_alternative / add_attachment).
Prints figures; asserts nothing about time.

    .venv/bin/python bench/send_path.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from convier.domain.ids import make_token, subscriber_id
from convier.domain.mime import build_message, personalise, prepare
from convier.inputs.campaignfile import CampaignSettings
from convier.inputs.post import read_post
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("CONVIER_CORPUS") or ROOT.parent / "shared" / "corpus") / "posts"
# The longest real post (12 KB of body) when the shared corpus is there, else the seed that examples/ ships.
LONG = CORPUS / "forum-emploi-tech-etat-2021.markdown"
POST = LONG if LONG.exists() else ROOT / "examples" / "seed-journee-cloud-2023.md"
KEYS = (b"k" * 32,)


def naive(template, token: str, name: str, address: str) -> bytes:
    html, text, ics = personalise(template, token, "Camille")
    msg = EmailMessage()
    msg["From"] = template.sender
    msg["To"] = f"{name} <{address}>"
    msg["Subject"] = template.subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=template.domain)
    msg["List-Unsubscribe"] = f"<{template.public_url}/unsubscribe/{token}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg.add_attachment(ics.encode(), maintype="text", subtype="calendar", filename="invitation.ics")
    return msg.as_bytes()


def timed(fn, rounds: int) -> list[float]:
    out = []
    for i in range(rounds):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1e6)
    return out


def describe(name: str, samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=4)
    return f"{name}: median {statistics.median(samples):.1f} µs, IQR {q[0]:.1f}–{q[2]:.1f} µs, n={len(samples)}"


def main() -> None:
    settings = CampaignSettings(public_url="https://invitations.numerique.gouv.fr")
    rendered = render_invitation(build_invitation(read_post(POST), settings), campaign_id="20260101-abcdef")
    template = rendered.message
    prepared = prepare(template)
    print(f"post: {POST.name}")
    print(f"message: HTML {len(rendered.html) / 1024:.1f} KB, text {len(rendered.text) / 1024:.1f} KB, "
          f".ics {len(rendered.ics)} B")
    sids = [subscriber_id(f"agent{i}@exemple.gouv.fr", b"i" * 32) for i in range(20000)]

    def ours(i):
        sid = sids[i % len(sids)]
        build_message(template, prepared, to_address=f"agent{i}@exemple.gouv.fr", to_name="Héloïse Roux",
                      first_name="Héloïse", token=make_token(template.campaign_id, sid, KEYS), subscriber_id=sid)

    def baseline(i):
        sid = sids[i % len(sids)]
        naive(template, make_token(template.campaign_id, sid, KEYS), "Héloïse Roux", f"agent{i}@exemple.gouv.fr")

    ours(0), baseline(0)
    mine = timed(ours, 3000)
    theirs = timed(baseline, 300)
    print(describe("convier build_message", mine))
    print(describe("stdlib EmailMessage", theirs))
    ratio = statistics.median(theirs) / statistics.median(mine)
    print(f"per_recipient_us={statistics.median(mine):.0f} naive_ratio={ratio:.1f}")


if __name__ == "__main__":
    sys.exit(main())
