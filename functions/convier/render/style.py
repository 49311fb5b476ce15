"""The look of State e-mails (DSFR colours, system fonts), as inline styles.

E-mail clients drop or ignore much of `<style>`; what must survive (buttons,
boxes, quotes, images) is written inline on the element itself.
"""

from __future__ import annotations

import re

BLUE_FRANCE = "#000091"
RED_MARIANNE = "#e1000f"
TEXT = "#161616"
TEXT_MUTED = "#3a3a3a"
GREY_BG = "#f6f6f6"
BLUE_BG = "#f5f5fe"
BORDER = "#dddddd"
FONT = "Arial, Helvetica, sans-serif"

BUTTON = (f"display:inline-block;background-color:{BLUE_FRANCE};color:#ffffff;padding:10px 20px;"
          "margin:6px 0;font-weight:bold;text-decoration:none;border-radius:4px")
BOX = f"background-color:{BLUE_BG};border-left:4px solid {BLUE_FRANCE};padding:12px 16px;margin:16px 0"
QUOTE = f"margin:16px 0;padding:4px 16px;border-left:4px solid {BLUE_FRANCE}"
IMAGE = "max-width:100%;height:auto;border:0"

KNOWN_CLASSES = {"button", "encadre", "lien-important"}

_CLASS = re.compile(r'<(a|div|p|span|blockquote)([^>]*?) class="([^"]*)"([^>]*)>')


def _classes_to_style(match: re.Match) -> str:
    tag, before, classes, after = match.groups()
    names = set(classes.split())
    if "button" in names and tag in ("a", "span"):
        return f'<{tag}{before} style="{BUTTON}"{after}>'
    if names & {"encadre", "lien-important"}:
        return f'<{tag}{before} style="{BOX}"{after}>'
    return f"<{tag}{before}{after}>"


def inline(html: str) -> str:
    """Site classes become inline styles; headings step down under the e-mail's own title."""
    html = _CLASS.sub(_classes_to_style, html)
    html = re.sub(r' class="[^"]*"', "", html)
    html = re.sub(r"<(/?)h1\b", r"<\1h2", html)
    html = html.replace("<blockquote>", f'<blockquote style="{QUOTE}">')
    html = re.sub(r"<img\b", f'<img style="{IMAGE}"', html)
    html = re.sub(r'<img((?:(?!\balt=)[^>])*)>', r'<img alt=""\1>', html)
    return html
