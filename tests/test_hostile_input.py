"""Hostile and careless input, case by case: a plain error (exit 2, no traceback) or a correct
result; no input modified; no partial output; nothing read without bound."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

from geo.cli import main

ERROR_WORDS = ("Traceback", "KeyError", "GEOSException", "MemoryError", "Exception")


def _plain_failure(code: int, err: str) -> None:
    assert code == 2, err
    assert err.startswith("エラー") or "error:" in err
    assert not any(w in err for w in ERROR_WORDS), err


def _digest(*paths: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def _argparse_exit(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    assert e.value.code == 2
    return capsys.readouterr().err


@pytest.fixture
def register(demo_dir: Path, tmp_path: Path) -> Path:
    """A copy of the demo register, in a ``private`` folder like every register input (the
    session's leak scan reads every other file the tests write)."""
    (tmp_path / "private").mkdir()
    reg = tmp_path / "private" / "meibo.csv"
    reg.write_bytes((demo_dir / "private/vulnerable_records.csv").read_bytes())
    return reg


@pytest.fixture
def own_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOMONI_STATE_DIR", str(tmp_path / "state"))


def _region(tmp_path: Path, body: str, name: str = "r.toml") -> Path:
    path = tmp_path / name
    path.write_text('[region]\nname = "試験"\n' + body, encoding="utf-8")
    return path


# ------------------------------------------------------------------ nothing overwritten


def test_the_register_is_never_overwritten_by_its_density(register, run_cli, own_ledger):
    before = _digest(register)
    code, _, err = run_cli("anonymize", register, "--out", register)
    _plain_failure(code, err)
    assert _digest(register) == before


def test_an_output_naming_a_layer_file_or_its_folder_is_refused(demo_dir, run_cli):
    layer = demo_dir / "ibasho.csv"
    before = _digest(layer)
    for out in (layer, demo_dir):
        code, _, err = run_cli("coverage", demo_dir / "region.toml", "--out", out)
        _plain_failure(code, err)
    assert _digest(layer) == before


def test_an_existing_output_is_replaced_only_with_force(register, tmp_path, run_cli, own_ledger):
    out = tmp_path / "density.csv"
    assert run_cli("anonymize", register, "--out", out)[0] == 0
    first = out.read_bytes()
    code, _, err = run_cli("anonymize", register, "--out", out)
    _plain_failure(code, err)
    assert "--force" in err and out.read_bytes() == first
    assert run_cli("anonymize", register, "--out", out, "--force")[0] == 0


def test_an_output_under_a_file_is_a_plain_error(register, tmp_path, run_cli, own_ledger):
    code, _, err = run_cli("anonymize", register, "--out", register.parent / "meibo.csv" / "x.csv")
    _plain_failure(code, err)


# ------------------------------------------------------------------ bounded resources


def test_a_zip_bomb_is_refused_before_it_is_read(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("TOMONI_MAX_UNZIPPED_MB", "5")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.shp", b"\0" * 100)
        z.writestr("a.shx", b"\0" * 100)
        z.writestr("a.dbf", b"\0" * (20 << 20))
    code, _, err = run_cli("check", _region(tmp_path, '[layers.boundaries]\npath = "bomb.zip"\n'))
    _plain_failure(code, err)
    assert "大きすぎ" in err


def test_devices_and_pipes_are_not_read(tmp_path, run_cli):
    os.mkfifo(tmp_path / "pipe.csv")
    for path in ("/dev/zero", "pipe.csv"):
        code, _, err = run_cli("check", _region(tmp_path, f'[layers.places]\npath = "{path}"\n'))
        _plain_failure(code, err)
        assert "通常のファイルではありません" in err


def test_a_zip_with_two_datasets_is_refused(tmp_path, run_cli):
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        for stem in ("a", "b"):
            for ext in (".shp", ".shx", ".dbf"):
                z.writestr(stem + ext, b"\0" * 10)
    code, _, err = run_cli("check", _region(tmp_path, '[layers.boundaries]\npath = "two.zip"\n'))
    _plain_failure(code, err)
    assert "a.shp" in err and "b.shp" in err


@pytest.mark.parametrize("args", [
    ["map", "R", "--out", "m.png", "--dpi", "0"],
    ["map", "R", "--out", "m.png", "--dpi", "100000"],
    ["coverage", "R", "--out", "c", "--max-distance", "nan"],
    ["coverage", "R", "--out", "c", "--max-distance", "-5"],
    ["shelters", "R", "--hazard", "flood", "--out", "s", "--shallow-factor", "nan"],
    ["anonymize", "R", "--out", "d.csv", "--k", "2"],
    ["recommend", "R", "--candidates", "places", "--p", "0", "--out", "x"],
    ["recommend", "R", "--candidates", "places", "--target", "1.5", "--out", "x"],
])
def test_numeric_options_are_checked_before_anything_runs(args, demo_dir, tmp_path, capsys):
    args = [str(demo_dir / "region.toml") if a == "R" else str(tmp_path / a) if a in ("m.png", "c", "s",
                                                                                       "d.csv", "x") else a
            for a in args]
    err = _argparse_exit(args, capsys)
    assert "argument --" in err and "Traceback" not in err


@pytest.mark.parametrize("extra", [[], ["--years", "2025,2035"]])
def test_year_weights_without_their_objective_are_refused(extra, demo_dir, tmp_path, run_cli):
    """--weights without --years and --objective sum was silently ignored."""
    code, _, err = run_cli("recommend", demo_dir / "region.toml", "--candidates", "places",
                           "--weights", "1,2", *extra, "--out", tmp_path / "x")
    assert code == 2 and "--weights" in err and "--objective sum" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_more_sites_than_candidates_is_refused(demo_dir, tmp_path, run_cli):
    code, _, err = run_cli("recommend", demo_dir / "region.toml", "--candidates", "places", "--p",
                           "1000", "--out", tmp_path / "rec")
    _plain_failure(code, err)
    assert not (tmp_path / "rec").exists()


# ------------------------------------------------------------------ values of the wrong kind


@pytest.mark.parametrize("old, new", [
    ("k = 5\n", 'k = "five"\n'), ("k = 5\n", "k = 5.5\n"), ("mesh = 500\n", 'mesh = "500"\n')])
def test_toml_values_of_the_wrong_type_are_errors(old, new, demo_dir, run_cli):
    text = (demo_dir / "region.toml").read_text("utf-8")
    assert old in text
    toml = demo_dir / f"bad_{abs(hash(new))}.toml"
    toml.write_text(text.replace(old, new), encoding="utf-8")
    try:
        code, _, err = run_cli("check", toml, "--no-roads")
        _plain_failure(code, err)
        assert f"layers.vulnerable.{old.split()[0]}" in err
    finally:
        toml.unlink()


def test_region_name_must_be_text_and_unknown_keys_are_said(tmp_path, run_cli, caplog):
    code, _, err = run_cli("check", _region(tmp_path, "", "a.toml").with_name("a.toml"))
    bad = tmp_path / "n.toml"
    bad.write_text("[region]\nname = 5\n", encoding="utf-8")
    code, _, err = run_cli("check", bad)
    _plain_failure(code, err)
    assert "region.name" in err
    odd = tmp_path / "o.toml"
    odd.write_text('[region]\nname = "x"\nlayers = [1, 2]\ncrs = "EPSG:6678"\n', encoding="utf-8")
    run_cli("check", odd)
    assert "不明なキー layers" in caplog.text


def test_batch_buffer_must_be_a_finite_number(demo_dir, tmp_path, run_cli):
    cfg = tmp_path / "REGIONS.toml"
    cfg.write_text(f'[batch]\nregion = "{demo_dir / "region.toml"}"\nbuffer_m = nan\n', encoding="utf-8")
    code, _, err = run_cli("batch", cfg, "--out", tmp_path / "b")
    _plain_failure(code, err)
    assert "buffer_m" in err


def test_nan_and_metric_coordinates_are_errors(tmp_path, run_cli):
    (tmp_path / "nan.geojson").write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
        '{"type":"Polygon","coordinates":[[[140.1,39.7],[140.2,39.7],[140.2,NaN],[140.1,39.7]]]}}]}',
        encoding="utf-8")
    (tmp_path / "metric.geojson").write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
        '{"type":"Polygon","coordinates":[[[-30000,-60000],[-29000,-60000],[-29000,-59000],'
        '[-30000,-60000]]]}}]}', encoding="utf-8")
    for name, words in (("nan", "数値でない"), ("metric", "経度・緯度の範囲")):
        toml = _region(tmp_path, f'[layers.hazards]\npath = "{name}.geojson"\nhazard = "flood"\n',
                       f"{name}.toml")
        code, _, err = run_cli("check", toml)
        _plain_failure(code, err)
        assert words in err and "2行目" in err


# ------------------------------------------------------------------ registers and counts


@pytest.mark.parametrize("value", ["-3", "1e308", "2.7", "inf"])
def test_counts_must_be_whole_people(value, tmp_path, run_cli, own_ledger):
    f = tmp_path / "counts.csv"
    f.write_text(f"mesh_code,count\n574036111,12\n574036112,{value}\n", encoding="utf-8")
    code, _, err = run_cli("anonymize", f, "--kind", "mesh_counts", "--out", tmp_path / "d.csv")
    _plain_failure(code, err)
    assert "3行目" in err and value not in err.split("counts.csv", 1)[1]


def test_duplicate_register_numbers_are_refused_by_row(register, tmp_path, run_cli, own_ledger):
    rows = list(csv.reader(register.read_text("utf-8-sig").splitlines()))
    rows[5][0] = rows[2][0]
    dup = register.parent / "dup.csv"
    with open(dup, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    code, _, err = run_cli("anonymize", dup, "--out", tmp_path / "d.csv")
    _plain_failure(code, err)
    assert "3 行目" in err and "6 行目" in err and rows[2][0] not in err


def test_swapped_coordinates_are_said(register, tmp_path, run_cli, own_ledger, caplog):
    rows = list(csv.reader(register.read_text("utf-8-sig").splitlines()))
    for r in rows[1:]:
        r[5], r[6] = r[6], r[5]
    swapped = register.parent / "swapped.csv"
    with open(swapped, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    code, out, _ = run_cli("anonymize", swapped, "--out", tmp_path / "d.csv")
    assert code == 0 and json.loads(out)["coordinates_swapped"] is True
    assert "入れ替えて" in caplog.text


def test_a_register_below_k_shows_no_small_number(register, tmp_path, run_cli, own_ledger):
    tiny = register.parent / "tiny.csv"
    tiny.write_text("\n".join(register.read_text("utf-8-sig").splitlines()[:5]) + "\n", encoding="utf-8")
    code, out, _ = run_cli("anonymize", tiny, "--out", tmp_path / "d.csv")
    summary = json.loads(out)
    assert code == 0 and summary["units_published"] == 0
    assert summary["records_read"] == "5未満" and summary["in_region"] == "5未満"


def test_a_region_whose_register_publishes_nothing(demo_dir, tmp_path, run_cli, own_ledger):
    rows = (demo_dir / "private/vulnerable_records.csv").read_text("utf-8-sig").splitlines()[:5]
    (demo_dir / "private" / "tiny_test.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    toml = demo_dir / "tiny_test.toml"
    toml.write_text((demo_dir / "region.toml").read_text("utf-8").replace(
        "private/vulnerable_records.csv", "private/tiny_test.csv"), encoding="utf-8")
    try:
        code, _, err = run_cli("vc-plan", toml, "--hazard", "flood", "--out", tmp_path / "vc")
        _plain_failure(code, err)
        code, out, err = run_cli("export", toml, "--out", tmp_path / "export")
        assert code == 0, err
        code, out, err = run_cli("report", toml, "--format", "html", "--out", tmp_path / "rep")
        assert code == 0, err
        assert any("k 人未満" in n for n in json.loads(out)["notes"])
    finally:
        toml.unlink()
        (demo_dir / "private" / "tiny_test.csv").unlink()


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_during_a_report_leaves_no_half_report(demo_dir, tmp_path, run_cli, monkeypatch):
    import geo.outputs.report

    def interrupted(*_a, **_k):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(geo.outputs.report, "_pdf", interrupted)
    out = tmp_path / "rep"
    code, _, err = run_cli("report", demo_dir / "region.toml", "--out", out)
    assert code == 130 and "中断" in err and "Traceback" not in err
    assert not (out / "report.html").exists() and not list(out.glob("*.pdf"))


def test_ctrl_c_during_batch_start_leaves_no_cut_network(demo_dir, tmp_path, run_cli, monkeypatch):
    import geo.runs.batch.dask_run

    def interrupted(specs, out):  # type: ignore[no-untyped-def]
        yield from ()
        (out / "inputs").mkdir(parents=True, exist_ok=True)
        (out / "inputs" / "muni=05901.npz").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(geo.runs.batch.dask_run, "iter_inputs", interrupted)
    cfg = tmp_path / "REGIONS.toml"
    cfg.write_text(f'[batch]\nregion = "{demo_dir / "region.toml"}"\n', encoding="utf-8")
    code, _, err = run_cli("batch", cfg, "--out", tmp_path / "b", "--dask")  # the partitioned start
    assert code == 130 and "Traceback" not in err
    assert not list((tmp_path / "b").glob("inputs/*.npz"))


@pytest.mark.parametrize("name", ["班\x00A", "B\x07班", "C\x1b[31m", "D\ufffe", "<E & \"F\">"])
def test_a_control_character_in_a_team_or_route_name_keeps_the_gpx_valid(name):
    """A NUL in a team's name made an invalid GPX that GPS apps refuse; every GPX writer
    drops the characters XML 1.0 forbids and escapes the rest."""
    import xml.etree.ElementTree as ET

    import geopandas as gpd
    import numpy as np
    import shapely

    from geo.engine.routing import Route
    from geo.outputs.files.dispatch import team_gpx
    from geo.outputs.files.route import to_gpx

    stops = gpd.GeoDataFrame({"order": [1], "need_id": [name], "work": [name]},
                             geometry=[shapely.Point(140.1, 39.7)], crs="EPSG:4326")
    line = shapely.LineString([(140.1, 39.7), (140.11, 39.71)])
    route = Route(found=True, coords=np.array([[0.0, 0.0], [100.0, 0.0]]), crs="EPSG:6678", length_m=100.0)
    for text in (team_gpx(name, line, stops), to_gpx({name: route}, name=name)):
        root = ET.fromstring(text.encode("utf-8"))
        names = [e.text or "" for e in root.iter("{http://www.topografix.com/GPX/1/1}name")]
        assert names and all(not any(ord(c) < 32 and c not in "\t\n\r" for c in n) for n in names)
        assert all(n.strip() for n in names)  # the rest of the name survives


@pytest.mark.parametrize(("lat", "lng", "column"), [('"abc"', "140.1", "lat"), ("1e308", "140.1", "lat"),
                                                    ("NaN", "140.1", "lat"), ("39.7", "-Infinity", "lng"),
                                                    ("39.7", "14010.0", "lng")])
def test_a_machiaza_point_with_impossible_coordinates_is_a_clear_error(tmp_path, run_cli, lat, lng, column):
    """A 町字 reference whose coordinates are text, 1e308 or NaN used to place every address
    at inf with exit 0; now it names the file, the row and the column."""
    ref = tmp_path / "machiaza" / "潟上市.json"
    ref.parent.mkdir()
    ref.write_text('[{"town": "天王", "koaza": "", "lat": 39.86, "lng": 140.05},\n'
                   f' {{"town": "大久保", "koaza": "", "lat": {lat}, "lng": {lng}}}]', "utf-8")
    places = tmp_path / "places.csv"
    places.write_text("名称,住所\nサロンA,潟上市天王1\n", encoding="utf-8")
    code, out, err = run_cli("geocode", places, "--reference", ref, "--out", tmp_path / "o.csv")
    assert code == 2 and "Traceback" not in err and out == ""
    assert "潟上市.json" in err and "2" in err and column in err, err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(("rows", "row", "column"), [
    ([("トイレ1基あたりの人数（その後）", "1e-308")], 2, "値"),
    ([("bath_people", "0.5")], 2, "値"),
    ([("area_m2_per_person", "1e9")], 2, "値"),
    ([("bath_people", "40"), ("bath_people", "60")], 3, "項目"),
    ([("入浴1回あたりの人数", "40"), ("bath_people", "60")], 3, "項目"),
])
def test_a_shelter_ratio_that_cannot_be_is_refused(tmp_path, rows, row, column):
    """1e-308 people per toilet gave −9.2e18 toilets, and a repeated item silently took the
    last value; both are errors naming the row and the column now."""
    from geo.analyses.shelter_needs import RATIO_LABELS, read_ratios
    from layers.errors import LayerError

    rows = [(RATIO_LABELS.get("bath_people", k) if k == "入浴1回あたりの人数" else k, v) for k, v in rows]
    path = tmp_path / "ratios.csv"
    path.write_text("項目,値\n" + "".join(f"{k},{v}\n" for k, v in rows), encoding="utf-8")
    with pytest.raises(LayerError) as err:
        read_ratios(path)
    assert err.value.row == row and err.value.column == column, err.value.message


@pytest.mark.parametrize("years", [",".join(["2035"] * 2000), ",".join(str(2000 + i) for i in range(20))])
def test_years_repeated_or_too_many_are_refused(demo_dir, tmp_path, run_cli, years):
    """--years with 2,000 copies of a year wrote 31 MB of the same rows; now a plain error."""
    code, out, err = run_cli("outlook", demo_dir / "region.toml", "--years", years, "--out", tmp_path / "o")
    assert code == 2 and out == "" and "--years" in err and "Traceback" not in err, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("address", ["127.1", "0", "300.1.1.1", "::zz"])
def test_a_serve_address_that_is_not_one_is_a_clear_error(run_cli, address):
    code, out, err = run_cli("serve", "--address", address)
    assert code == 2 and out == "" and "--address" in err and "Traceback" not in err, err


@pytest.mark.parametrize("crs", ["+proj=merc +a=1e-30", "+proj=merc +a=1e30 +b=1e30"])
def test_a_crs_that_cannot_hold_japan_is_a_clear_error(tmp_path, run_cli, crs):
    """A region crs on another celestial body (or a degenerate one) was a ProjError traceback
    class of internal error; it names the region file's line now."""
    toml = tmp_path / "region.toml"
    toml.write_text(f'[region]\nname = "x"\ncrs = "{crs}"\n', encoding="utf-8")
    code, out, err = run_cli("check", toml, "--no-roads")
    assert code == 2 and out == "" and "region.crs" in err, err
    assert "内部エラー" not in err and "Traceback" not in err


@pytest.mark.parametrize("far", ["XFD1048576", "BN1048576", "XFD2"])
def test_an_excel_cell_far_away_is_refused_before_the_grid_is_allocated(tmp_path, far):
    """A 5 KB .xlsx with one cell at XFD1048576 made the reader allocate 549 GB and abort the
    process (the CLI, or the shared app's server); it is refused from the sheet's cell
    references first. Run in a child process with a memory limit: a regression aborts it,
    not this test run."""
    import resource
    import subprocess
    import sys

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"], sheet["A2"], sheet["B2"] = "名称", "住所", "サロン", "潟上市天王1"
    sheet[far] = "x"
    path = tmp_path / "far.xlsx"
    book.save(path)
    assert path.stat().st_size < 10_000

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))

    done = subprocess.run([sys.executable, "-m", "geo", "anonymize", str(path), "--out",
                           str(tmp_path / "o.gpkg")], capture_output=True, text=True, timeout=120,
                          preexec_fn=limit, check=False)
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert "far.xlsx" in done.stderr and "大きすぎ" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o.gpkg").exists()


@pytest.mark.parametrize("header", ["name", "お名前", "氏　名", "氏名（漢字）", "姓", "対象者", "利用者",
                                    "誕生日"])
def test_geocode_refuses_a_register_whatever_its_name_column_is_called(tmp_path, run_cli, header):
    """Only nine exact headers were refused: a register with お名前, 氏　名, 姓 … (or names
    under ``name``) was written back out with the people's names and coordinates."""
    values = ["山本 ミツ", "佐藤 花子", "工藤 正一"] if header != "誕生日" else ["昭和10年1月2日"] * 3
    register = tmp_path / "private" / "meibo.csv"  # an input: the leak scan looks at outputs
    register.parent.mkdir()
    rows = "".join(f"{v},潟上市天王{i + 1}\n" for i, v in enumerate(values))
    register.write_text(f"{header},住所\n" + rows, encoding="cp932")
    ref = tmp_path / "ref" / "潟上市.json"
    ref.parent.mkdir()
    ref.write_text('[{"town": "天王", "koaza": "", "lat": 39.86, "lng": 140.05}]', "utf-8")
    code, out, err = run_cli("geocode", register, "--reference", ref, "--out", tmp_path / "o.csv")
    import unicodedata

    def bare(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split())

    assert code == 2 and out == "" and bare(header) in bare(err), err
    assert not (tmp_path / "o.csv").exists()


def test_a_register_given_as_the_places_layer_is_refused_and_never_drawn(demo_dir, tmp_path, run_cli):
    """A register named as the 居場所 layer with name = "氏名" drew every person's name at their
    home; the list is refused by what its name column holds."""
    import shutil

    copy = tmp_path / "region"
    shutil.copytree(demo_dir, copy, ignore=shutil.ignore_patterns("results"))
    text = (copy / "region.toml").read_text("utf-8")
    text = text.replace('path = "ibasho.csv"', 'path = "private/vulnerable_records.csv"\nname = "氏名"', 1)
    (copy / "region.toml").write_text(text, "utf-8")
    code, out, err = run_cli("map", copy / "region.toml", "--layers", "places", "--out", tmp_path / "m.html")
    assert code == 2 and out == "" and "名簿" in err and "Traceback" not in err, err
    assert not (tmp_path / "m.html").exists()


@pytest.mark.parametrize("damage", [b"{not json", b'{"version": 2, "releases": "all"}', b"\xff\xfe\x00",
                                    b'{"version": 2, "releases": [1, 2]}'])
def test_a_damaged_ledger_stops_publication_and_is_never_reset(monkeypatch, tmp_path, damage):
    """A corrupt ledger was silently reset, and a release refused a moment earlier was then
    accepted; now publication stops with a clear error and the file is left as it was."""
    from layers.anonymise import register_publication
    from layers.errors import LayerError

    monkeypatch.setenv("TOMONI_STATE_DIR", str(tmp_path))
    register_publication("abc", "mesh500", 5)
    with pytest.raises(LayerError):
        register_publication("abc", "neighbourhoods", 5)  # refused: another geography
    ledger = tmp_path / "publications.json"
    ledger.write_bytes(damage)
    with pytest.raises(LayerError) as err:
        register_publication("abc", "neighbourhoods", 5)
    assert "台帳" in err.value.message and "publications.json" in str(err.value.file)
    assert ledger.read_bytes() == damage


def test_sigterm_during_a_command_leaves_no_staging_folder(demo_dir, tmp_path):
    """A command stopped by SIGTERM (a service manager, a container stop) left its staging
    folder behind; it now unwinds as Ctrl-C does: nothing half-written stays, exit 143."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "rep"
    child = subprocess.Popen([sys.executable, "-m", "geo", "report", str(demo_dir / "region.toml"),
                              "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".rep.*.tmp")) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child.poll() is None and list(tmp_path.glob(".rep.*.tmp")), "the report ended before it staged"
    time.sleep(1.0)  # well into the work
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 143, err.decode("utf-8", "replace")[-400:]
    assert not list(tmp_path.glob(".rep.*")) and not out.exists()
    assert "Traceback" not in err.decode("utf-8", "replace")


def test_a_needs_list_longer_than_a_day_is_refused_with_what_to_do(tmp_path, run_cli, demo_dir):
    """10,000 needs took 87 s and 5.1 GB with the solver far past its limit: a list longer
    than MAX_NEEDS is a clear error naming the file and the first row past the maximum."""
    from layers.needs import MAX_NEEDS

    rows = "".join(f"N{i:05d},がれき撤去,39.6,140.4\n" for i in range(MAX_NEEDS + 1))
    needs = tmp_path / "needs.csv"
    needs.write_text("受付番号,作業内容,緯度,経度\n" + rows, encoding="utf-8")
    code, _out, err = run_cli("dispatch", demo_dir / "region.toml", "--needs", needs, "--teams",
                             demo_dir / "vc_teams.csv", "--out", tmp_path / "o")
    assert code == 2 and "needs.csv" in err and str(MAX_NEEDS + 2) in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_saving_a_region_into_the_folder_it_came_from_updates_it(tmp_path):
    """Saving into the folder the region was opened from raised SameFileError after rewriting
    six files (a shapefile's sidecars copied onto themselves), leaving it half-saved.  Now the
    files already in place stay as they are and the region reopens."""
    import geopandas as gpd
    from shapely.geometry import box

    from layers.region import load_region, read_config
    from layers.region_io import save_region

    folder = tmp_path / "region"
    folder.mkdir()
    gpd.GeoDataFrame({"N03_001": ["秋田県"], "N03_004": ["潟上市"], "N03_007": ["05211"]},
                     geometry=[box(140.0, 39.8, 140.1, 39.9)], crs="EPSG:4326").to_file(folder / "n03.shp")
    (folder / "places.csv").write_text("place_id,name,lat,lon\nP1,サロン,39.85,140.05\n", "utf-8")
    (folder / "region.toml").write_text('[region]\nname = "潟上市"\n[layers.boundaries]\npath = "n03.shp"\n'
                                        '[layers.places]\npath = "places.csv"\n', "utf-8")
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "region.toml"}
    toml = save_region(folder, name="潟上市（更新）", base=read_config(folder / "region.toml"))
    again = load_region(toml, with_roads=False)
    assert again.name == "潟上市（更新）" and len(again.layers["places"]) == 1
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before} == before
    assert not list(folder.glob(".copy-*"))


def test_failed_logins_lock_the_name_for_a_while():
    """Failed logins were not limited: a name is locked after MAX_FAILURES failures within the
    window, even the right password waits, and the lock lifts after LOCK_S."""
    from layers.users import LOCK_S, MAX_FAILURES, Throttle, audit_name

    now = [1000.0]
    throttle = Throttle(clock=lambda: now[0])
    for _i in range(MAX_FAILURES - 1):
        assert not throttle.failed("tanaka") and throttle.wait("tanaka") == 0
        now[0] += 1
    assert throttle.failed("tanaka") and throttle.wait("tanaka") == pytest.approx(LOCK_S)
    assert throttle.wait("suzuki") == 0  # another name is not locked
    now[0] += LOCK_S + 1
    assert throttle.wait("tanaka") == 0
    assert audit_name({"tanaka": "x"}, "tanaka") == "tanaka"
    assert audit_name({"tanaka": "x"}, "hunter2-password").startswith("unknown-")


def test_each_user_has_a_folder_and_cannot_reach_anothers(tmp_path, monkeypatch):
    """One user opened and replaced another's saved region: paths are now taken from the
    user's own folder, another user's folder is refused for reading and writing, a region is
    shared explicitly under shared/ and only its owner replaces it."""
    from layers.data_root import claim_shared, data_user, home, inside_data_root
    from layers.errors import LayerError

    monkeypatch.setenv("TOMONI_DATA_ROOT", str(tmp_path))
    try:
        data_user("tanaka")
        mine = home()
        saved = inside_data_root("mine/region", write=True)
        assert mine in saved.parents and mine.parent.name == "users"
        saved.mkdir(parents=True)
        (saved / "region.toml").write_text("[region]\n", "utf-8")
        shared = inside_data_root(tmp_path / "shared" / "公開", write=True)
        shared.mkdir(parents=True)
        claim_shared(shared)
        data_user("suzuki")
        assert home() != mine
        for attempt in (saved / "region.toml", f"../{mine.name}/mine/region.toml"):
            with pytest.raises(LayerError, match="ほかの利用者"):
                inside_data_root(attempt)
            with pytest.raises(LayerError, match="ほかの利用者"):
                inside_data_root(attempt, write=True)
        assert inside_data_root(tmp_path / "shared" / "公開" / "region.toml")  # shared: readable
        with pytest.raises(LayerError, match="共有した地域"):
            inside_data_root(tmp_path / "shared" / "公開", write=True)
        data_user("tanaka")
        assert inside_data_root(tmp_path / "shared" / "公開", write=True) == shared
    finally:
        data_user(None)


def test_the_longest_needs_list_with_a_huge_team_is_planned(tmp_path, run_cli, demo_dir):
    """A list of MAX_NEEDS needs with a team of 1,000 people stopped the solver with an
    internal error ("too high cost values": a need off the roads stood for 10⁷ s in every
    line, times the team's size).  Now legs longer than any day are capped before the solver
    sees them, and the plan is made within its time limit."""
    import numpy as np

    from layers.needs import MAX_NEEDS

    rng = np.random.default_rng(7)
    lat, lon = 39.58 + rng.random(MAX_NEEDS) * 0.08, 140.34 + rng.random(MAX_NEEDS) * 0.14
    rows = "".join(f"N{i:05d},がれき撤去,{a:.6f},{b:.6f},2\n"
                   for i, (a, b) in enumerate(zip(lat, lon, strict=True)))
    needs = tmp_path / "needs.csv"
    needs.write_text("受付番号,作業内容,緯度,経度,必要人数\n" + rows, encoding="utf-8")
    lines = (demo_dir / "vc_teams.csv").read_text("utf-8-sig").splitlines()
    first = lines[1].split(",")
    first[1] = "1000"
    teams = tmp_path / "teams.csv"
    teams.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n", encoding="utf-8")
    code, out, err = run_cli("dispatch", demo_dir / "region.toml", "--needs", needs, "--teams", teams,
                             "--time-limit", "2", "--out", tmp_path / "o")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["needs"] == MAX_NEEDS and summary["assigned"] > 0
    assert summary["assigned"] + summary["unassigned"] == MAX_NEEDS


def test_a_row_longer_than_the_header_is_named_not_taken_as_an_index(tmp_path, run_cli):
    """A 居場所 row with two cells more than the header was read with its first cells as a
    pandas index, and the region file was blamed (「設定値の型が違います」).  Now the row is
    named; trailing empty cells (a spreadsheet's trailing comma) are still read."""
    places = tmp_path / "p.csv"
    places.write_text("名称,緯度,経度\nB,39.61,140.41,余分,余分\nA,39.6,140.4\n", encoding="utf-8")
    code, _, err = run_cli("check", _region(tmp_path, '[layers.places]\npath = "p.csv"\n'))
    _plain_failure(code, err)
    assert "p.csv" in err and "2行目" in err and "見出し行より列の多い行" in err
    places.write_text("名称,緯度,経度\nA,39.6,140.4,\nB,39.61,140.41,\n", encoding="utf-8")
    code, _out, err = run_cli("check", _region(tmp_path, '[layers.places]\npath = "p.csv"\n'))
    assert code == 0, err


@pytest.mark.parametrize(("header", "values", "why"), [
    ("備考", ["1938/04/02生", "昭和13年4月2日", "S9.12.1"], "生年月日"),
    ("連絡先", ["090-1234-5678", "080 1111 2222", "07012345678"], "携帯電話"),
    ("よみ", ["ヤマモト ミツ", "さとう はなこ", "クドウ ショウイチ"], "氏名"),
])
def test_personal_columns_are_recognised_by_what_they_hold(tmp_path, run_cli, header, values, why):
    """Birthdays, mobile numbers and names written as their reading were recognised only under
    a header that said so: under 備考 or 連絡先 a register went out through geocode and onto
    the map.  Now the contents decide, naming the column and the rule; a 居場所 list's own
    dates (開催日, 設立) and landlines stay readable."""
    rows = "".join(f"サロン{i},{v},潟上市天王{i + 1}\n" for i, v in enumerate(values))
    listing = tmp_path / "private" / "list.csv"
    listing.parent.mkdir()
    listing.write_text(f"名称,{header},住所\n" + rows, encoding="utf-8")
    ref = tmp_path / "ref" / "潟上市.json"
    ref.parent.mkdir()
    ref.write_text('[{"town": "天王", "koaza": "", "lat": 39.86, "lng": 140.05}]', "utf-8")
    code, out, err = run_cli("geocode", listing, "--reference", ref, "--out", tmp_path / "o.csv")
    assert code == 2 and out == "" and header in err and why in err, err
    assert not (tmp_path / "o.csv").exists()
    fine = tmp_path / "fine.csv"
    fine.write_text("名称,開催日,設立,電話,住所\nサロン0,2026/12/10,1985/4/1,018-123-4567,潟上市天王1\n"
                    "サロン1,2027/1/5,1990/5/1,0185-22-1111,潟上市天王2\n", encoding="utf-8")
    code, _out, err = run_cli("geocode", fine, "--reference", ref, "--out", tmp_path / "f.csv")
    assert code == 0, err


def test_a_shared_server_never_copies_in_a_region_from_outside_its_data_folder(tmp_path, monkeypatch,
                                                                              demo_dir):
    """The one-click copy of a region kept outside the data folder (for the app on one's own
    machine) let a logged-in user of a shared server read any region file on the server and the
    files it names.  With a login it is refused; without one it still copies."""
    from layers.data_root import data_user, home, may_read_outside
    from layers.errors import LayerError
    from layers.region_io import copy_region_in

    monkeypatch.setenv("TOMONI_DATA_ROOT", str(tmp_path / "data"))
    try:
        data_user("tanaka")
        assert not may_read_outside()
        with pytest.raises(LayerError, match="データフォルダの外"):
            copy_region_in(demo_dir / "region.toml", home() / "copied")
        assert not (home() / "copied").exists()
        data_user(None)
        assert may_read_outside()
        copied = copy_region_in(demo_dir / "region.toml", home() / "copied")
        assert copied.is_file() and tmp_path / "data" in copied.parents
    finally:
        data_user(None)
