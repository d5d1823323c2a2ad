"""The app in a real Chromium: pages, offline map, click, upload, export download."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def _wait_map(page):  # type: ignore[no-untyped-def]
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=90_000)
    frame.locator("path.tomoni-shelter").first.wait_for(timeout=60_000)
    return frame


def _no_exception(page) -> None:  # type: ignore[no-untyped-def]
    assert page.locator('[data-testid="stException"]').count() == 0


def _choose_target(page, option: str):  # type: ignore[no-untyped-def]
    """Pick the layer uploads go to on the データ page; the select box, for later picks."""
    target = page.locator('[data-testid="stSelectbox"]').filter(has_text="追加先のレイヤー")
    target.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(target.locator("input")).to_have_value(option)
    return target


def _goto_page(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)


def test_every_page_opens_and_nothing_is_fetched_from_outside(app_url, page):
    page.goto(app_url)
    frame = _wait_map(page)
    assert frame.locator("path.leaflet-interactive").count() > 50
    assert frame.locator(".tomoni-legend").count() == 1
    _no_exception(page)
    for title in ("データ", "エクスポート", "地図"):
        _goto_page(page, title)
        _no_exception(page)
    _wait_map(page)
    assert page.failed == [], page.failed
    assert all(u.startswith(app_url) for u in page.failed)


def test_click_on_a_shelter_shows_its_name(app_url, page):
    page.goto(app_url)
    frame = _wait_map(page)
    page.wait_for_timeout(1500)  # let fitBounds finish its animation
    frame.locator("path.tomoni-shelter").first.click(force=True)
    info = page.get_by_text("選択した地物:")
    info.wait_for(timeout=30_000)
    assert len(info.inner_text().split(":", 1)[1].strip()) > 0


def test_upload_of_a_cp932_gsi_csv_adds_a_layer(app_url, page, shared_data):
    csv = shared_data / "akita/shelters/gsi_emergency_sites_koto_cp932.csv"
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "データ")
    page.locator('input[type="file"]').set_input_files(str(csv))
    page.get_by_text(f"追加したファイル: {csv.name}").wait_for(timeout=60_000)
    assert page.get_by_text("222 件").count() >= 1
    _no_exception(page)
    _goto_page(page, "地図")
    frame = _wait_map(page)
    page.wait_for_timeout(1000)
    assert frame.locator("path.tomoni-shelter").count() >= 46 + 222


def test_upload_of_a_broken_file_shows_a_plain_error(app_url, page, tmp_path):
    bad = tmp_path / "ibasho.csv"
    bad.write_text("名称,緯度,経度\nサロン,北緯39度,140.1\n", encoding="utf-8")
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "データ")
    # the upload box speaks Japanese: Streamlit's 「Upload」「200MB per file」 are not what is drawn
    page.locator('[data-testid="stFileUploaderDropzoneInstructions"] span').first.wait_for(timeout=60_000)
    seen = page.evaluate("""() => [
        '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p',
        '[data-testid="stFileUploaderDropzoneInstructions"] span'].map(sel => {
          const el = document.querySelector(sel);
          return [getComputedStyle(el).fontSize, getComputedStyle(el, '::after').content]; })""")
    assert [size for size, _ in seen] == ["0px", "0px"]
    assert seen[0][1] == '"ファイルを選ぶ"' and "MB まで" in seen[1][1]
    page.locator('input[type="file"]').set_input_files(str(bad))
    msg = page.get_by_text("座標が数値ではない行があります")
    msg.wait_for(timeout=60_000)
    text = page.locator('[data-testid="stAlert"]').first.inner_text()
    assert "ibasho.csv" in text and "2行目" in text and "緯度" in text
    _no_exception(page)


def test_the_upload_box_imports_each_file_once_and_errors_follow_the_box(app_url, page, tmp_path,
                                                                        shared_data):
    """Changing the target layer must not import the files still in the box into the new
    layer, nor report errors for files that had loaded; a refused file leaves the box, its
    message stays until the next file."""
    good = shared_data / "akita/shelters/gsi_emergency_sites_koto_cp932.csv"
    bad = tmp_path / "ibasho.csv"
    bad.write_text("名称,緯度,経度\nサロン,北緯39度,140.1\n", encoding="utf-8")
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "データ")
    page.locator('input[type="file"]').set_input_files([str(good), str(bad)])
    added = page.get_by_text(f"追加したファイル: {good.name}")
    added.wait_for(timeout=60_000)
    page.get_by_text("座標が数値ではない行があります").wait_for(timeout=60_000)
    assert "避難所" in added.inner_text()

    _choose_target(page, "居場所")
    page.wait_for_timeout(1500)  # the rerun that once imported the box again
    assert page.get_by_text(f"追加したファイル: {good.name}").count() == 1
    assert "避難所" in page.get_by_text(f"追加したファイル: {good.name}").inner_text()
    alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert not any(good.name in a and "読み込めませんでした" in a for a in alerts), alerts
    assert sum("ibasho.csv" in a for a in alerts) == 1  # the box has not changed: same message

    assert page.locator('[data-testid="stFileChipName"]').filter(has_text="ibasho.csv").count() == 0
    fixed = tmp_path / "ibasho_fixed.csv"
    fixed.write_text("名称,緯度,経度\nサロン,39.72,140.10\n", encoding="utf-8")
    page.locator('input[type="file"]').set_input_files(str(fixed))
    page.get_by_text("追加したファイル: ibasho_fixed.csv").wait_for(timeout=60_000)
    page.get_by_text("座標が数値ではない行があります").wait_for(state="detached", timeout=30_000)
    assert page.get_by_text(f"追加したファイル: {good.name}").count() == 1
    _no_exception(page)


def test_an_address_only_list_and_an_excel_register_upload(app_url, page, demo_dir, tmp_path):
    """A 居場所 list with 住所 and no coordinates is placed on the demo's 町字 points and
    says how finely; a register in Excel with addresses only becomes a density."""
    import openpyxl

    listing = demo_dir / "samples" / "ibasho_addresses.csv"
    page.goto(app_url)
    frame = _wait_map(page)
    before = frame.locator("path.tomoni-place").count()
    _goto_page(page, "データ")
    _choose_target(page, "居場所")
    page.locator('input[type="file"]').set_input_files(str(listing))
    page.get_by_text(f"追加したファイル: {listing.name}").wait_for(timeout=60_000)
    assert page.get_by_text("住所から位置を求めました: 町字 25 件").count() >= 1
    _no_exception(page)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名簿"
    ws.append(["避難行動要支援者名簿（架空）"])
    ws.append(["整理番号", "氏名", "住所", "区分"])
    for i in range(12):
        ws.append([i + 1, f"架空 {i}", f"架空県湖北市本町{i + 1}番1号", "高齢独居"])
    register = tmp_path / "meibo.xlsx"
    wb.save(register)
    _choose_target(page, "要配慮者（匿名化済み）")
    page.locator('input[type="file"]').set_input_files(str(register))
    page.get_by_text(f"追加したファイル: {register.name}").wait_for(timeout=60_000)
    body = page.locator("body").inner_text()
    assert "架空 3" not in body and "本町4番1号" not in body
    _no_exception(page)
    _goto_page(page, "地図")
    frame = _wait_map(page)
    page.wait_for_timeout(1000)
    assert frame.locator("path.tomoni-place").count() == before + 25


def test_a_placed_row_is_moved_by_one_click_on_the_map(app_url, page, demo_dir):
    """The 居場所 placed at a town's point (町字) is set where the user clicks: once."""
    listing = demo_dir / "samples" / "ibasho_addresses.csv"
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "データ")
    _choose_target(page, "居場所")
    page.locator('input[type="file"]').set_input_files(str(listing))
    page.get_by_text(f"追加したファイル: {listing.name}").wait_for(timeout=60_000)
    page.get_by_text(f"位置を地図で直す: {listing.name}").click()
    row = page.locator('[data-testid="stSelectbox"]').filter(has_text="直す行")
    first = row.locator("input").input_value()
    assert first.endswith("（町字）")
    fix_map = page.frame_locator(MAP_FRAME).last
    fix_map.locator(".leaflet-container").wait_for(timeout=60_000)
    fix_map.locator(".leaflet-container").click(position={"x": 120, "y": 90})
    page.get_by_text(f"「{first.removesuffix('（町字）')}」の位置を直しました。").wait_for(timeout=60_000)
    row.locator("input").click()
    assert page.get_by_role("option", name=first.replace("（町字）", "（手動）")).count() == 1
    _no_exception(page)


def _make_and_download(page, make: str, name: str, folder, *, timeout: int) -> bytes:  # type: ignore[no-untyped-def]
    """Press the button that builds a file, then its download button; the file's bytes."""
    page.get_by_role("button", name=make).click()
    button = page.get_by_role("button", name=f"ダウンロード: {name}")
    button.wait_for(timeout=timeout)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    target = folder / name
    info.value.save_as(target)
    return target.read_bytes()


def test_export_download_is_a_valid_png(app_url, page, tmp_path):
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "エクスポート")
    data = _make_and_download(page, "地図画像を作る", "tomoni_map.png", tmp_path, timeout=120_000)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    # the region report, built with a progress bar and offered for download
    report = _make_and_download(page, "レポートを作る", "report.pdf", tmp_path, timeout=240_000)
    assert report[:5] == b"%PDF-"
    _no_exception(page)


def test_the_printed_map_says_the_hazard_chosen_on_the_map_page(app_url, page, tmp_path):
    """地震 chosen on the map page, then the export page's PDF: its legend names 地震 (the
    choice outlives the page change)."""
    import pypdf

    page.goto(app_url)
    _wait_map(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="災害の種類").click()
    page.get_by_role("option", name="地震").click()
    _wait_map(page)
    _goto_page(page, "エクスポート")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="形式").click()
    page.get_by_role("option", name="pdf").click()
    data = _make_and_download(page, "地図画像を作る", "tomoni_map.pdf", tmp_path, timeout=120_000)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(tmp_path / "tomoni_map.pdf").pages)
    assert data[:5] == b"%PDF-" and "地震" in text
    _goto_page(page, "地図")
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="災害の種類")
    field = box.locator("input").first  # and the map page still shows it
    for _ in range(60):
        if field.input_value() == "地震":
            break
        page.wait_for_timeout(500)
    assert field.input_value() == "地震"
    _no_exception(page)


def test_a_refused_file_leaves_the_upload_box_with_its_message(app_url, page, tmp_path):
    """A file that is not a list of places: the message names it and the fix, and the file
    is no longer in the upload box (the next file is not added to a refused one)."""
    bad = tmp_path / "サロン一覧.csv"
    bad.write_bytes(b"\x00\x01\x02 not a table \xff\xfe")
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "データ")
    page.locator('input[type="file"]').set_input_files(str(bad))
    page.get_by_text("サロン一覧.csv").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stAlertContentError"]').filter(has_text="サロン一覧.csv").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.locator('[data-testid="stFileChipName"]').count() == 0
    _no_exception(page)


def test_register_upload_shows_only_the_anonymised_density(app_url, page, demo_dir, tmp_path):
    register = demo_dir / "private/vulnerable_records.csv"
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "データ")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="追加先のレイヤー").click()
    page.get_by_role("option", name="要配慮者（匿名化済み）", exact=True).click()
    page.get_by_text("その場で匿名化").wait_for(timeout=30_000)
    page.locator('input[type="file"]').set_input_files(str(register))
    done = page.get_by_text("個人の位置は保持していません")
    done.wait_for(timeout=90_000)
    assert "k=5" in done.inner_text()
    _no_exception(page)
    _goto_page(page, "地図")
    frame = _wait_map(page)
    frame.locator(".tomoni-mesh-tile").first.wait_for(timeout=60_000)
    assert frame.get_by_text("要配慮者").count() >= 1  # the legend explains the density
    # keep what the browser received, for the session's leak scan
    (tmp_path / "map_page.html").write_text(page.content(), "utf-8")
    html = page.frame_locator(MAP_FRAME).locator("html").evaluate("e => e.outerHTML")
    (tmp_path / "map_frame.html").write_text(html, "utf-8")
    scripts = page.frame_locator(MAP_FRAME).locator("script").evaluate_all(
        "els => els.map(e => e.textContent).join('\\n')")
    (tmp_path / "map_scripts.js").write_text(scripts, "utf-8")
    assert "氏名" not in scripts


def test_disaster_pages_in_the_browser(app_url, page):
    """避難所と要配慮者, 災害VC・ルート (a click sets the goal; both routes drawn), 広域連携."""
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "避難所と要配慮者")
    frame = _wait_map(page)
    frame.locator("path.tomoni-closed").first.wait_for(state="attached", timeout=60_000)
    page.get_by_text("避難先に行けない単位（最優先）").wait_for(timeout=30_000)
    _no_exception(page)

    _goto_page(page, "災害VC・ルート")
    frame = _wait_map(page)
    page.get_by_text("災害VCの候補地と開設計画").wait_for(timeout=60_000)
    # from VC02; the goal: "地図をクリックした地点", then a click on the map near 本町体育館
    page.locator('[data-testid="stSelectbox"]').nth(1).click()
    page.get_by_role("option", name="湖北市総合体育館（VC02）").click()
    page.wait_for_timeout(1000)
    page.locator('[data-testid="stSelectbox"]').nth(2).click()
    page.get_by_role("option", name="地図をクリックした地点").click()
    page.wait_for_timeout(1000)
    page.locator('[data-testid="stRadio"]').last.get_by_text("目的地").click()
    page.wait_for_timeout(2500)
    _wait_map(page)
    leaflet = page.locator(MAP_FRAME).element_handle().content_frame()
    x, y = leaflet.evaluate(
        "() => { const k = Object.keys(window).find(k => k.startsWith('map_'));"
        " const p = window[k].latLngToContainerPoint([39.639438, 140.426342]); return [p.x, p.y]; }")
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = page.locator(MAP_FRAME).bounding_box()
    page.mouse.click(box["x"] + x - 14, box["y"] + y + 6)  # beside the marker: a map click
    page.wait_for_timeout(3000)  # the click reruns the page once
    frame = page.frame_locator(MAP_FRAME).last
    frame.locator("path.tomoni-route-normal").first.wait_for(state="attached", timeout=90_000)
    frame.locator("path.tomoni-route-hazard").first.wait_for(state="attached", timeout=30_000)
    _no_exception(page)

    _goto_page(page, "広域連携")
    frame = page.frame_locator(MAP_FRAME)
    frame.locator("path.tomoni-flow").first.wait_for(state="attached", timeout=90_000)
    page.get_by_text("相互応援協定の相手の候補").first.wait_for(timeout=30_000)
    _no_exception(page)
    assert page.failed == [], page.failed


def test_volunteer_dispatch_tab_from_lists_to_team_sheets(app_url, page, tmp_path):
    """The 災害VC page's ボランティア派遣 tab as a VC coordinator uses it: the demo's lists, plan,
    every team on the map, the team sheets downloaded as a PDF."""
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "災害VC・ルート")
    page.get_by_role("tab", name="ボランティア派遣").click()
    page.get_by_text("デモのニーズ票と班を使う（架空）").click()
    page.get_by_role("button", name="派遣計画を作る").click()
    box = page.locator('[data-testid="stMetric"]').filter(has_text="割り当てたニーズ").first
    box.wait_for(timeout=120_000)
    assigned, total = (int(v) for v in box.locator('[data-testid="stMetricValue"]').inner_text().split("/"))
    assert total == 120 and 0 < assigned <= total
    frame = page.frame_locator(MAP_FRAME).last
    frame.locator("path.tomoni-dispatch-route").first.wait_for(state="attached", timeout=60_000)
    assert frame.locator("path.tomoni-dispatch-route").count() == _metric(page, "出動する班")
    page.get_by_text("今日割り当てられないニーズと理由").wait_for(timeout=30_000)
    page.get_by_role("button", name="班票（PDF）を作る").click()
    button = page.get_by_role("button", name="dispatch_sheets.pdf")
    button.wait_for(timeout=180_000)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    info.value.save_as(tmp_path / "sheets.pdf")
    assert (tmp_path / "sheets.pdf").read_bytes()[:4] == b"%PDF"
    page.get_by_text("割り当てられない理由（件数）").first.wait_for(timeout=30_000)
    # the VC looks at the map and comes back: the lists and the plan are still there
    _goto_page(page, "地図")
    _goto_page(page, "災害VC・ルート")
    page.get_by_role("tab", name="ボランティア派遣").click()
    box = page.locator('[data-testid="stMetric"]').filter(has_text="割り当てたニーズ").first
    box.wait_for(timeout=60_000)
    assert box.locator('[data-testid="stMetricValue"]').inner_text().split("/")[0].strip() == str(assigned)
    _no_exception(page)
    assert page.failed == [], page.failed


def test_siting_page_in_the_browser(app_url, page):
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "新しい居場所の提案")
    page.get_by_text("開いた後の徒歩圏").first.wait_for(timeout=90_000)
    frame = page.frame_locator(MAP_FRAME).last
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    frame.get_by_text("提案する場所").first.wait_for(state="attached", timeout=30_000)
    assert frame.locator("path.leaflet-interactive").count() >= 3
    _no_exception(page)
    assert page.failed == [], page.failed


def test_two_browsers_never_see_each_others_uploads(app_url, browser, shared_data):
    """Two people on the same server at once: what one adds stays in their own session."""
    csv = shared_data / "akita/shelters/gsi_emergency_sites_koto_cp932.csv"
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a, b = a_ctx.new_page(), b_ctx.new_page()
        for pg in (a, b):
            pg.goto(app_url)
            _wait_map(pg)
            _goto_page(pg, "データ")
        a.locator('input[type="file"]').set_input_files(str(csv))
        a.get_by_text(f"追加したファイル: {csv.name}").wait_for(timeout=60_000)
        b.reload()
        b.get_by_role("heading", name="データ").first.wait_for(timeout=60_000)
        b.wait_for_timeout(1500)
        assert b.get_by_text(csv.name).count() == 0
        _goto_page(b, "地図")
        frame = _wait_map(b)
        b.wait_for_timeout(1000)
        assert frame.locator("path.tomoni-shelter").count() == 46  # the demo's own, not A's 222 more
    finally:
        a_ctx.close()
        b_ctx.close()


def test_downloads_are_audited_without_content(app_url, page, tmp_path):
    import json
    import os
    from pathlib import Path

    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "エクスポート")
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name="ダウンロード: tomoni_layers.gpkg").click()
    dl.value.save_as(tmp_path / "layers.gpkg")
    log = Path(os.environ["TOMONI_STATE_DIR"]) / "audit.log"
    page.wait_for_timeout(1000)
    lines = [json.loads(x) for x in log.read_text("utf-8").splitlines()]
    mine = [x for x in lines if x.get("file") == "tomoni_layers.gpkg"]
    assert mine and mine[-1]["action"] == "download" and mine[-1]["user"] == "local"
    assert all(set(x) <= {"time", "user", "action", "region", "file"} for x in lines)


def _metric(page, label: str) -> int:  # type: ignore[no-untyped-def]
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    value = box.locator('[data-testid="stMetricValue"]').inner_text()
    return int(value.split()[0].replace(",", ""))


def test_the_season_switch_and_the_year_slider_in_the_browser(app_url, page):
    """カバー率: a person clicks 冬 and sees fewer people within reach and the snow caption;
    moving the year slider to its end shows the last projection year's (smaller) demand."""
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "カバー率")
    page.get_by_text("徒歩圏内").first.wait_for(timeout=90_000)
    summer, total = _metric(page, "徒歩圏内"), _metric(page, "要配慮者")
    page.locator('[data-testid="stRadio"]').filter(has_text="季節").get_by_text("冬（雪道・冬期閉鎖）").click()
    page.get_by_text("雪道の遅れ").first.wait_for(timeout=90_000)
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="徒歩圏内")).not_to_contain_text(
        f"{summer:,} ", timeout=90_000)
    assert _metric(page, "徒歩圏内") < summer
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="年（将来推計）").get_by_role("slider")
    slider.focus()
    slider.press("End")
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="要配慮者")).not_to_contain_text(
        f"{total:,} ", timeout=90_000)
    assert _metric(page, "要配慮者") < total
    # while the page reruns, the old map's frame and the new one may both be in the page
    page.frame_locator(MAP_FRAME).last.locator(".leaflet-container").wait_for(timeout=60_000)
    _no_exception(page)
    assert page.failed == [], page.failed


def test_a_planner_sees_who_reaches_a_salon_by_bus(app_url, page):
    """The 公共交通 page as a new user meets it: the next weekday morning, the map with the
    bus lines through their stops, the per-route table; then one more stop or trip."""
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "公共交通")
    box = page.locator('[data-testid="stMetric"]').filter(has_text="徒歩＋バスで届く").first
    box.wait_for(timeout=120_000)
    frame = page.frame_locator(MAP_FRAME).last
    frame.locator("path.tomoni-bus-route").first.wait_for(state="attached", timeout=60_000)
    # the loop and the line both ways on a weekday (a 祝日 runs two patterns)
    assert frame.locator("path.tomoni-bus-route").count() in (2, 3)
    # the layers' legend, and the minutes' legend for the departure window
    assert frame.locator(".tomoni-legend").filter(has_text="に出発").count() == 1
    page.get_by_text("路線ごとの利用者候補").wait_for(timeout=30_000)
    page.get_by_role("button", name="試す").click()
    page.get_by_text("新しい停留所の候補").wait_for(timeout=120_000)
    _no_exception(page)
    assert page.failed == [], page.failed


def _bombs(folder):  # type: ignore[no-untyped-def]
    """A 5 KB .xlsx with one cell at XFD1048576, and a 2 MB zip of a 2.1 GB shapefile part."""
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"], sheet["C1"] = "名称", "緯度", "経度"
    sheet["A2"], sheet["B2"], sheet["C2"] = "サロン", 39.6, 140.4
    sheet["XFD1048576"] = "x"
    far = folder / "far.xlsx"
    book.save(far)
    bomb = folder / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("a.shp", b"\0" * 100)
        z.writestr("a.shx", b"\0" * 100)
        with z.open("a.dbf", "w", force_zip64=True) as f:
            chunk = b"\0" * (64 << 20)
            for _ in range(33):  # 2.1 GB of zeros, written in chunks
                f.write(chunk)
    return far, bomb


def test_upload_bombs_never_take_the_server_down(app_url, browser, tmp_path):
    """A far-cell .xlsx uploaded as 居場所 aborted the server for every user.  Each bomb is now
    a plain error in the session that uploaded it, and a second session uses the app after."""
    far, bomb = _bombs(tmp_path)
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(app_url)
        _wait_map(page)
        _goto_page(page, "データ")
        _choose_target(page, "居場所")
        for f, words in ((far, "大きすぎ"), (bomb, "大きすぎ")):
            page.locator('input[type="file"]').set_input_files(str(f))
            page.locator('[data-testid="stAlert"]').filter(has_text=f.name).filter(
                has_text=words).first.wait_for(timeout=120_000)
            # the refused file leaves the box (a new one is drawn) before the next is chosen
            expect(page.locator('[data-testid="stFileChipName"]')).to_have_count(0, timeout=60_000)
            _no_exception(page)
    finally:
        ctx.close()
    other = browser.new_context()
    try:
        second = other.new_page()
        second.goto(app_url)
        frame = _wait_map(second)
        assert frame.locator("path.tomoni-shelter").count() > 0
        _no_exception(second)
    finally:
        other.close()


def _new_region(page, app_url: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """Open the app and start 新しい地域 ``name`` on the データ page."""
    page.goto(app_url)
    _wait_map(page)
    _goto_page(page, "データ")
    page.get_by_text("新しい地域", exact=True).click()
    page.get_by_label("地域の名前").fill(name)
    page.get_by_label("地域の名前").press("Enter")
    page.get_by_role("button", name="作る").click()
    page.get_by_text(f"地域: {name}").last.wait_for(timeout=60_000)


def test_the_municipality_picker_appears_as_soon_as_the_boundaries_load(app_url, page, shared_data):
    """A new region: the N03 file of the whole prefecture goes into 市町村界, and the picker of
    対象の市町村 shows at once (it used to wait for the next click), with all 25 to choose from."""
    n03 = shared_data / "akita/boundaries/n03_akita_2021_simplified.geojson"
    _new_region(page, app_url, "潟上市テスト")
    _choose_target(page, "市町村界")
    page.locator('input[type="file"]').set_input_files(str(n03))
    page.get_by_text(f"追加したファイル: {n03.name}").wait_for(timeout=60_000)
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="対象の市町村")
    picker.wait_for(timeout=5_000)  # no other action in between
    assert picker.get_by_text("潟上市").count() == 1 and picker.get_by_text("八郎潟町").count() == 1
    _no_exception(page)


def _file_input(page):  # type: ignore[no-untyped-def]
    """The upload box's file input, once the rerun that replaced the box has settled (for a
    moment the old box and the new one are both on the page)."""
    boxes = page.locator('input[type="file"]')
    expect(boxes).to_have_count(1, timeout=30_000)
    return boxes


def _settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app has no run going and none asked for (Streamlit marks its root with
    the script's state), twice over a moment: a run may ask for the next one as it ends."""
    idle = ("() => document.querySelector('[data-testid=\"stApp\"]')"
            "?.getAttribute('data-test-script-state') === 'notRunning'")
    for _ in range(2):
        page.wait_for_function(idle, timeout=120_000)
        page.wait_for_timeout(500)


def _alerts(page) -> str:  # type: ignore[no-untyped-def]
    """What the page's messages say (for a failure's report)."""
    return " | ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())


def _upload(page, target: str, path) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_timeout(1500)  # the rerun after the previous file (the picker, the placer) settles
    _settled(page)
    _choose_target(page, target)
    _settled(page)
    _file_input(page).set_input_files(str(path))
    page.get_by_text(f"追加したファイル: {path.name}").wait_for(timeout=60_000)


def test_a_new_region_places_an_address_only_salon_list_with_an_uploaded_machiaza_file(
        app_url, page, shared_data, tmp_path):
    """潟上市社協 from an empty region, without touching a file: N03, the GSI CSVs (cp932), the
    町字 points of 潟上市 (target 「町字の参照点」), then a cp932 list of サロン with addresses only
    — placed, with the placement summary; a 町字 file of another prefecture, a non-JSON file
    and a huge JSON are refused with a message naming the file."""
    koto = shared_data / "akita/shelters/gsi_emergency_sites_koto_cp932.csv"
    salons = tmp_path / "サロン一覧.csv"
    salons.write_text("名称,住所\nいこいサロン,秋田県潟上市飯田川飯塚字古開1\n"
                      "ふれあい茶話会,潟上市飯田川飯塚\nみんなの家,潟上市天王\n", encoding="cp932")
    _new_region(page, app_url, "潟上市")
    _upload(page, "市町村界", shared_data / "akita/boundaries/n03_akita_2021_simplified.geojson")
    _upload(page, "避難所・避難場所", koto)
    # refused reference files first: another prefecture, not JSON, too big
    for bad, words in ((shared_data / "tachikawa/machiaza_points.json", "市町村界の外"),
                       (koto, "JSON として読めません"), (None, "大きすぎます")):
        if bad is None:
            bad = tmp_path / "巨大.json"
            bad.write_bytes(b"[" + b" " * (33 * 2**20) + b"]")
        _settled(page)  # a file chosen while the last one's run ends must not be lost
        _choose_target(page, "町字の参照点（住所の位置）")
        _settled(page)
        _file_input(page).set_input_files(str(bad))
        try:
            page.get_by_text(words).first.wait_for(timeout=120_000)
        except PlaywrightTimeout:
            raise AssertionError(f"{bad.name}: no message with {words!r}; the page says: {_alerts(page)}"
                                 ) from None
        assert bad.name in page.locator('[data-testid="stAlert"]').filter(has_text=words).first.inner_text()
    _upload(page, "町字の参照点（住所の位置）", shared_data / "akita/machiaza/潟上市.json")
    assert page.get_by_text("潟上市 の町字").count() >= 1
    _upload(page, "居場所", salons)
    body = page.locator("body").inner_text()
    assert "町字" in body and "3 件" in body
    sources = page.locator('[data-testid="stDataFrame"]').last
    sources.wait_for(timeout=30_000)
    _no_exception(page)
    _goto_page(page, "地図")
    frame = _wait_map(page)
    page.wait_for_timeout(1000)
    assert frame.locator("path.tomoni-place").count() == 3
    credit = frame.locator(".leaflet-control-attribution").inner_text()
    assert "Geolonia" in credit and "2021年" in credit and "国土地理院" in credit
