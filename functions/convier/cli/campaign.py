"""`convier campaign ...`: create, test, send, status, pause, resume, cancel, list, report, retry."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from convier.cli import journal
from convier.domain.dates import decimal, number, short_moment
from convier.errors import InputError, Notice
from convier.services import campaigns
from convier.services.lifecycle import STATUS_FR
from convier.store import records


def outbox_hook(settings):
    """The embedded default's copy of each sent message (None on a stack): handed to the services as a hook."""
    if not settings.outbox:
        return None
    from convier.local.outbox import sent_hook

    return sent_hook(Path(settings.outbox))


def _resolve(args):
    from convier.cli.target import resolve

    return resolve(args)


def cmd_create(args, console, err) -> int:
    from convier.cli.target import sender_preparer

    settings, clients = _resolve(args)
    if settings.campaign_function:  # a stack: the campaign function renders and stores; the files travel as text
        from convier.inputs.campaignfile import read_campaign_text
        from convier.inputs.post import read_post_text

        payload = {"action": "create", "list": args.list,
                   "post": {"name": str(Path(args.post)), "text": read_post_text(args.post)}}
        if args.campaign:
            payload["settings"] = {"name": str(Path(args.campaign)), "text": read_campaign_text(args.campaign)}
        made = invoke_once(clients, settings, payload, what=args.post)
    else:
        campaign, size = campaigns.create_campaign(clients, settings, post_path=args.post, list_name=args.list,
                                                   campaign_file=args.campaign,
                                                   prepare_sender=sender_preparer(settings))
        made = campaigns.summary(campaign, size)
    journal.note(campaign=made["id"], list_name=made["list"], detail=Path(args.post).name)
    console.print(f"Campagne créée pour la liste « {made['list']} » ({number(made['size'])} abonnés)")
    console.print(f"  Objet : {made['subject']}")
    console.print(f"  Expéditeur : {made['sender']}")
    console.print(f"  Événement : {made['when'] or 'sans date'}" + (f", {made['place']}" if made["place"] else ""))
    return print_next_steps(made, console, err)


def print_next_steps(made: dict, console, err) -> int:
    """After a create (`campaigns.summary`): the renderer's warnings, what to do next, the id alone on the last
    line."""
    for warning in made["warnings"]:
        err.print(f"[yellow]attention[/] : {Notice.from_value(warning)}")
    console.print(f"Aperçu : convier campaign test {made['id']} --to vous@exemple.gouv.fr ; "
                  f"envoi : convier campaign send {made['id']}")
    console.print(made["id"])
    return 0


def invoke_once(clients, settings, payload: dict, *, what: str) -> dict:
    """A create, an edit or a cancel-event by the campaign function, under a request id of its own: an answer
    lost on the way (connection cut, timeout) is asked again with the same id, which gets the first attempt's
    answer (the campaign it made, what it changed)."""
    import uuid

    return _invoke(clients, settings, {**payload, "request_id": uuid.uuid4().hex}, what=what, attempts=3)


def cmd_test(args, console, err) -> int:
    settings, clients = _resolve(args)
    sent = campaigns.send_test(clients, settings, args.id, args.to, on_sent=outbox_hook(settings))
    for address, message_id in sent:
        console.print(f"Test envoyé à {address} (SES {message_id})")
    journal.note(detail=f"{len(sent)} exemplaire(s) de test")  # to staff's own addresses, not written here
    return 0


def _progress(console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=False)


def _money(dollars: float) -> str:
    digits = 2 if dollars >= 1 else 4 if dollars >= 0.001 else 6
    return f"{dollars:.{digits}f}".replace(".", ",") + " $"


def print_report(report, console) -> None:
    """The check, as GOV.UK Notify's check page: every problem at once, blocking first, then the dry run."""
    from rich.markup import escape


    c = report.campaign
    console.print(f"Campagne {c.id} : « {escape(c.template.subject)} » → liste « {escape(c.list_name)} »")
    blocking = [p for p in report.problems if p.blocking]
    warnings = [p for p in report.problems if not p.blocking]
    style = "bold red" if blocking else "bold green"
    console.print(f"[{style}]{escape(report.headline)}[/]")
    for index, p in enumerate(blocking, 1):
        console.print(f"  [red]{index}. bloquant[/] : {escape(p.message)}", soft_wrap=True)
        console.print(f"     où : {escape(p.where)}", soft_wrap=True)
        console.print(f"     pour corriger : {escape(p.fix)}", soft_wrap=True)
    if warnings:
        console.print(f"À vérifier ({len(warnings)}) :")
    for p in warnings:
        console.print(f"  [yellow]• attention[/] : {escape(p.message)}", soft_wrap=True)
        console.print(f"     où : {escape(p.where)}", soft_wrap=True)
        console.print(f"     {'autorisation' if p.allowed else 'pour corriger'} : {escape(p.fix)}", soft_wrap=True)
    print_plan(report, console)


def print_plan(report, console) -> None:
    from convier.domain.checks import duration, number, paris_moment, plural

    a, plan, account = report.audience, report.plan, report.account
    console.print("Simulation d’envoi (rien n’est envoyé) :")
    console.print(f"  liste : {plural(a.listed, 'abonné')} ; désinscrits {number(a.unsubscribed)}, "
                  f"rebonds {number(a.bounced)}, plaintes {number(a.complained)}, supprimés {number(a.suppressed)}"
                  + (f", déjà envoyés par cette campagne {number(a.already)}" if a.already else "")
                  + (f" ; doublons fusionnés au dernier import : {number(a.duplicates)}" if a.duplicates else ""),
                  soft_wrap=True)
    console.print(f"  [bold]destinataires : {number(a.recipients)}[/]")
    wave = (f" (première vague de {number(plan.wave)}, puis jusqu’à {duration(plan.wave_wait)} d’attente des "
            "retours SES)" if plan.wave else "")
    rate = f"{plan.rate:g}".replace(".", ",")
    console.print(f"  durée : {duration(plan.seconds)} à {rate} e-mails/s{wave} ; fin vers "
                  f"{paris_moment(plan.ends)} (heure de Paris)", soft_wrap=True)
    console.print(f"  coût : SES {_money(plan.ses_cost)} (0,10 $ les 1 000) ; AWS autour (DynamoDB, SQS, Lambda) "
                  f"{_money(plan.aws_cost)}", soft_wrap=True)
    if plan.quota_left is not None:
        console.print(f"  quota SES sur 24 h : {number(plan.quota_left)} envois restants, "
                      f"{number(plan.quota_left_after)} après cet envoi")
    elif account.read:
        console.print("  quota SES sur 24 h : illimité")
    else:
        console.print(f"  quota SES sur 24 h : non lu (GetAccount : {account.error or 'indisponible'})")


def cmd_check(args, console, err) -> int:
    from convier.services.checks import check_campaign

    settings, clients = _resolve(args)
    report = check_campaign(clients, settings, args.id, no_wave=getattr(args, "no_wave", False))
    print_report(report, console)
    return 1 if report.blocking else 0


def _confirmation(expected: int, args, console, err) -> int | None:
    """`--yes N`, else the number typed at the prompt; None when nothing could be read."""
    if args.yes is not None:
        return args.yes
    console.print(f"Pour envoyer, tapez le nombre de destinataires ({expected}) : ", end="")
    try:
        typed = input()
    except (EOFError, OSError):
        err.print(f"[red]envoi refusé[/] : aucune confirmation ; relancez et tapez {expected}, "
                  f"ou ajoutez --yes {expected}")
        return None
    try:
        return int(typed.replace(" ", "").replace("\u202f", "").strip())
    except ValueError:
        return -1


def cmd_send(args, console, err) -> int:
    from rich.markup import escape

    from convier.services.checks import SendRefused, check_campaign

    settings, clients = _resolve(args)
    from convier.services import lifecycle

    lifecycle.may_send(campaigns.require(clients, settings, args.id, parts=False))  # paused, cancelled: refused
    report = check_campaign(clients, settings, args.id, no_wave=args.no_wave)
    print_report(report, console)
    if report.blocking:
        err.print(f"[red]envoi refusé[/] : {escape(report.headline.lower())} (aucune option ne passe outre ; "
                  "seul le fichier de campagne peut autoriser certains points, avec allow)", soft_wrap=True)
        return 1
    if args.dry_run:
        journal.nothing_done()
        console.print("Simulation seulement (--dry-run) : rien n’a été envoyé.")
        return 0
    expected = report.audience.recipients
    if not expected:
        journal.nothing_done()
        console.print("Rien de nouveau à envoyer : chaque abonné de la liste a déjà son envoi enregistré.")
        console.print(status_table(campaigns.status(clients, settings, args.id)))
        return 0
    confirm = _confirmation(expected, args, console, err)
    if confirm != expected:
        if confirm is not None:
            err.print(f"[red]envoi refusé[/] : {confirm} confirmé, la campagne compte {expected} destinataires ; "
                      "rien n’a été envoyé")
        return 1
    if settings.campaign_function:
        result = _invoke(clients, settings, {"action": "send", "campaign": args.id, "confirm": confirm})
        console.print(f"{result['enqueued']} destinataires mis en file ; suivez l’envoi : "
                      f"convier campaign status {args.id} --watch")
        return 0
    try:
        started = campaigns.start_send(clients, settings, args.id, confirm=confirm, no_wave=args.no_wave)
    except SendRefused as exc:  # the list or the account changed between the check and the confirmation
        err.print(f"[red]{escape(str(exc))}[/]", soft_wrap=True)
        return 1
    if not started.enqueued:
        journal.nothing_done()
        console.print("Rien de nouveau à envoyer : chaque abonné de la liste a déjà son envoi enregistré.")
        return 0
    journal.note(list_name=report.campaign.list_name, detail=f"{started.enqueued} destinataires")
    return send_with_progress(args.id, settings, clients, console, started.enqueued)


def send_with_progress(campaign_id, settings, clients, console, expected: int) -> int:
    """Local sending (embedded default or --endpoint-url): the send handler on the queue, a progress bar,
    then the counts and the outbox page. Shared by `campaign send`, `resume`, `retry` and `demo`."""
    from convier.local.outbox import write_index
    from convier.local.worker import drain
    from convier.services.sending import sender_for

    sender = sender_for(settings, clients, on_sent=outbox_hook(settings))
    sender.pause_delay = 2
    total = max(expected, 1) if expected else 0
    done = [0]

    def advance(progress, task, c):
        done[0] += c.sent + c.skipped + c.failed + c.unknown
        progress.update(task, completed=min(done[0], total))

    with _progress(console) as progress:
        task = progress.add_task("Envoi", total=total)
        result = drain(sender, campaign_id=campaign_id, on_batch=lambda c: advance(progress, task, c))
        while not result.stopped and _await_wave(clients, settings, campaign_id, progress, task):
            result = drain(sender, campaign_id=campaign_id, on_batch=lambda c: advance(progress, task, c))
    st = campaigns.status(clients, settings, campaign_id)
    console.print(f"Envoyés : {number(st.sent)} · ignorés (désinscrits, supprimés) : {number(st.skipped)} · "
                  f"échecs : {number(st.failed)} · inconnus : {number(st.unknown)} · campagne {st.label}")
    if st.failed or st.unknown:
        console.print(f"[yellow]{number(st.failed)} échecs, {number(st.unknown)} inconnus[/] : qui et pourquoi : "
                      f"convier campaign report {campaign_id} ; renvoyer les échecs : "
                      f"convier campaign retry {campaign_id}")
    if result.stopped == "interrupted":
        console.print(f"Envoi interrompu : les envois commencés sont terminés et enregistrés, le reste attend dans "
                      f"la file ; reprenez avec convier campaign send {campaign_id}")
    elif result.stopped:
        console.print(f"Envoi arrêté : campagne {STATUS_FR.get(result.stopped, result.stopped)}.")
    if settings.outbox:
        folder = Path(settings.outbox) / campaign_id
        index = write_index(folder, campaign_id)
        console.print(f"Boîte d’envoi : {index.resolve().as_uri()}")
    return 130 if result.stopped == "interrupted" else 0


def _await_wave(clients, settings, campaign_id, progress, task, *, sleep=None, now=None) -> bool:
    """After the first wave: shows the wait for its SES feedback, reviews until the rest is released (True:
    send it) or the campaign paused itself (False), as the worker does; Ctrl-C leaves it waiting."""
    import time

    from convier.domain import waves

    st = campaigns.status(clients, settings, campaign_id)
    if not st.note.startswith("première vague"):
        return False
    progress.update(task, description=st.note)
    while True:
        decision = campaigns.review(clients, settings, campaign_id, now=now() if now else None)
        if decision is None or decision.action != waves.WAIT:
            progress.update(task, description="Envoi")
            return decision is not None and decision.action == waves.RELEASE
        (sleep or time.sleep)(min(5.0, decision.wait))


INVOKE_LIMIT = 6 * 1024 * 1024  # bytes: a synchronous Lambda invoke's payload, at most (request and answer)


def _invoke(clients, settings, payload: dict, *, what: str = "", attempts: int = 1) -> dict:
    """The campaign function, synchronously; its French error as an InputError. `attempts` > 1 only for a
    payload whose `request_id` makes a repeat harmless (the answer may be lost after the work is done)."""
    from botocore.exceptions import ClientError, HTTPClientError  # HTTPClientError: timeout, connection closed
    from botocore.exceptions import ConnectionError as Unreachable

    from convier.cli import journal

    caller = journal.caller_identity()  # who: the function records the action in the audit log
    body = json.dumps({**payload, "caller": caller} if caller else payload, ensure_ascii=False).encode()
    if len(body) > INVOKE_LIMIT:
        raise InputError(_too_large(what, len(body)))
    lam = clients.client("lambda")
    for attempt in range(1, attempts + 1):
        try:
            response = lam.invoke(FunctionName=settings.campaign_function, Payload=body)
            break
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "RequestTooLargeException":
                raise InputError(_too_large(what, len(body))) from None
            raise
        except (Unreachable, HTTPClientError):  # the answer is lost: the same request again, under the same id
            if attempt == attempts:
                raise
            time.sleep(attempt)
    result = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):  # an exception in the function (its message and type, not a traceback)
        raise InputError(f"la fonction de campagne a échoué ({result.get('errorType', '?')} : "
                         f"{result.get('errorMessage', '')}) ; voir son journal CloudWatch")
    if not result.get("ok"):
        raise InputError(result.get("error") or f"la fonction de campagne a échoué : {result}")
    return result


def _too_large(what: str, size: int) -> str:
    mb = f"{size / 1024 / 1024:.1f}".replace(".", ",")
    return (f"{what or 'la demande'} : {mb} Mo à transmettre à la fonction de campagne, qui en reçoit au plus 6 Mo "
            "(limite d’un appel Lambda) ; allégez le billet (images en ligne plutôt qu’intégrées, par exemple)")


def status_table(st: campaigns.Status) -> Table:
    c = st.campaign
    table = Table(title=f"Campagne {c.id} — {st.label}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [("Objet", c.template.subject), ("Liste", c.list_name), ("Destinataires", st.audience),
            ("Créée le", short_moment(c.created_at) or "—"),
            ("Envoyés", st.sent), ("Ignorés", st.skipped), ("Échecs", st.failed), ("Inconnus", st.unknown),
            ("En file", st.queued), ("Débit moyen", f"{decimal(st.rate)}/s")]
    if st.note:
        rows.append(("État", st.note))
    if st.rsvps is not None:
        r = st.rsvps
        rows += [("Réponses : je participe", r["yes"]), ("  liste d’attente", r["waiting"]),
                 ("  je ne participe pas", r["no"]), ("  peut-être", r["maybe"]), ("  sans réponse", r["none"])]
        if c.capacity:
            rows.append(("  places", f"{number(r['yes'])} / {number(c.capacity)}"))
    if any(st.feedback.values()):  # SES feedback (a deployed stack)
        f = st.feedback
        rows += [("Retours SES : remis", f["delivered"]), ("  rebonds définitifs", f["bounced"]),
                 ("  rebonds temporaires", f["soft_bounced"]), ("  plaintes", f["complained"]),
                 ("  rejetés", f["rejected"])]
    for label, value in rows:
        table.add_row(label, number(value) if isinstance(value, int) else str(value))
    return table


def status_notes(st: campaigns.Status) -> list[str]:
    notes = []
    if st.unknown:
        notes.append(f"{st.unknown} envois à l’issue inconnue (SES a peut-être envoyé) : les retours de SES les "
                     f"règlent ; au-delà de 15 minutes sans retour, voyez convier campaign report {st.campaign.id} "
                     f"puis, si besoin, convier campaign retry {st.campaign.id} --unknown")
    if st.failed:
        notes.append(f"{st.failed} échecs : convier campaign report {st.campaign.id} (raisons), puis "
                     f"convier campaign retry {st.campaign.id} une fois la cause corrigée")
    return notes


def cmd_status(args, console, err) -> int:
    settings, clients = _resolve(args)
    if not args.watch:
        st = campaigns.status(clients, settings, args.id, answers=True)
        console.print(status_table(st))
        for note in status_notes(st):
            console.print(note)
        return 0
    with _progress(console) as progress:
        task = None
        while True:
            st = campaigns.status(clients, settings, args.id)
            total = max(st.audience, 1)
            if task is None:
                task = progress.add_task("Envoi", total=total)
            progress.update(task, completed=st.done, total=total)
            if st.finished or st.campaign.status in (records.PAUSED, records.CANCELLED, records.DRAFT):
                break
            time.sleep(args.interval)
    console.print(status_table(st))
    for note in status_notes(st):
        console.print(note)
    return 0


def cmd_report(args, console, err) -> int:
    from convier.domain.exports import write_csv, write_csv_file
    from convier.services.report import STATE_FR, report

    settings, clients = _resolve(args)
    found = report(clients, settings, args.id)
    journal.note(detail=f"{len(found.rows)} lignes")
    if args.out:
        write_csv_file(args.out, found.header, found.rows)
        summary = ", ".join(f"{STATE_FR.get(k, k)} : {v}" for k, v in sorted(found.states.items()))
        console.print(f"{len(found.rows)} destinataires dans {args.out} ({summary or 'aucun envoi'})")
    else:
        import sys

        write_csv(sys.stdout, found.header, found.rows)
    return 0


def _confirm_unknown(args, count: int, err) -> int:
    """The number typed by the person (or given with --yes) must be `count`."""
    if args.yes is not None:
        given = args.yes
    else:
        import sys

        if not sys.stdin.isatty():
            raise InputError(f"{count} destinataires à l’issue inconnue : confirmez avec --yes {count}")
        err.print(f"{count} destinataires ont une issue inconnue depuis plus de 15 minutes : SES leur a peut-être "
                  "déjà remis le message, un renvoi peut leur en donner deux.")
        answer = input(f"Tapez {count} pour les renvoyer : ").strip()
        given = int(answer) if answer.isdigit() else None
    if given != count:
        raise InputError(f"confirmation {given} ≠ {count} destinataires à l’issue inconnue : rien n’est renvoyé")
    return given


def cmd_retry(args, console, err) -> int:
    settings, clients = _resolve(args)
    confirm = None
    if args.unknown:
        plan = campaigns.plan_retry(clients, settings, args.id, unknown=True)
        if plan.unknown:
            confirm = _confirm_unknown(args, len(plan.unknown), err)
    if settings.campaign_function:
        result = _invoke(clients, settings, {"action": "retry", "campaign": args.id, "unknown": args.unknown,
                                             "yes": confirm})
        console.print(f"{result['failed']} échecs et {result['unknown']} inconnus remis en file ; suivez l’envoi : "
                      f"convier campaign status {args.id} --watch")
        return 0
    plan = campaigns.retry(clients, settings, args.id, unknown=args.unknown, confirm_unknown=confirm)
    if not plan.sids:
        journal.nothing_done()
        console.print("Rien à renvoyer : aucun échec" + (" ni inconnu de plus de 15 minutes." if args.unknown else "."))
        return 0
    journal.note(detail=f"{len(plan.failed)} échecs, {len(plan.unknown)} inconnus")
    console.print(f"Renvoi à {len(plan.failed)} échecs" + (f" et {len(plan.unknown)} inconnus" if plan.unknown else ""))
    return send_with_progress(args.id, settings, clients, console, len(plan.sids))


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
    for col in ("Identifiant", "Liste", "Objet", "État", "Créée le (heure de Paris)"):
        table.add_column(col)
    for item in campaigns.list_campaigns(clients, settings):
        table.add_row(item["SK"], item.get("list", ""), item.get("subject", ""),
                      STATUS_FR.get(item["status"], item["status"]), short_moment(item.get("created_at")))
    console.print(table)
    return 0


def cmd_schedule(args, console, err) -> int:
    from convier.domain import dates
    from convier.domain.event import Event
    from convier.services import schedules

    settings, clients = _resolve(args)
    campaign = campaigns.require(clients, settings, args.id)
    if args.cancel:
        if settings.campaign_function:
            changed = _invoke(clients, settings, {"action": "unschedule", "campaign": args.id}).get("changed")
        else:
            changed = schedules.unschedule(clients, settings, args.id)
        if not changed:
            journal.nothing_done()
        console.print(f"Envoi programmé de {args.id} annulé" if changed else f"{args.id} n’avait pas d’envoi programmé")
        return 0
    if not args.at:
        raise InputError("--at DATE (heure de Paris, « 2023-01-23 10:00 » ou « J-1 10:00 ») ou --cancel")
    try:
        when = dates.send_moment(args.at, Event.from_record(campaign.event).start)
    except ValueError as exc:
        raise InputError(f"--at : {exc}") from None
    if settings.campaign_function:
        _invoke(clients, settings, {"action": "schedule", "campaign": args.id, "at": when.isoformat()})
    else:
        schedules.schedule(clients, settings, args.id, when)
    journal.note(list_name=campaign.list_name, detail=f"le {when:%d/%m/%Y à %H:%M} (heure de Paris)")
    console.print(f"Envoi de {args.id} programmé le {when:%d/%m/%Y à %H:%M} (heure de Paris) ; les vérifications "
                  "seront refaites à ce moment. Déplacer : --at AUTRE ; annuler : --cancel"
                  + ("" if settings.campaign_function else " ; en local, convier serve l’envoie à l’heure dite"))
    return 0


def register(sub, console, err) -> None:
    def bind(fn):
        return lambda args: fn(args, console, err)

    p = sub.add_parser("campaign", help="crée, teste, envoie et suit une campagne d’invitations")
    cs = p.add_subparsers(dest="campaign_command", required=True, metavar="ACTION")
    c = cs.add_parser("create", help="rend le billet une fois et enregistre la campagne (affiche son identifiant)")
    c.add_argument("--post", required=True, metavar="BILLET", help="billet Jekyll (markdown avec en-tête YAML)")
    c.add_argument("--list", required=True, metavar="LISTE",
                   help="liste de diffusion destinataire (convier lists show)")
    c.add_argument("--campaign", metavar="FICHIER", help="fichier de campagne YAML")
    c.set_defaults(func=bind(cmd_create), audit="create")
    t = cs.add_parser("test", help="envoie des exemplaires de test, sans toucher aux compteurs")
    t.add_argument("id", metavar="ID", help="identifiant de la campagne (voir convier campaign list)")
    t.add_argument("--to", required=True, nargs="+", metavar="EMAIL",
                   help="une ou plusieurs adresses qui reçoivent l’exemplaire de test")
    t.set_defaults(func=bind(cmd_test), audit="test")
    k = cs.add_parser("check", help="tous les problèmes de la campagne, où et comment les corriger, et la "
                                    "simulation d’envoi (code de sortie 1 si l’un d’eux bloque)")
    k.add_argument("id", metavar="ID", help="identifiant de la campagne (voir convier campaign list)")
    k.add_argument("--no-wave", action="store_true", help="simule un envoi sans première vague")
    k.set_defaults(func=bind(cmd_check))
    s = cs.add_parser("send", help="vérifie, résume, demande de confirmer le nombre de destinataires, puis "
                                   "envoie (une seule fois par abonné)")
    s.add_argument("id", metavar="ID", help="identifiant de la campagne (voir convier campaign list)")
    s.add_argument("--dry-run", action="store_true", help="vérifie et simule seulement : rien n’est envoyé")
    s.add_argument("--yes", type=int, metavar="N",
                   help="confirme sans question, seulement si N est le nombre exact de destinataires")
    s.add_argument("--no-wave", action="store_true",
                   help="sans première vague : tout part d’un coup (petites listes)")
    s.set_defaults(func=bind(cmd_send), audit="send")
    st = cs.add_parser("status", help="où en est l’envoi : envoyés, ignorés, échecs, inconnus, en file, débit")
    st.add_argument("id", metavar="ID", help="identifiant de la campagne (voir convier campaign list)")
    st.add_argument("--watch", action="store_true", help="suit l’envoi avec une barre de progression")
    st.add_argument("--interval", type=float, default=2.0, help=argparse.SUPPRESS)
    st.set_defaults(func=bind(cmd_status))
    for action, done, refused, help_ in (
            ("pause", "mise en pause", "elle n’est pas en cours d’envoi", "suspend l’envoi (reprise avec resume)"),
            ("resume", "reprise", "elle n’est pas en pause", "reprend un envoi suspendu"),
            ("cancel", "annulée", "elle est déjà terminée ou annulée", "annule définitivement l’envoi")):
        a = cs.add_parser(action, help=help_)
        a.add_argument("id", metavar="ID", help="identifiant de la campagne (voir convier campaign list)")
        a.set_defaults(func=bind(_control(action, done, refused)), audit=action)
    rp = cs.add_parser("report", help="un rang par destinataire : état, raison, heure, retour de SES (CSV)")
    rp.add_argument("id", metavar="ID", help="identifiant de la campagne (voir convier campaign list)")
    rp.add_argument("--out", metavar="FICHIER", help="fichier CSV (Excel, « ; », UTF-8) ; sinon la sortie standard")
    rp.set_defaults(func=bind(cmd_report), audit="report")
    rt = cs.add_parser("retry", help="renvoie aux échecs (après correction) ; --unknown : aussi aux inconnus")
    rt.add_argument("id", metavar="ID", help="identifiant de la campagne (voir convier campaign list)")
    rt.add_argument("--unknown", action="store_true",
                    help="aussi les destinataires à l’issue inconnue depuis plus de 15 minutes (confirmation)")
    rt.add_argument("--yes", type=int, metavar="N", help="confirme sans question : N doit être le nombre d’inconnus")
    rt.set_defaults(func=bind(cmd_retry), audit="retry")
    sc = cs.add_parser("schedule", help="programme l’envoi à une date et une heure (Paris), le déplace ou l’annule")
    sc.add_argument("id", metavar="ID", help="identifiant de la campagne (voir convier campaign list)")
    sc.add_argument("--at", metavar="QUAND", help="« 2023-01-23 10:00 » ou, par rapport à l’événement, « J-1 10:00 »")
    sc.add_argument("--cancel", action="store_true", help="annule l’envoi programmé")
    sc.set_defaults(func=bind(cmd_schedule), audit=lambda args: "unschedule" if args.cancel else "schedule")
    from convier.cli import updates as updates_cli

    updates_cli.register(cs, bind)
    ls = cs.add_parser("list", help="les campagnes enregistrées")
    ls.set_defaults(func=bind(cmd_list))

