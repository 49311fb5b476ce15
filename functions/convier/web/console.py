"""The staff console's pages: Jinja2 templates in templates/console/ (package data), DSFR look, French,
working without JavaScript. Pure: values in, HTML out; the handler decides which page and calls services.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from importlib import resources

from convier.domain import dates
from convier.domain.segments import SEGMENT_FR, SEGMENTS
from convier.store import records
from convier.store.subscribers import STATUS_FR as SUBSCRIBER_STATUS_FR

BASE = "/console"
STATUS_FR = records.STATUS_FR
STATUS_BADGE = {records.DRAFT: "info", records.SENDING: "new", records.PAUSED: "warning",
                records.CANCELLED: "error", records.DONE: "success"}
ANSWERS_FR = {"yes": "Je participe", "no": "Je ne participe pas", "maybe": "Peut-être"}
KIND_FR = {records.INVITATION: "Invitation", records.FOLLOWUP: "Suivi", records.PROMOTION: "Places libérées",
           records.UPDATE: "Information de changement", records.CANCELLATION: "Annulation"}

# One small script of its own (progress refresh), styles and fonts from the function itself; frames only from
# the console (the e-mail preview).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
                               "font-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
# The e-mail shown inside the preview frames: its own styles and images, no script, no form, no top navigation.
PREVIEW_HEADERS = {
    "Content-Security-Policy": "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
                               "style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".woff2": "font/woff2",
                ".svg": "image/svg+xml"}


@lru_cache(maxsize=1)
def environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("convier.templates", "console"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["moment"] = french_moment
    env.filters["number"] = french_number
    env.globals.update(base=BASE, static=static_base(), STATUS_FR=STATUS_FR, STATUS_BADGE=STATUS_BADGE,
                       SUBSCRIBER_STATUS_FR=SUBSCRIBER_STATUS_FR, ANSWERS_FR=ANSWERS_FR, SEGMENTS=SEGMENTS,
                       SEGMENT_FR=SEGMENT_FR, KIND_FR=KIND_FR)
    return env


def render(template: str, **context) -> str:
    context.setdefault("staff", None)
    context.setdefault("csrf", "")
    context.setdefault("notice", "")
    context.setdefault("section", "")
    return environment().get_template(template).render(**context)


def french_number(value) -> str:
    """1 234 (narrow no-break space between thousands, as French typography wants)."""
    try:
        return f"{int(value):,}".replace(",", "\u202f")
    except (TypeError, ValueError):
        return str(value)


def french_moment(stamp) -> str:
    """'24 janv. 2023, 10 h 05' (Paris time); empty for nothing."""
    if not stamp:
        return ""
    try:
        moment = stamp if isinstance(stamp, dt.datetime) else dt.datetime.fromisoformat(str(stamp))
        moment = dates.paris(moment)
    except (TypeError, ValueError):
        return str(stamp)
    return f"{dates.day_number(moment.day)} {dates.MONTHS[moment.month - 1]} {moment.year} à {moment:%H} h {moment:%M}"


# --- static files (DSFR) ------------------------------------------------------------------------

def _static_root():
    return resources.files("convier.templates") / "console" / "static"


@lru_cache(maxsize=1)
def static_version() -> str:
    """A short hash of the files pages link: their address changes with them, so they can be cached for a year."""
    digest = hashlib.sha256()
    for name in ("dsfr.min.css", "console.css", "console.js"):
        digest.update(_static_root().joinpath(name).read_bytes())
    return digest.hexdigest()[:10]


def static_base() -> str:
    return f"{BASE}/static/{static_version()}"


@lru_cache(maxsize=64)
def static_file(path: str) -> tuple[bytes, str] | None:
    """(content, type) of a file under static/, or None (no path outside it, only known types)."""
    parts = path.split("/")
    if not path or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    suffix = "." + parts[-1].rsplit(".", 1)[-1] if "." in parts[-1] else ""
    if suffix not in STATIC_TYPES:
        return None
    node = _static_root().joinpath(*parts)
    if not node.is_file():
        return None
    return node.read_bytes(), STATIC_TYPES[suffix]


# --- what pages show ------------------------------------------------------------------------------

def progress(st) -> dict:
    """Counters, rate and expected end of a send, from a campaigns.Status."""
    audience = st.audience
    done = st.done
    remaining = max(0, audience - done)
    eta = ""
    if st.rate > 0 and remaining and st.campaign.status == records.SENDING:
        end = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=remaining / st.rate)
        eta = french_moment(end)
    percent = int(100 * done / audience) if audience else 0
    return {"audience": audience, "done": done, "remaining": remaining, "percent": min(100, percent),
            "eta": eta, "rate": f"{st.rate:.1f}".replace(".", ","),
            "running": st.campaign.status == records.SENDING and not st.finished}


def event_fields(event: dict) -> dict:
    """A stored event → the form's values (Paris date and time)."""
    out = {}
    for key in ("start", "end"):
        value = event.get(key)
        if value:
            try:
                moment = dates.paris(dt.datetime.fromisoformat(value))
                out[f"{key}_date"], out[f"{key}_time"] = f"{moment:%Y-%m-%d}", f"{moment:%H:%M}"
            except (TypeError, ValueError):
                pass
    for key in ("place", "address", "online_url"):
        out[key] = event.get(key) or ""
    return out


def schedule_fields(moment: str) -> dict:
    """A stored moment (ISO) or a suggestion (« 2030-01-23 10:00 », Paris) → the schedule form's date and time."""
    if not moment:
        return {"date": "", "time": ""}
    try:
        found = dates.send_moment(moment)  # typed, Paris time
    except ValueError:
        found = dates.parse_moment(moment)  # stored, with its offset
    if found is None:
        return {"date": "", "time": ""}
    found = dates.paris(found)
    return {"date": f"{found:%Y-%m-%d}", "time": f"{found:%H:%M}"}


def campaign_tree(rows: list[dict]) -> list[dict]:
    """The campaigns list: each invitation (newest first) followed by its follow-ups (oldest first), marked
    `child`; a follow-up whose invitation is gone stays on its own."""
    invitations = {r["id"] for r in rows if not r.get("parent")}
    children: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("parent") in invitations:
            children.setdefault(r["parent"], []).append(r)
    out = []
    for r in rows:
        if r.get("parent") in invitations:
            continue
        out.append({**r, "child": False})
        out += [{**c, "child": True} for c in sorted(children.get(r["id"], []), key=lambda c: c.get("created_at", ""))]
    return out


def settings_fields(campaign) -> dict:
    """An invitation as it is now → the « Modifier » form's values (what staff see is what the e-mail says)."""
    t = campaign.template
    return {"list": campaign.list_name, "subject": t.subject, "sender": t.sender, "reply_to": t.reply_to or "",
            "capacity": str(campaign.capacity or ""), **event_fields(campaign.event or {}),
            **{f"answer_{a}": "1" for a in campaign.answers}}
