"""Journal: the audit log, newest first (who, when, what; never a recipient's address)."""

from __future__ import annotations

from convier.handlers.console.kit import Kit
from convier.services import audit


def register(kit: Kit) -> None:
    @kit.app.get(f"{kit.base}/journal")
    def journal():
        who = kit.current()
        return kit.page("journal.html.j2", who, section="journal", entries=audit.recent(kit.clients, kit.settings),
                        actions=audit.ACTIONS)
