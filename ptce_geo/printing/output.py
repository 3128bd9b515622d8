"""Output: a page saved as PDF, PNG or SVG with its metadata, and the regional atlas (one
multi-page PDF with a cover, page numbers and bookmarks)."""

from __future__ import annotations

import datetime as _dt
import io
import textwrap
from collections.abc import Sequence
from pathlib import Path

import shapely

from .. import _safefile, pdfmeta
from .._cache import atomic_write
from .._errors import PtceGeoError, ValidationError, file_error
from .._text import plain_figure, printable
from .choices import (DEFAULT_TITLE, DPI_PNG, FORMATS, LAYERS, LICENCE, MARGIN_MM, ORIENTATIONS, PAPERS,
                      check_dpi, check_layers, choice)
from .draw import add_fill
from .furniture import locator_shapes
from .layers import plot_layers
from .page import render
from .territories import Territory, region_codes, territory
from .text import bind_punctuation, join_items, source_item

__all__ = ["LAYOUT_TABLES", "lean_pdf_fonts", "format_from", "print_rc", "save", "to_bytes", "print_map",
           "ATLAS_ORIENTATION", "render_cover", "atlas"]


def format_from(path, fmt: str | None) -> str:
    """The output format: ``fmt``, else the suffix of ``path``, else PDF (``FORMATS``)."""
    if fmt is None:
        suffix = Path(str(path)).suffix.lower().lstrip(".")
        fmt = suffix if suffix in FORMATS else "pdf"
    choice("Format de sortie", fmt, FORMATS)
    return fmt


def print_rc():
    """The matplotlib settings of every print: TrueType (Type 42) fonts embedded and subset,
    text kept as text (searchable, read aloud), in SVG too."""
    import matplotlib

    return matplotlib.rc_context({"pdf.fonttype": 42, "pdf.compression": 1, "text.hinting": "none",
                                  "svg.fonttype": "none", "hatch.linewidth": 0.45, "font.family": "DejaVu Sans"})


#: OpenType layout tables: what a text engine reads to place glyphs (substitutions, kerning…).
#: A PDF viewer places none: matplotlib wrote the position of every glyph, kerning and ligatures
#: applied, and the text's Unicode (``/ToUnicode``) apart from the font. Fonts embedded in a PDF
#: go without them: subsetting them took 0.2–0.3 s per font, the fonts stay embedded and the text
#: stays text.
LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "kern")


def lean_pdf_fonts() -> None:
    """Leave the OpenType layout tables (``LAYOUT_TABLES``) out of the font subsets matplotlib
    embeds in PDFs (``fontTools.subset``'s default list of dropped tables, extended once; with
    a fontTools that has no such list, nothing changes but the time it takes)."""
    from fontTools import subset

    drop = getattr(subset.Options, "_drop_tables_default", None)
    if isinstance(drop, list) and not set(LAYOUT_TABLES) <= set(drop):
        subset.Options._drop_tables_default = drop + [t for t in LAYOUT_TABLES if t not in drop]


def save(fig, output, format: str | None = None, dpi: int = DPI_PNG):  # noqa: A002 - matplotlib's name
    """Write ``fig`` to a path or a binary file object as PDF, PNG (``dpi``) or SVG.

    A path is written atomically and only over a regular file (a link, a device, a FIFO or a
    folder is refused: ``_safefile.check_output``); every text is drawn as plain text
    (``_text.plain_figure``: a ``$`` in a pole's name or a title is not mathematics). The
    metadata say what the map is (``pdfmeta``: title, subject, keywords; a PDF's language)."""
    fmt = format_from(output if not hasattr(output, "write") else "", format)
    if fmt == "png":
        dpi = check_dpi(dpi)
    plain_figure(fig)
    title = _title_of(fig)
    what = getattr(fig, "ptce_meta", {"territory": "ptce-geo", "layers": ()})
    info = pdfmeta.map_info(title, what["territory"], [LAYERS[key] for key in what["layers"]])
    meta = {"pdf": info,
            "svg": {"Title": title, "Description": info["Subject"], "Language": pdfmeta.LANG},
            "png": {"Title": title, "Description": info["Subject"], "Software": "ptce-geo"}}[fmt]

    def draw(target):
        if fmt != "pdf":
            fig.savefig(target, format=fmt, dpi=dpi if fmt == "png" else 72, metadata=meta, facecolor="white")
            return
        lean_pdf_fonts()
        buf = io.BytesIO()  # the PDF gets its language (/Lang) afterwards: matplotlib has no such key
        fig.savefig(buf, format="pdf", dpi=72, metadata=meta, facecolor="white")
        data = pdfmeta.finish(buf.getvalue())
        if hasattr(target, "write"):
            target.write(data)
        else:
            Path(target).write_bytes(data)

    with print_rc():
        if hasattr(output, "write"):
            draw(output)
            return output
        path = _safefile.check_output(Path(output))
        if not path.parent.is_dir():
            raise file_error("d'écrire la carte dans", printable(str(output)), FileNotFoundError(2, "absent"))
        try:
            atomic_write(path, draw)
        except OSError as exc:
            raise file_error("d'écrire la carte dans", printable(str(output)), exc) from exc
    return output


def to_bytes(fig, format: str = "png", dpi: int = DPI_PNG) -> bytes:  # noqa: A002
    """``fig`` as bytes (PDF, PNG or SVG), see :func:`save`."""
    buf = io.BytesIO()
    save(fig, buf, format=format, dpi=dpi)
    return buf.getvalue()


def _title_of(fig) -> str:
    furniture = getattr(fig, "ptce_furniture", None)
    return furniture["title"].get_text() if furniture else "ptce-geo"


def print_map(terr: Territory, output, *, paper: str = "a4", orientation: str | None = None,
              format: str | None = None, title: str | None = None, subtitle: str | None = None,  # noqa: A002
              layers: Sequence[str] | None = None, dpi: int = DPI_PNG):
    """Render and save one map; returns the figure (closed-free: a plain Figure)."""
    fmt = format_from(output, format)
    if fmt == "png":
        dpi = check_dpi(dpi)  # before the page is laid out
    with print_rc():
        fig = render(terr, paper=paper, orientation=orientation, title=title, subtitle=subtitle, layers=layers)
    save(fig, output, format=fmt, dpi=dpi)
    return fig


#: One orientation for every page of the atlas (it binds): portrait suits most régions (the
#: map frame is about square), 12 of the 18 are printed larger than in landscape.
ATLAS_ORIENTATION = "portrait"


def render_cover(fig, terrs: Sequence[Territory], *, paper="a4", orientation="portrait", layers=None,
                 date: _dt.date | None = None, sources: dict | None = None, notes: Sequence[str] = (),
                 page: str | None = None):
    """The atlas cover: title, date, table of contents, sources with vintages, licence."""
    pw, ph = choice("Format de papier", paper, PAPERS)
    if orientation == "landscape":
        pw, ph = ph, pw
    k = min(pw, ph) / 210.0
    date = date or _dt.date.today()
    fig.clear()
    fig.set_size_inches(pw / 25.4, ph / 25.4)
    fig.ptce_k = k
    m = MARGIN_MM * 2
    landscape = pw > ph
    fig.text(m / pw, 1 - m / ph, "Atlas régional", fontsize=14 * k, color="#555555", va="top")
    title = fig.text(m / pw, 1 - (m + 10 * k) / ph,
                     textwrap.fill(DEFAULT_TITLE, 42), fontsize=20 * k, fontweight="bold", va="top", linespacing=1.2)
    fig.text(m / pw, 1 - (m + 42 * k) / ph, f"Édition du {date.strftime('%d/%m/%Y')} — {len(terrs)} régions",
             fontsize=11 * k, va="top")
    toc = "\n".join(f"{i + 2:>3}   {t.nom} ({t.code})" for i, t in enumerate(terrs))
    fig.text(m / pw, 1 - (m + 55 * k) / ph, "Sommaire (page)\n\n" + toc, fontsize=9 * k, va="top",
             family="DejaVu Sans Mono")
    # an overview of the régions (overseas in boxes), numbered by page
    ax = fig.add_axes([0.52, 0.40, 0.44, 0.42] if landscape else [0.48, 0.36, 0.47, 0.36])
    ax.set_axis_off()
    ax.set_aspect("equal")
    shapes = locator_shapes()
    add_fill(ax, shapes.geometry.values, 1, facecolor="#b9e3cf", edgecolor="#303030", linewidth=0.4 * k)
    page_of = {t.code: i + 2 for i, t in enumerate(terrs)}
    for code, point in zip(shapes["code"], shapely.point_on_surface(shapes.geometry.values)):
        if code in page_of:
            ax.text(point.x, point.y, str(page_of[code]), ha="center", va="center", fontsize=7 * k,
                    fontweight="bold", zorder=5)
    minx, miny, maxx, maxy = shapes.total_bounds
    ax.set_xlim(minx - 20_000, maxx + 20_000)
    ax.set_ylim(miny - 20_000, maxy + 20_000)
    lines = ["Sources :"] + [f"• {source_item(label, vintage)}" for label, vintage in (sources or {}).items()]
    if notes:
        lines += ["Non représenté : " + join_items(dict.fromkeys(notes))]
    lines += ["", f"Couches : {', '.join(LAYERS[key] for key in check_layers(layers))}.",
              "Projection : Lambert-93 (métropole), UTM local (outre-mer).",
              f"Carte du {date.strftime('%d/%m/%Y')}, réalisée avec ptce-geo.", "", LICENCE + "."]
    width = 80 if landscape else 95  # landscape: the sources fill the right-hand column
    wrapped = "\n".join(textwrap.fill(bind_punctuation(line), width, subsequent_indent="  ") if line else ""
                        for line in lines)
    x = 0.5 if landscape else m / pw
    fig.text(x, m / ph, wrapped, fontsize=7.5 * k, va="bottom", color="#333333", linespacing=1.35)
    page_artist = None
    if page:
        page_artist = fig.text((pw - MARGIN_MM) / pw, MARGIN_MM / ph, page, fontsize=7.5 * k, va="bottom",
                               ha="right", color="#333333")
    fig.ptce_furniture = {"title": title, "page": page_artist}
    return plain_figure(fig)


def _add_outline(path: Path, titles: Sequence[str]) -> None:
    """PDF bookmarks, one per page (matplotlib's PdfPages writes none): an incremental update
    by pypdf, so the pages already written are not rewritten."""
    from pypdf import PdfWriter

    writer = PdfWriter(path, incremental=True)
    for number, title in enumerate(titles):
        writer.add_outline_item(title=title, page_number=number)
    writer.page_mode = "/UseOutlines"  # the viewer opens with the bookmarks shown
    pdfmeta.mark(writer)  # language fr, title shown by the viewer
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as out:
            writer.write(out)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def atlas(output, *, paper: str = "a4", orientation: str | None = None, layers: Sequence[str] | None = None,
          regions: Sequence[str] | None = None, progress: bool = True, date: _dt.date | None = None) -> Path:
    """Every région (18) in one multi-page PDF, after a cover page; returns the path.

    Every page has the same orientation (``ATLAS_ORIENTATION`` unless one is given), a page
    number « n / N » at the bottom right, and a PDF bookmark (cover, then one per région).
    One figure is reused for all pages and every layer is projected once per CRS.
    """
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from tqdm import tqdm

    format_from(output, "pdf")
    if Path(str(output)).suffix.lower() not in ("", ".pdf"):
        raise ValidationError(f"L'atlas est un PDF de plusieurs pages : utilisez un fichier .pdf, pas {str(output)!r}.")
    _safefile.check_output(Path(str(output)))
    layers = check_layers(layers)
    orientation = orientation or ATLAS_ORIENTATION
    choice("Sens de la page", orientation, ORIENTATIONS)
    codes = list(regions) if regions is not None else region_codes()
    terrs = [territory("region", code) for code in codes]
    date = date or _dt.date.today()
    total = len(terrs) + 1
    fig = Figure()
    sources: dict = {}
    notes: list = []
    with print_rc():
        path = Path(str(output))
        try:
            pdf = PdfPages(path, metadata=pdfmeta.atlas_info(f"Atlas — {DEFAULT_TITLE}", len(terrs),
                                                             [LAYERS[key] for key in layers]))
        except OSError as exc:
            raise PtceGeoError(f"Impossible d'écrire l'atlas dans {str(output)!r} : {exc}.") from exc
        lean_pdf_fonts()
        with pdf:
            # the layers' sources for the cover (a page's own remarks stay on that page)
            probe = plot_layers(terrs[0], layers, ax=Figure().add_subplot()) if terrs else None
            if probe is not None:
                sources.update(probe.ptce_drawn.sources)
                notes += probe.ptce_drawn.notes
            render_cover(fig, terrs, paper=paper, orientation=orientation, layers=layers,
                         date=date, sources=sources, notes=notes, page=f"1 / {total}")
            pdf.savefig(fig)
            for number, terr in enumerate(tqdm(terrs, desc="Atlas", unit="région", disable=not progress), start=2):
                render(terr, paper=paper, orientation=orientation, layers=layers, date=date, fig=fig,
                       page=f"{number} / {total}")
                pdf.savefig(fig)
    try:
        _add_outline(path, ["Couverture et sommaire"] + [f"{t.nom} ({t.code})" for t in terrs])
    except (OSError, ImportError) as exc:
        raise PtceGeoError(f"Impossible d'ajouter les signets à l'atlas {str(output)!r} : {exc}.") from exc
    return path
