"""Every bad input of the foundation issue: a clear message naming file, row and
column, exit status 2, no traceback, and the input file left untouched."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

POINTS_GEOJSON = json.dumps({
    "type": "FeatureCollection",
    "features": [{"type": "Feature", "properties": {"name": "a"},
                  "geometry": {"type": "Point", "coordinates": [140.1, 39.7]}}],
})

CSV_HEADER = "番号,名称,種別,緯度,経度\n"


def _places_region(write_region: Callable[[str], Path], tmp_path: Path, body: bytes,
                   name: str = "ibasho.csv") -> Path:
    (tmp_path / name).write_bytes(body)
    return write_region(f'[region]\nname = "テスト"\n\n[layers.places]\npath = "{name}"\n')


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_clear_error(result: tuple[int, str, str], *, file: str, row: int | None,
                       column: str) -> str:
    code, out, err = result
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert file in err, err
    if row is not None:
        assert f"{row}行目" in err, err
    assert f"「{column}」" in err, err
    assert "対処:" in err, err
    return err


def test_missing_file_names_the_toml_row_and_key(run_cli, write_region, tmp_path):
    toml = write_region('[region]\nname = "t"\n\n[layers.places]\npath = "nai.csv"\n')
    err = assert_clear_error(run_cli("check", toml), file="region.toml", row=5,
                             column="layers.places.path")
    assert "nai.csv" in err and "見つかりません" in err


def test_undecodable_text_names_row_and_column(run_cli, write_region, tmp_path):
    body = (CSV_HEADER + "1,サロンA,サロン,39.7,140.1\n").encode("utf-8")
    body += b"2,\xff\xfe\x80,x,39.7,140.1\n"
    toml = _places_region(write_region, tmp_path, body)
    err = assert_clear_error(run_cli("check", toml), file="ibasho.csv", row=3, column="名称")
    assert "読めない文字" in err


def test_missing_coordinate_columns(run_cli, write_region, tmp_path):
    toml = _places_region(write_region, tmp_path, "番号,名称\n1,サロン\n".encode())
    err = assert_clear_error(run_cli("check", toml), file="ibasho.csv", row=1, column="緯度")
    assert "座標の列" in err


def test_non_numeric_coordinates(run_cli, write_region, tmp_path):
    body = (CSV_HEADER + "1,A,サロン,39.7,140.1\n2,B,サロン,北緯39度,140.1\n").encode()
    toml = _places_region(write_region, tmp_path, body)
    err = assert_clear_error(run_cli("check", toml), file="ibasho.csv", row=3, column="緯度")
    assert "北緯39度" not in err  # cell values never appear in messages


def test_coordinates_outside_japan(run_cli, write_region, tmp_path):
    body = (CSV_HEADER + "1,A,サロン,39.7,140.1\n2,B,サロン,39.7,-75.0\n").encode()
    toml = _places_region(write_region, tmp_path, body)
    err = assert_clear_error(run_cli("check", toml), file="ibasho.csv", row=3, column="経度")
    assert "日本の範囲外" in err


def test_empty_layer(run_cli, write_region, tmp_path):
    toml = _places_region(write_region, tmp_path, CSV_HEADER.encode())
    err = assert_clear_error(run_cli("check", toml), file="ibasho.csv", row=2, column="番号")
    assert "データ行がありません" in err


def test_duplicate_ids(run_cli, write_region, tmp_path):
    body = (CSV_HEADER + "1,A,サロン,39.7,140.1\n2,B,サロン,39.71,140.1\n"
            "2,C,サロン,39.72,140.1\n").encode()
    toml = _places_region(write_region, tmp_path, body)
    err = assert_clear_error(run_cli("check", toml), file="ibasho.csv", row=4, column="番号")
    assert "重複" in err


def test_duplicate_shelter_ids_across_files(run_cli, write_region, tmp_path):
    head = ("NO,共通ID,施設・場所名,住所,洪水,崖崩れ、土石流及び地滑り,高潮,地震,津波,"
            "大規模な火事,内水氾濫,火山現象,指定避難所との住所同一,緯度,経度,備考\n")
    row = "1,E0520100001201,A,秋田県,1,,,1,,,,,,39.7,140.1,\n"
    (tmp_path / "a.csv").write_bytes((head + row).encode("cp932"))
    (tmp_path / "b.csv").write_bytes((head + row).encode("utf-8-sig"))
    toml = write_region('[region]\nname="t"\n[layers.shelters]\npath = ["a.csv", "b.csv"]\n')
    assert_clear_error(run_cli("check", toml), file="b.csv", row=2, column="共通ID")


def test_wrong_geometry_type(run_cli, write_region, tmp_path):
    (tmp_path / "b.geojson").write_text(POINTS_GEOJSON, encoding="utf-8")
    toml = write_region('[region]\nname="t"\n[layers.boundaries]\npath = "b.geojson"\n')
    err = assert_clear_error(run_cli("check", toml), file="b.geojson", row=2, column="geometry")
    assert "ポリゴン" in err


def test_broken_shapefile_zip(run_cli, write_region, tmp_path):
    (tmp_path / "A27.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    toml = write_region('[region]\nname="t"\n\n[layers.school_districts]\npath = "A27.zip"\n')
    err = assert_clear_error(run_cli("check", toml), file="A27.zip", row=5,
                             column="layers.school_districts.path")
    assert "zip" in err


def test_zip_without_dbf(run_cli, write_region, tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "A27.zip", "w") as zf:
        zf.writestr("A27/A27.shp", b"x")
        zf.writestr("A27/A27.shx", b"x")
    toml = write_region('[region]\nname="t"\n\n[layers.school_districts]\npath = "A27.zip"\n')
    err = assert_clear_error(run_cli("check", toml), file="A27.zip", row=5,
                             column="layers.school_districts.path")
    assert ".dbf" in err


def test_unknown_layer_key(run_cli, write_region, tmp_path):
    toml = write_region('[region]\nname="t"\n\n[layers.shelter]\npath = "x.csv"\n')
    err = assert_clear_error(run_cli("check", toml), file="region.toml", row=4,
                             column="layers.shelter")
    assert "shelters" in err  # the fix lists the valid keys


def test_toml_syntax_error_names_line(run_cli, write_region):
    toml = write_region('[region]\nname = "t\n')
    code, _, err = run_cli("check", toml)
    assert code == 2 and "2行目" in err and "region.toml" in err


def test_missing_region_file(run_cli, tmp_path):
    code, _, err = run_cli("check", tmp_path / "nai.toml")
    assert code == 2 and "nai.toml" in err


def test_mapped_column_that_does_not_exist(run_cli, write_region, tmp_path):
    (tmp_path / "ibasho.csv").write_bytes((CSV_HEADER + "1,A,サロン,39.7,140.1\n").encode())
    toml = write_region('[region]\nname="t"\n[layers.places]\npath="ibasho.csv"\nname="施設名称"\n')
    assert_clear_error(run_cli("check", toml), file="ibasho.csv", row=None, column="施設名称")


def test_inputs_are_never_modified(run_cli, write_region, tmp_path):
    body = (CSV_HEADER + "1,A,サロン,140.1,39.7\n").encode("cp932")  # swapped lat/lon
    toml = _places_region(write_region, tmp_path, body)
    before = _digest(tmp_path / "ibasho.csv"), _digest(toml)
    code, out, _ = run_cli("check", toml)
    assert code == 0
    assert "入れ替えました" in out
    assert (_digest(tmp_path / "ibasho.csv"), _digest(toml)) == before


def test_console_script_prints_no_traceback(write_region, tmp_path):
    toml = write_region('[region]\nname="t"\n[layers.nope]\npath="x"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "geo", "check", str(toml)], capture_output=True, text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert re.search(r"region\.toml 3行目", proc.stderr)
