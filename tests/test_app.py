"""App page logic with Streamlit's AppTest (the real browser is in tests/e2e)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.clicks import clicked_name

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def app(demo_dir, monkeypatch):
    monkeypatch.setenv("TOMONI_DEMO_DIR", str(demo_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _component_args(at: AppTest) -> dict:
    for el in at.main:
        proto = getattr(el, "proto", None)
        if proto is not None and hasattr(proto, "json_args") and "st_folium" in str(
                getattr(proto, "component_name", "")):
            return json.loads(proto.json_args)
    raise AssertionError("no st_folium component on the page")


def test_map_page_draws_the_demo_with_local_assets(app):
    assert "地図" in app.header[0].value and "架空" in app.header[0].value
    args = _component_args(app)
    links = args["js_links"] + args["css_links"]
    assert links and all(link.startswith("/app/static/vendor/") for link in links)
    assert "tomoni-shelter" in args["script"]


def test_english_switch(app):
    app.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert app.header[0].value.startswith("Map")


def test_data_page_summary_table(app):
    app.switch_page("ui/pages/data_page.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    layers = " ".join(table["レイヤー"])
    assert "shelters" in layers and "roads" in layers
    assert int(table.loc[table["レイヤー"].str.contains("shelters"), "行数"].iloc[0]) == 46


def test_data_page_opens_a_toml_and_reports_errors(app, tmp_path):
    app.switch_page("ui/pages/data_page.py").run()
    app.radio[0].set_value("toml").run()
    app.text_input[0].input(str(tmp_path / "nai.toml")).run()
    app.button(key="open_toml").click().run()
    assert not app.exception
    assert any("見つかりません" in e.value for e in app.error)


def test_export_page_makes_a_png(app):
    app.switch_page("ui/pages/export_page.py").run()
    assert not app.exception
    app.selectbox(key="export_fmt").set_value("png").run()
    app.button(key="make_image").click().run()
    assert not app.exception
    name, data, mime = app.session_state["export_file"]
    assert name.endswith(".png") and mime == "image/png" and data[:4] == b"\x89PNG"


def test_hazard_switch_recolours_shelters(app):
    before = _component_args(app)["script"]
    app.selectbox(key="hazard").set_value("earthquake").run()
    after = _component_args(app)["script"]
    assert before != after
    assert "地震のとき" in after or "\\u5730\\u9707\\u306e\\u3068\\u304d" in after


@pytest.mark.parametrize(
    ("result", "name"),
    [
        (None, None),
        ({"last_object_clicked_tooltip": None}, None),
        ({"last_object_clicked_tooltip": "\n   本町小学校グラウンド \n"}, "本町小学校グラウンド"),
    ],
)
def test_clicked_name(result, name):
    assert clicked_name(result) == name


def test_data_page_saves_a_region_folder_that_reopens(app, tmp_path, run_cli):
    app.switch_page("ui/pages/data_page.py").run()
    target = tmp_path / "saved"
    app.text_input(key="save_target").input(str(target)).run()
    app.button(key="save_region").click().run()
    assert not app.exception
    assert any("保存しました" in s.value for s in app.success)
    toml = target / "region.toml"
    text = toml.read_text("utf-8")
    assert "[layers.shelters]" in text and "vulnerable_records" not in text
    assert 'kind = "density"' in text and (target / "vulnerable_density.geojson").exists()
    assert not (target / "private").exists()
    code, out, err = run_cli("check", toml, "--json", "--no-roads")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["layers"]["shelters"]["rows"] == 46
    assert doc["layers"]["vulnerable"]["anonymisation"]["published_total"] == 3000


def test_coverage_page(app):
    app.switch_page("ui/pages/coverage_page.py").run()
    assert not app.exception
    labels = [m.label for m in app.metric]
    assert "カバー率" in labels
    assert app.dataframe[0].value["uncovered"].sum() > 0  # the gap list
    app.slider(key="cov_threshold").set_value(1500).run()
    assert not app.exception
    rate = next(m.value for m in app.metric if m.label == "カバー率")
    assert float(rate.rstrip(" %")) > 15.0


def test_consolidation_page(app):
    app.switch_page("ui/pages/consolidation_page.py").run()
    assert not app.exception
    labels = [m.label for m in app.metric]
    assert "再編でしきい値を超える人" in labels
    assert app.dataframe[1].value["people"].sum() == 3000


def test_coverage_page_exports_a_png(app):
    app.switch_page("ui/pages/coverage_page.py").run()
    app.button(key="cov_make_png").click().run()
    assert not app.exception
    assert app.session_state["cov_png"][:4] == b"\x89PNG"
