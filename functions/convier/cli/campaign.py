"""`convier campaign ...`: create, test, send, status, pause, resume, cancel, list."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from convier.errors import InputError
from convier.services import campaigns
from convier.store import records

STATUS_FR = records.STATUS_FR


def _resolve(args):
    from convier.cli.target import resolve

    return resolve(args)


def cmd_create(args, console, err) -> int:
    from convier.cli.target import sender_preparer

    settings, clients = _resolve(args)
    campaign, size = campaigns.create_campaign(clients, settings, post_path=args.post, list_name=args.list,
                                               campaign_file=args.campaign, prepare_sender=sender_preparer(settings))
    console.print(f"Campagne créée pour la liste « {campaign.list_name} » ({size} abonnés)")
    console.print(f"  Objet : {campaign.template.subject}")
    console.print(f"  Expéditeur : {campaign.template.sender}")
    console.print(f"  Événement : {campaign.event.get('when') or 'sans date'}"
                  + (f", {campaign.event.get('place')}" if campaign.event.get("place") else ""))
    for warning in campaign.warnings:
        err.print(f"[yellow]attention[/] : {warning}")
    console.print(f"Aperçu : convier campaign test {campaign.id} --to vous@exemple.gouv.fr ; "
                  f"envoi : convier campaign send {campaign.id}")
    console.print(campaign.id)
    return 0


def cmd_test(args, console, err) -> int:
    settings, clients = _resolve(args)
    for address, message_id in campaigns.send_test(clients, settings, args.id, args.to):
        console.print(f"Test envoyé à {address} (SES {message_id})")
    return 0


def _progress(console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=False)


def cmd_send(args, console, err) -> int:
    settings, clients = _resolve(args)
    if settings.campaign_function:
        result = _invoke(clients, settings, {"action": "send", "campaign": args.id})
        console.print(f"{result['enqueued']} destinataires mis en file ; suivez l’envoi : "
                      f"convier campaign status {args.id} --watch")
        return 0
    campaign = campaigns.require(clients, settings, args.id)
    if campaign.status == records.PAUSED:
        raise InputError(f"la campagne {args.id} est en pause : convier campaign resume {args.id}")
    enqueued = campaigns.fan_out(clients, settings, args.id)
    if not enqueued:
        console.print("Rien de nouveau à envoyer : chaque abonné de la liste a déjà son envoi enregistré.")
        console.print(status_table(campaigns.status(clients, settings, args.id)))
        return 0
    return send_with_progress(args.id, settings, clients, console, enqueued)


def send_with_progress(campaign_id, settings, clients, console, expected: int) -> int:
    """Local sending (embedded default or --endpoint-url): the send handler on the queue, a progress bar,
    then the counts and the outbox page. Shared by `campaign send`, `campaign resume` and `demo`."""
    from convier.handlers.send import sender_for
    from convier.local.outbox import write_index
    from convier.local.worker import drain

    sender = sender_for(settings, clients)
    sender.pause_delay = 2
    with _progress(console) as progress:
        task = progress.add_task("Envoi", total=max(expected, 1) if expected else 0)
        result = drain(sender, campaign_id=campaign_id,
                       on_batch=lambda c: progress.advance(task, c.sent + c.skipped + c.duplicates_avoided))
    st = campaigns.status(clients, settings, campaign_id)
    console.print(f"Envoyés : {st.sent} · ignorés (désinscrits, supprimés) : {st.skipped} · échecs : {st.failed}"
                  f" · inconnus : {st.unknown}")
    if st.failed:
        console.print(f"[yellow]{st.failed} envois ont échoué après 5 tentatives[/] : voir {settings.home}/convier.log "
                      "et la file des lettres mortes ; convier campaign send les retente.")
    if result.stopped:
        console.print(f"Envoi arrêté : campagne {STATUS_FR.get(result.stopped, result.stopped)}.")
    if settings.outbox:
        folder = Path(settings.outbox) / campaign_id
        index = write_index(folder, campaign_id)
        console.print(f"Boîte d’envoi : {index.resolve().as_uri()}")
    return 0


def _invoke(clients, settings, payload: dict) -> dict:
    response = clients.client("lambda").invoke(FunctionName=settings.campaign_function,
                                               Payload=json.dumps(payload).encode())
    result = json.loads(response["Payload"].read() or b"{}")
    if not result.get("ok"):
        raise InputError(result.get("error") or f"la fonction de campagne a échoué : {result}")
    return result


def status_table(st: campaigns.Status) -> Table:
    c = st.campaign
    table = Table(title=f"Campagne {c.id} — {STATUS_FR.get(c.status, c.status)}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [("Objet", c.template.subject), ("Liste", f"{c.list_name} ({st.list_size} abonnés)"),
            ("Envoyés", st.sent), ("Ignorés", st.skipped), ("Échecs", st.failed), ("Inconnus", st.unknown),
            ("En cours", st.in_flight), ("En file", st.queued), ("Débit (dernière minute)", f"{st.rate:.1f}/s")]
    if st.rsvps is not None:
        r = st.rsvps
        rows += [("Réponses : je participe", r["yes"]), ("  liste d’attente", r["waiting"]),
                 ("  je ne participe pas", r["no"]), ("  peut-être", r["maybe"]), ("  sans réponse", r["none"])]
        if c.capacity:
            rows.append(("  places", f"{r['yes']} / {c.capacity}"))
    if st.feedback and any(st.feedback.values()):  # SES feedback (a deployed stack)
        f = st.feedback
        rows += [("Retours SES : remis", f["delivered"]), ("  rebonds définitifs", f["bounced"]),
                 ("  rebonds temporaires", f["soft_bounced"]), ("  plaintes", f["complained"]),
                 ("  rejetés", f["rejected"])]
    for label, value in rows:
        table.add_row(label, str(value))
    return table


def cmd_status(args, console, err) -> int:
    settings, clients = _resolve(args)
    if not args.watch:
        console.print(status_table(campaigns.status(clients, settings, args.id)))
        return 0
    with _progress(console) as progress:
        task = None
        while True:
            st = campaigns.status(clients, settings, args.id)
            done = st.sent + st.skipped + st.failed + st.unknown
            if task is None:
                task = progress.add_task("Envoi", total=max(st.campaign.enqueued, 1))
            progress.update(task, completed=done, total=max(st.campaign.enqueued, 1))
            if st.finished or st.campaign.status in (records.PAUSED, records.CANCELLED):
                break
            time.sleep(args.interval)
    console.print(status_table(st))
    return 0


def _control(action: str, done_fr: str, refused_fr: str):
    def command(args, console, err) -> int:
        settings, clients = _resolve(args)
        if settings.campaign_function:  # a deployed stack: admin actions go through the campaign function
            changed = _invoke(clients, settings, {"action": action, "campaign": args.id}).get("changed")
        else:
            changed = getattr(campaigns, action)(clients, settings, args.id)
        if not changed:
            status = campaigns.require(clients, settings, args.id).status
            raise InputError(f"campagne {args.id} {STATUS_FR.get(status, status)} : {refused_fr}")
        console.print(f"Campagne {args.id} {done_fr} (effet au prochain lot)")
        if action == "resume" and not settings.campaign_function:
            return send_with_progress(args.id, settings, clients, console, 0)
        return 0
    return command


def cmd_list(args, console, err) -> int:
    settings, clients = _resolve(args)
    table = Table(title="Campagnes")
    for col in ("Identifiant", "Liste", "Objet", "Créée le"):
        table.add_column(col)
    for item in campaigns.list_campaigns(clients, settings):
        table.add_row(item["SK"], item.get("list", ""), item.get("subject", ""), item.get("created_at", "")[:16])
    console.print(table)
    return 0


def register(sub, console, err) -> None:
    def bind(fn):
        return lambda args: fn(args, console, err)

    p = sub.add_parser("campaign", help="crée, teste, envoie et suit une campagne d’invitations")
    cs = p.add_subparsers(dest="campaign_command", required=True, metavar="ACTION")
    c = cs.add_parser("create", help="rend le billet une fois et enregistre la campagne (affiche son identifiant)")
    c.add_argument("--post", required=True, metavar="BILLET")
    c.add_argument("--list", required=True, metavar="LISTE")
    c.add_argument("--campaign", metavar="FICHIER", help="fichier de campagne YAML")
    c.set_defaults(func=bind(cmd_create))
    t = cs.add_parser("test", help="envoie des exemplaires de test, sans toucher aux compteurs")
    t.add_argument("id", metavar="ID")
    t.add_argument("--to", required=True, nargs="+", metavar="EMAIL")
    t.set_defaults(func=bind(cmd_test))
    s = cs.add_parser("send", help="envoie la campagne à la liste (une seule fois par abonné)")
    s.add_argument("id", metavar="ID")
    s.set_defaults(func=bind(cmd_send))
    st = cs.add_parser("status", help="où en est l’envoi : envoyés, ignorés, échecs, inconnus, en file, débit")
    st.add_argument("id", metavar="ID")
    st.add_argument("--watch", action="store_true", help="suit l’envoi avec une barre de progression")
    st.add_argument("--interval", type=float, default=2.0, help=argparse.SUPPRESS)
    st.set_defaults(func=bind(cmd_status))
    for action, done, refused, help_ in (
            ("pause", "mise en pause", "elle n’est pas en cours d’envoi", "suspend l’envoi (reprise avec resume)"),
            ("resume", "reprise", "elle n’est pas en pause", "reprend un envoi suspendu"),
            ("cancel", "annulée", "elle est déjà terminée ou annulée", "annule définitivement l’envoi")):
        a = cs.add_parser(action, help=help_)
        a.add_argument("id", metavar="ID")
        a.set_defaults(func=bind(_control(action, done, refused)))
    ls = cs.add_parser("list", help="les campagnes enregistrées")
    ls.set_defaults(func=bind(cmd_list))

