"""Printed maps for every reader (issue 16): classes apart in greyscale, a legend that names each
pattern, PDFs that carry their title, subject and language. A greyscale rendering of a région is
saved in test-output/artifacts (print_region_gris.png) to be looked at."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ptce_geo import pdfmeta, printing

LAYERS = ["departements", "couverture", "territoires-industrie", "qpv", "poles"]


@pytest.fixture(scope="module")
def region_figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = printing.render(printing.territory("region", "32"), layers=LAYERS)
    if any("Couverture" in n for n in fig.ptce_drawn.notes):
        pytest.skip("couverture indisponible")
    fig.set_dpi(110)
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig


def _legend_swatches(fig) -> dict[str, tuple]:
    """Legend label → (handle, pixel box (x0, y0, x1, y1) of its symbol, rows from the top)."""
    legend = fig.ptce_furniture["legend"]
    renderer = fig.canvas.get_renderer()
    height = fig.canvas.get_width_height()[1]
    out = {}
    for text, handle in zip(legend.get_texts(), legend.legend_handles):
        label = " ".join(text.get_text().split())
        if not label or not hasattr(handle, "get_window_extent"):
            continue
        box = handle.get_window_extent(renderer)
        if box.width < 4 or box.height < 4:
            continue
        out[label] = (handle, (int(box.x0), int(height - box.y1), int(box.x1), int(height - box.y0)))
    return out


def test_legend_names_each_pattern(region_figure):
    swatches = _legend_swatches(region_figure)
    hatched = {label: h for label, (h, _box) in swatches.items() if getattr(h, "get_hatch", lambda: None)()}
    assert hatched, "aucun motif dans la légende"
    for label, handle in hatched.items():
        name = printing.PATTERN_NAMES[handle.get_hatch()]
        assert label.endswith(f"({name})"), label
    assert "Commune prioritaire sans pôle à portée (pointillé)" in swatches
    assert "Territoire d'industrie (hachures obliques)" in swatches


def test_classes_stay_apart_in_greyscale(region_figure, output_dir):
    from PIL import Image

    rgba = np.asarray(region_figure.canvas.buffer_rgba())
    colour = Image.fromarray(rgba[:, :, :3])
    grey = colour.convert("L")  # what a greyscale printer or photocopier keeps
    colour.save(output_dir / "print_region_couleur.png")
    grey.save(output_dir / "print_region_gris.png")
    pixels = np.asarray(grey, dtype=float)
    swatches = _legend_swatches(region_figure)
    wanted = [label for label in swatches if label.startswith(("Commune prioritaire", "Commune non prioritaire",
                                                              "Autres régions", "Territoire d'industrie"))]
    assert len(wanted) == 5, sorted(swatches)
    looks = {}
    for label in wanted:
        x0, y0, x1, y1 = swatches[label][1]
        dx, dy = (x1 - x0) // 5, (y1 - y0) // 5
        inner = pixels[y0 + dy:y1 - dy, x0 + dx:x1 - dx]  # the fill, not the swatch's border
        looks[label] = (inner.mean(), inner.std())
    for a, b in itertools.combinations(wanted, 2):
        (ma, sa), (mb, sb) = looks[a], looks[b]
        assert abs(ma - mb) >= 25 or abs(sa - sb) >= 15, (a, b, looks[a], looks[b])


def test_pdf_says_title_subject_and_language(output_dir):
    terr = printing.territory("departement", "48")
    fig = printing.render(terr, title="Pôles de Lozère", layers=["departements", "poles"])
    data = printing.to_bytes(fig, "pdf")
    (output_dir / "carte_lozere_metadonnees.pdf").write_bytes(data)
    meta = pdfmeta.read(data)
    assert meta["title"] == "Pôles de Lozère"
    assert meta["subject"].startswith("Carte — département Lozère (48) ; couches : Limites départementales, "
                                      "Pôles (PTCE)")
    assert meta["lang"] == "fr" and meta["display_title"] and meta["pages"] == 1
    assert "PTCE" in meta["keywords"]
    # matplotlib's pages are kept as they were: /Lang comes as an incremental update
    assert data.count(b"%%EOF") == 2
    svg = printing.to_bytes(fig, "svg").decode()
    assert "<dc:language>fr</dc:language>" in svg and "<dc:title>Pôles de Lozère</dc:title>" in svg
