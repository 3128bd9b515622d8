"""Exports as French users open them: Excel CSV, file formats from extensions, file modes."""

import json
import os
import stat
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from ptce_geo import export
from ptce_geo._errors import UnknownChoiceError


def test_excel_csv_has_bom_semicolons_and_decimal_comma():
    frame = pd.DataFrame({"code": ["01"], "taux": [0.125], "communes": [["01001", "01002"]]})
    data = export.to_csv_bytes(frame, excel=True)
    assert data.startswith("\ufeff".encode("utf-8"))
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "code;taux;communes"
    assert lines[1] == '01;0,125;"01001;01002"'
    assert export.to_csv_bytes(frame).decode().splitlines()[1] == "01,0.125,01001;01002"


@pytest.mark.parametrize("name, fmt", [("a.csv", "csv"), ("a.GeoJSON", "geojson"), ("a.gpkg", "gpkg"),
                                       ("a.xlsx", "xlsx"), ("a", "csv"), ("-", "csv")])
def test_format_from_extension(name, fmt):
    assert export.format_for(name, export.FORMATS, "csv") == fmt


def test_unknown_extension_is_refused_with_the_valid_ones():
    with pytest.raises(UnknownChoiceError) as err:
        export.format_for("poles.txt", export.FORMATS, "csv")
    assert "'.txt'" in str(err.value) and ".xlsx" in str(err.value) and "--format" in str(err.value)


def test_cli_print_refuses_an_unknown_extension(tmp_path):
    out = subprocess.run([sys.executable, "-m", "ptce_geo", "print", "--region", "32", "-o", str(tmp_path / "x.docx")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "'.docx'" in out.stderr and ".pdf" in out.stderr
    assert not (tmp_path / "x.docx").exists()


def test_written_files_get_ordinary_permissions_and_gpkg_no_warning(tmp_path, recwarn):
    frame = gpd.GeoDataFrame({"code": ["a"]}, geometry=[shapely.Point(2, 48)], crs=4326)
    export.write(frame, "gpkg", tmp_path / "a.gpkg")
    export.write(frame, "geojson", tmp_path / "a.geojson")
    umask = os.umask(0)
    os.umask(umask)
    for name in ("a.gpkg", "a.geojson"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask
    assert len(gpd.read_file(tmp_path / "a.gpkg")) == 1
    assert not [w for w in recwarn if "extension" in str(w.message)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.geojson", "a.gpkg"]  # no temporary file left


def test_counts_with_missing_values_stay_integers(tmp_path):
    frame = gpd.GeoDataFrame({"code": ["a", "b"], "population": [776.0, float("nan")], "taux": [1.0, 0.5],
                              "priority_population": [3.0, 4.0]},
                             geometry=[shapely.Point(2, 48), shapely.Point(3, 48)], crs=4326)
    lines = export.to_csv_bytes(frame).decode().splitlines()
    assert lines[1:] == ["a,776,1.0,3", "b,,0.5,4"]
    props = [f["properties"] for f in json.loads(export.to_geojson_bytes(frame))["features"]]
    assert props[0]["population"] == 776 and isinstance(props[0]["population"], int) and props[1]["population"] is None
    export.write(frame, "gpkg", tmp_path / "a.gpkg")
    import pyogrio

    info = pyogrio.read_info(tmp_path / "a.gpkg")
    assert dict(zip(info["fields"], info["ogr_types"]))["population"] == "OFTInteger64"
    assert frame["population"].dtype == float  # the caller's frame is left alone


def test_error_messages_read_as_french():
    assert str(UnknownChoiceError("Couche", "x", ["qpv"])) == "Couche inconnue : 'x'. Valeurs possibles : qpv."
    assert str(UnknownChoiceError("Niveau", "x", ["a"])) == "Niveau inconnu : 'x'. Valeurs possibles : a."
    assert str(UnknownChoiceError("Territoire", "x", [])) == "Territoire inconnu : 'x'."
    with pytest.raises(UnknownChoiceError) as err:
        export.write(gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326), "gpkg", "-")
    assert "sortie standard" in str(err.value) and "-o FICHIER.gpkg" in str(err.value)
    assert "inconnu" not in str(err.value)
    with pytest.raises(UnknownChoiceError) as err:
        export.to_geojson_bytes(pd.DataFrame({"a": [1]}))
    assert "pas de géométrie" in str(err.value)


def test_network_failures_are_said_in_french():
    import requests

    from ptce_geo._errors import network_error_fr, os_error_fr

    dns = requests.ConnectionError("HTTPSConnectionPool(host='x', port=443): Max retries exceeded with url: / "
                                   "(Caused by NameResolutionError(\"Failed to resolve 'x'\"))")
    assert "DNS" in network_error_fr(dns) and "Max retries" not in network_error_fr(dns)
    assert "délai dépassé" in network_error_fr(requests.ReadTimeout("read timed out"), 30)
    assert network_error_fr(requests.ConnectionError("Connection refused")) == "connexion refusée par le serveur"
    assert os_error_fr(FileNotFoundError(2, "No such file or directory")) == "fichier ou dossier introuvable"
    assert os_error_fr(PermissionError(13, "Permission denied")) == "permission refusée"
