"""Excel as councils keep it: title rows above the header, merged header cells, several
sheets, dates (和暦 too), and the same errors as CSV (sheet, row, column, fix)."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from layers.cellkey import MAX_CHANGE
from layers.errors import LayerError
from layers.excel import japanese_date, parse_excel
from layers.readers import read_table


def _book(path: Path, sheets: dict[str, list[list[object]]],
          merges: dict[str, list[str]] | None = None) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    wb.save(path)
    return path


@pytest.fixture
def meibo_xlsx(tmp_path: Path) -> Path:
    """A register extract as exported: a merged title, a blank row, a two-row header with
    「座標」 over 緯度/経度 and 番号・氏名 merged down, then a second sheet of notes."""
    return _book(tmp_path / "meibo.xlsx", {
        "4月": [
            ["避難行動要支援者名簿　令和6年4月1日現在", None, None, None, None],
            [None],
            ["番号", "氏名", "座標", None, "生年月日"],
            [None, None, "緯度", "経度", None],
            [1, "秋田 太郎", 39.7, 140.1, dt.date(1940, 3, 2)],
            [2, "秋田 花子", 39.71, 140.11, "昭和15年3月2日"],
            [None, None, None, None, None],
        ],
        "メモ": [["注意"], ["この名簿は…"]],
    }, {"4月": ["A1:E1", "C3:D3", "A3:A4", "B3:B4", "E3:E4"]})


def test_title_rows_and_a_merged_two_row_header(meibo_xlsx):
    df = read_table(meibo_xlsx)
    assert list(df.columns) == ["番号", "氏名", "緯度", "経度", "生年月日"]
    assert df["緯度"].tolist() == ["39.7", "39.71"] and df["番号"].tolist() == ["1", "2"]
    assert df["生年月日"].tolist() == ["1940-03-02", "昭和15年3月2日"]
    assert df.attrs["sheet"] == "4月"


def test_rows_are_numbered_as_the_spreadsheet_shows(meibo_xlsx, tmp_path):
    from layers.readers import table_row

    df = read_table(meibo_xlsx)
    assert [table_row(df, i) for i in range(len(df))] == [5, 6]


def test_a_sheet_is_chosen_by_name_and_a_missing_one_is_named(meibo_xlsx):
    assert list(read_table(meibo_xlsx, sheet="メモ").columns) == ["注意"]
    with pytest.raises(LayerError) as err:
        read_table(meibo_xlsx, sheet="5月")
    assert err.value.column == "sheet" and "4月" in (err.value.fix or "") and "メモ" in (err.value.fix or "")


def test_errors_name_the_sheet_and_the_spreadsheet_row(tmp_path):
    from layers.places import load_places

    path = _book(tmp_path / "ibasho.xlsx", {"一覧": [
        ["居場所一覧"], ["名称", "緯度", "経度"], ["サロン", 39.7, 140.1], ["食堂", "北緯39度", 140.2]]})
    with pytest.raises(LayerError) as err:
        load_places([path])
    assert err.value.row == 4 and err.value.column == "緯度" and "シート: 一覧" in str(err.value.file)


def test_places_from_excel_with_coordinates(tmp_path):
    from layers.places import load_places

    path = _book(tmp_path / "ibasho.xlsx", {"一覧": [
        ["居場所一覧（令和6年度）"], [], ["名称", "種別", "緯度", "経度"],
        ["サロンあさひ", "サロン", 39.7105, 140.1094], ["子ども食堂", "子ども食堂", 39.789, 140.061]]})
    places = load_places([path])
    assert places["name"].tolist() == ["サロンあさひ", "子ども食堂"]
    assert places.geometry.y.round(4).tolist() == [39.7105, 39.789]


@pytest.mark.parametrize(("text", "date"), [
    ("昭和15年3月2日", dt.date(1940, 3, 2)), ("S15.3.2", dt.date(1940, 3, 2)),
    ("令和元年5月1日", dt.date(2019, 5, 1)), ("R6/4/1", dt.date(2024, 4, 1)),
    ("平成31年4月30日", dt.date(2019, 4, 30)), ("Ｈ１．１．８", dt.date(1989, 1, 8)),
    ("大正3年1月1日", dt.date(1914, 1, 1)), ("1940年3月2日", dt.date(1940, 3, 2)),
    ("1940-03-02", dt.date(1940, 3, 2)),
])
def test_japanese_dates(text, date):
    assert japanese_date(text) == date


@pytest.mark.parametrize("text", ["昭和15年2月30日", "高齢", "", "S"])
def test_not_dates(text):
    assert japanese_date(text) is None


def test_a_broken_workbook_and_a_zip_bomb_are_plain_errors(tmp_path):
    with pytest.raises(LayerError, match="Excel ファイルとして読めません"):
        parse_excel(b"PK\x03\x04 not really a zip", file="broken.xlsx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)  # 50 MB of zeros, ~50 kB zipped
    with pytest.raises(LayerError, match="大きすぎます"):
        parse_excel(buf.getvalue(), file="bomb.xlsx")


def test_an_address_only_register_in_excel_is_anonymised_without_a_trace(tmp_path, shared_data,
                                                                         run_cli, caplog):
    """Names and addresses of people never reach the density, the printed summary or a log;
    nor do the 町字 points where a single person lives."""
    from layers.geocode import load_geocoder
    from tests.leakscan import Sensitive, scan_paths

    people = [("秋田 太郎", "秋田市旭南1-15-1"), ("秋田 花子", "秋田市旭南一丁目3-2"),
              ("男鹿 一郎", "男鹿市脇本脇本字上野1-1"), ("大館 次郎", "大館市早口字上屋敷66-2"),
              *[(f"土崎 {i}", f"秋田市土崎港中央一丁目{i}-1") for i in range(1, 8)],
              ("不明 三郎", "東京都千代田区1-1")]
    register = _book(tmp_path / "meibo.xlsx", {"名簿": [
        ["避難行動要支援者名簿"], [], ["整理番号", "氏名", "住所", "区分"],
        *[[i + 1, n, a, "高齢"] for i, (n, a) in enumerate(people)]]}, {"名簿": ["A1:D1"]})
    toml = tmp_path / "region.toml"
    toml.write_text(
        f'[region]\nname = "秋田"\n[layers.boundaries]\n'
        f'path = "{shared_data}/akita/boundaries/n03_akita_2021_simplified.geojson"\n'
        f'code = "N03_007"\nname = "N03_004"\n'
        f'[geocoder]\npath = "{shared_data}/akita/machiaza/*.json"\n', "utf-8")
    out = tmp_path / "density.geojson"
    code, printed, err = run_cli("anonymize", str(register), "--out", str(out), "--region", str(toml),
                                 "--k", "3")
    assert code == 0, err
    summary = json.loads(printed.strip().splitlines()[-1])
    assert abs(summary["records_read"] - 12) <= 2 and summary["unlocated"] == "3未満"  # 東京: not placed
    assert abs(summary["estimated"] - 10) <= 2  # 丁目 and 大字 points: counted, said to be 推定
    density = json.loads(out.read_text("utf-8"))
    # each unit's count is protected (±2 with this session's secret), never below k
    counts = [f["properties"]["count"] for f in density["features"]]
    assert all(c >= 3 for c in counts) and abs(sum(counts) - 11) <= MAX_CHANGE * len(counts)
    sensitive = Sensitive()
    for name, address in people:
        sensitive.add_string(name)
        sensitive.add_string(address)
    g = load_geocoder(sorted((shared_data / "akita" / "machiaza").glob("*.json")))
    for _, address in people[:4]:  # where one person alone lives
        m = g.match(address)
        sensitive.add_pair(f"{m.lat:.6f}", f"{m.lon:.6f}")
    log = tmp_path / "log.txt"
    log.write_text(printed + err + caplog.text, "utf-8")
    assert scan_paths([out, log], sensitive, rule="strict") == {}


def test_a_hidden_first_sheet_is_not_read_in_place_of_the_visible_one(tmp_path):
    """Excel shows the visible sheet; the reader used to take the first sheet with data even
    when it was hidden (an old list, or names kept out of sight). A hidden sheet is read only
    when asked for by name."""
    import openpyxl

    from layers.excel import parse_excel

    book = openpyxl.Workbook()
    old = book.active
    old.title = "旧名簿"
    old["A1"], old["A2"] = "名称", "古いサロン"
    old.sheet_state = "hidden"
    shown = book.create_sheet("居場所")
    shown["A1"], shown["A2"] = "名称", "ふれあいサロン"
    path = tmp_path / "places.xlsx"
    book.save(path)
    df = parse_excel(path.read_bytes(), file=path)
    assert df.attrs["sheet"] == "居場所" and df["名称"].tolist() == ["ふれあいサロン"]
    asked = parse_excel(path.read_bytes(), file=path, sheet="旧名簿")
    assert asked["名称"].tolist() == ["古いサロン"]
