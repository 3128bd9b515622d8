"""Figures and text as people read them: French numbers, and HTML escaping — one place for each.

- ``esc(value)``: HTML-escaped text of a value for a popup, tooltip or table cell; empty for a
  missing value (None, NaN, ``pd.NA``);
- ``escape(text)``: HTML-escaped text of anything a person typed (None → empty; any other value
  as ``str`` gives it, so a NaN shows as « nan »: the pages' historic rule for their captions);
- ``fmt_int(value)``: ``12984286`` → ``12 984 286`` (narrow no-break spaces, the integer part
  of the value), ``n.c.`` when it is missing;
- ``fmt_rounded(value)``: the same for a figure first rounded to the nearest unit (scales);
- ``fmt_share(num, den)``: ``num / den`` as a French percentage, ``23,4 %``; « — » without a
  denominator;
- ``fmt_rate(value)``: a rate (0 to 1) as a French percentage, ``23,4 %``; ``n.c.`` when unknown;
- ``fmt_decimal(value)``: a short decimal with a French comma, ``2,5``;
- ``fmt_compact(value)``: a short figure for narrow panels, ``66,6 M``, ``854 k``.

The map explorer (``webmap``) and the text versions of the maps (``mapsummary``: its ``fmt_int`` is
``fmt_rounded``) use these.
"""

from __future__ import annotations

import html
import math

import pandas as pd

__all__ = ["NNBSP", "missing", "esc", "escape", "fmt_int", "fmt_rounded", "fmt_share", "fmt_rate", "fmt_decimal",
           "fmt_compact"]

#: Narrow no-break space: the French thousands separator, and the space before « % ».
NNBSP = "\u202f"


def missing(value) -> bool:
    """None, NaN or ``pd.NA``: a value nobody knows."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def esc(value) -> str:
    """HTML-escaped text of a value; empty when it is missing."""
    if missing(value):
        return ""
    return html.escape(str(value))


def escape(text) -> str:
    """HTML-escape any user text before it goes into a popup, tooltip or markdown (None → empty)."""
    return html.escape("" if text is None else str(text))


def fmt_int(value) -> str:
    """``12984286`` → ``12 984 286`` (narrow no-break spaces); ``n.c.`` when unknown."""
    if missing(value):
        return "n.c."
    return f"{int(value):,}".replace(",", NNBSP)


def fmt_rounded(value) -> str:
    """``1367412.4`` → ``1 367 412``: a figure rounded to the unit, then as ``fmt_int``."""
    if missing(value):
        return "n.c."
    return fmt_int(int(round(float(value))))


def fmt_share(num, den) -> str:
    """``num / den`` in per cent with one decimal, ``23,4 %``; « — » when there is no denominator."""
    if not den or num is None or den is None:
        return "—"
    return f"{100.0 * float(num) / float(den):.1f}".replace(".", ",") + f"{NNBSP}%"


def fmt_rate(value) -> str:
    """``0.2335`` → ``23,4 %``; ``n.c.`` when unknown."""
    if missing(value):
        return "n.c."
    return f"{float(value) * 100:.1f}".replace(".", ",") + f"{NNBSP}%"


def fmt_decimal(value: float) -> str:
    """``2.5`` → ``2,5`` (shortest form, ``%g``)."""
    return f"{value:g}".replace(".", ",")


def fmt_compact(value) -> str:
    """Short French figure for narrow panels: ``66 555 092`` → ``66,6 M``, ``853 659`` → ``854 k``."""
    if missing(value):
        return "n.c."
    value = int(value)
    if value >= 1_000_000:
        return f"{value / 1e6:.1f}".replace(".", ",") + f"{NNBSP}M"
    if value >= 100_000:
        return f"{value / 1e3:.0f}{NNBSP}k"
    return fmt_int(value)
