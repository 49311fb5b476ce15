"""`convier campaign edit` and `convier campaign cancel-event`: an invitation's event changed or called off
(services/updates.py does the work; this module reads the arguments and prints)."""

from __future__ import annotations

from rich.markup import escape

from convier.cli import journal
from convier.services import audit, updates


def _resolve(args):
    from convier.cli.target import resolve

    return resolve(args)


def cmd_edit(args, console, err) -> int:
    from pathlib import Path

    from convier.cli.target import sender_preparer
    from convier.inputs.campaignfile import read_campaign, read_campaign_text
    from convier.inputs.post import decode_post

    settings, clients = _resolve(args)
    post_text = post_name = None
    if args.post:
        try:
            post_text = decode_post(Path(args.post).read_bytes(), args.post)
        except OSError as exc:
            from convier.errors import InputError

            raise InputError(f"{args.post} : lecture impossible ({exc.strerror})") from None
        post_name = args.post
    if settings.campaign_function:  # a stack: rendered again by the campaign function from the files' text
        from convier.cli.campaign import invoke_once

        payload = {"action": "edit", "campaign": args.id, "notice": bool(args.notice), "to": args.to,
                   "settings": {"name": str(Path(args.campaign)), "text": read_campaign_text(args.campaign)}}
        if post_text is not None:
            payload["post"] = {"name": post_name, "text": post_text}
        edited = invoke_once(clients, settings, payload, what=args.post or args.campaign)
    else:
        edited = updates.edit_summary(clients, settings, args.id, read_campaign(args.campaign), notice=args.notice,
                                      to=args.to, post_text=post_text, post_name=post_name,
                                      prepare_sender=sender_preparer(settings))
    journal.note(list_name=edited["list"], detail=audit.edit_detail(edited["changes"]))
    return print_edited(edited, args, settings, clients, console, err)


def print_edited(edited: dict, args, settings, clients, console, err) -> int:
    """What an edit did (updates.edit_summary, here or from the campaign function), the same either way."""
    if not edited["changes"]:
        console.print(f"Invitation {args.id} rendue à nouveau : aucun changement de réglage.")
    else:
        console.print(f"Invitation {args.id} modifiée :")
        for line in edited["changes"]:
            console.print(f"  {escape(line)}")
    if edited["promoted"]:
        console.print(f"Liste d’attente : {edited['promoted']} personne(s) passent confirmées et reçoivent "
                      "« Une place s’est libérée »")
        if not settings.campaign_function:  # locally, the e-mails go out now (on a stack, the send function)
            from convier.cli.campaign import send_with_progress
            from convier.store.records import promotion_of

            send_with_progress(promotion_of(args.id), settings, clients, console, edited["promoted"])
    if edited["refreshed"]:
        console.print(f"Suivis mis à jour avec le nouvel événement : {', '.join(edited['refreshed'])}")
    for followup_id in edited["scheduled"]:
        err.print(f"[yellow]attention[/] : le suivi {followup_id} a un envoi programmé ; vérifiez son heure "
                  f"(convier campaign schedule {followup_id} --at « J-1 10:00 »)")
    for followup_id in edited["not_refreshed"]:
        err.print(f"[yellow]attention[/] : le suivi {followup_id} (brouillon) décrit encore l’ancien événement ; "
                  f"recréez-le (convier followup create {args.id} …)")
    if not edited["notice"]:
        return 0
    console.print(f"Agendas : même UID, SEQUENCE {edited['sequence']} ; les invités ont encore l’ancien événement.")
    if not edited["notice_made"]:
        console.print(f"Prévenez-les : convier followup create {args.id} --kind changement (confirmés, peut-être, "
                      "liste d’attente ; --to tous pour tous les destinataires)")
        return 0
    from convier.cli.followup import print_summary

    return print_summary(edited["notice_made"], console, err)


def cmd_cancel_event(args, console, err) -> int:
    settings, clients = _resolve(args)
    if settings.campaign_function:  # a stack: the campaign function cancels (and renders the annulation)
        from convier.cli.campaign import invoke_once
        from convier.services.followups import read_message_text

        payload = {"action": "cancel-event", "campaign": args.id, "to": args.to, "subject": args.subject}
        if args.message:
            payload["message"] = {"name": args.message, "text": read_message_text(args.message)}
        done = invoke_once(clients, settings, payload, what=args.message or "")
    else:
        done = updates.cancel_summary(clients, settings, args.id, to=args.to, message_file=args.message,
                                      subject=args.subject)
    journal.note(list_name=done["list"],
                 detail=audit.cancel_detail(done["stopped"], done["unscheduled"], done["annulation"]["id"]))
    console.print(f"Événement de l’invitation {args.id} annulé : les pages de réponse le disent et n’acceptent "
                  "plus de réponse ; le fichier agenda (.ics) est une annulation.")
    if done["unscheduled"]:
        console.print(f"Envois programmés retirés : {', '.join(done['unscheduled'])}")
    if done["stopped"]:
        console.print(f"Envois arrêtés : {', '.join(done['stopped'])}")
    from convier.cli.followup import print_summary

    return print_summary(done["annulation"], console, err)


def register(cs, bind) -> None:
    """The two actions, under `convier campaign`."""
    e = cs.add_parser("edit", help="change les réglages d’une invitation (date, lieu, objet…) et la rend à "
                                   "nouveau ; après l’envoi, propose l’information de changement")
    e.add_argument("id", metavar="ID", help="identifiant de l’invitation (voir convier campaign list)")
    e.add_argument("--campaign", required=True, metavar="FICHIER",
                   help="le fichier de campagne YAML complet, modifié (les clés absentes reviennent au billet)")
    e.add_argument("--post", metavar="BILLET", help="un billet modifié (sinon celui de la création)")
    e.add_argument("--notice", action="store_true",
                   help="crée aussi l’information de changement (affiche son identifiant en dernière ligne)")
    e.add_argument("--to", metavar="SEGMENTS", help="destinataires de l’information de changement (défaut : "
                                                    "confirmés, peut-être, liste d'attente ; « tous » : tout le monde)")
    e.set_defaults(func=bind(cmd_edit), audit="edit")
    c = cs.add_parser("cancel-event", help="annule l’événement (pas seulement l’envoi) : pages de réponse "
                                           "fermées, envois programmés arrêtés, message d’annulation préparé")
    c.add_argument("id", metavar="ID", help="identifiant de l’invitation (voir convier campaign list)")
    c.add_argument("--message", metavar="FICHIER", help="le message d’annulation, en markdown (sinon le texte "
                                                        "prêt à l’emploi)")
    c.add_argument("--subject", metavar="OBJET", help="objet de l’e-mail")
    c.add_argument("--to", metavar="SEGMENTS", help="destinataires (défaut : confirmés, peut-être, liste "
                                                    "d'attente ; « tous » : tout le monde)")
    c.set_defaults(func=bind(cmd_cancel_event), audit="cancel_event")
