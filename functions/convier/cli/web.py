"""`convier serve` (the links server of the embedded default) and `convier rsvps export`."""

from __future__ import annotations

import sys


def cmd_serve(args, console, err) -> int:
    from convier.cli.target import Live, home_of
    from convier.errors import InputError
    from convier.local import linkserver

    home = home_of(args)
    port = args.port or linkserver.serve_port(home)
    if not 0 < port < 65536:
        raise InputError(f"--port {port} : un numéro de port entre 1 et 65535 est attendu")
    url = linkserver.public_url(home, port)
    saved = linkserver.public_url(home)

    def adjust(settings):  # the port is saved only once it is ours: until then the default URL names another
        return settings.with_(public_url=url) if settings.public_url == saved else settings

    live = Live(args, announce=lambda m: err.print(m), adjust=adjust)
    settings, clients = live.current()
    try:
        server = linkserver.make_server(settings, clients, port=port, call=linkserver.web_call(live.current))
    except OSError as exc:
        raise InputError(f"le port {port} n’est pas disponible ({exc.strerror}) : convier serve --port AUTRE "
                         "(les campagnes créées ensuite pointeront vers ce port)") from None
    linkserver.save_port(home, port)
    console.print(f"liens servis sur {url}")
    if settings.public_url and settings.public_url != url:
        err.print(f"[yellow]attention[/] : les e-mails pointent vers {settings.public_url} (CONVIER_PUBLIC_URL)")
    console.print("Ctrl-C pour arrêter. Les envois programmés et les e-mails « place libérée » partent d’ici.")
    _background_worker(live.current)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("serveur de liens arrêté")
    finally:
        server.server_close()
    return 0


def _background_worker(current, every: float = 15.0) -> None:
    """The embedded default's worker beside the links server: fires due schedules, sends what is queued.
    `current()` gives the settings and clients of the moment (new ones after the embedded server restarts)."""
    import logging
    import threading

    from convier.cli.campaign import outbox_hook
    from convier.local.worker import tick
    from convier.services.sending import sender_for

    made: dict = {}
    stop = threading.Event()

    def sender():
        settings, clients = current()
        if made.get("clients") is not clients:
            made.update(clients=clients, sender=sender_for(settings, clients, on_sent=outbox_hook(settings)))
            made["sender"].pause_delay = 2
        return made["sender"]

    def loop():
        while not stop.wait(every):
            try:
                tick(sender())
            except Exception:  # noqa: BLE001 - the worker keeps going; the log has the detail
                logging.getLogger("convier.worker").exception("local worker turn failed")

    threading.Thread(target=loop, daemon=True, name="convier-worker").start()


def cmd_export(args, console, err) -> int:
    from convier.cli.target import resolve
    from convier.domain.exports import write_csv, write_csv_file
    from convier.services import campaigns, rsvp

    settings, clients = resolve(args)
    campaign = campaigns.require(clients, settings, args.id)
    header, rows = rsvp.export_rows(clients.dynamodb, settings.table, campaign)
    from convier.cli import journal

    journal.note(list_name=campaign.list_name, detail=f"réponses : {len(rows)} lignes")
    if args.out and args.out != "-":
        write_csv_file(args.out, header, rows)
        answered = sum(1 for r in rows if r[4])
        err.print(f"{len(rows)} abonnés exportés dans {args.out}, dont {answered} avec une réponse")
    else:
        write_csv(sys.stdout, header, rows)
    return 0


def cmd_show(args, console, err) -> int:
    from rich.table import Table

    from convier.cli.target import resolve
    from convier.domain.answers import ANSWER_FR, rank_fr
    from convier.domain.segments import SEGMENT_FR, SEGMENTS
    from convier.services import answers
    from convier.web.pages import french_moment

    settings, clients = resolve(args)
    view = answers.show(clients, settings, args.id, repair=True)
    c, counts = view.campaign, view.counts
    places = f" · places : {view.confirmed} / {c.capacity}" if c.capacity else " · sans limite de places"
    console.print(f"Réponses à « {c.title or c.template.subject} » ({c.id}) : {len(view.people)} invités{places}",
                  soft_wrap=True)
    console.print(" · ".join(f"{SEGMENT_FR[name]} : {counts[name]}" for name in SEGMENTS), soft_wrap=True)
    for name in SEGMENTS:
        people = view.segment(name)
        if not people:
            continue
        table = Table(title=f"{SEGMENT_FR[name].capitalize()} ({len(people)})", title_justify="left")
        for col in (["Rang"] if name == "waiting" else []) + ["Nom", "Adresse", "Réponse le", "Historique"]:
            table.add_column(col)
        for p in people:
            history = " → ".join(f"{ANSWER_FR.get(h.get('answer'), h.get('answer'))}"
                                 f"{' (attente)' if h.get('place') == 'waiting' else ''}"
                                 f"{' (place libérée)' if h.get('note') == 'place libérée' else ''}"
                                 f" {french_moment(h.get('at', ''))}" for h in p.rsvp.history)
            if p.promoted_at:
                history += (f" · e-mail « place libérée » envoyé le {french_moment(p.told_at)}" if p.told_at
                            else " · e-mail « place libérée » pas encore envoyé")
            if p.status and p.status != "subscribed":
                history += f" · {p.status}"
            row = [p.name, p.email, french_moment(p.rsvp.at) if p.rsvp.at else "", history]
            table.add_row(*([rank_fr(p.rsvp.position or 0)] if name == "waiting" else []), *row)
        console.print(table)
    return 0


def cmd_capacity(args, console, err) -> int:
    from convier.cli.target import resolve
    from convier.services import answers

    settings, clients = resolve(args)
    promoted = answers.set_capacity(clients, settings, args.id, args.places)
    from convier.cli import journal

    journal.note(detail=f"{args.places} places" + (f", {len(promoted)} de la liste d’attente confirmés"
                                                   if promoted else ""))
    console.print(f"Capacité de {args.id} : {args.places} places")
    if promoted:
        console.print(f"{len(promoted)} personnes de la liste d’attente ont reçu une place ; "
                      "l’e-mail « Une place s’est libérée » leur part maintenant")
        if not settings.campaign_function:
            from convier.cli.campaign import send_with_progress
            from convier.store.records import promotion_of

            send_with_progress(promotion_of(args.id), settings, clients, console, len(promoted))
    return 0


def register(sub, console, err) -> None:
    def bind(fn):
        return lambda args: fn(args, console, err)

    s = sub.add_parser("serve", help="sert les liens des e-mails (réponses, agenda, désinscription) en local")
    s.add_argument("--port", type=int, metavar="N",
                   help="port d’écoute sur 127.0.0.1 (défaut : le dernier choisi, sinon 8025) ; "
                        "les campagnes créées ensuite pointent vers lui")
    s.set_defaults(func=bind(cmd_serve))
    r = sub.add_parser("rsvps", help="réponses aux invitations")
    rs = r.add_subparsers(dest="rsvps_command", required=True, metavar="ACTION")
    e = rs.add_parser("export", help="CSV des abonnés avec leur réponse, son heure, la liste d’attente")
    e.add_argument("id", metavar="ID", help="identifiant de la campagne")
    e.add_argument("--out", metavar="FICHIER", help="fichier CSV (défaut : la sortie standard)")
    e.set_defaults(func=bind(cmd_export), audit="export")
    w = rs.add_parser("show", help="les réponses par segment (effectifs, capacité), la liste d’attente dans "
                                   "l’ordre, l’historique de chacun")
    w.add_argument("id", metavar="ID", help="identifiant de l’invitation (ou d’un de ses suivis)")
    w.set_defaults(func=bind(cmd_show))
    k = rs.add_parser("capacity", help="change le nombre de places ; en plus, la liste d’attente avance et "
                                       "chacun est prévenu")
    k.add_argument("id", metavar="ID", help="identifiant de l’invitation")
    k.add_argument("places", metavar="N", type=int, help="nombre de places")
    k.set_defaults(func=bind(cmd_capacity), audit="capacity")
