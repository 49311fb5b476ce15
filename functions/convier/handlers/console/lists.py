"""Listes: the lists with their counts, import with a per-line report, export, find a subscriber, erase."""

from __future__ import annotations

from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from convier.errors import InputError
from convier.handlers.console.kit import MAX_BODY, Kit
from convier.services import lists
from convier.web.auth import ENVOI, AuthError, Staff


def register(kit: Kit) -> None:
    app, base, clients, settings = kit.app, kit.base, kit.clients, kit.settings

    @app.get(f"{base}/listes")
    def list_index():
        who = kit.current()
        return kit.page("lists.html.j2", who, section="listes", rows=lists.show_lists(clients, settings))

    def list_page(who: Staff, name: str, status: int = 200, **context) -> Response:
        try:
            summary, = lists.show_lists(clients, settings, name)
        except InputError:
            raise NotFoundError() from None
        return kit.page("list.html.j2", who, status=status, section="listes", name=name, summary=summary, **context)

    @app.get(f"{base}/listes/<name>")
    def list_show(name: str):
        return list_page(kit.current(), name)

    @app.post(f"{base}/listes")
    def list_import():
        from convier.inputs import listfile

        who, form = kit.post_form(MAX_BODY)
        name = form.get("list").strip()
        upload = form.files.get("file")
        try:
            if not name:
                raise InputError("« Nom de la liste » : indiquez le nom de la liste")
            if not upload or not upload[1]:
                raise InputError("« Fichier » : choisissez un fichier CSV")
            parsed = listfile.parse(upload[1], upload[0] or "fichier.csv")
            report = lists.import_list(clients, settings, name, parsed, source=f"console, fichier {upload[0]}")
        except InputError as exc:
            return kit.page("lists.html.j2", who, status=400, section="listes",
                            rows=lists.show_lists(clients, settings), error=str(exc), list_name=name)
        kit.note(who, "import", list_name=name, detail=f"{upload[0]} : {report.added} ajoutés, {report.updated} mis "
                 f"à jour, {report.rejected} rejetés")
        return list_page(who, name, report=report)

    @app.get(f"{base}/listes/<name>/export.csv")
    def list_export(name: str):
        who = kit.current()
        try:
            header, rows = lists.export_list(clients, settings, name)
        except InputError:
            raise NotFoundError() from None
        kit.note(who, "export", list_name=name, detail=f"{len(rows)} abonnés")
        return kit.download(f"liste-{name}.csv", lists.export_text(header, rows))

    @app.get(f"{base}/abonnes")
    def subscriber_find():
        who = kit.current()
        address = kit.query("adresse").strip()
        found = lists.find(clients, settings, address) if address else None
        return kit.page("subscriber.html.j2", who, section="listes", address=address, found=found)

    @app.get(f"{base}/abonnes/effacer")
    def erase_confirm():
        who = kit.current()
        who.require(ENVOI)
        address = kit.query("adresse").strip()
        return kit.page("confirm.html.j2", who, section="listes", title="Effacer cet abonné partout",
                        what=f"L’adresse {address} sera effacée de toutes les listes, de tous les envois et de toutes "
                             "les réponses. C’est définitif ; le journal garde l’action, pas l’adresse.",
                        action=f"{base}/abonnes/effacer", button="Effacer définitivement", danger=True,
                        fields={"adresse": address}, back=f"{base}/abonnes?{urlencode({'adresse': address})}",
                        campaign=None)

    @app.post(f"{base}/abonnes/effacer")
    def erase():
        who, form = kit.post_form()
        who.require(ENVOI)
        address = form.get("adresse")
        if not address:
            raise AuthError(400, "adresse manquante")
        done = lists.forget_address(clients, settings, address, kit.hooks.erasers)
        kit.note(who, "erase", detail=f"abonné {done.sid[:8]}… : {len(done.lists)} listes, "
                 f"{len(done.campaign_records)} enregistrements de campagne")
        return kit.page("erased.html.j2", who, section="listes", done=done)
