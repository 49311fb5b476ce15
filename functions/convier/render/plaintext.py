"""HTML to the text part: inscriptis lays the text out, links are written out the mail way."""

from __future__ import annotations

import re

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=True, display_images=False)
_LINK = re.compile(r"\[([^\[\]]*)\]\(([^()\s]*(?:\([^()\s]*\))?[^()\s]*)\)")


def _link(match: re.Match) -> str:
    """The spaces inscriptis keeps inside the brackets (`sur<a> la plateforme </a>`) go back outside."""
    raw, url = match.group(1), match.group(2)
    label = raw.strip()
    text, start, end = match.string, match.start(), match.end()
    before = " " if raw[:1].isspace() and start and not text[start - 1].isspace() else ""
    after = " " if raw[-1:].isspace() and end < len(text) and not text[end].isspace() else ""
    if url.startswith("mailto:"):
        url = url[len("mailto:"):]
    if not label or label == url:
        return f"{before}{url}{after}"
    return f"{before}{label} <{url}>{after}"


def html_to_text(html: str) -> str:
    if not html.strip():
        return ""
    text = get_text(html, _CONFIG)
    text = _LINK.sub(_link, text)
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()
