"""Commands `lists import|export|show`, `subscribers forget`, `local status|stop|reset`: parse → core → print."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

PROGRESS_AFTER = 2.0  # seconds: an import that takes longer shows its progress
PROGRESS_EVERY = 5.0  # seconds between two progress lines when stderr is not a terminal


def _resolve(args):
    from convier.cli.target import resolve

    return resolve(args, announce=lambda message: err.print(f"[dim]{message}[/]"))


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# --- lists import -------------------------------------------------------------------------------

def cmd_import(args) -> int:
    from convier.inputs import listfile
    from convier.services import lists

    with err.status(f"lecture de {args.file}…"):  # shown on a terminal only
        parsed = listfile.read(args.file)  # InputError before anything is written
    if not parsed.rows:  # header only or every line rejected: say why, create nothing
        print_import(lists.ImportReport(args.list, parsed))
        err.print(f"[red]erreur[/] : {lists.nothing_to_import(args.list, parsed)}")
        return 1
    settings, clients = _resolve(args)
    source = f"fichier {Path(args.file).name}"
    with _progress(len(parsed.rows)) as progress:
        report = lists.import_list(clients, settings, args.list, parsed, source=source, progress=progress)
    from convier.cli import journal

    journal.note(detail=f"{Path(args.file).name} : {report.added} ajoutés, {report.updated} mis à jour, "
                        f"{report.rejected} rejetés")
    print_import(report)
    return 0


class _progress:
    """Progress of the writes once an import has taken more than PROGRESS_AFTER seconds: a rich bar on a
    terminal, otherwise a line on stderr every PROGRESS_EVERY seconds (logs of a script)."""

    def __init__(self, rows: int, clock=None):
        import time

        self.clock = clock or time.monotonic
        self.started = self.clock()
        self.rows, self.total, self.done, self.bar, self.last_line = rows, rows, 0, None, None

    def __enter__(self):
        return self

    def _late(self) -> bool:
        return self.clock() - self.started >= PROGRESS_AFTER

    def __call__(self, total: int | None = None, advance: int = 0) -> None:
        from convier.domain.dates import number

        if total is not None:
            self.total = max(total, 1)
        self.done += advance
        if not self._late():
            return
        if err.is_terminal:
            if self.bar is None:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

                self.bar = Progress(TextColumn("écriture"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                    console=err, transient=True)
                self.task = self.bar.add_task("import", total=self.total, completed=self.done)
                self.bar.start()
            self.bar.update(self.task, total=self.total, completed=self.done)
        elif self.last_line is None or self.clock() - self.last_line >= PROGRESS_EVERY:
            self.last_line = self.clock()
            err.print(f"import : {number(self.done)} / {number(self.total)} abonnés écrits…")

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()


def print_import(report) -> None:
    f = report.file
    console.print(f"Import de [bold]{f.name}[/] dans la liste [bold]{report.list_name}[/] "
                  f"({f.encoding}, séparateur {_separator(f.delimiter)}, {_plural(f.records, 'ligne')} de données) :")
    from convier.domain.dates import number

    console.print(f"  ajoutés : {number(report.added)}")
    console.print(f"  mis à jour : {number(report.updated)}")
    console.print(f"  inchangés : {number(report.unchanged)}")
    console.print(f"  doublons dans le fichier : {number(report.duplicated)}")
    console.print(f"  rejetés : {number(report.rejected)}")
    for r in f.rejected:
        console.print(f"    [red]ligne {r.line}[/] : {r.reason}")
    for d in f.duplicates:
        console.print(f"    ligne {d.line} : doublon de la ligne {d.first_line}, ignorée")
    for line, status in report.kept_status:
        console.print(f"    ligne {line} : adresse {_status(status)}, elle le reste (pas de réinscription par import)")
    for line in report.suppressed:
        console.print(f"    ligne {line} : adresse bloquée après un rebond ou une plainte, ajoutée sans envoi possible")
    for line in report.opted_out:
        console.print(f"    ligne {line} : adresse désinscrite avant son effacement, ajoutée désinscrite "
                      "(pas de réinscription par import)")
    for line, warning in f.warnings:
        console.print(f"    ligne {line} : {warning}")


def _separator(d: str) -> str:
    return {",": "virgule", ";": "point-virgule", "\t": "tabulation", "|": "barre verticale"}.get(d, repr(d))


def _status(status: str) -> str:
    from convier.store.subscribers import STATUS_FR

    return STATUS_FR.get(status, status)


# --- lists export / show --------------------------------------------------------------------------

def cmd_export(args) -> int:
    from convier.services import lists

    settings, clients = _resolve(args)
    from convier.domain.exports import write_csv, write_csv_file

    header, rows = lists.export_list(clients, settings, args.list)
    from convier.cli import journal

    journal.note(detail=f"{len(rows)} abonnés")
    if args.out and args.out != "-":
        write_csv_file(args.out, header, rows)
        err.print(f"{_plural(len(rows), 'abonné')} exporté(s) dans {args.out}")
    else:
        write_csv(sys.stdout, header, rows)
    return 0


def cmd_show(args) -> int:
    from convier.domain.dates import number, short_moment
    from convier.services import lists
    from convier.store import subscribers

    settings, clients = _resolve(args)
    found = lists.show_lists(clients, settings, args.list)
    if not found:
        console.print("Aucune liste. Importez-en une : convier lists import NOM FICHIER.csv")
        return 0
    table = Table(title="Listes de diffusion")
    table.add_column("liste")
    for status in subscribers.STATUSES:
        table.add_column(subscribers.STATUS_FR[status], justify="right")
    table.add_column("total", justify="right")
    table.add_column("dernier import")
    for summary in found:
        table.add_row(summary.name, *(number(summary.counts.get(s, 0)) for s in subscribers.STATUSES),
                      number(summary.total),
                      f"{short_moment(summary.last_import_at)} {summary.last_import_source}".strip())
    console.print(table)
    return 0


def cmd_recount(args) -> int:
    from convier.cli import journal
    from convier.domain.dates import number
    from convier.services import lists
    from convier.store import subscribers

    settings, clients = _resolve(args)
    found = lists.recount_lists(clients, settings, args.list)
    journal.note(detail=f"{len(found)} liste(s), corrigée(s) : "
                        + (", ".join(done.name for done in found if done.repaired) or "aucune"))
    for done in found:
        counts = ", ".join(f"{subscribers.STATUS_FR.get(s, s)} {number(n)}" for s, n in done.counted.items())
        repaired = ", ".join(f"{subscribers.STATUS_FR.get(s, s)} {d:+d}" for s, d in done.repaired.items())
        console.print(f"{done.name} : {counts} ; " + (f"effectifs corrigés ({repaired})" if repaired
                                                      else "effectifs exacts"))
    return 0


# --- subscribers forget ---------------------------------------------------------------------------

def cmd_forget(args) -> int:
    from convier.cli.target import local_erasers
    from convier.services import lists

    address = lists.erasable_address(args.email)  # refused before anything starts (InputError: exit 2)
    settings, clients = _resolve(args)
    done = lists.forget_address(clients, settings, address, erasers=local_erasers(settings))
    from convier.cli import journal

    journal.note(detail=f"abonné {done.sid[:8]}… : {len(done.lists)} listes, "  # the action, never the address
                        f"{len(done.campaign_records)} enregistrements de campagne")
    if not done.anything:
        console.print("Cette adresse n'apparaît nulle part : rien à effacer.")
        return 0
    sends = [c for c, kind in done.campaign_records if kind == "SEND"]
    answers = [c for c, kind in done.campaign_records if kind == "RSVP"]
    console.print(f"Effacé pour l'abonné {done.sid} :")
    console.print(f"  listes : {_plural(len(done.lists), 'abonnement')} supprimé(s)"
                  + (f" ({', '.join(done.lists)})" if done.lists else ""))
    for name in done.lists:
        console.print(f"    liste {name} : abonnement et consentement supprimés")
    console.print(f"  campagnes : {_plural(len(sends), 'enregistrement')} d'envoi, "
                  f"{_plural(len(answers), 'réponse')} supprimé(s)")
    for campaign_id, kind in done.campaign_records:
        what = "envoi" if kind == "SEND" else "réponse"
        console.print(f"    campagne {campaign_id} : enregistrement d'{what} supprimé")
    for campaign_id, place in done.places_freed:
        what = "place confirmée libérée" if place == "confirmed" else "place en liste d'attente retirée"
        console.print(f"    campagne {campaign_id} : {what}")
    if done.promoted:
        console.print(f"  liste d'attente : {_plural(len(done.promoted), 'personne')} a (ont) reçu la place libérée")
    if done.opt_out:
        console.print(f"  désinscription ({_status(done.opt_out)}) conservée comme blocage, par identifiant seul "
                      "(sans adresse) : un nouvel import ne réinscrira pas cette adresse")
    elif done.suppression:
        console.print("  blocage (rebond ou plainte) supprimé")
    for (where, unit, what), count in done.elsewhere.items():
        console.print(f"  {where} : {_plural(count, unit)} {what}")
    return 0


def cmd_unsubscribe(args) -> int:
    from convier.errors import InputError
    from convier.services import lists

    settings, clients = _resolve(args)
    done = lists.unsubscribe_address(clients, settings, args.email, list_name=args.list)
    from convier.cli import journal

    journal.note(detail=f"abonné {done.sid[:8]}… : " + (", ".join(done.changed) or "rien à changer"))
    for name in done.changed:
        console.print(f"Désinscrit de la liste « {name} » (abonné {done.sid}) : aucun envoi ne lui part plus.")
    for name, status in done.already:
        console.print(f"Liste « {name} » : déjà {_status(status)}, rien à changer.")
    if not done.changed and not done.already:
        where = f"dans la liste « {args.list} »" if args.list else "dans aucune liste"
        raise InputError(f"l’adresse {args.email} n’est inscrite {where} (voir convier lists export)")
    return 0


# --- local ----------------------------------------------------------------------------------------

def cmd_local_status(args) -> int:
    from convier.cli.target import home_of
    from convier.local import embedded

    s = embedded.status(home_of(args))
    console.print(f"Dossier d'état : {s['home']}")
    if s["running"]:
        console.print(f"Serveur local : en marche sur {s['endpoint']} (pid {s['pid']})")
    else:
        console.print("Serveur local : arrêté (il démarre à la prochaine commande)")
    console.print(f"Requêtes enregistrées : {s['recorded_requests']} ({s['recording_bytes'] // 1024} Kio)")
    console.print(f"Clés : {'présentes' if s['keys'] else 'pas encore créées'}")
    console.print(f"Boîte d'envoi : {_plural(s['outbox_files'], 'fichier')}")
    return 0


def cmd_local_stop(args) -> int:
    from convier.cli.target import home_of
    from convier.local import embedded

    info = embedded.stop_server(home_of(args))
    if info:
        console.print(f"Serveur local arrêté (pid {info['pid']}, port {info['port']}). Les données restent ; "
                      "la prochaine commande le redémarre.")
    else:
        console.print("Aucun serveur local en marche.")
    return 0


def cmd_local_reset(args) -> int:
    from convier.cli.target import home_of
    from convier.local import embedded

    home = home_of(args)
    files = [p for p in embedded.state_files(home) if p.name != embedded.LOCK_FILE]
    if not files:
        console.print(f"Rien à effacer dans {home}.")
        return 0
    console.print(f"Effacement de l'état local ({home}) : listes, abonnés, campagnes, réponses, clés de "
                  "signature (les liens déjà envoyés ne fonctionneront plus) et boîte d'envoi :")
    for path in files:
        console.print(f"  {path}{'/' if path.is_dir() else ''}")
    if not args.yes:
        if not sys.stdin.isatty():  # a script: nothing is erased without an explicit --yes
            console.print("Rien n'a été effacé : confirmez avec convier local reset --yes.")
            return 1
        try:
            answer = console.input("Tout effacer ? Tapez « oui » pour confirmer : ").strip().lower()
        except EOFError:
            answer = ""
        if answer not in ("o", "oui", "y", "yes"):
            console.print("Rien n'a été effacé.")
            return 1
    embedded.reset(home)
    console.print("Serveur arrêté, état effacé.")
    return 0


# --- registration -----------------------------------------------------------------------------------

def add_global_options(p) -> None:
    """Where commands work; on the top-level parser."""
    p.add_argument("--endpoint-url", metavar="URL",
                   help="un serveur compatible AWS existant (ex. moto) ; sinon le serveur local par défaut")
    p.add_argument("--stack", metavar="NOM",
                   help="une pile déployée sur AWS (sam deploy) : ses sorties désignent table, files, fonctions")
    p.add_argument("--stack-outputs", metavar="FICHIER", help=argparse.SUPPRESS)  # the stack's outputs as JSON
    p.add_argument("--home", metavar="DOSSIER",
                   help="dossier d'état du serveur local (défaut : $CONVIER_HOME ou ./.convier)")


def register(sub) -> None:
    lists_p = sub.add_parser("lists", help="listes de diffusion : import, export, effectifs")
    lists_sub = lists_p.add_subparsers(dest="lists_command", required=True, metavar="ACTION")
    p = lists_sub.add_parser("import", help="importe un fichier CSV (virgule, point-virgule ou tabulation)")
    p.add_argument("list", metavar="LISTE", help="nom de la liste (créée si besoin)")
    p.add_argument("file", metavar="FICHIER", help="fichier CSV avec une colonne email / courriel")
    p.set_defaults(func=cmd_import, audit="import")
    p = lists_sub.add_parser("export", help="exporte une liste en CSV (adresse, noms, statut, attributs, consentement)")
    p.add_argument("list", metavar="LISTE", help="nom de la liste à exporter")
    p.add_argument("--out", metavar="FICHIER", help="fichier de sortie (défaut : sortie standard)")
    p.set_defaults(func=cmd_export, audit="export")
    p = lists_sub.add_parser("show", help="effectifs par statut d'une liste, ou de toutes")
    p.add_argument("list", metavar="LISTE", nargs="?", help="une liste (défaut : toutes)")
    p.set_defaults(func=cmd_show)
    p = lists_sub.add_parser("recount", help="recompte les abonnés d'une liste (ou de toutes) et corrige ses effectifs")
    p.add_argument("list", metavar="LISTE", nargs="?", help="une liste (défaut : toutes)")
    p.set_defaults(func=cmd_recount, audit="recount")

    subs_p = sub.add_parser("subscribers", help="abonnés : désinscription, effacement (RGPD)")
    subs_sub = subs_p.add_subparsers(dest="subscribers_command", required=True, metavar="ACTION")
    p = subs_sub.add_parser("forget", help="efface une adresse de toutes les listes et de toutes les campagnes")
    p.add_argument("email", metavar="ADRESSE", help="l’adresse électronique à effacer partout")
    p.set_defaults(func=cmd_forget, audit="erase")
    p = subs_sub.add_parser("unsubscribe", help="désinscrit une adresse (demande reçue par courriel ou autrement), "
                                                "comme son lien de désinscription")
    p.add_argument("email", metavar="ADRESSE", help="l’adresse électronique à désinscrire")
    p.add_argument("--list", metavar="LISTE", help="une seule liste (défaut : toutes les listes où elle figure)")
    p.set_defaults(func=cmd_unsubscribe, audit="unsubscribe")

    local_p = sub.add_parser("local", help="le serveur local par défaut (moto) et son dossier d'état")
    local_sub = local_p.add_subparsers(dest="local_command", required=True, metavar="ACTION")
    p = local_sub.add_parser("status", help="état du serveur local")
    p.set_defaults(func=cmd_local_status)
    p = local_sub.add_parser("stop", help="arrête le serveur local (les données restent)")
    p.set_defaults(func=cmd_local_stop)
    p = local_sub.add_parser("reset", help="arrête le serveur local et efface tout son état")
    p.add_argument("--yes", "-y", action="store_true", help="efface sans demander confirmation (scripts)")
    p.set_defaults(func=cmd_local_reset)
