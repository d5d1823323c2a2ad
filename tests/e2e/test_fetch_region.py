"""A region fetched by choosing the municipality, in Chromium, from a stand-in of the publishers
on 127.0.0.1 (the real Akita files in their download layouts; no internet)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import serve_app
from tests.e2e.test_browser import MAP_FRAME, _goto_page, _no_exception, _wait_map
from tests.gtfs_jp import feed_files, write_feed
from tests.standin_servers import publisher_files, publisher_urls, static_standin

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def _grid_osm(path, lat0: float, lon0: float, n: int = 6, step: float = 0.004):  # type: ignore[no-untyped-def]
    """A small street grid (n × n nodes, ``step`` degrees apart) as an OSM XML extract."""
    nodes, ways = [], []
    for i in range(n):
        for j in range(n):
            lat, lon = lat0 + i * step, lon0 + j * step
            nodes.append(f'<node id="{i * n + j + 1}" lat="{lat:.6f}" lon="{lon:.6f}"/>')
    k = 1
    for i in range(n):
        for refs in ([i * n + j + 1 for j in range(n)], [j * n + i + 1 for j in range(n)]):
            nds = "".join(f'<nd ref="{r}"/>' for r in refs)
            ways.append(f'<way id="{k}">{nds}<tag k="highway" v="residential"/></way>')
            k += 1
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">' + "".join(nodes)
                    + "".join(ways) + "</osm>", encoding="utf-8")
    return path


def test_a_region_is_fetched_by_choosing_the_municipality(browser, demo_dir, shared_data, tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    with static_standin(publisher_files(shared_data)) as (base, asked):
        env = publisher_urls(base) | {"TOMONI_N03_YEAR": "2021", "TOMONI_DATA_ROOT": str(root)}
        with serve_app(demo_dir, tmp_path / "server.log", extra=env) as url:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(url)
            _wait_map(page)
            _goto_page(page, "データ")
            page.get_by_text("新しい地域", exact=True).click()
            page.get_by_text("公開データを取得して作る（インターネット）").click()
            page.get_by_label("市町村", exact=True).fill("潟上市")
            page.get_by_label("市町村", exact=True).press("Enter")
            page.get_by_role("button", name="取得する").click()
            page.get_by_text("地域: 潟上市").last.wait_for(timeout=90_000)
            assert (root / "潟上市" / "region.toml").is_file()
            assert "/addresses/秋田県/潟上市.json" in asked
            sources = page.locator('[data-testid="stDataFrame"]').last
            sources.wait_for(timeout=30_000)
            _no_exception(page)
            # roads offline: an OSM extract added in the upload box of the roads section; a
            # decompression bomb first (100 MB of zeros in 80 KB) is a plain error, not a crash
            import bz2

            bomb = tmp_path / "bomb.osm.bz2"
            bomb.write_bytes(bz2.compress(b"\0" * (100 << 20), 1))
            box = page.locator('[data-testid="stFileUploader"]').filter(has_text="OSM の抽出ファイルを追加")
            box.locator('input[type="file"]').set_input_files(str(bomb))
            page.locator('[data-testid="stAlert"]').filter(has_text="大きすぎ").wait_for(timeout=120_000)
            _no_exception(page)
            extract = _grid_osm(tmp_path / "katagami_roads.osm", 39.88, 140.05)
            box.locator('input[type="file"]').set_input_files(str(extract))
            page.get_by_text("道路を作りました").wait_for(timeout=120_000)
            assert "[roads]" in (root / "潟上市" / "region.toml").read_text("utf-8")
            _goto_page(page, "地図")
            frame = page.frame_locator(MAP_FRAME)
            frame.locator("path.tomoni-shelter").first.wait_for(timeout=90_000)
            page.wait_for_timeout(1000)
            assert frame.locator("path.tomoni-shelter").count() == 96 + 48
            credit = frame.locator(".leaflet-control-attribution").inner_text()
            assert "2021年1月1日" in credit and "2025年10月15日" in credit and "Geolonia" in credit
            context.close()


def test_a_gtfs_zip_added_on_the_transit_page_is_analysed(browser, demo_dir, tmp_path):
    """A region without timetables (the demo's files, its [layers.transit] left out): the 公共交通
    page says so and takes a GTFS-JP zip right there; a broken zip is refused naming the file;
    the real one is read and the page answers (trips that day, people reached by bus)."""
    import re
    import shutil

    root = tmp_path / "data"
    region = root / "no_bus"
    shutil.copytree(demo_dir, region)
    toml = region / "region.toml"
    toml.write_text(re.sub(r"\[layers\.transit\][^\[]*", "", toml.read_text("utf-8")), "utf-8")
    feed = region / "gtfs" / "community_bus_gtfs-jp.zip"
    broken = tmp_path / "壊れた.zip"
    broken.write_bytes(b"PK\x03\x04 not a zip at all")
    env = {"TOMONI_DATA_ROOT": str(root), "TOMONI_START_REGION": str(toml)}
    with serve_app(demo_dir, tmp_path / "server.log", extra=env) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url)
        page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=90_000)
        _goto_page(page, "公共交通")
        page.get_by_text("バスの時刻表（GTFS）がありません").wait_for(timeout=60_000)
        page.locator('input[type="file"]').set_input_files(str(broken))
        page.locator('[data-testid="stAlert"]').filter(has_text="壊れた.zip").wait_for(timeout=60_000)
        # a 1-second headway until 999:00:00 (billions of stop events) is refused at upload
        files = feed_files()
        files["frequencies.txt"] = files["frequencies.txt"].replace(b"11:00:00,1800", b"999:00:00,1")
        fast = write_feed(tmp_path / "毎秒.zip", files)
        page.locator('input[type="file"]').set_input_files(str(fast))
        page.locator('[data-testid="stAlert"]').filter(has_text="毎秒.zip").filter(
            has_text="多くなりすぎ").wait_for(timeout=60_000)
        _no_exception(page)
        page.locator('input[type="file"]').set_input_files(str(feed))
        page.get_by_text("この日の便").wait_for(timeout=120_000)
        trips = page.locator('[data-testid="stMetric"]').filter(has_text="この日の便")
        assert int(trips.locator('[data-testid="stMetricValue"]').inner_text().replace(",", "")) > 0
        _no_exception(page)
        context.close()
