"""What a PDF says about itself: title, subject, keywords and the document language.

A ministry's office or a local authority circulates the printed maps: assistive technologies
read a PDF's title (rather than its file name, with ``/DisplayDocTitle``) and speak it in the
language of its catalog (``/Lang``). matplotlib writes the document information dictionary
(``Title``, ``Subject``, ``Keywords``…) but has no ``/Lang``: :func:`finish` adds it, with pypdf,
as an incremental update (the pages already written are kept byte for byte).

The PDFs are not tagged (PDF/UA): the page « Accessibilité » says so.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

__all__ = ["LANG", "KEYWORDS", "map_info", "atlas_info", "mark", "finish", "read"]

LANG = "fr"
KEYWORDS = ("PTCE, pôles territoriaux de coopération économique, économie sociale et solidaire, QPV, "
            "Territoires d'industrie, France Ruralités Revitalisation, carte")


def map_info(title: str, territory: str, layer_labels: Sequence[str]) -> dict[str, str]:
    """Document information of one printed map (matplotlib's ``metadata=``)."""
    layers = ", ".join(layer_labels) if layer_labels else "contours seuls"
    return {"Title": title, "Subject": f"Carte — {territory} ; couches : {layers}. Sources et millésimes en pied "
                                      "de page.",
            "Keywords": KEYWORDS, "Author": "ptce-geo", "Creator": "ptce-geo"}


def atlas_info(title: str, regions: int, layer_labels: Sequence[str]) -> dict[str, str]:
    """Document information of the regional atlas."""
    return {"Title": title, "Subject": f"Atlas régional : une carte par région ({regions}) ; couches : "
                                      f"{', '.join(layer_labels)}.",
            "Keywords": KEYWORDS, "Author": "ptce-geo", "Creator": "ptce-geo"}


def mark(writer, lang: str = LANG) -> None:
    """Set the catalog's language and ask viewers to show the title (a ``pypdf.PdfWriter``)."""
    from pypdf.generic import BooleanObject, DictionaryObject, NameObject, TextStringObject

    root = writer._root_object
    root[NameObject("/Lang")] = TextStringObject(lang)
    prefs = root.get("/ViewerPreferences")
    prefs = prefs.get_object() if prefs is not None else DictionaryObject()
    prefs[NameObject("/DisplayDocTitle")] = BooleanObject(True)
    root[NameObject("/ViewerPreferences")] = prefs


def finish(data: bytes, lang: str = LANG) -> bytes:
    """``data`` (a PDF) with ``/Lang`` and ``/DisplayDocTitle`` in its catalog, appended as an
    incremental update."""
    from pypdf import PdfWriter

    writer = PdfWriter(io.BytesIO(data), incremental=True)
    mark(writer, lang)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read(data_or_path) -> dict[str, str | None]:
    """Title, Subject, Keywords and Lang of a PDF (tests, and whoever checks a file)."""
    from pypdf import PdfReader

    source = io.BytesIO(data_or_path) if isinstance(data_or_path, (bytes, bytearray)) else data_or_path
    reader = PdfReader(source)
    meta = reader.metadata or {}
    root = reader.trailer["/Root"]
    prefs = root.get("/ViewerPreferences")
    return {"title": meta.get("/Title"), "subject": meta.get("/Subject"), "keywords": meta.get("/Keywords"),
            "lang": str(root["/Lang"]) if "/Lang" in root else None,
            "display_title": bool(prefs.get_object().get("/DisplayDocTitle")) if prefs is not None else False,
            "pages": len(reader.pages)}
