"""`convier render`: the four files staff look at before sending anything."""

from __future__ import annotations

from pathlib import Path

from convier.domain.mime import build_message, personalise, prepare
from convier.render.invitation import Invitation
from convier.render.message import RenderedInvitation, render_invitation

SAMPLE_TOKEN = "jeton-exemple"
SAMPLE_RECIPIENT = ("Camille Exemple", "Camille", "camille.exemple@exemple.gouv.fr")


def sample_message(rendered: RenderedInvitation) -> bytes:
    """The message exactly as the send path builds it, for a sample recipient and token."""
    from convier.errors import InputError

    name, first, address = SAMPLE_RECIPIENT
    try:
        return build_message(rendered.message, prepare(rendered.message), to_address=address, to_name=name,
                             first_name=first, token=SAMPLE_TOKEN, subscriber_id="exemple")
    except (ValueError, UnicodeError) as exc:
        raise InputError(f"le message ne peut pas être construit ({exc}) : corrigez l’expéditeur ou "
                         "l’adresse de réponse") from None


PREVIEW = "invitation.html"  # what to open: the e-mail as the sample recipient gets it
TEMPLATE = "invitation-modele.html"  # the stored template, markers and all
FILES = (PREVIEW, "invitation.txt", "invitation.eml", TEMPLATE, "invitation.mjml")


def write_preview(invitation: Invitation, out: Path) -> RenderedInvitation:
    """The files of `convier render`: the e-mail personalised for a sample recipient (greeting and links
    filled, exactly as the send path fills them), its text and .eml, and the raw template and MJML."""
    rendered = render_invitation(invitation)
    html, text, _ = personalise(rendered.message, SAMPLE_TOKEN, SAMPLE_RECIPIENT[1])
    out.mkdir(parents=True, exist_ok=True)
    (out / "invitation.mjml").write_text(rendered.mjml, encoding="utf-8")
    (out / TEMPLATE).write_text(rendered.html, encoding="utf-8")
    (out / PREVIEW).write_text(html, encoding="utf-8")
    (out / "invitation.txt").write_text(text, encoding="utf-8")
    (out / "invitation.eml").write_bytes(sample_message(rendered))
    return rendered
