"""Controls that hold, in a real Chromium: the density hides, typed page URLs open, one click
sets a route end."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import MAP_FRAME, _goto_page, _no_exception, _wait_map

pytestmark = pytest.mark.slow


def test_the_density_hides_from_the_layer_switcher(app_url, page):
    page.goto(app_url)
    frame = _wait_map(page)
    frame.locator(".tomoni-mesh-tile").first.wait_for(timeout=60_000)
    frame.locator(".leaflet-control-layers").hover()
    box = frame.locator(".leaflet-control-layers-overlays label").filter(has_text="要配慮者")
    assert box.count() == 1  # the density is listed in the switcher
    box.locator("input").uncheck()
    frame.locator(".tomoni-mesh-tile").first.wait_for(state="detached", timeout=10_000)
    assert frame.locator(".tomoni-mesh-tile").count() == 0
    box.locator("input").check()
    frame.locator(".tomoni-mesh-tile").first.wait_for(timeout=10_000)
    _no_exception(page)


def test_removing_the_density_chip_removes_the_mesh(app_url, page):
    page.goto(app_url)
    frame = _wait_map(page)
    frame.locator(".tomoni-mesh-tile").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stMultiSelect"] button[aria-label^="Remove 要配慮者"]').click()
    page.wait_for_timeout(3000)
    frame = _wait_map(page)
    page.wait_for_timeout(2000)
    assert frame.locator(".tomoni-mesh-tile").count() == 0
    # the chips' list then offers 「すべて選ぶ」, not Streamlit's own 「Select all」
    page.locator('[data-testid="stMultiSelect"]').first.locator("input").click()
    first = page.locator('[role="option"][data-key="__select_all__"] [data-item-hl]')
    first.wait_for(timeout=10_000)
    drawn = first.evaluate("el => [getComputedStyle(el).fontSize, getComputedStyle(el, '::after').content]")
    assert drawn == ["0px", '"すべて選ぶ"']
    _no_exception(page)


@pytest.mark.parametrize(("path", "heading"), [("/coverage", "カバー率"), ("/vc", "災害VC・ルート"),
                                                ("/export", "エクスポート")])
def test_a_typed_page_url_opens_that_page(app_url, page, path, heading):
    page.goto(app_url + path)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=90_000)
    assert page.get_by_text("Page not found").count() == 0
    _no_exception(page)


def test_one_click_on_a_marker_sets_the_route_goal(app_url, page):
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "災害VC・ルート")
    frame = _wait_map(page)
    page.get_by_text("災害VCの候補地と開設計画").wait_for(timeout=60_000)
    frame.locator("path.tomoni-route-normal").first.wait_for(state="attached", timeout=90_000)
    goal = page.locator('[data-testid="stSelectbox"]').nth(2).locator("input")
    before = goal.input_value()
    # one click on a shelter marker: the goal becomes that point
    frame.locator("path.tomoni-shelter").nth(5).click(force=True)
    page.wait_for_timeout(4000)
    after = goal.input_value()
    assert before != after == "地図をクリックした地点"
    frame = page.frame_locator(MAP_FRAME).last
    frame.locator("path.tomoni-route-normal").first.wait_for(state="attached", timeout=90_000)
    _no_exception(page)
