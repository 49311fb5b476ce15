"""HTML to the text part: inscriptis lays the text out, links are written out the mail way."""

from __future__ import annotations

import re

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=True, display_images=False)
_LINK = re.compile(r"\[([^\[\]]*)\]\(([^()\s]*(?:\([^()\s]*\))?[^()\s]*)\)")


def _link(match: re.Match) -> str:
    label, url = match.group(1).strip(), match.group(2)
    if url.startswith("mailto:"):
        url = url[len("mailto:"):]
    if not label or label == url:
        return url
    return f"{label} <{url}>"


def html_to_text(html: str) -> str:
    if not html.strip():
        return ""
    text = get_text(html, _CONFIG)
    text = _LINK.sub(_link, text)
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()
