"""The `convier` command: translates arguments into calls of the core, and errors into French messages."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from convier.errors import InputError

console = Console(highlight=False, soft_wrap=True)  # the terminal wraps lines, rich never cuts a phrase
err = Console(stderr=True, highlight=False, soft_wrap=True)


def cmd_render(args) -> int:
    from convier.inputs.campaignfile import read_campaign
    from convier.inputs.post import read_post
    from convier.render.invitation import build_invitation
    from convier.render.preview import FILES, PREVIEW, SAMPLE_RECIPIENT, write_preview

    post = read_post(args.post)
    settings = read_campaign(args.campaign)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}, ligne 1 : --out doit être un dossier, c’est un fichier")
    rendered = write_preview(build_invitation(post, settings), out)
    for warning in rendered.warnings:
        err.print("[yellow]attention[/] : ", end="")
        err.print(f"{post.source}, {warning}" if warning.line else str(warning), markup=False)
    console.print(f"Invitation rendue dans [bold]{args.out}[/] :")
    for name in FILES:
        console.print(f"  {out / name}")
    console.print(f"Aperçu pour « {SAMPLE_RECIPIENT[0]} » (salutation et liens d’exemple), à ouvrir :")
    console.print((out / PREVIEW).resolve().as_uri(), markup=False)
    return 0


def parser() -> argparse.ArgumentParser:
    from convier.cli.argparse_fr import Parser

    p = Parser(prog="convier", description="Invitations e-mail : rendu, listes, campagnes, réponses.")
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
        from convier.cli import journal

        return journal.dispatch(args)  # runs args.func and records its action in the audit log
    except InputError as exc:
        err.print("[red]erreur[/] : ", end="", soft_wrap=True)
        err.print(str(exc), soft_wrap=True, markup=False)
        return 2
    except OSError as exc:  # a file or folder the command writes or reads, outside the input readers
        from convier.errors import os_reason

        where = f"{exc.filename}, ligne 1 : " if exc.filename else ""
        err.print("[red]erreur[/] : ", end="", soft_wrap=True)
        err.print(f"{where}{os_reason(exc)}", soft_wrap=True, markup=False)
        return 2
    except KeyboardInterrupt:
        err.print("interrompu")
        return 130
    except Exception as exc:  # never a traceback for staff: the details go to the log
        import logging
        import os

        if os.environ.get("CONVIER_DEBUG"):
            raise

        logging.getLogger("convier").exception("erreur inattendue")
        err.print("[red]erreur inattendue[/] : ", end="", soft_wrap=True)
        err.print(f"{type(exc).__name__} ; détails dans le journal convier.log du dossier d’état "
                  "(signalez-la à l’équipe convier)", soft_wrap=True, markup=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
