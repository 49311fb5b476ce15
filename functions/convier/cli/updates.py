"""`convier campaign edit` and `convier campaign cancel-event`: an invitation's event changed or called off
(services/updates.py does the work; this module reads the arguments and prints)."""

from __future__ import annotations

from rich.markup import escape

from convier.services import updates


def _resolve(args):
    from convier.cli.target import resolve

    return resolve(args)


def cmd_edit(args, console, err) -> int:
    from pathlib import Path

    from convier.cli.target import sender_preparer
    from convier.inputs.campaignfile import read_campaign
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
    edited = updates.edit(clients, settings, args.id, read_campaign(args.campaign), post_text=post_text,
                          post_name=post_name, prepare_sender=sender_preparer(settings))
    if not edited.changes:
        console.print(f"Invitation {args.id} rendue à nouveau : aucun changement de réglage.")
    else:
        console.print(f"Invitation {args.id} modifiée :")
        for change in edited.changes:
            console.print(f"  {escape(change.line)}")
    if edited.promoted:
        console.print(f"Liste d’attente : {len(edited.promoted)} personne(s) passent confirmées et reçoivent "
                      "« Une place s’est libérée »")
        if not settings.campaign_function:  # locally, the e-mails go out now (on a stack, the send function)
            from convier.cli.campaign import send_with_progress
            from convier.store.records import promotion_of

            send_with_progress(promotion_of(args.id), settings, clients, console, len(edited.promoted))
    if edited.refreshed:
        console.print(f"Suivis mis à jour avec le nouvel événement : {', '.join(edited.refreshed)}")
    for followup_id in edited.scheduled:
        err.print(f"[yellow]attention[/] : le suivi {followup_id} a un envoi programmé ; vérifiez son heure "
                  f"(convier campaign schedule {followup_id} --at « J-1 10:00 »)")
    for followup_id in edited.not_refreshed:
        err.print(f"[yellow]attention[/] : le suivi {followup_id} (brouillon) décrit encore l’ancien événement ; "
                  f"recréez-le (convier followup create {args.id} …)")
    if not edited.notice:
        return 0
    console.print(f"Agendas : même UID, SEQUENCE {edited.sequence} ; les invités ont encore l’ancien événement.")
    if not args.notice:
        console.print(f"Prévenez-les : convier followup create {args.id} --kind changement (confirmés, peut-être, "
                      "liste d’attente ; --to tous pour tous les destinataires)")
        return 0
    from convier.cli.followup import print_created

    notice = updates.change_notice(clients, settings, args.id, to=args.to)
    return print_created(notice, clients, settings, console, err)


def cmd_cancel_event(args, console, err) -> int:
    settings, clients = _resolve(args)
    done = updates.cancel_event(clients, settings, args.id, to=args.to, message_file=args.message,
                                subject=args.subject)
    console.print(f"Événement de l’invitation {args.id} annulé : les pages de réponse le disent et n’acceptent "
                  "plus de réponse ; le fichier agenda (.ics) est une annulation.")
    if done.unscheduled:
        console.print(f"Envois programmés retirés : {', '.join(done.unscheduled)}")
    if done.stopped:
        console.print(f"Envois arrêtés : {', '.join(done.stopped)}")
    from convier.cli.followup import print_created

    return print_created(done.annulation, clients, settings, console, err)


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
    e.set_defaults(func=bind(cmd_edit))
    c = cs.add_parser("cancel-event", help="annule l’événement (pas seulement l’envoi) : pages de réponse "
                                           "fermées, envois programmés arrêtés, message d’annulation préparé")
    c.add_argument("id", metavar="ID", help="identifiant de l’invitation (voir convier campaign list)")
    c.add_argument("--message", metavar="FICHIER", help="le message d’annulation, en markdown (sinon le texte "
                                                        "prêt à l’emploi)")
    c.add_argument("--subject", metavar="OBJET", help="objet de l’e-mail")
    c.add_argument("--to", metavar="SEGMENTS", help="destinataires (défaut : confirmés, peut-être, liste "
                                                    "d'attente ; « tous » : tout le monde)")
    c.set_defaults(func=bind(cmd_cancel_event))
