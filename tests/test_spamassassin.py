"""A sent invitation through SpamAssassin (Debian's package, its local rules, no network test): no rule scores
above 0 except the informational ones (no Received header: the message never went through SMTP here)."""

from __future__ import annotations

import re
import shutil
import subprocess

from webkit import sent_campaign

INFORMATIONAL = {"NO_RECEIVED", "NO_RELAYS"}  # scored -0.0: the outbox copy was never relayed


def spamassassin(raw: bytes) -> dict[str, float]:
    binary = shutil.which("spamassassin")
    assert binary, "spamassassin manquant : make chromium l’installe (apt-get install spamassassin)"
    result = subprocess.run([binary, "-L", "-t"], input=raw, capture_output=True, timeout=300)
    report = result.stdout.decode("utf-8", "replace")
    details = report.split("Content analysis details:", 1)
    assert len(details) == 2, report[-2000:] + result.stderr.decode("utf-8", "replace")
    return {name: float(score) for score, name in re.findall(r"^\s*(-?\d+\.\d)\s+([A-Z0-9_]+)\s", details[1], re.M)}


def test_a_sent_invitation_triggers_no_scoring_rule(cli, settings, tmp_path):
    campaign_yaml = ("sender: \"Équipe Cloud DINUM <cloud@numerique.gouv.fr>\"\n"
                     "event:\n  start: 2026-12-02 09:00:00 +01:00\n  end: 2026-12-02 17:30:00 +01:00\n"
                     "  place: Station F\n")
    campaign_id = sent_campaign(cli, tmp_path, [("heloise.roux@sante.gouv.fr", "Héloïse", "Roux")],
                                campaign_yaml=campaign_yaml)
    (eml,) = (settings.settings.outbox / campaign_id).glob("*.eml")
    rules = spamassassin(eml.read_bytes())
    assert "HTML_MESSAGE" in rules, rules  # the report was read
    scoring = {name: score for name, score in rules.items() if score > 0}
    assert not scoring, scoring
    assert set(r for r, s in rules.items() if s < 0) <= INFORMATIONAL, rules
