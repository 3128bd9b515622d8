"""Page « Données » (AppTest): layer states with the mirror; without mirror, cache or
network the app still starts and says which layers are missing and how to get them."""

from pathlib import Path


from ptce_geo import priority

ROOT = Path(__file__).resolve().parents[1]


def test_donnees_with_mirror(app_page, mirror_dir):
    at = app_page("donnees")
    assert not at.exception
    assert at.title[0].value == "Données"
    assert len(at.warning) == 0
    assert len(at.dataframe) == 1
    shown = at.dataframe[0].value
    assert list(shown["Couche"]) == [priority.LABELS[n] for n in priority.LAYERS]
    assert shown["Disponible"].all()
    labels = [e.label for e in at.expander]
    assert len(labels) == 4 and all(label.endswith("— disponible") for label in labels)
    text = " ".join(m.value for m in at.markdown)
    assert "raw.githubusercontent.com/anct-carto/superposeur-anct" in text  # the source is named
    assert "Contours officiels des QPV" in text and "point par commune" in text
    assert "miroir" in text


def test_app_starts_offline_with_nothing_and_names_missing_layers(app_page, tmp_path, monkeypatch):
    monkeypatch.delenv("PTCE_GEO_MIRROR", raising=False)
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    monkeypatch.setenv("PTCE_GEO_RAW", str(tmp_path / "raw"))
    at = app_page("donnees")
    assert not at.exception
    assert len(at.warning) == 1
    warning = at.warning[0].value
    for name in priority.LAYERS:
        assert priority.LABELS[name] in warning
    assert "ptce-geo data sync" in warning and "PTCE_GEO_MIRROR" in warning
    assert not at.dataframe[0].value["Disponible"].any()
    assert all(e.label.endswith("— absente") for e in at.expander)
    text = " ".join(m.value for m in at.markdown)
    assert "Pour l'obtenir" in text and "frr_communes_2025.csv" in text


def test_notice_names_only_the_missing_layer(app_page, tmp_path, monkeypatch, mirror_dir):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for f in mirror_dir.iterdir():
        if f.name != "zrr_communes_cog2021.csv":
            (mirror / f.name).symlink_to(f)
    monkeypatch.setenv("PTCE_GEO_MIRROR", str(mirror))
    monkeypatch.setenv("PTCE_GEO_RAW", str(tmp_path / "raw"))
    at = app_page("donnees")
    assert len(at.warning) == 1
    warning = at.warning[0].value
    assert priority.LABELS["zrr"] in warning and priority.LABELS["frr"] not in warning
