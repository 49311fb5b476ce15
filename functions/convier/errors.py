"""The one error type the shell turns into a clean message and a non-zero exit, and OS errors in French."""

from __future__ import annotations

import errno


class InputError(ValueError):
    """Bad input from staff: the message names the file, line or field, in French."""


_OS_FR = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EISDIR: "c’est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n’est pas un dossier",
    errno.EACCES: "accès refusé (droits du fichier ou du dossier)",
    errno.EPERM: "opération non permise",
    errno.EEXIST: "existe déjà",
    errno.ENOSPC: "disque plein",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ELOOP: "trop de liens symboliques",
    errno.EIO: "erreur d’entrée-sortie du disque",
    errno.EADDRINUSE: "adresse déjà utilisée",
    errno.ECONNREFUSED: "connexion refusée",
}


def os_reason(exc: OSError) -> str:
    """What the system said, in French (`strerror` is in the machine's language, usually English)."""
    return _OS_FR.get(exc.errno, f"erreur système n° {exc.errno}" if exc.errno else type(exc).__name__)


def os_error(path, exc: OSError, doing: str = "lecture impossible") -> InputError:
    """`chemin, ligne 1 : lecture impossible : fichier ou dossier introuvable`."""
    return InputError(f"{path}, ligne 1 : {doing} : {os_reason(exc)}")


class Notice(str):
    """A warning staff read before sending, as data for checks: `kind`, `message`, the file `line` (or None).

    It is also the text shown (« ligne 12 : … »), so it prints, compares and stores like a string."""

    kind: str
    message: str
    line: int | None

    def __new__(cls, kind: str, message: str, line: int | None = None):
        self = super().__new__(cls, f"ligne {line} : {message}" if line else message)
        self.kind, self.message, self.line = kind, message, line
        return self

    def __reduce__(self):
        return (Notice, (self.kind, self.message, self.line))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "line": self.line}

    @classmethod
    def from_value(cls, value) -> Notice:
        """From a stored dict, a Notice, or a plain string (records written before notices existed)."""
        if isinstance(value, Notice):
            return value
        if isinstance(value, dict):
            return cls(value.get("kind") or "autre", value.get("message") or "", value.get("line"))
        return cls("autre", str(value))
