"""A region fetched by choosing the municipality, in Chromium, from a stand-in of the publishers
on 127.0.0.1 (the real Akita files in their download layouts; no internet)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import serve_app
from tests.e2e.test_browser import MAP_FRAME, _goto_page, _no_exception, _wait_map
from tests.standin_servers import publisher_files, publisher_urls, static_standin

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


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
            _goto_page(page, "地図")
            frame = page.frame_locator(MAP_FRAME)
            frame.locator("path.tomoni-shelter").first.wait_for(timeout=90_000)
            page.wait_for_timeout(1000)
            assert frame.locator("path.tomoni-shelter").count() == 96 + 48
            credit = frame.locator(".leaflet-control-attribution").inner_text()
            assert "2021年1月1日" in credit and "2025年10月15日" in credit and "Geolonia" in credit
            context.close()
