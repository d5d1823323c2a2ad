"""A region of one municipality from the publishers' public data (``tomoni init``).

A stand-in server on 127.0.0.1 serves the real Akita files in their publishers' layouts
(国土数値情報's N03 zip, the GSI's nationwide merged CSVs and update list, Geolonia's
japanese-addresses JSON).  References are the shared files themselves, counted with pandas:
潟上市 has 96 指定緊急避難場所 rows and 48 指定避難所 rows in the GSI's Akita data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pandas as pd
import pytest

from tests.standin_servers import publisher_files, publisher_urls, static_standin

pytestmark = pytest.mark.shared_data


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Each test keeps its downloads in its own cache folder (what it asks is its own)."""
    monkeypatch.setenv("TOMONI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


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


def _gsi_rows_of(shared_data, place: str) -> int:  # type: ignore[no-untyped-def]
    gsi = shared_data / "akita/shelters"
    return sum(int((pd.read_csv(gsi / f, encoding="utf-8-sig")["都道府県名及び市町村名"] == place).sum())
               for f in ("gsi_emergency_sites_akita.csv", "gsi_evacuation_shelters_akita.csv"))


def test_a_second_municipality_reuses_the_prefecture_files_and_a_stale_copy_stands_in_offline(
        tmp_path, shared_data, own_cache, run_cli, monkeypatch, caplog):
    """A council fetching its neighbours: the N03 zip and the GSI's nationwide CSVs are asked
    once; the next municipality asks only its own 町字 file.  A week later they are asked
    again; when the publisher cannot give them, the kept copy is used with a warning, and the
    region's sources say the day it was really retrieved."""
    files = publisher_files(shared_data)
    shared = {"/ksj/N03/N03-2021/N03-20210101_05_GML.zip", "/gsi/csv/mergeFromCity_1.csv",
              "/gsi/csv/mergeFromCity_2.csv", "/gsi/publicHistoryCSV/publicHistoryListData.csv"}
    from layers.region import load_region

    with static_standin(files) as (base, asked):
        for k, v in publisher_urls(base).items():
            monkeypatch.setenv(k, v)

        def init(muni: str) -> object:
            code, _out, err = run_cli("init", muni, "--pref", "秋田県", "--out", tmp_path / muni,
                                      "--n03-year", "2021")
            assert code == 0, err
            return load_region(tmp_path / muni / "region.toml", with_roads=False)

        init("潟上市")
        assert shared <= set(asked)
        asked.clear()
        oga = init("男鹿市")
        assert asked == ["/addresses/秋田県/男鹿市.json"]
        assert len(oga.layers["shelters"]) == _gsi_rows_of(shared_data, "秋田県男鹿市") > 0
        # eight days on: asked again, and given
        old = (dt.date.today() - dt.timedelta(days=8)).isoformat()
        for note in (own_cache / "downloads").glob("*.json"):
            note.write_text(json.dumps({**json.loads(note.read_text("utf-8")), "retrieved": old}), "utf-8")
        asked.clear()
        init("五城目町")
        assert shared <= set(asked)
        # a week on again, and the publisher cannot give them: the kept copies stand in
        for note in (own_cache / "downloads").glob("*.json"):
            note.write_text(json.dumps({**json.loads(note.read_text("utf-8")), "retrieved": old}), "utf-8")
        for path in shared:
            files.pop(path)
        with caplog.at_level(logging.WARNING, logger="layers.fetch"):
            akita = init("秋田市")
        assert len(akita.layers["shelters"]) == _gsi_rows_of(shared_data, "秋田県秋田市") > 0
        assert any(old in r.getMessage() for r in caplog.records)
        dated = {s.dataset: s for s in akita.sources}
        assert str(dated["gsi_shelters"].retrieved) == old and str(dated["n03"].retrieved) == old


def test_a_cache_folder_that_cannot_be_written_only_means_downloading_again(tmp_path, publishers, run_cli,
                                                                            monkeypatch):
    """The cache path runs through a file (as a read-only or broken cache would): the region is
    still made, with a warning, and the next municipality asks for the shared files again."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", "utf-8")
    monkeypatch.setenv("TOMONI_CACHE_DIR", str(blocker / "cache"))
    for muni in ("潟上市", "男鹿市"):
        publishers.clear()
        code, _out, err = run_cli("init", muni, "--pref", "秋田県", "--out", tmp_path / muni,
                                  "--n03-year", "2021")
        assert code == 0, err
        assert "/gsi/csv/mergeFromCity_1.csv" in publishers
