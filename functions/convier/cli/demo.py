"""`convier demo`: the whole journey on the embedded default, then the links server until Ctrl-C."""

from __future__ import annotations

import signal
from pathlib import Path

from convier.errors import InputError
from convier.inputs import listfile
from convier.local import embedded, linkserver
from convier.services import campaigns, lists
from convier.store import subscribers

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
DEMO_LIST = "demo"
POST = "seed-journee-cloud-2023.md"
CAMPAIGN_FILE = "campagne-journee-cloud.yaml"


def examples_folder() -> Path:
    if not (EXAMPLES / POST).is_file():
        raise InputError(f"exemples introuvables dans {EXAMPLES} : lancez convier demo depuis une copie du dépôt")
    return EXAMPLES


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run(args, console, err) -> int:
    from convier.cli.campaign import send_with_progress
    from convier.cli.target import Live, home_of, sender_preparer

    folder = examples_folder()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the demo as cleanly as Ctrl-C
    home = home_of(args)
    started_here = not embedded.alive(embedded.read_server(home))
    port = args.port if args.port is not None else linkserver.serve_port(home)
    linkserver.save_port(home, port)
    live = Live(args, announce=lambda m: err.print(m))
    settings, clients = live.current()
    try:
        reused = subscribers.list_exists(clients.dynamodb, settings.table, DEMO_LIST)
        console.print(f"État local : {home} — " + (
            "réutilisé (la liste « demo » existe déjà ; une nouvelle campagne est créée ; "
            "convier local reset pour repartir de zéro)" if reused else "nouveau"))
        for path in sorted(folder.glob("*.csv")):
            report = lists.import_rows(clients.dynamodb, settings.table, DEMO_LIST, listfile.read(path),
                                       clients.keys.id_key, source=f"fichier {path.name}")
            console.print(f"Liste « {DEMO_LIST} » ← {path.name} : {report.added} ajoutés, "
                          f"{report.unchanged} inchangés, {report.rejected} rejetés")
            for rejected in report.file.rejected:
                console.print(f"    ligne {rejected.line} rejetée : {rejected.reason}")
        campaign_file = folder / CAMPAIGN_FILE
        if reused:  # the list got this post already: said, and allowed in a copy of the file, explicitly
            campaign_file = home / "campagne-demo-rejouee.yaml"
            campaign_file.write_text((folder / CAMPAIGN_FILE).read_text(encoding="utf-8").replace(
                "allow: [past_event]", "# La démo rejouée renvoie le même billet à la même liste : autorisé ici.\n"
                "allow: [past_event, already_sent]"), encoding="utf-8")
            console.print(f"La liste « {DEMO_LIST} » a déjà reçu ce billet : la démo le renvoie avec {campaign_file} "
                          "(allow: already_sent)")
        campaign, size = campaigns.create_campaign(clients, settings, post_path=str(folder / POST),
                                                   list_name=DEMO_LIST, campaign_file=str(campaign_file),
                                                   prepare_sender=sender_preparer(settings))
        console.print(f"Campagne {campaign.id} : « {campaign.template.subject} », {size} abonnés")
        started = campaigns.start_send(clients, settings, campaign.id, no_wave=True)
        report = started.report
        console.print(f"Vérification : {report.headline}")
        for problem in report.problems:
            console.print(f"  • {problem.message}" + (" (autorisé par le fichier de campagne)" if problem.allowed
                                                      else ""), markup=False)
        send_with_progress(campaign.id, settings, clients, console, started.enqueued)
        try:
            server = linkserver.make_server(settings, clients, port=port, call=linkserver.web_call(live.current))
        except OSError as exc:
            raise InputError(f"le port {port} est occupé ({exc.strerror}) : convier demo --port AUTRE") from None
        url = linkserver.public_url(home, port)
        console_server, signin_url = _console(live, args.console_port)
        index = (Path(settings.outbox) / campaign.id / "index.html").resolve()
        status = campaigns.status(clients, settings, campaign.id)
        console.print()
        console.print(f"[bold]{status.sent} e-mails envoyés[/] (SES local : rien n’est parti sur Internet).")
        console.print(f"Boîte d’envoi : {index.as_uri()}")
        console.print(f"liens servis sur {url}")
        console.print("Console du personnel (adresse de connexion à usage unique, valable 10 minutes) :")
        print(signin_url, flush=True)  # alone on its line, never wrapped
        console.print()
        console.print("À essayer :")
        console.print("  • ouvrez un e-mail de la boîte d’envoi, cliquez « Je participe », puis changez d’avis ;")
        console.print("  • cliquez « désinscrivez-vous en un clic » en bas d’un e-mail ;")
        console.print(f"  • dans un autre terminal : convier campaign status {campaign.id}")
        console.print(f"  •                          convier rsvps export {campaign.id}")
        console.print("  • ouvrez l’adresse de la console ci-dessus : la campagne, son suivi, les listes, le journal.")
        console.print("Ctrl-C pour arrêter.", highlight=False)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("arrêt de la démo")
        finally:
            server.server_close()
            console_server.shutdown()
            console_server.server_close()
    finally:
        if started_here:
            embedded.stop_server(home)
            console.print("serveur local (moto) arrêté ; l’état reste dans " + str(home))
    return 0


def _console(live, port: int | None):
    """The console beside the links server, in a thread: on its port, or any free one if it is taken."""
    import threading

    from convier.cli.console import DEFAULT_PORT, make_console_server

    settings, clients = live.current()
    try:
        server, url = make_console_server(settings, clients, DEFAULT_PORT if port is None else port,
                                          current=live.current)
    except InputError:
        if port is not None:
            raise
        server, url = make_console_server(settings, clients, 0, current=live.current)
    threading.Thread(target=server.serve_forever, name="console", daemon=True).start()
    return server, url


def register(sub, console, err) -> None:
    d = sub.add_parser("demo", help="tout le parcours en local : liste, campagne, envoi, puis les liens servis")
    d.add_argument("--port", type=int, default=None, help="port du serveur de liens (défaut : celui de convier serve)")
    d.add_argument("--console-port", type=int, default=None, metavar="N",
                   help="port de la console (défaut : 8026, ou un port libre s’il est pris)")
    d.set_defaults(func=lambda args: run(args, console, err))
