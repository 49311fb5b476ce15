"""`convier console [--port N]`: the staff console on 127.0.0.1, the same handler as the console function.

It prints a one-time sign-in address (valid once, for 10 minutes) on a line of its own and serves until
Ctrl-C. Locally, a send or a resume started from the console is drained by the local worker in the background.
"""

from __future__ import annotations

import threading
from pathlib import Path

DEFAULT_PORT = 8026


def background_sender(settings, clients):
    """The hook the console calls after a send or a resume: the local worker drains the queue in a thread."""
    lock = threading.Lock()

    def run(campaign_id: str) -> None:
        from convier.local.outbox import sent_hook, write_index
        from convier.local.worker import drain
        from convier.services.sending import sender_for

        with lock:  # one drain at a time: a second send waits for the first
            sender = sender_for(settings, clients,
                                on_sent=sent_hook(Path(settings.outbox)) if settings.outbox else None)
            sender.pause_delay = 2
            drain(sender, campaign_id=campaign_id)
            if settings.outbox:
                write_index(Path(settings.outbox) / campaign_id, campaign_id)

    def after_send(campaign_id: str) -> None:
        threading.Thread(target=run, args=(campaign_id,), name=f"envoi-{campaign_id}", daemon=True).start()

    return after_send


def make_console_server(settings, clients, port: int, *, email: str | None = None, current=None):
    """(server, sign-in URL): the console handler behind the links server's machinery, not started.

    `current()` gives the settings and clients of each request (cli.target.Live: new ones after the embedded
    server restarts); the hooks are made again with them."""
    from convier.errors import InputError
    from convier.handlers.console import ConsoleConfig, Hooks, handle
    from convier.local import linkserver
    from convier.services.staff import open_signin

    config = ConsoleConfig.from_env(settings)
    if config.cognito is None and email:
        config.local_email = email
    from convier.cli.target import local_erasers, sender_preparer
    from convier.local.outbox import sent_hook

    current = current or (lambda: (settings, clients))
    made: list = [None]

    def call(event):
        now_settings, now_clients = current()
        hooks = made[0]
        if hooks is None or hooks[0] is not now_clients:
            hooks = made[0] = (now_clients, Hooks(
                after_send=background_sender(now_settings, now_clients), erasers=local_erasers(now_settings),
                prepare_sender=sender_preparer(now_settings),
                on_sent=sent_hook(Path(now_settings.outbox)) if now_settings.outbox else None))
        return handle(event, None, now_settings, now_clients, config, hooks[1])

    try:
        server = linkserver.make_server(settings, clients, port=port, max_read=6 * 1024 * 1024, call=call)
    except OSError as exc:
        raise InputError(f"le port {port} n’est pas disponible ({exc.strerror}) : "
                         "convier console --port AUTRE") from None
    token = open_signin(clients, settings)
    return server, f"http://127.0.0.1:{server.server_address[1]}/console/connexion/{token}"


def cmd_console(args, console, err) -> int:
    from convier.cli.target import Live
    from convier.errors import InputError

    port = DEFAULT_PORT if args.port is None else args.port
    if not 0 <= port < 65536:
        raise InputError(f"--port {port} : un numéro de port entre 1 et 65535 est attendu")
    live = Live(args, announce=lambda m: err.print(m))
    settings, clients = live.current()
    if settings.stack:
        raise InputError("convier console sert la console locale ; sur AWS, ouvrez l’adresse ConsoleUrl de la pile")
    server, url = make_console_server(settings, clients, port, email=args.email, current=live.current)
    console.print("Console locale (adresse de connexion à usage unique, valable 10 minutes) :")
    print(url, flush=True)  # alone on its line, never wrapped
    console.print("Ctrl-C pour arrêter.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("console arrêtée")
    finally:
        server.server_close()
    return 0


def register(sub, console, err) -> None:
    c = sub.add_parser("console", help="la console du personnel dans le navigateur (en local, sur 127.0.0.1)")
    c.add_argument("--port", type=int, metavar="N", help=f"port d’écoute (défaut : {DEFAULT_PORT} ; 0 : un port libre)")
    c.add_argument("--email", metavar="ADRESSE", help="votre adresse, où partent vos e-mails de test "
                                                      "(défaut : vous@exemple.gouv.fr, dans la boîte d’envoi locale)")
    c.set_defaults(func=lambda args: cmd_console(args, console, err))
