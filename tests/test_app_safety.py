"""The app on a shared machine: files only inside the data folder, no silent replace,
a login when one is configured, an audit of exports; `tomoni serve` binds to this machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from layers.users import add_user, read_users, verify

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    return root


@pytest.fixture
def app(demo_dir, monkeypatch, data_root):
    monkeypatch.setenv("TOMONI_DEMO_DIR", str(demo_dir))
    monkeypatch.setenv("TOMONI_DATA_ROOT", str(data_root))
    monkeypatch.delenv("TOMONI_USERS_FILE", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _open(at: AppTest, path: str) -> AppTest:
    at.switch_page("ui/pages/data_page.py").run()
    at.radio[0].set_value("toml").run()
    at.text_input[0].input(path).run()
    return at.button(key="open_toml").click().run()


@pytest.mark.parametrize("path", ["/etc/passwd", "/dev/zero", "../outside.toml"])
def test_no_file_outside_the_data_folder_is_opened(app, path):
    _open(app, path)
    assert not app.exception
    assert any("データフォルダの外" in e.value for e in app.error)


def test_a_link_inside_the_data_folder_to_a_device_is_refused(app, data_root):
    (data_root / "zero.toml").symlink_to("/dev/zero")
    _open(app, "zero.toml")
    assert any("データフォルダの外" in e.value for e in app.error)


def test_a_region_reading_files_outside_is_refused(app, data_root, demo_dir):
    toml = f'[region]\nname = "x"\n[layers.places]\npath = "{demo_dir}/ibasho.csv"\n'
    (data_root / "r.toml").write_text(toml, encoding="utf-8")
    _open(app, "r.toml")
    assert any("データフォルダの外" in e.value for e in app.error)


def test_save_stays_inside_and_asks_before_replacing(app, data_root):
    app.switch_page("ui/pages/data_page.py").run()
    app.text_input(key="save_target").input("/tmp/elsewhere").run()
    assert any("データフォルダの外" in e.value for e in app.error)
    assert app.button(key="save_region").disabled
    app.text_input(key="save_target").input("mine").run()
    app.button(key="save_region").click().run()
    assert any("保存しました" in s.value for s in app.success)
    toml = data_root / "mine" / "region.toml"
    toml.write_text(toml.read_text("utf-8") + "# 手で書いたメモ\n", encoding="utf-8")
    app.run()
    assert any("置き換えますか" in w.value for w in app.warning)
    assert app.button(key="save_region").disabled  # nothing replaced without a yes
    assert "手で書いたメモ" in toml.read_text("utf-8")
    app.checkbox(key="save_replace").check().run()
    app.button(key="save_region").click().run()
    assert "手で書いたメモ" not in toml.read_text("utf-8")
    lines = [json.loads(x) for x in (Path(app_state_dir()) / "audit.log").read_text("utf-8").splitlines()]
    assert {"save_region"} <= {x["action"] for x in lines}
    assert all(set(x) <= {"time", "user", "action", "region", "file"} for x in lines)


def app_state_dir() -> str:
    import os

    return os.environ["TOMONI_STATE_DIR"]


def test_login_is_required_when_users_are_configured(demo_dir, monkeypatch, tmp_path):
    users = tmp_path / "users.toml"
    add_user(users, "tanaka", "correct horse battery")
    assert verify(read_users(users), "tanaka", "correct horse battery")
    assert not verify(read_users(users), "tanaka", "wrong") and not verify(read_users(users), "x", "y")
    assert "correct horse" not in users.read_text("utf-8")
    monkeypatch.setenv("TOMONI_DEMO_DIR", str(demo_dir))
    monkeypatch.setenv("TOMONI_USERS_FILE", str(users))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert at.header[0].value == "ログイン" and len(at.header) == 1  # no page ran
    at.text_input[0].input("tanaka")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert any("違います" in e.value for e in at.error) and len(at.header) == 1
    at.text_input[1].input("correct horse battery")
    at.button[0].click().run()
    assert not at.exception
    assert "地図" in at.header[0].value


def test_serve_binds_to_this_machine_unless_a_login_and_data_folder_are_given(run_cli, tmp_path):
    from geo.cli.parser import build_parser

    assert build_parser().parse_args(["serve"]).address == "127.0.0.1"
    config = (Path(APP).parent / ".streamlit" / "config.toml").read_text("utf-8")
    assert 'address = "127.0.0.1"' in config  # `streamlit run` alone binds there too
    code, _, err = run_cli("serve", "--address", "0.0.0.0")
    assert code == 2 and "ログイン" in err
    code, _, err = run_cli("serve", "--address", "192.168.0.10", "--users", tmp_path / "none.toml",
                           "--data-root", tmp_path)
    assert code == 2 and "none.toml" in err
