"""Where each layer comes from: publisher, the data's own date, licence and credit.

References are the files' own facts, read by hand: N03's date is in its file name, an OSM
PBF header's replication timestamp, a GTFS feed's feed_info.txt, the GSI CSV's 共通ID
header; a file the user brought is credited as theirs, never dated by when it was copied.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import osmium
import pytest

from layers.provenance import credits, describe, source_table, write_sidecar

pytestmark = pytest.mark.shared_data


def test_n03_is_dated_by_its_file_name_not_by_when_it_was_copied(shared_data, tmp_path):
    src = shared_data / "akita/boundaries/n03_akita_2021_simplified.geojson"
    assert describe("boundaries", src).data_date == "2021"
    named = tmp_path / "N03-21_05_210101.geojson"
    shutil.copy(src, named)
    s = describe("boundaries", named)
    assert s.dataset == "n03" and s.data_date == "2021-01-01"
    assert s.credit == "「国土数値情報（行政区域データ）」（国土交通省）を加工して作成（2021年1月1日）"
    new = tmp_path / "N03-20240101_05.geojson"
    shutil.copy(src, new)
    assert describe("boundaries", new).data_date == "2024-01-01"


def test_gsi_csvs_on_disk_and_uploaded_cp932(shared_data):
    csv = shared_data / "akita/shelters/gsi_emergency_sites_koto_cp932.csv"
    for s in (describe("shelters", csv), describe("shelters", csv.name, data=csv.read_bytes())):
        assert s.dataset == "gsi_shelters" and s.publisher == "国土地理院"
        assert "国土地理院" in s.credit and not s.user


def test_machiaza_points_credit_geolonia(shared_data):
    s = describe("machiaza", shared_data / "akita/machiaza/潟上市.json")
    assert s.dataset == "machiaza" and "Geolonia" in s.credit and "CC BY 4.0" in s.credit
    # the same file added as a layer of 町字 areas is still Geolonia's
    assert describe("neighbourhoods", shared_data / "akita/machiaza/潟上市.json").dataset == "machiaza"


def test_an_osm_extract_is_dated_by_its_header(tmp_path):
    header = osmium.io.Header()
    header.set("osmosis_replication_timestamp", "2025-11-30T21:21:02Z")
    path = tmp_path / "akita-latest.osm.pbf"
    writer = osmium.SimpleWriter(str(path), header=header)
    writer.add_node(osmium.osm.mutable.Node(id=1, location=(140.1, 39.7)))
    writer.close()
    s = describe("roads", path)
    assert s.data_date == "2025-11-30" and s.credit == "© OpenStreetMap contributors（2025年11月30日）"


def test_a_gtfs_feed_is_credited_to_its_publisher_with_its_dates(tmp_path):
    from tests.gtfs_jp import feed_files, write_feed

    files = feed_files()
    files["feed_info.txt"] = ("feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,"
                              "feed_end_date\n秋田中央交通,https://example.invalid,ja,20250401,20260331\n"
                              ).encode()
    feed = write_feed(tmp_path / "bus.zip", files)
    for s in (describe("transit", feed), describe("transit", "bus.zip", data=feed.read_bytes())):
        assert s.publisher == "秋田中央交通" and s.data_date == "2025-04-01〜2026-03-31"
        assert s.credit == "時刻表: 秋田中央交通（GTFS-JP）（2025年4月1日〜2026年3月31日）"


def test_a_users_own_file_and_a_register_are_the_users(tmp_path):
    f = tmp_path / "サロン一覧.csv"
    f.write_text("名称,住所\nサロンA,潟上市天王1\n", encoding="cp932")
    s = describe("places", f)
    assert s.user and s.credit == "" and credits([s]) == []
    reg = describe("vulnerable", "名簿.xlsx", data=b"PK\x03\x04 anything")
    assert reg.user and reg.file == "名簿.xlsx"
    row = source_table([s], {"places": "居場所"})[0]
    assert row["提供元"] == "利用者のファイル" and row["データの日付"] == "—"


def test_a_fetched_file_keeps_its_url_and_retrieval_date(shared_data, tmp_path):
    import datetime as dt

    f = tmp_path / "05211.csv"
    shutil.copy(shared_data / "akita/shelters/gsi_emergency_sites_koto_cp932.csv", f)
    side = write_sidecar(f, dataset="gsi_shelters", url="http://127.0.0.1:1/x.csv", data_date="2025-10",
                         retrieved=dt.date(2026, 12, 1))
    assert json.loads(side.read_text("utf-8"))["retrieved"] == "2026-12-01"
    s = describe("shelters", f)
    assert s.retrieved == "2026-12-01" and s.url.endswith("x.csv") and s.credit.endswith("（2025年10月）")
    row = source_table([s], {"shelters": "避難所"})[0]
    assert row["取得日"] == "2026-12-01" and row["データの日付"] == "2025年10月"


def test_a_real_region_credits_every_source_with_its_date(akita_region):
    from layers.region import load_region

    region = load_region(akita_region, with_roads=False)
    lines = region.attribution()
    assert any("行政区域" in a and "2021年" in a for a in lines)
    assert any("国土地理院" in a for a in lines)
    kinds = {s.dataset for s in region.sources}
    assert {"n03", "gsi_shelters"} <= kinds
    assert all(Path(s.file).name == s.file for s in region.sources)  # names, never full paths


def test_files_added_in_the_app_are_listed_on_the_reports_cover(akita_region):
    """A region made in the browser: the report's 使用したデータ lists the user's own サロン list
    and register (it said 「（該当なし）」), and the register by its kind only."""
    import dataclasses

    from geo.outputs.report import _sources
    from layers.region import load_region

    region = load_region(akita_region, with_roads=False)
    added = (describe("places", "サロン一覧.csv", data="名称,住所\n".encode("cp932")),
             describe("vulnerable", "名簿.xlsx", data=b""))
    table = _sources(dataclasses.replace(region, added=added))
    mine = table[table["ファイル"].isin(["サロン一覧.csv", "（名簿：匿名化して密度のみ使用）"])]
    assert len(mine) == 2 and set(mine["提供元"]) == {"利用者のファイル"}
    assert (table["データの日付"] != "").all()
