"""French typography for what recipients read: the e-mail (HTML and text) and the pages.

The rules of the Imprimerie nationale that a line break must respect:
- a narrow no-break space (U+202F) before `;`, `?`, `!` and inside « »;
- a no-break space (U+00A0) before `:`;
- times stay whole: « 17 h 30 », « 9 h »;
- « de » before a vowel elides, and an organisation takes its article: « de l’Équipe Cloud », « du Ministère ».

Only text is touched: never a tag or its attributes, never the inside of `<code>`, `<pre>`, `<style>`,
`<script>`, `<head>` or a comment, never a URL or an e-mail address written in the text, never a marker
(`@@TOKEN@@`). Standard library only; applying the rules twice changes nothing.

No maintained PyPI library does this on HTML: `french-typo` (2026) works on plain text with `&nbsp;`
everywhere and would rewrite attributes and URLs; `typographeur` (2020) is unmaintained.
"""

from __future__ import annotations

import re

NNBSP = "\u202f"  # espace fine insécable
NBSP = "\u00a0"  # espace insécable
_SPACES = "[ \t\u00a0\u202f]"

# Tokens inside a text run that typography must not touch.
_PROTECTED = re.compile(
    r"(?:https?://|mailto:|www\.)[^\s<>\"«»]+"  # URLs (their ? ! : ; are syntax)
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|@@[A-Z]+@@"  # the send path's markers
    r"|&[#\w]+;"  # character references
    r"|\{\{.*?\}\}|\{%.*?%\}",  # template syntax left in text
    re.S)

_BEFORE_COLON = re.compile(rf"(?:(?<=[^\s\d:])|^){_SPACES}*:(?=\s|$|[»)\]])")
_BEFORE_COLON_AFTER_DIGIT = re.compile(rf"(?<=\d){_SPACES}+:(?=\s|$)")
_BEFORE_DOUBLE = re.compile(rf"(?:(?<=[^\s?!;(\[])|^){_SPACES}*([;?!])(?![?!;]*\w)")
_OPEN_QUOTE = re.compile(rf"«{_SPACES}*")
_CLOSE_QUOTE = re.compile(rf"(?:(?<=\S)|^){_SPACES}*»")
_TIME = re.compile(rf"\b([01]?\d|2[0-3]){_SPACES}*h{_SPACES}*([0-5]\d)\b")
_HOUR = re.compile(rf"\b([01]?\d|2[0-3]){_SPACES}*h(?![\w])")


def text(value: str) -> str:
    """The rules on plain text (a text run of HTML, or the text part)."""
    value = value.replace("&nbsp;", NBSP).replace("&#160;", NBSP).replace("&#8239;", NNBSP)
    out, last = [], 0
    for match in _PROTECTED.finditer(value):
        out.append(_prose(value[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_prose(value[last:]))
    return "".join(out)


def _prose(run: str) -> str:
    if not run:
        return run
    run = _OPEN_QUOTE.sub("«" + NNBSP, run)
    run = _CLOSE_QUOTE.sub(NNBSP + "»", run)
    run = _TIME.sub(lambda m: f"{m.group(1)}{NBSP}h{NBSP}{m.group(2)}", run)
    run = _HOUR.sub(lambda m: f"{m.group(1)}{NBSP}h", run)
    run = _BEFORE_DOUBLE.sub(lambda m: NNBSP + m.group(1), run)
    run = _BEFORE_COLON.sub(NBSP + ":", run)
    return _BEFORE_COLON_AFTER_DIGIT.sub(NBSP + ":", run)


_TAG = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?.*?\?>|</?[A-Za-z][^<>]*>", re.S)
_SKIP = {"code", "pre", "style", "script", "head", "title", "kbd", "samp", "textarea", "mj-style", "mj-raw",
         "mj-attributes", "mj-head"}
_NAME = re.compile(r"</?([A-Za-z][\w:-]*)")


def html(value: str) -> str:
    """The rules on every text run of an HTML (or MJML) document, nowhere else."""
    out, last, skipping = [], 0, []
    for match in _TAG.finditer(value):
        chunk = value[last:match.start()]
        out.append(chunk if skipping else text(chunk))
        tag = match.group(0)
        out.append(tag)
        last = match.end()
        name = _NAME.match(tag)
        if not name:
            continue
        name = name.group(1).lower()
        if name in _SKIP and not tag.endswith("/>"):
            if tag.startswith("</"):
                if skipping and skipping[-1] == name:
                    skipping.pop()
            else:
                skipping.append(name)
    tail = value[last:]
    out.append(tail if skipping else text(tail))
    return "".join(out)


# --- articles and elision before an organisation's name ----------------------------------------------

# Nouns that start the names of public bodies, with their gender: « de l’Équipe », « du Ministère ».
_NOUNS = {
    "équipe": "f", "agence": "f", "académie": "f", "administration": "f", "ambassade": "f", "autorité": "f",
    "inspection": "f", "université": "f", "école": "f", "assemblée": "f", "association": "f",
    "observatoire": "m", "institut": "m", "établissement": "m", "office": "m",
    "direction": "f", "délégation": "f", "mission": "f", "préfecture": "f", "mairie": "f", "région": "f",
    "commission": "f", "cour": "f", "caisse": "f", "fondation": "f", "haute": "f", "maison": "f",
    "cellule": "f", "sous-direction": "f", "division": "f", "plateforme": "f",
    "ministère": "m", "service": "m", "secrétariat": "m", "conseil": "m", "département": "m", "centre": "m",
    "bureau": "m", "pôle": "m", "haut": "m", "comité": "m", "cabinet": "m", "laboratoire": "m", "réseau": "m",
    "programme": "m", "groupe": "m", "collectif": "m", "lab": "m",
}
_VOWEL = "aeiouyàâäéèêëîïôöùûüœæ"  # not h: « le Haut Conseil », « la Haute Autorité » (h aspiré)


def _starts_with_vowel(word: str) -> bool:
    return bool(word) and word[0].lower() in _VOWEL


def with_article(name: str) -> str:
    """ "Équipe Cloud DINUM" -> "l’Équipe Cloud DINUM"; "Ministère de…" -> "le Ministère de…"; a proper name stays."""
    name = name.strip()
    first = name.split(" ", 1)[0]
    gender = _NOUNS.get(first.lower())
    if not gender:
        return name
    if _starts_with_vowel(first):
        return f"l’{name}"
    return f"{'la' if gender == 'f' else 'le'} {name}"


def of(name: str, preposition: str = "de") -> str:
    """ "de l’Équipe Cloud", "du Ministère", "d’Etalab", "de Marianne"; `preposition` may be "par", "à"."""
    name = name.strip()
    if not name:
        return preposition
    article = with_article(name)
    if preposition == "de":
        if article.startswith("le "):
            return "du " + article[3:]
        if article == name:
            return f"d’{name}" if _starts_with_vowel(name) else f"de {name}"
    if preposition == "à" and article.startswith("le "):
        return "au " + article[3:]
    return f"{preposition} {article}"
