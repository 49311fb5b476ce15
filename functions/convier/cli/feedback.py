"""Command `feedback replay`: the SES events the feedback function could not apply (see services.feedback_replay)."""

from __future__ import annotations


def cmd_replay(args, console, err) -> int:
    import json
    from pathlib import Path

    from convier.cli.target import resolve, stack_outputs
    from convier.services import feedback_replay

    settings, clients = resolve(args, announce=lambda message: err.print(f"[dim]{message}[/]"))
    queue_url = args.queue_url
    if not queue_url:
        outputs = {}
        if getattr(args, "stack_outputs", None):
            data = json.loads(Path(args.stack_outputs).read_text(encoding="utf-8"))
            outputs = data if isinstance(data, dict) else {o["OutputKey"]: o["OutputValue"] for o in data}
        elif settings.stack:
            outputs = stack_outputs(clients.client("cloudformation"), settings.stack)
        queue_url = feedback_replay.failure_queue_url(outputs, settings.stack)
    report = feedback_replay.replay(clients, settings, queue_url, limit=args.limit)
    from convier.cli import journal

    journal.note(detail=f"{report.replayed} retour(s) rejoué(s), {report.suppressed} adresse(s) supprimée(s), "
                        f"{len(report.failed)} non appliqué(s)")
    outcomes = ", ".join(f"{name} {n}" for name, n in sorted(report.outcomes.items())) or "aucun"
    console.print(f"{report.replayed} retour(s) rejoué(s) et retiré(s) de la file ; résultats : {outcomes} ; "
                  f"{report.suppressed} adresse(s) supprimée(s)")
    for message_id, reason in report.failed:
        err.print(f"[red]message {message_id} non appliqué[/] : {reason} (laissé dans la file, "
                  f"de nouveau disponible dans {feedback_replay.RETRY_AFTER // 60} min)")
    return 1 if report.failed else 0


def register(sub, console, err) -> None:
    p = sub.add_parser("feedback", help="retours SES (rebonds, plaintes) que la fonction n'a pas pu appliquer")
    feedback_sub = p.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    r = feedback_sub.add_parser("replay", help="rejoue les retours de la file d'échecs de la pile, "
                                "retire chacun une fois appliqué (après l'alarme FeedbackFailureAlarm)")
    r.add_argument("--queue-url", metavar="URL", help="la file (défaut : sortie FeedbackFailureQueueUrl de --stack)")
    r.add_argument("--limit", type=int, metavar="N", help="au plus N messages")
    r.set_defaults(func=lambda args: cmd_replay(args, console, err), audit="replay")
