"""A shared deployment in a real Chromium: two logins, each user's folder their own, failed
logins locked and audited (issue #33)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import serve_app

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def login_app(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """The app with a users file (tanaka, suzuki, sato), its own data root and state folder."""
    from layers.users import add_user

    base = tmp_path_factory.mktemp("shared_login")
    users = base / "users.toml"
    for name in ("tanaka", "suzuki", "sato"):
        add_user(users, name, PASSWORD)
    root, state = base / "data", base / "state"
    root.mkdir()
    extra = {"TOMONI_USERS_FILE": str(users), "TOMONI_DATA_ROOT": str(root), "TOMONI_STATE_DIR": str(state)}
    with serve_app(demo_dir, base / "server.log", extra) as url:
        yield url, root, state


def _login(page, url: str, name: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.get_by_label("利用者名").fill(name)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


def _data_page(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name="データ").click()
    page.get_by_role("heading", name="データ").first.wait_for(timeout=90_000)


def test_two_logins_each_keep_their_own_regions(login_app, browser):
    """tanaka saves a region; suzuki, logged in at the same time, cannot open it by any path,
    nor save over it; tanaka shares it under shared/ and then suzuki can open it."""
    url, root, _state = login_app
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a, b = a_ctx.new_page(), b_ctx.new_page()
        _login(a, url, "tanaka")
        _login(b, url, "suzuki")
        for pg in (a, b):
            _data_page(pg)
        save_box = a.get_by_label("保存先フォルダ")
        save_box.fill("mine")
        save_box.press("Enter")
        a.get_by_role("button", name="保存", exact=True).click()
        a.get_by_text("保存しました").wait_for(timeout=90_000)
        saved = next(root.glob("users/*/mine/region.toml"))
        b.get_by_text("地域設定ファイル（TOML）").click()
        for typed in (str(saved), f"../{saved.parent.parent.name}/mine/region.toml"):
            box = b.get_by_label("地域設定ファイルのパス")
            box.fill(typed)
            box.press("Enter")
            b.get_by_role("button", name="開く", exact=True).click()
            b.get_by_text("ほかの利用者のフォルダ").first.wait_for(timeout=60_000)
        target = b.get_by_label("保存先フォルダ")
        target.fill(f"../{saved.parent.parent.name}/mine")
        target.press("Enter")
        expect(b.get_by_role("button", name="保存", exact=True)).to_be_disabled(timeout=60_000)
        assert b.get_by_text("ほかの利用者のフォルダ").count() >= 1
        # shared explicitly: then suzuki opens it
        save_box.fill(str(root / "shared" / "湖北"))
        save_box.press("Enter")
        a.get_by_role("button", name="保存", exact=True).click()
        shared = root / "shared" / "湖北" / "region.toml"
        for _ in range(180):  # 「保存しました」 is still on the page from the first save: wait for the file
            if shared.exists():
                break
            a.wait_for_timeout(500)
        box = b.get_by_label("地域設定ファイルのパス")
        box.fill(str(root / "shared" / "湖北" / "region.toml"))
        box.press("Enter")
        b.get_by_role("button", name="開く", exact=True).click()
        b.get_by_text("地域:").first.wait_for(timeout=90_000)
        assert (root / "shared" / "湖北" / "region.toml").exists()
        assert b.locator('[data-testid="stException"]').count() == 0
    finally:
        a_ctx.close()
        b_ctx.close()


def test_failed_logins_are_locked_and_audited(login_app, page):
    """Five wrong passwords lock the name (the right one is refused too) and every attempt is
    in the audit log — under the name for a known user, never the typed password."""
    url, _root, state = login_app
    for _ in range(5):
        _login(page, url, "sato", "wrong password")
        page.get_by_text("パスワードが違います").or_(page.get_by_text("ログインできません")).first.wait_for(
            timeout=30_000)
    page.get_by_text("ログインできません").first.wait_for(timeout=30_000)
    _login(page, url, "sato")
    page.get_by_text("ログインできません").first.wait_for(timeout=30_000)
    lines = [json.loads(x) for x in (state / "audit.log").read_text("utf-8").splitlines()]
    fails = [x for x in lines if x["action"] == "login_failed" and x["user"] == "sato"]
    assert len(fails) == 5 and any(x["action"] == "login_locked" for x in lines)
    assert "wrong password" not in (state / "audit.log").read_text("utf-8")
