"""`convier followup ...`: create a follow-up of an invitation (then `campaign check/test/send` as usual)."""

from __future__ import annotations

from convier.services import followups


def cmd_create(args, console, err) -> int:
    from convier.cli.campaign import invoke_once
    from convier.cli.target import resolve

    settings, clients = resolve(args)
    if settings.campaign_function:  # a stack: rendered by the campaign function from the message file's text
        payload = {"action": "followup-create", "campaign": args.parent, "to": args.to, "subject": args.subject,
                   "kind": args.kind}
        if args.message:
            payload["message"] = {"name": args.message, "text": followups.read_message_text(args.message)}
        return print_summary(invoke_once(clients, settings, payload, what=args.message or ""), console, err)
    campaign = followups.create_followup(clients, settings, args.parent, to=args.to, message_file=args.message,
                                         subject=args.subject, kind=args.kind)
    from convier.cli import journal
    from convier.services.audit import followup_detail

    journal.note(campaign=campaign.id, list_name=campaign.list_name,
                 detail=followup_detail(args.parent, args.kind, campaign.segments))
    return print_created(campaign, clients, settings, console, err)


def print_created(campaign, clients, settings, console, err) -> int:
    """A follow-up made here: its summary (campaigns.summary), printed as print_summary does."""
    from convier.services import campaigns

    made = campaigns.summary(campaign, followups.audience_size(clients, settings, campaign))
    return print_summary(made, console, err)


def print_summary(made: dict, console, err) -> int:
    """A follow-up made, here or by the campaign function: who it goes to, its subject, the next steps, its id
    alone on the last line."""
    from convier.cli.campaign import print_next_steps
    from convier.domain.segments import segments_fr

    console.print(f"Suivi créé pour l’invitation {made['parent']} : {segments_fr(tuple(made['segments']))} "
                  f"({made['size']} destinataires à ce jour, désinscrits et adresses supprimées exclus à l’envoi)")
    console.print(f"  Objet : {made['subject']}")
    return print_next_steps(made, console, err)


def cmd_text(args, console, err) -> int:
    import sys

    sys.stdout.write(followups.preset_text(args.kind))
    return 0


def register(sub, console, err) -> None:
    def bind(fn):
        return lambda args: fn(args, console, err)

    p = sub.add_parser("followup", help="suivis d’une invitation : rappel, relance, merci, liste d’attente…")
    fs = p.add_subparsers(dest="followup_command", required=True, metavar="ACTION")
    c = fs.add_parser("create", help="prépare un suivi pour une partie des invités, selon leur réponse "
                                     "(affiche son identifiant)")
    c.add_argument("parent", metavar="INVITATION", help="identifiant de la campagne d’invitation")
    c.add_argument("--to", metavar="SEGMENTS",
                   help="confirmés, liste d'attente, peut-être, non, sans réponse, tous ; séparés par des virgules")
    c.add_argument("--message", metavar="FICHIER", help="le message, en markdown (voir convier followup text)")
    c.add_argument("--subject", metavar="OBJET", help="objet de l’e-mail")
    c.add_argument("--kind", choices=followups.PRESETS, metavar="MODÈLE",
                   help="suivi prêt à l’emploi : " + ", ".join(followups.PRESETS) + " (texte modifiable)")
    c.set_defaults(func=bind(cmd_create), audit="followup")
    t = fs.add_parser("text", help="affiche le texte d’un suivi prêt à l’emploi, à modifier puis donner à --message")
    t.add_argument("kind", choices=followups.PRESETS, metavar="MODÈLE", help=", ".join(followups.PRESETS))
    t.set_defaults(func=bind(cmd_text))
