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

from convier.errors import Notice
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
    "img": {"src", "alt", "width"},
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
    warnings: tuple[Notice, ...] = ()


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


_INCLUDE = re.compile(r"\{%-?\s*include\s+[\w./-]+\s+(.*?)-?%\}", re.S)
_PARAM = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_URL_PARAMS = ("url", "lien", "link", "href")
_LABEL_PARAMS = ("texte", "text", "label", "titre", "title", "libelle")


def include_link(match: re.Match) -> str:
    """`{% include bouton.html url=… texte=… %}`: the button as a link, when the include names both."""
    params = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _PARAM.finditer(match.group(1))}
    url = next((params[k] for k in _URL_PARAMS if params.get(k)), "")
    label = next((params[k] for k in _LABEL_PARAMS if params.get(k)), "")
    if not url:
        return ""
    return f'\n\n<p><a class="button" href="{nh3.clean_text(url)}">{nh3.clean_text(label or url)}</a></p>\n\n'


def clean_markdown(markdown: str) -> str:
    """Jekyll-only syntax out: liquid tags and kramdown attribute lists (an include's button becomes a link)."""
    markdown = markdown.replace("\r\n", "\n").replace("\r", "\n")
    markdown = _INCLUDE.sub(include_link, markdown)
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
        if parts.scheme and parts.scheme.lower() not in ("http", "https", "mailto"):
            self.warnings.append(f"lien {parts.scheme.lower()}: retiré : « {value[:60]} »")
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
        if attr == "width":
            match = re.fullmatch(r"\s*(\d{1,5})(?:px)?\s*", value)
            return str(min(int(match.group(1)), MAX_WIDTH)) if match and int(match.group(1)) > 0 else None
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
    return style.inline(_linkify(_linked_image_alt(_image_width(clean)))), links.warnings


MAX_WIDTH = 600  # the e-mail's column: Outlook desktop shows an image without width at its natural size
_IMG = re.compile(r"<img\b[^>]*>")


def _image_width(html: str) -> str:
    """Every body image has a width (its own, at most 600, or 600) so Outlook does not show it full size."""
    return _IMG.sub(lambda m: m.group(0) if " width=" in m.group(0) else
                    m.group(0).replace("<img", f'<img width="{MAX_WIDTH}"', 1), html)


_LINKED_IMAGE = re.compile(r'(<a\b([^>]*)>\s*)(<img\b[^>]*>)(\s*</a>)', re.S)


def _linked_image_alt(html: str) -> str:
    """An image that is the whole link takes its alt from the link (title, else where it goes)."""
    def fill(match: re.Match) -> str:
        opening, attrs, img, closing = match.groups()
        alt = re.search(r'\balt="([^"]*)"', img)
        if alt and alt.group(1).strip():
            return match.group(0)
        title = re.search(r'\btitle="([^"]+)"', attrs)
        href = re.search(r'\bhref="([^"]+)"', attrs)
        text = title.group(1) if title else (f"Lien vers {urlsplit(href.group(1)).netloc or href.group(1)}"
                                            if href else "")
        if not text:
            return match.group(0)
        img = re.sub(r'\s\balt="[^"]*"', "", img).replace("<img", f'<img alt="{text}"', 1)
        return opening + img + closing
    return _LINKED_IMAGE.sub(fill, html)


_BARE_URL = re.compile(r"(?<![\w/\"'=])(https://[^\s<>\"«»]+?)(?=[.,;:!?)»]*(?:\s|$|<|&nbsp;))")
_TAG_OR_TEXT = re.compile(r"(<[^>]+>)")


def _linkify(html: str) -> str:
    """A bare https:// address in the text becomes a link (outside links, code and attributes)."""
    out, inside = [], 0
    for part in _TAG_OR_TEXT.split(html):
        if part.startswith("<"):
            name = re.match(r"</?(\w+)", part)
            if name and name.group(1).lower() in ("a", "code", "pre"):
                inside += -1 if part.startswith("</") else (0 if part.endswith("/>") else 1)
            out.append(part)
        elif inside > 0 or "https://" not in part:
            out.append(part)
        else:
            out.append(_BARE_URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', part))
    return "".join(out)


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


_LIQUID_TAG = re.compile(r"\{%-?\s*(\w+)(.*?)-?%\}|\{\{(.*?)\}\}", re.S)
_DROPPED_TAGS = re.compile(r"<(script|svg|iframe|object|embed|form|button|style|noscript|template)\b[^>]*>", re.I)
_JS_LINK = re.compile(r"""(?:\]\(|href\s*=\s*["']?)\s*javascript:""", re.I)
_MD_IMAGE = re.compile(r"(\[)?!\[([^\]]*)\]\(\s*([^)\s]+)[^)]*\)(\]\([^)]*\))?")
_HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.I)
_SVG_IMAGE = re.compile(r"""(?:\]\(|src\s*=\s*["']?)\s*([^)"'\s>]+\.svg)\b""", re.I)
_WHAT_DROPS = {
    "script": "script retiré (les messageries n’exécutent rien)",
    "svg": "dessin SVG intégré retiré (la plupart des messageries ne l’affichent pas) ; utilisez une image PNG",
    "iframe": "contenu intégré (iframe) remplacé par un lien",
    "object": "objet intégré retiré", "embed": "objet intégré retiré",
    "form": "formulaire retiré (les messageries ne l’envoient pas) ; mettez un lien vers la page",
    "button": "bouton de formulaire retiré ; mettez un lien",
    "style": "bloc de style retiré", "noscript": "bloc noscript retiré", "template": "bloc template retiré",
}


def dropped_content(markdown: str, first_line: int = 1) -> list[Notice]:
    """What the renderer removes or changes, each with its file line (read on the post's own text)."""
    def line(pos: int) -> int:
        return first_line + markdown.count("\n", 0, pos)

    found: list[Notice] = []
    for m in _LIQUID_TAG.finditer(markdown):
        if m.group(1):
            words = " ".join(m.group(0).split())[:80]
            if m.group(1) == "include" and _INCLUDE.match(m.group(0)) and include_link(_INCLUDE.match(m.group(0))):
                found.append(Notice("liquid", f"inclusion Jekyll remplacée par un lien-bouton : « {words} » "
                                              "(vérifiez-le dans l’aperçu)", line(m.start())))
                continue
            found.append(Notice("liquid", f"balise Jekyll retirée : « {words} » (son contenu n’apparaît pas "
                                          "dans l’e-mail ; écrivez-le en markdown)", line(m.start())))
        else:
            found.append(Notice("liquid", f"variable Jekyll retirée : « {' '.join(m.group(0).split())[:60]} »",
                                line(m.start())))
    for m in _DROPPED_TAGS.finditer(markdown):
        found.append(Notice(m.group(1).lower(), _WHAT_DROPS[m.group(1).lower()], line(m.start())))
    for m in _JS_LINK.finditer(markdown):
        found.append(Notice("javascript_link", "lien javascript: retiré (le texte reste, sans lien)", line(m.start())))
    for m in _SVG_IMAGE.finditer(markdown):
        found.append(Notice("svg", f"image SVG « {m.group(1)} » : Gmail et Outlook ne l’affichent pas ; "
                                   "utilisez une image PNG ou JPEG", line(m.start())))
    for m in _MD_IMAGE.finditer(markdown):
        linked = bool(m.group(1) and m.group(4))
        if not m.group(2).strip() and not linked:
            found.append(Notice("image_alt", f"image sans texte alternatif : {m.group(3)} (décrivez-la : "
                                             "![description](adresse))", line(m.start())))
    for m in _HTML_IMAGE.finditer(markdown):
        alt = re.search(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)')""", m.group(0), re.I)
        linked = re.search(r"<a\b[^>]*>\s*$", markdown[max(0, m.start() - 300):m.start()], re.I)
        if not (alt and (alt.group(1) or alt.group(2) or "").strip()) and not linked:
            src = re.search(r"""\bsrc\s*=\s*["']?([^"'\s>]+)""", m.group(0), re.I)
            found.append(Notice("image_alt", f"image sans texte alternatif : {src.group(1) if src else '?'} "
                                             "(ajoutez alt=\"description\")", line(m.start())))
    return sorted(found, key=lambda n: n.line or 0)


def _link_notices(messages: list[str], markdown: str, first_line: int) -> list[Notice]:
    out = []
    for message in messages:
        value = message.split("« ", 1)[-1].rstrip(" »")
        pos = markdown.find(value[:40])
        out.append(Notice("link", message, first_line + markdown.count("\n", 0, pos) if pos >= 0 else None))
    return out


def render_body(markdown: str, site_url: str, first_line: int = 1) -> Body:
    """The body, with what follows a bare `[Encadré]` line taken out into a highlighted box.

    `first_line` is the file line where the body starts: warnings name the lines of the post."""
    notices = dropped_content(markdown, first_line)
    original = markdown
    markdown = programme_lists(clean_markdown(markdown))
    parts = _BOX_MARKER.split(markdown, maxsplit=1)
    html, warnings = markdown_to_html(parts[0], site_url)
    if len(parts) == 1:
        return Body(html=html, warnings=tuple(notices + _link_notices(warnings, original, first_line)))
    box = _BOX_MARKER.sub("", parts[1]).strip("\n")
    title = ""
    first, _, rest = box.partition("\n\n")
    if first and "\n" not in first.strip() and len(first) <= 140 and not first.rstrip().endswith((".", ":", ";")):
        title, box = first.strip(), rest
    box_html, box_warnings = markdown_to_html(box, site_url)
    return Body(html=html, box_title=title, box_html=box_html,
                warnings=tuple(notices + _link_notices(warnings + box_warnings, original, first_line)))


def render_inline(markdown: str, site_url: str) -> str:
    """The chapeau: markdown paragraphs, sanitised the same way."""
    return markdown_to_html(markdown, site_url)[0]
