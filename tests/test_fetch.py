"""A region of one municipality from the publishers' public data (``tomoni init``).

A stand-in server on 127.0.0.1 serves the real Akita files in their publishers' layouts
(国土数値情報's N03 zip, the GSI's nationwide merged CSVs and update list, Geolonia's
japanese-addresses JSON).  References are the shared files themselves, counted with pandas:
潟上市 has 96 指定緊急避難場所 rows and 48 指定避難所 rows in the GSI's Akita data.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.standin_servers import publisher_files, publisher_urls, static_standin

pytestmark = pytest.mark.shared_data


@pytest.fixture
def publishers(shared_data, monkeypatch):  # type: ignore[no-untyped-def]
    with static_standin(publisher_files(shared_data)) as (base, asked):
        for k, v in publisher_urls(base).items():
            monkeypatch.setenv(k, v)
        yield asked


def test_init_fetches_katagami_and_the_region_works_offline_after(tmp_path, shared_data, publishers,
                                                                  run_cli, monkeypatch):
    out = tmp_path / "潟上市"
    code, stdout, err = run_cli("init", "潟上市", "--pref", "秋田県", "--out", out, "--n03-year", "2021")
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["code"] == "05211" and doc["reused"] == []
    assert {"/ksj/N03/N03-2021/N03-20210101_05_GML.zip", "/gsi/csv/mergeFromCity_1.csv",
            "/addresses/秋田県/潟上市.json"} <= set(publishers)
    from layers.region import load_region

    region = load_region(out / "region.toml", with_roads=False)
    assert list(region.layers["boundaries"]["code"]) == ["05211"]
    gsi = shared_data / "akita/shelters"
    frames = [pd.read_csv(gsi / f, encoding="utf-8-sig")
              for f in ("gsi_emergency_sites_akita.csv", "gsi_evacuation_shelters_akita.csv")]
    want = sum(int((f["都道府県名及び市町村名"] == "秋田県潟上市").sum()) for f in frames)
    assert want == 96 + 48 and len(region.layers["shelters"]) == want
    assert region.geocoder is not None and region.geocoder.match("秋田県潟上市天王").level != ""
    dated = {s.dataset: s for s in region.sources}
    assert dated["n03"].data_date == "2021-01-01" and dated["n03"].retrieved
    assert dated["gsi_shelters"].data_date == "2025-10-15" and dated["gsi_shelters"].url.endswith(".csv")
    assert any("Geolonia" in a for a in region.attribution())
    # offline afterwards: the same command reuses every file, asking nothing
    monkeypatch.setenv("TOMONI_KSJ_URL", "http://127.0.0.1:9/none")
    monkeypatch.setenv("TOMONI_GSI_URL", "http://127.0.0.1:9/none")
    monkeypatch.setenv("TOMONI_ADDRESSES_URL", "http://127.0.0.1:9/none")
    code, stdout, err = run_cli("init", "潟上市", "--pref", "秋田県", "--out", out, "--n03-year", "2021")
    assert code == 0, err
    assert len(json.loads(stdout)["reused"]) == 4


def test_init_names_the_municipalities_when_one_is_not_found(tmp_path, publishers, run_cli):
    code, _out, err = run_cli("init", "潟上町", "--pref", "05", "--out", tmp_path / "x", "--n03-year", "2021")
    assert code == 2 and "潟上町" in err and "潟上市" in err and "Traceback" not in err


def test_init_offline_says_what_to_do_instead(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("TOMONI_KSJ_URL", "http://127.0.0.1:9/none")
    code, _out, err = run_cli("init", "潟上市", "--pref", "秋田県", "--out", tmp_path / "x")
    assert code == 2 and "ダウンロードできません" in err and "データのページ" in err
    assert not (tmp_path / "x" / "region.toml").exists()


def test_the_report_of_a_fetched_region_credits_every_source_with_its_date(tmp_path, publishers, run_cli):
    out = tmp_path / "潟上市"
    code, _stdout, err = run_cli("init", "05211", "--pref", "秋田県", "--out", out, "--n03-year", "2021")
    assert code == 0, err
    code, _stdout, err = run_cli("report", out / "region.toml", "--out", tmp_path / "rep", "--format", "html")
    assert code == 0, err
    html = next((tmp_path / "rep").glob("*.html")).read_text("utf-8")
    assert "（該当なし）" not in html.split("使用したデータ")[1][:3000]
    for words in ("2021年1月1日", "2025年10月15日", "Geolonia", "国土地理院", "国土数値情報"):
        assert words in html, words
