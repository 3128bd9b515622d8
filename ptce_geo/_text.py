"""Text from people, made safe for each renderer: Markdown, matplotlib, spreadsheets, terminals.

Anything a person typed (a pole's name, a source, a file name) may be hostile. Each
renderer has one helper here, applied wherever such text reaches it:

- ``md(text)``: Markdown-escaped text for ``st.markdown``/``st.error``… (every ASCII
  punctuation backslash-escaped, so no link, image, emphasis, HTML, LaTeX ``$…$`` or
  Streamlit directive ``:red[…]`` can form; line breaks become spaces);
- ``safe_url(value)``: an ``http(s)`` URL fit for a Markdown link target, or None;
- ``plain_figure(fig)``: every text of a matplotlib figure drawn as plain text (no
  mathtext: ``Pôle $\\frac{$`` is printed as typed instead of breaking the figure);
- ``to_cell(value)`` / ``from_cell(text)``: the spreadsheet rule of CSV exports (OWASP
  « CSV injection »): a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return gets a leading apostrophe, and so does a text that already begins with
  an apostrophe followed by one of those characters or by another apostrophe. The importer
  removes exactly that apostrophe (``from_cell``), so ``from_cell(to_cell(s)) == s`` for
  every text ``s``; a name typed with a leading apostrophe (« 'Ti Pôle ») is kept as typed;
- ``printable(text)``: text that can be written to a terminal or a UTF-8 file (lone
  surrogates and undecodable bytes become « � »);
- ``bad_character(text)``: the first character a record must not hold (lone surrogate,
  control character), described in French, or None;
- ``mask_url(url)``: a database URL with its password masked, the only form messages and logs show.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["md", "safe_url", "md_link", "plain_figure", "FORMULA_START", "to_cell", "from_cell", "printable",
    "xml_safe", "bad_character", "mask_url"]

# ---------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_MD_SPACE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def md(text, lines: bool = False) -> str:
    """``text`` as literal Markdown: ``![x](http://…)`` shows as typed, nothing is fetched.
    ``lines=True`` keeps its line breaks (as Markdown hard breaks)."""
    if text is None:
        return ""
    text = printable(str(text))
    if lines:
        return "  \n".join(md(line) for line in text.splitlines())
    text = _MD_SPACE.sub(" ", text)
    return _MD_SPECIAL.sub(r"\\\1", text)


_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


def safe_url(value) -> str | None:
    """``value`` when it is an ``http``/``https`` URL with a real host name (no user name, no
    space, quote or angle bracket), percent-encoded for a Markdown link target; else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > 2000 or any(ch.isspace() or ord(ch) < 32 or ch in "<>\"'`\\" for ch in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc:
        return None
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    if not _HOST.match(host):
        return None
    return quote(url, safe=":/?#[]@!$&*+,;=%~-._")  # parentheses and non-ASCII percent-encoded


def md_link(label: str, value) -> str:
    """A Markdown link when ``value`` is a safe http(s) URL, else the escaped text (never an image)."""
    url = safe_url(value)
    if url is None:
        return md(value)
    return f"[{md(label)}]({url})"


# ---------------------------------------------------------------- matplotlib


def plain_figure(fig):
    """Every text artist of ``fig`` drawn as plain text (mathtext off); returns ``fig``.

    matplotlib reads ``$…$`` as mathematics: a pole named ``Pôle $\\frac{$`` would break the
    figure. Called on each page once its texts are placed (titles, labels, legends, footers)."""
    from matplotlib.text import Text

    for artist in fig.findobj(Text):
        artist.set_parse_math(False)
    return fig


# ---------------------------------------------------------------- spreadsheets

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    if not text:
        return False
    if text[0] in FORMULA_START:
        return True
    return text[0] == "'" and len(text) > 1 and (text[1] in FORMULA_START or text[1] == "'")


def to_cell(value):
    """A CSV cell that no spreadsheet runs: text starting like a formula gets a leading ``'``.
    Anything that is not text (numbers, missing values) is returned unchanged."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def from_cell(text: str) -> str:
    """The text ``to_cell`` neutralised, as typed (the one apostrophe it added removed)."""
    if isinstance(text, str) and len(text) > 1 and text[0] == "'" and (text[1] in FORMULA_START or text[1] == "'"):
        return text[1:]
    return text


# ---------------------------------------------------------------- characters

_SURROGATE = re.compile("[\ud800-\udfff]")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def printable(text: str) -> str:
    """``text`` encodable in UTF-8: lone surrogates (undecodable bytes of a file name or an
    argument, ``\\ud800`` in JSON) become « � »."""
    return _SURROGATE.sub("\ufffd", text)


def xml_safe(text: str) -> str:
    """``text`` without the control characters an XLSX file cannot hold (shown as « � »)."""
    return _ILLEGAL_XML.sub("\ufffd", printable(text))


_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def bad_character(text: str) -> str | None:
    """French description of the first character a record must not hold (a lone surrogate,
    a control character other than tab and line breaks), or None."""
    found = _BAD.search(text)
    if found is None:
        return None
    code, pos = ord(found.group()), found.start() + 1
    if 0xD800 <= code <= 0xDFFF:
        return (f"caractère invalide en position {pos} (demi-caractère Unicode isolé U+{code:04X} : texte "
                "mal encodé ou octets illisibles)")
    return f"caractère de contrôle U+{code:04X} en position {pos} (invisible, à retirer)"


# ---------------------------------------------------------------- URLs with a password

_SECRET_PARAMS = ("password", "sslpassword")


def mask_url(url: str) -> str:
    """``postgresql://ptce:secret@db:5432/atlas`` → ``postgresql://ptce:***@db:5432/atlas`` (also a
    ``?password=`` parameter): what every message and log shows."""
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return "postgresql://***"
    if not parts.netloc:  # not a URL (« utilisateur:secret@hôte/base », key=value…): hide what may be secret
        text = re.sub(r"(password|sslpassword)\s*=\s*\S+", r"\1=***", text, flags=re.IGNORECASE)
        return re.sub(r"^([^:@/]*):[^@]*@", r"\1:***@", text)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
