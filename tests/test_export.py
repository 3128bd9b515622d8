"""Exports as French users open them: Excel CSV, file formats from extensions, file modes."""

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
