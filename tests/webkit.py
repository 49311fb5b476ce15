"""Helpers for the answer and unsubscribe tests: a list, a campaign sent to it, the links of its e-mails."""

from __future__ import annotations

import base64
import email
import email.policy
import json
from pathlib import Path
from urllib.parse import urlsplit

from samples import SEED

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
# The seed's event is in 2023: a campaign file that allows its past date, explicitly (see domain.checks).
SEED_CAMPAIGN = ROOT / "tests" / "fixtures" / "campagne-seed-2023.yaml"
SEED_AGAIN = ROOT / "tests" / "fixtures" / "campagne-seed-2023-rappel.yaml"


def send(cli, campaign_id: str):
    """`campaign send ID --yes N` with N read from the dry run (these tests are not about the count)."""
    import re

    dry = cli("campaign", "send", campaign_id, "--dry-run")
    assert dry.code == 0, (dry.out, dry.err)
    count = re.search(r"destinataires : (\d+)", dry.out).group(1)
    return cli("campaign", "send", campaign_id, "--yes", count)


def write_list(tmp_path: Path, rows: list[tuple[str, str, str]], name: str = "liste.csv", extra: str = "") -> Path:
    """A small CSV: (email, prénom, nom) rows, plus an optional attribute column `service`."""
    path = tmp_path / name
    head = "email,prénom,nom" + (",service" if extra else "")
    lines = [head] + [",".join(f'"{c}"' for c in (*row, *( [extra] if extra else []))) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def people(n: int) -> list[tuple[str, str, str]]:
    return [(f"agent{i:02d}@exemple.gouv.fr", f"Agent{i:02d}", "Martin") for i in range(n)]


def sent_campaign(cli, tmp_path: Path, rows, *, list_name: str = "invites", campaign_yaml: str = "",
                  csv_name: str = "liste.csv") -> str:
    """Imports the rows, creates a campaign from the seed post and sends it; returns the campaign id."""
    result = cli("lists", "import", list_name, write_list(tmp_path, rows, csv_name))
    assert result.code == 0, result.err
    args = ["campaign", "create", "--post", SEED, "--list", list_name]
    (tmp_path / "campagne.yaml").write_text(SEED_CAMPAIGN.read_text(encoding="utf-8") + campaign_yaml,
                                            encoding="utf-8")
    args += ["--campaign", tmp_path / "campagne.yaml"]
    result = cli(*args)
    assert result.code == 0, result.err
    campaign_id = result.out.strip().splitlines()[-1]
    result = send(cli, campaign_id)
    assert result.code == 0, result.err
    return campaign_id


def messages(settings, campaign_id: str) -> dict[str, email.message.EmailMessage]:
    """sid → parsed e-mail, from the outbox."""
    folder = Path(settings.settings.outbox) / campaign_id
    return {p.stem: email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(folder.glob("*.eml"))}


def links_of(message) -> dict[str, str]:
    """The recipient's links, read from the message itself (paths only: the server may run elsewhere)."""
    unsubscribe = message["List-Unsubscribe"]
    https = next(part.strip(" <>") for part in unsubscribe.split(",") if "/unsubscribe/" in part)
    token = urlsplit(https).path.rsplit("/", 1)[1]
    text = message.get_body(("plain",)).get_content()
    assert f"/rsvp/{token}" in text
    return {"token": token, "unsubscribe": urlsplit(https).path, "rsvp": f"/rsvp/{token}",
            "ics": f"/rsvp/{token}/event.ics"}


def event(name: str, token: str, **changes) -> dict:
    """A sample API Gateway v2 request from events/, with the token filled in."""
    text = (EVENTS / name).read_text().replace("TOKEN", token)
    data = json.loads(text)
    data.update(changes)
    return data


def form(data: dict | str, event_: dict) -> dict:
    """The event with a form body (base64, as API Gateway passes it)."""
    from urllib.parse import urlencode

    body = data if isinstance(data, str) else urlencode(data)
    return {**event_, "body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True}
