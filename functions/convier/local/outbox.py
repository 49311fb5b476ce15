"""The embedded default's outbox: an index page over the messages the local SES "sent"."""

from __future__ import annotations

import html
from email import message_from_binary_file, policy
from email.utils import parsedate_to_datetime
from pathlib import Path

from convier.domain.dates import short_moment


def _paris(date_header) -> str:
    try:
        return short_moment(parsedate_to_datetime(str(date_header))) if date_header else ""
    except (TypeError, ValueError):
        return str(date_header)


def write_message(folder: Path, sid: str, raw: bytes, html_text: str) -> None:
    """A copy of one sent message and its HTML, named by subscriber id (erasure finds them)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{sid}.eml").write_bytes(raw)
    (folder / f"{sid}.html").write_text(html_text, encoding="utf-8")


def sent_hook(outbox: Path):
    """The `on_sent` hook (services.sending.OnSent) that copies each message SES accepted into `outbox`."""
    from convier.domain.mime import personalise

    def on_sent(campaign, sid: str, raw: bytes, token: str, first_name: str, test: bool = False,
                answer: str = "") -> None:
        folder = Path(outbox) / campaign.id / ("tests" if test else "")
        write_message(folder, sid, raw, personalise(campaign.template, token, first_name, answer)[0])

    return on_sent


def write_index(folder: Path, title: str = "") -> Path:
    """`index.html` listing each message of a campaign folder: recipient, subject, preview and source."""
    rows = []
    for eml in sorted(folder.glob("*.eml")):
        with eml.open("rb") as fh:
            msg = message_from_binary_file(fh, policy=policy.default)
        preview = eml.with_suffix(".html")
        rows.append(
            "<tr><td>{to}</td><td>{subject}</td><td>{date}</td><td><a href=\"{html}\">aperçu</a> · "
            "<a href=\"{eml}\">.eml</a></td></tr>".format(
                to=html.escape(str(msg["To"] or "")), subject=html.escape(str(msg["Subject"] or "")),
                date=html.escape(_paris(msg["Date"])), html=html.escape(preview.name), eml=html.escape(eml.name)))
    page = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Boîte d’envoi — {html.escape(title or folder.name)}</title>
<style>body{{font-family:Arial,Helvetica,sans-serif;margin:2rem;color:#161616}}
table{{border-collapse:collapse;width:100%}}th,td{{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left}}
th{{background:#f6f6f6}}a{{color:#000091}}</style></head>
<body><h1>Boîte d’envoi locale</h1>
<p>Campagne <strong>{html.escape(title or folder.name)}</strong> : {len(rows)} message(s) envoyé(s)
par le SES local (moto). Rien n’est parti sur Internet.</p>
<table><thead><tr><th scope="col">Destinataire</th><th scope="col">Objet</th><th scope="col">Date (heure de Paris)</th>
<th scope="col">Message</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def forget(outbox: Path, sid: str) -> list[Path]:
    """Erasure: every copy of a subscriber's messages (campaign sends and `campaign test` copies in
    `<id>/tests/`), named by the subscriber id; the indexes that listed them are rewritten without them."""
    removed = []
    for path in sorted(outbox.glob(f"**/{sid}.*")):
        if path.is_file() and path.name in (f"{sid}.eml", f"{sid}.html"):
            path.unlink()
            removed.append(path)
    for folder in {p.parent for p in removed}:
        if (folder / "index.html").exists() or folder.name != "tests":
            write_index(folder)
    return removed
