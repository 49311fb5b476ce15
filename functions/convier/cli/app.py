"""The `convier` command: translates arguments into calls of the core, and errors into French messages."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from convier.errors import InputError

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def cmd_render(args) -> int:
    from convier.inputs.campaignfile import read_campaign
    from convier.inputs.post import read_post
    from convier.render.invitation import build_invitation
    from convier.render.preview import write_preview

    post = read_post(args.post)
    settings = read_campaign(args.campaign)
    rendered = write_preview(build_invitation(post, settings), Path(args.out))
    for warning in rendered.warnings:
        err.print(f"[yellow]attention[/] : {warning}")
    console.print(f"Invitation rendue dans [bold]{args.out}[/] :")
    for name in ("invitation.html", "invitation.txt", "invitation.mjml", "invitation.eml"):
        console.print(f"  {Path(args.out) / name}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="convier", description="Invitations e-mail : rendu, listes, campagnes, réponses.")
    from convier.cli import lists as lists_cli

    lists_cli.add_global_options(p)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMANDE")
    r = sub.add_parser("render", help="rend un billet en e-mail (.mjml, .html, .txt, .eml) et signale les problèmes")
    r.add_argument("post", metavar="BILLET", help="billet Jekyll (markdown avec en-tête YAML)")
    r.add_argument("--campaign", metavar="FICHIER", help="fichier de campagne YAML (facultatif)")
    r.add_argument("--out", metavar="DOSSIER", default="out", help="dossier de sortie (défaut : out)")
    r.set_defaults(func=cmd_render)
    lists_cli.register(sub)
    from convier.cli import campaign as campaign_cli
    from convier.cli import web as web_cli

    campaign_cli.register(sub, console, err)
    from convier.cli import followup as followup_cli

    followup_cli.register(sub, console, err)
    web_cli.register(sub, console, err)
    from convier.cli import console as console_cli
    from convier.cli import demo

    console_cli.register(sub, console, err)
    demo.register(sub, console, err)
    from convier.cli import feedback as feedback_cli

    feedback_cli.register(sub, console, err)
    return p


def _log_to(args) -> None:
    """Workers log per-message detail (subscriber ids, SES codes): to a file in the state folder, not the terminal."""
    import logging

    from convier.cli.target import home_of

    home = home_of(args)
    logger = logging.getLogger("convier")
    logger.propagate = False
    if home.is_dir() and not logger.handlers:
        handler = logging.FileHandler(home / "convier.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    _log_to(args)
    try:
        return args.func(args)
    except InputError as exc:
        err.print(f"[red]erreur[/] : {exc}", soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("interrompu")
        return 130


if __name__ == "__main__":
    sys.exit(main())
