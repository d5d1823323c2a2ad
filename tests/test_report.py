"""Reports (PDF/HTML), per-area sheets and data exports (issue: reports and notebooks)."""

from __future__ import annotations

import json
import logging
import subprocess

import geopandas as gpd
import pandas as pd
import pytest
from pypdf import PdfReader

from geo.runs.region_results import analyse_region


@pytest.fixture(scope="module")
def demo_results(demo_region):  # type: ignore[no-untyped-def]
    return analyse_region(demo_region, hazard="flood", recommend_p=3)


def _pdftext(path) -> str:  # type: ignore[no-untyped-def]
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_report_pdf_and_html(demo_results, tmp_path, caplog):
    from geo.outputs.report import write_report

    said: list[tuple[float, str]] = []
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        paths = write_report(demo_results, tmp_path, formats=("pdf", "html"),
                             progress=lambda f, label: said.append((f, label)))
    # the bar moves on while the maps are drawn, and never says 完了 before the end
    assert said[0][1] == "地図を描いています" and [f for f, _ in said] == sorted(f for f, _ in said)
    assert not any("完了" in label for _f, label in said)
    assert not [r for r in caplog.records if r.name.startswith("weasyprint")], caplog.text
    pdf = tmp_path / "report.pdf"
    assert {p.name for p in paths} == {"report.pdf", "report.html"}
    reader = PdfReader(pdf)
    assert 8 <= len(reader.pages) <= 30
    text = _pdftext(pdf)
    for expected in ("みずうみ地域（架空）", "地域福祉・防災 分析レポート", "架空データ", "使用したデータ",
                     "居場所のカバー率と空白地帯", "洪水のときの避難所と要配慮者", "災害ボランティアセンター",
                     "広域連携", "新しい居場所の提案", "冬と将来", "冬に届かなくなる人", "年ごとのカバー率",
                     "居場所がすべて基準割れになる自治会", "年をまたいで効く新しい居場所",
                     "方法", "k = 5",
                     # table headers, repeated on the following pages of long tables
                     "カバー率", "要配慮者", "収容人数", "割り当て人数", "市町村A",
                     # attribution under the maps
                     "出典"):
        assert expected in text, expected
    # page numbers "n / N" in the footer
    assert f"2 / {len(reader.pages)}" in text
    # the long 自治会 table spans pages and repeats its header
    pages = [_pdftext_page(pdf, i) for i in range(1, len(reader.pages) + 1)]
    header_pages = [i for i, t in enumerate(pages) if "名称" in t and "徒歩圏内" in t]
    assert len(header_pages) >= 2
    # every font embedded, all of them the Japanese font (no missing glyph fallback)
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all("IPAex" in r[0] for r in rows) and all("yes" in r for r in rows)
    html = (tmp_path / "report.html").read_text("utf-8")
    assert "data:image/png;base64," in html and "http://" not in html.replace("http://www.w3.org", "")


def _pdftext_page(pdf, page: int) -> str:  # type: ignore[no-untyped-def]
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_per_area_sheets_one_page_each(demo_region, demo_results, tmp_path):
    from geo.outputs.report import area_sheets_html, write_pdf

    html = area_sheets_html(demo_results, layer="school_districts")
    pdf = write_pdf(html, tmp_path / "sheets.pdf")
    sd = demo_region.layers["school_districts"]
    n_after = int((sd["period"] == "after").sum())
    assert len(PdfReader(pdf).pages) == n_after
    text = _pdftext(pdf)
    assert "カバー率" in text and "区域内の避難所" in text


def test_tomoni_report_cli(demo_dir, tmp_path, run_cli):
    code, out, err = run_cli("report", demo_dir / "region.toml", "--out", tmp_path, "--format", "pdf",
                             "--sheets", "neighbourhoods")
    assert code == 0, err
    s = json.loads(out)
    names = sorted(p.rsplit("/", 1)[-1] for p in s["files"])
    assert names == ["report.pdf", "sheets_neighbourhoods.pdf"]
    assert len(PdfReader(tmp_path / "sheets_neighbourhoods.pdf").pages) == 61
    code, _out, err = run_cli("report", demo_dir / "region.toml", "--out", tmp_path / "b", "--format", "docx")
    assert code == 2 and "--format" in err


def test_data_export_every_layer_and_table(demo_results, tmp_path):
    from geo.outputs.data_export import export_all

    paths = export_all(demo_results, tmp_path, cp932=True, parquet=True)
    gpkg = tmp_path / "tomoni_export.gpkg"
    names = set(gpd.list_layers(gpkg)["name"])
    for layer in ("boundaries", "shelters", "places", "vulnerable", "hazards", "coverage_units",
                  "coverage_gaps", "shelter_load_flood", "closed_roads_flood", "vc_candidates_flood",
                  "crossborder_flows", "recommended_sites"):
        assert layer in names, layer
    dens = gpd.read_file(gpkg, layer="vulnerable")
    assert set(dens.columns) <= {"unit_id", "geography", "count", "n_units", "proxy", "geometry"}
    assert (dens["count"].eq(0) | dens["count"].ge(5)).all()
    utf = tmp_path / "csv" / "coverage_by_area.csv"
    assert utf.read_bytes().startswith(b"\xef\xbb\xbf")
    sj = (tmp_path / "csv_cp932" / "coverage_by_area.csv").read_bytes()
    assert pd.read_csv(utf, encoding="utf-8-sig").equals(
        pd.read_csv(tmp_path / "csv_cp932" / "coverage_by_area.csv", encoding="cp932"))
    sj.decode("cp932")
    parq = gpd.read_parquet(tmp_path / "parquet" / "shelters.parquet")
    assert len(parq) == 46 and parq.crs.to_epsg() == 4326
    assert not list(tmp_path.rglob(".*.tmp*"))  # nothing half-written left behind
    assert len(paths) > 20


def test_tomoni_export_cli(demo_dir, tmp_path, run_cli):
    code, out, err = run_cli("export", demo_dir / "region.toml", "--out", tmp_path, "--parquet")
    assert code == 0, err
    assert json.loads(out)["files"] > 10
    assert (tmp_path / "parquet" / "coverage_units.parquet").exists()
    assert not (tmp_path / "csv_cp932").exists()


def test_the_report_reads_in_plain_japanese(demo_dir, tmp_path, run_cli):
    """No internal names in what a committee reads: no column keys, no solver or method
    codes, no 校区 ids like after:B105901001, shares as percentages."""
    import re

    code, _out, err = run_cli("report", demo_dir / "region.toml", "--out", tmp_path, "--format", "html",
                              "--recommend", "2")
    assert code == 0, err
    html = (tmp_path / "report.html").read_text("utf-8")
    text = re.sub(r"<[^>]+>", " ", html.split("<body", 1)[1])
    from tests.plain_words import internal_words_in

    assert internal_words_in(text) == []
    assert re.search(r"\d+\.\d %", text)
    assert "短縮(m)" not in text or "「—」は" in text  # a column of — is explained


def test_page_numbers_stay_on_one_line_beside_a_long_credit(tmp_path):
    """A region with many sources (all of Akita) has a footer 160 characters long: the page
    number beside it stays 「n / m」 on one line."""
    import re

    from pypdf import PdfReader

    from geo.outputs.report import _page, _pdf

    credits = [f"出典: 国土数値情報（行政区域データ）秋田県{i}市町村 国土交通省" for i in range(12)]
    body = "".join(f"<section><h2>{i}. 章</h2>" + "<p>本文です。</p>" * 60 + "</section>" for i in range(3))
    _pdf(_page("長い出典の試験", body, credits), tmp_path / "r.pdf", base=tmp_path)
    n = len(PdfReader(tmp_path / "r.pdf").pages)
    text = _pdftext(tmp_path / "r.pdf")
    lines = text.splitlines()
    assert n >= 3 and all(any(re.search(rf"(?<!\d){i}\s*/\s*{n}(?!\d)", line) for line in lines)
                          for i in range(2, n + 1))


def test_a_hostile_credit_cannot_leave_the_page_footer():
    """A credit line can carry a GTFS feed's publisher name (text from outside): in the page
    footer (a CSS string inside <style>) it cannot close the style and run a script."""
    from geo.outputs.report import _page

    html = _page("t", "<p>x</p>", ['時刻表: </style><script>alert(1)</script>"\\\n（GTFS-JP）'])
    assert "<script>alert" not in html and html.count("</style>") == 1
