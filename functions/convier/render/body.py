"""A post's markdown body made fit for e-mail: real markdown, then an allow-list.

The site's markdown is kramdown with Jekyll habits (attribute lists, liquid,
raw HTML with site classes). E-mail clients run no scripts, show no iframes
and resolve no relative links, so the body goes through markdown-it, then nh3
(allow-list sanitiser) which also makes every link absolute, then a few
rewrites that turn the site's classes into inline styles clients understand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt

from convier.render import style

_md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")

_LIQUID = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_IAL = re.compile(r"\{:[^}\n]*\}")
_BOX_MARKER = re.compile(r"^[ \t]*\[\s*encadr[ée]\s*\][ \t]*$", re.I | re.M)
_QUOTE_LINE = re.compile(r"^>[ \t]?(?![>\s*+-])(\S.*)$")
_ITEM_END = tuple(";.!?:»)")
_IFRAME = re.compile(r"<iframe\b([^>]*)>.*?</iframe\s*>|<iframe\b([^>]*)/?>", re.S | re.I)
_SECTION_WITH_NAV = re.compile(r"<section\b[^>]*>(?:(?!</section>).)*?<nav\b.*?</section\s*>", re.S | re.I)
_ATTR = re.compile(r'(\w[\w-]*)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|(\S+))')
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
# A line closing a block element, then markdown on the next line: kramdown resumes markdown there,
# CommonMark would keep the markdown inside the raw HTML block until the next blank line.
_BLOCK_CLOSE_THEN_MARKDOWN = re.compile(
    r"(</(?:section|div|nav|figure|table|ul|ol|p|blockquote|h[1-6])>[ \t]*\n)(?=[^\s<])", re.I)
# Editor placeholders such as <div class="margina"> margin 30px </div> (spacing hacks shown as text).
_SPACER = re.compile(r"<div\b[^>]*>\s*margin\s+\d+\s*px\s*</div>", re.I)
# Markdown left as text inside raw HTML blocks (which markdown does not parse).
_LITERAL_LINK = re.compile(r'\[([^\[\]<]+)\]\(\s*([^()\s<>"]*(?:\([^()\s<>"]*\))?[^()\s<>"]*)'
                           r'(?:\s+(?:"[^"<>]*"|&quot;(?:(?!&quot;)[^<>])*&quot;))?\s*\)')
_LITERAL_BULLET = re.compile(r"^[ \t]*\*[ \t]+(?=\S)", re.M)

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "figcaption", "figure", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "u", "ul",
}
ATTRIBUTES = {
    "*": {"lang", "class"},
    "a": {"href", "title"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "p": {"align"},
    "div": {"align"},
    "ol": {"start"},
}


@dataclass(frozen=True)
class Body:
    html: str
    box_title: str = ""
    box_html: str = ""
    warnings: tuple[str, ...] = ()


def video_link(src: str) -> str:
    """The page a video embed comes from, which a reader can open from an e-mail."""
    src = src.strip()
    if src.startswith("//"):
        src = "https:" + src
    m = re.match(r"https?://(?:www\.)?(?:youtube(?:-nocookie)?\.com)/embed/([\w-]+)", src)
    if m:
        return f"https://www.youtube.com/watch?v={m.group(1)}"
    m = re.match(r"https?://player\.vimeo\.com/video/(\d+)", src)
    if m:
        return f"https://vimeo.com/{m.group(1)}"
    return src.replace("/videos/embed/", "/videos/watch/")


def _iframe_to_link(match: re.Match) -> str:
    attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
             for m in _ATTR.finditer(match.group(1) or match.group(2) or "")}
    src = attrs.get("src", "")
    if not src:
        return ""
    title = attrs.get("title", "").strip()
    label = f"Voir la vidéo : {title}" if title else "Voir la vidéo"
    return f'<p><a href="{video_link(src)}">▶ {nh3.clean_text(label)}</a></p>'


def programme_lists(markdown: str) -> str:
    """Consecutive one-line `>` quotes are a programme: one item a line, not one run-on paragraph."""
    lines = markdown.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        run = []
        j = i
        while j < len(lines) and (m := _QUOTE_LINE.match(lines[j])):
            run.append(m.group(1).rstrip())
            j += 1
        if len(run) >= 2 and all(item.endswith(_ITEM_END) for item in run[:-1]):
            if out and out[-1].strip():
                out.append("")
            out.extend(f"- {item}" for item in run)
            out.append("")
            i = j
        elif run:
            out.extend(lines[i:j])
            i = j
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def clean_markdown(markdown: str) -> str:
    """Jekyll-only syntax out: liquid tags and kramdown attribute lists."""
    markdown = markdown.replace("\r\n", "\n").replace("\r", "\n")
    markdown = _LIQUID.sub("", markdown)
    markdown = _SPACER.sub("", markdown)
    markdown = _BLOCK_CLOSE_THEN_MARKDOWN.sub(r"\1\n", markdown)
    return _IAL.sub("", markdown)


class _Links:
    """nh3 attribute filter: absolute https/mailto links, no class but the site's known ones."""

    def __init__(self, site_url: str):
        self.base = site_url.rstrip("/") + "/"
        self.warnings: list[str] = []

    def url(self, value: str, tag: str, attr: str) -> str | None:
        value = value.strip()
        if not value or value.startswith("#"):
            return None
        if attr == "href" and _EMAIL.match(value.removeprefix("mailto:")):
            return "mailto:" + value.removeprefix("mailto:")
        if value.lower().startswith("mailto:"):
            return value if attr == "href" else None
        parts = urlsplit(value)
        if not parts.scheme and " " in value and not value.startswith("/"):
            self.warnings.append(f"lien non valable retiré : « {value} »")
            return None
        url = urljoin(self.base, quote(value, safe=":/?#[]@!$&'()*+,;=%~"))
        if url.startswith("http://"):
            url = "https://" + url[len("http://"):]
        if not url.startswith("https://"):
            return None
        return url

    def __call__(self, tag: str, attr: str, value: str) -> str | None:
        if attr in ("href", "src"):
            return self.url(value, tag, attr)
        if attr == "class":
            kept = [c for c in value.split() if c in style.KNOWN_CLASSES]
            return " ".join(kept) or None
        if attr == "lang":
            return value.strip().lower() or None
        return value


def absolute_url(value: str, site_url: str, attr: str = "href") -> str | None:
    """A link or image address as the e-mail needs it (absolute https, or mailto), or None to drop it."""
    return _Links(site_url).url(value, "a" if attr == "href" else "img", attr)


def sanitize(html: str, site_url: str) -> tuple[str, list[str]]:
    """Allow-list the HTML and make its links absolute; returns the HTML and warnings."""
    html = _IFRAME.sub(_iframe_to_link, html)
    html = _SECTION_WITH_NAV.sub("", html)
    links = _Links(site_url)
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        clean_content_tags={"script", "style", "nav", "noscript", "template", "object", "embed", "form", "button"},
        url_schemes={"https", "http", "mailto"},
        attribute_filter=links,
        link_rel=None,
        strip_comments=True,
    )
    return style.inline(clean), links.warnings


def markdown_to_html(markdown: str, site_url: str) -> tuple[str, list[str]]:
    html = _md.render(clean_markdown(markdown))
    html = _LITERAL_LINK.sub(_literal_link, html)
    html = _LITERAL_BULLET.sub("• ", html)
    html, warnings = sanitize(html, site_url)
    return _leftover_emphasis(html), warnings


def _literal_link(match: re.Match) -> str:
    """`[label](url)` that stayed text (inside raw HTML): a real link, which sanitize() then checks."""
    label, url = match.group(1), match.group(2)
    return f'<a href="{url}">{label}</a>'


def _leftover_emphasis(html: str) -> str:
    """`**` the markdown parser could not pair (inside raw HTML blocks, or unbalanced) must not show."""
    html = re.sub(r"\*\*([^*<>]+?)\*\*", r"<strong>\1</strong>", html)
    return html.replace("**", "")


def render_body(markdown: str, site_url: str) -> Body:
    """The body, with what follows a bare `[Encadré]` line taken out into a highlighted box."""
    markdown = programme_lists(clean_markdown(markdown))
    parts = _BOX_MARKER.split(markdown, maxsplit=1)
    html, warnings = markdown_to_html(parts[0], site_url)
    if len(parts) == 1:
        return Body(html=html, warnings=tuple(warnings))
    box = _BOX_MARKER.sub("", parts[1]).strip("\n")
    title = ""
    first, _, rest = box.partition("\n\n")
    if first and "\n" not in first.strip() and len(first) <= 140 and not first.rstrip().endswith((".", ":", ";")):
        title, box = first.strip(), rest
    box_html, box_warnings = markdown_to_html(box, site_url)
    return Body(html=html, box_title=title, box_html=box_html, warnings=tuple(warnings + box_warnings))


def render_inline(markdown: str, site_url: str) -> str:
    """The chapeau: markdown paragraphs, sanitised the same way."""
    return markdown_to_html(markdown, site_url)[0]
