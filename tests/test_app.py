"""App page logic with Streamlit's AppTest (the real browser is in tests/e2e)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ui.clicks import clicked_name

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def app(demo_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("TOMONI_DEMO_DIR", str(demo_dir))
    monkeypatch.setenv("TOMONI_DATA_ROOT", str(tmp_path))  # the folder the app may open and save in
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


def _map_text(args: dict) -> str:
    """What the browser receives for the map: its script and its separate layers."""
    return str(args["script"]) + str(args.get("feature_group") or "")


def test_map_page_draws_the_demo_with_local_assets(app):
    assert "地図" in app.header[0].value and "架空" in app.header[0].value
    args = _component_args(app)
    links = args["js_links"] + args["css_links"]
    assert links and all(link.startswith("/app/static/vendor/") for link in links)
    assert "tomoni-shelter" in _map_text(args)


def test_a_layer_added_after_a_map_visit_is_drawn(app):
    """The planner hid 自治会 on the map; 居場所 then arrived (as if uploaded after that visit):
    back on the map, 居場所 is drawn and 自治会 stays hidden."""
    keys = app.multiselect(key="shown_layers").value
    assert "places" in keys and "neighbourhoods" in keys
    app.multiselect(key="shown_layers").set_value([k for k in keys if k != "neighbourhoods"]).run()
    offered = [k for k in app.session_state["layers_offered"] if k != "places"]
    app.session_state["layers_offered"] = offered
    app.session_state["layers_shown"] = [k for k in keys if k not in ("neighbourhoods", "places")]
    app.switch_page("ui/pages/data_page.py").run()
    app.switch_page("ui/pages/map_page.py").run()
    assert not app.exception
    shown = app.multiselect(key="shown_layers").value
    assert "places" in shown and "neighbourhoods" not in shown
    assert "tomoni-place" in _map_text(_component_args(app))


def test_english_switch(app):
    app.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert app.header[0].value.startswith("Map")


def test_data_page_summary_table(app):
    app.switch_page("ui/pages/data_page.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    layers = list(table["レイヤー"])
    assert "避難所・避難場所" in layers and "道路" in layers  # names a person reads, not internal keys
    assert not any("（" in x and x.endswith("）") and x[-2].isascii() for x in layers)
    assert int(table.loc[table["レイヤー"] == "避難所・避難場所", "行数"].iloc[0]) == 46


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
    first = _component_args(app)
    before = _map_text(first)
    app.selectbox(key="hazard").set_value("earthquake").run()
    args = _component_args(app)
    after = _map_text(args)
    assert before != after
    assert "地震のとき" in after or "\\u5730\\u9707\\u306e\\u3068\\u304d" in after
    # only the shelters are sent again: the rest of the map stays as it was drawn
    assert args["script"] == first["script"] and args["feature_group"] != first["feature_group"]


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
    anon = doc["layers"]["vulnerable"]["anonymisation"]  # the density: each count protected (±2)
    assert abs(anon["published_total"] - 3000) <= 2 * anon["units_published"]


def test_coverage_page(app):
    app.switch_page("ui/pages/coverage_page.py").run()
    assert not app.exception
    labels = [m.label for m in app.metric]
    assert "カバー率" in labels
    assert app.dataframe[0].value["圏外"].sum() > 0  # the gap list
    app.slider(key="cov_threshold").set_value(1500).run()
    assert not app.exception
    rate = next(m.value for m in app.metric if m.label == "カバー率")
    assert float(rate.rstrip(" %")) > 15.0


def test_consolidation_page(app):
    app.switch_page("ui/pages/consolidation_page.py").run()
    assert not app.exception
    labels = [m.label for m in app.metric]
    assert "再編でしきい値を超える人" in labels
    # the published units' counts, each protected (±2): the register's 3,000 within that
    people = pd.to_numeric(app.dataframe[1].value["人数"], errors="coerce")  # 「5未満」 is not a number
    assert abs(people.sum() - 3000) <= 2 * 200


def test_coverage_page_exports_a_png(app):
    app.switch_page("ui/pages/coverage_page.py").run()
    app.button(key="cov_make_png").click().run()
    assert not app.exception
    assert app.session_state["cov_png"][:4] == b"\x89PNG"


def test_shelters_page_shows_the_cli_numbers(app, demo_dir, tmp_path, run_cli):
    app.switch_page("ui/pages/shelters_page.py").run()
    assert not app.exception
    app.selectbox(key="sh_hazard").set_value("flood").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    code, out, _err = run_cli("shelters", demo_dir / "region.toml", "--hazard", "flood",
                              "--out", tmp_path)
    assert code == 0
    cli = json.loads(out)
    assert metrics["避難先に行けない要配慮者"] == f"{cli['demand_unreachable']:,} 人"
    assert metrics["避難先のある要配慮者"] == f"{cli['demand_assigned']:,} 人"
    assert metrics["収容人数を超える避難所"] == str(cli["overloaded"])
    assert metrics["通行止めの道路"] == f"{cli['closed_segments']:,}"
    assert "tomoni-closed" in _component_args(app)["script"]
    # the shelters' minimum needs: every evacuee, the 要配慮者 apart, as the CLI (and the report)
    code, out, _err = run_cli("shelter-needs", demo_dir / "region.toml", "--hazard", "flood",
                              "--out", tmp_path / "sn")
    needs = json.loads(out)
    assert metrics["避難者"] == f"{needs['evacuees']:,} 人"
    assert metrics["うち要配慮者"] == f"{cli['demand_assigned']:,} 人"
    assert metrics["トイレ（発災当初）"] == f"{needs['toilets_first']:,}"
    assert any("全住民" in c.value for c in app.caption)


def test_vc_route_page_draws_normal_and_hazard_routes(app, demo_dir, tmp_path, run_cli):
    app.switch_page("ui/pages/vc_route_page.py").run()
    assert not app.exception
    app.selectbox(key="vc_hazard").set_value("flood").run()
    start = next(o for o in app.selectbox(key="vc_from").options if "VC02" in o)
    end = next(o for o in app.selectbox(key="vc_to").options if "VC03" in o)
    app.selectbox(key="vc_from").set_value(start).run()
    app.selectbox(key="vc_to").set_value(end).run()
    assert not app.exception
    script = _component_args(app)["script"]
    assert "tomoni-route-normal" in script and "tomoni-route-hazard" in script
    table = next(d.value for d in app.dataframe if "迂回率" in d.value.columns)
    _code, out, _err = run_cli("route", demo_dir / "region.toml", "--from", "VC02", "--to", "VC03",
                              "--hazard", "flood", "--out", tmp_path)
    cli = json.loads(out)
    assert table["距離 m"].iloc[0] == cli["normal"]["length_m"]
    assert table["距離 m"].iloc[1] == cli["hazard"]["length_m"]
    plan = app.dataframe[0].value
    assert "VC01" not in plan["開設する候補地"].tolist()
    app.button(key="vc_sheet_make").click().run()
    assert not app.exception
    assert app.session_state["vc_sheet"][1][:4] == b"%PDF"


def test_vc_page_dispatch_tab_plans_the_demo_day_as_the_command_does(app, demo_dir, tmp_path, run_cli):
    app.switch_page("ui/pages/vc_route_page.py").run()
    app.selectbox(key="vc_hazard").set_value("flood").run()
    app.checkbox(key="dispatch_demo").check().run()
    app.selectbox(key="dispatch_vc").set_value("VC02").run()
    app.button(key="dispatch_run").click().run()
    assert not app.exception
    _code, out, _err = run_cli("dispatch", demo_dir / "region.toml", "--needs",
                               demo_dir / "private" / "vc_needs_flood.csv", "--teams",
                               demo_dir / "vc_teams.csv", "--vc", "VC02", "--hazard", "flood",
                               "--out", tmp_path / "day")
    cli = json.loads(out)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["割り当てたニーズ"] == f"{cli['assigned']} / {cli['needs']}"
    assert metrics["出動する班"] == str(cli["teams_used"])
    scripts = [json.loads(el.proto.json_args)["script"] for el in app.main
               if "st_folium" in str(getattr(getattr(el, "proto", None), "component_name", ""))]
    assert any("tomoni-dispatch-route" in s for s in scripts)
    day = next(d.value for d in app.dataframe if "受付番号" in d.value.columns and "班" in d.value.columns)
    assert len(day) == cli["assigned"]
    app.button(key="dispatch_sheets_make").click().run()
    assert not app.exception and app.session_state["dispatch_sheets"][1][:4] == b"%PDF"


def test_crossborder_page(app, demo_dir, tmp_path, run_cli):
    app.switch_page("ui/pages/crossborder_page.py").run()
    assert not app.exception
    # the page opens on the default hazard, as the report does (洪水)
    _code, out, _err = run_cli("crossborder", demo_dir / "region.toml", "--hazard", "flood",
                               "--out", tmp_path)
    cli = json.loads(out)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["市町村境を越えた方が近い要配慮者"] == f"{cli['cross_any']:,} 人"  # each person once
    assert "tomoni-flow" in _component_args(app)["script"]
    partners = app.dataframe[0].value
    assert [f"{a}-{b}" for a, b in zip(partners["市町村A"], partners["市町村B"], strict=True)] == \
        cli["partners"]


def test_siting_page_recommends_sites_like_the_cli(app, demo_dir, tmp_path, run_cli):
    app.switch_page("ui/pages/siting_page.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    _code, out, _err = run_cli("recommend", demo_dir / "region.toml", "--candidates", "gap_nodes",
                              "--p", "3", "--out", tmp_path)
    cli = json.loads(out)
    assert metrics["開いた後の徒歩圏"] == f"{cli['covered_after']:,} 人"
    assert metrics["今の徒歩圏"] == f"{cli['covered_before']:,} 人"
    sites = app.dataframe[0].value
    assert sites["候補ID"].tolist() == cli["sites"]
    app.button(key="site_make_png").click().run()
    assert not app.exception
    assert app.session_state["site_png"][:4] == b"\x89PNG"


def test_export_page_builds_the_report(app):
    import io

    from pypdf import PdfReader

    app.switch_page("ui/pages/export_page.py").run()
    app.button(key="make_report").click().run(timeout=300)
    assert not app.exception
    files = dict(app.session_state["report_files"])
    assert set(files) == {"report.pdf", "report.html"}
    assert files["report.pdf"][:4] == b"%PDF" and len(PdfReader(io.BytesIO(files["report.pdf"])).pages) >= 8


def test_consolidation_page_opens_before_then_after_like_the_cli(app, demo_dir, tmp_path, run_cli):
    """再編前 is the 'before' period and 再編後 the 'after' one, whatever order the layer lists
    them in: the page's first figures are the CLI's, sign included."""
    app.switch_page("ui/pages/consolidation_page.py").run()
    assert not app.exception
    assert app.selectbox(key="cons_before").value == "before"
    assert app.selectbox(key="cons_after").value == "after"
    code, out, _err = run_cli("consolidation", demo_dir / "region.toml", "--before", "before",
                              "--after", "after", "--out", tmp_path)
    assert code == 0
    cli = json.loads(out)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["学校までの道のりの平均の変化"] == f"{cli['mean_change_m']:+,.0f} m"
    assert cli["mean_change_m"] > 0  # the merger lengthens the way to school
    assert metrics["再編でしきい値を超える人"] == f"{cli['people_pushed_past_threshold']:,} 人"


def test_shelter_bars_keep_shelters_with_the_same_name_apart(app):
    app.switch_page("ui/pages/shelters_page.py").run()
    assert not app.exception
    run = app.session_state["_sh"]
    usable = run.load.shelters
    drawn = usable[(usable["status"] == "usable") & (usable["demand"] > 0)]
    charts = app.get("vega_lite_chart") or app.get("arrow_vega_lite_chart")
    assert charts, "no capacity chart on the page"
    raw = b"".join(c.proto.SerializeToString() for c in charts)
    shown = drawn.head(30)
    assert len(set(shown["name"])) < len(shown)  # the demo has shelters sharing a name
    assert all(str(sid).encode("utf-8") in raw for sid in shown["shelter_id"])


def test_a_parameter_error_names_the_widget_not_an_option(app, monkeypatch):
    """An engine error about a parameter names what the planner set on the page."""
    from geo import analyses
    from layers.errors import ParameterError

    def refuse(*_a, **_k):  # the engine refusing the threshold, as it would a bad one
        raise ParameterError("距離のしきい値は正の数にしてください。", parameter="max_distance")

    monkeypatch.setattr(analyses, "analyse_coverage", refuse)
    app.switch_page("ui/pages/coverage_page.py").run()
    errors = " ".join(e.value for e in app.error)
    assert "設定「徒歩圏のしきい値" in errors or "しきい値" in errors
    assert "--" not in errors and "max_distance" not in errors


PAGES = ["map_page", "coverage_page", "consolidation_page", "siting_page", "shelters_page",
         "vc_route_page", "crossborder_page", "data_page", "export_page"]


@pytest.mark.parametrize("page", PAGES)
def test_the_english_switch_translates_every_page(demo_dir, monkeypatch, tmp_path, page):
    """Headings, figures' labels and controls read in English (data values — place names,
    engine notes — stay as they are)."""
    import re

    from layers.region import read_config

    monkeypatch.setenv("TOMONI_DEMO_DIR", str(demo_dir))
    monkeypatch.setenv("TOMONI_DATA_ROOT", str(tmp_path))
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "en"  # as if switched before (AppTest keeps old option labels)
    at.run()
    at.switch_page(f"ui/pages/{page}.py").run()
    assert not at.exception, at.exception
    region = read_config(demo_dir / "region.toml").name
    texts = [h.value.replace(region, "") for h in [*at.header, *at.subheader]]
    texts += [m.label for m in at.metric]
    texts += [w.label for w in [*at.selectbox, *at.slider, *at.radio, *at.number_input,
                                *at.button, *at.text_input]]
    texts = [x for x in texts if x != "言語 / Language"]  # the switch itself reads in both
    assert texts and not [x for x in texts if japanese.search(x)], \
        [x for x in texts if japanese.search(x)]


def test_layer_choice_survives_navigation_and_reaches_the_export(app):
    shown = app.multiselect(key="shown_layers")
    assert "vulnerable" in shown.value
    shown.unselect("vulnerable").run()
    assert not app.exception
    app.switch_page("ui/pages/coverage_page.py").run()
    app.switch_page("ui/pages/map_page.py").run()
    assert "vulnerable" not in app.multiselect(key="shown_layers").value  # kept, not reset
    app.switch_page("ui/pages/export_page.py").run()
    assert not app.exception
    assert "vulnerable" not in app.session_state["layers_shown"]
    app.selectbox(key="export_fmt").set_value("png").run()
    app.button(key="make_image").click().run()
    assert not app.exception and app.session_state["export_file"][1][:4] == b"\x89PNG"


def test_paper_sizes_read_in_japanese(app):
    app.switch_page("ui/pages/export_page.py").run()
    paper = app.selectbox(key="export_paper")
    assert paper.options[0] == "A4 横" and not any("landscape" in o for o in paper.options)


@pytest.mark.shared_data
def test_a_new_real_region_from_the_browser(app, shared_data):
    """新しい地域: named, separate from the demo (no 架空 badge, its own title), real files
    added with their credits, kept to the chosen municipalities."""
    from layers.upload import load_uploaded
    from ui.state import Upload

    app.switch_page("ui/pages/data_page.py").run()
    app.radio[0].set_value("new").run()
    app.text_input(key="new_region_name").input("秋田市と男鹿市").run()
    app.button(key="new_region_start").click().run()
    assert not app.exception
    assert app.session_state["source"] == {"kind": "new", "name": "秋田市と男鹿市"}
    # the files a council brings (what the upload box would load)
    n03 = shared_data / "akita/boundaries/n03_akita_2021_simplified.geojson"
    gsi = shared_data / "akita/shelters/gsi_evacuation_shelters_akita.csv"
    ups = [Upload(key, p.name, p.read_bytes(), load_uploaded(key, p.name, p.read_bytes()))
           for key, p in (("boundaries", n03), ("shelters", gsi))]
    app.session_state["uploads"] = ups
    app.run()
    pick = app.multiselect(key="muni_pick")
    assert len(pick.options) == 25  # N03 brings the whole prefecture …
    akita, oga = "05201", "05206"
    pick.set_value([akita, oga]).run()  # … the planner keeps two municipalities
    assert not app.exception
    assert "秋田市" in pick.options and not any("（05" in o for o in pick.options)  # names, not codes
    table = next(d.value for d in app.dataframe if "行数" in d.value.columns)
    shelters_row = table[table["出所"].str.contains("gsi_evacuation_shelters_akita.csv")].iloc[0]
    assert "選んだ市町村" in str(shelters_row["行数"]) and "（shelters）" not in " ".join(table["レイヤー"])
    app.switch_page("ui/pages/map_page.py").run()
    assert not app.exception
    header = app.header[0].value
    assert "秋田市と男鹿市" in header and "架空" not in header
    sidebar = " ".join(m.value for m in app.sidebar.markdown) + " ".join(c.value for c in app.sidebar.caption)
    assert "架空" not in sidebar and "国土地理院" in sidebar and "国土数値情報" in sidebar
    region = app.session_state["_session_region"][1]
    assert sorted(region.layers["boundaries"]["code"]) == [akita, oga]
    all_shelters = ups[1].frame
    assert 0 < len(region.layers["shelters"]) < len(all_shelters)
    # an analysis that needs a layer the new region lacks says where to add it, not "edit a TOML"
    app.switch_page("ui/pages/coverage_page.py").run()
    assert not app.exception
    assert not any("TOML" in w.value or "[layers." in w.value for w in [*app.warning, *app.error])


def test_coverage_in_winter_and_in_2050(app):
    """The season switch and the year select: winter covers no more than summer; 2050's
    demand is the projection's."""
    app.switch_page("ui/pages/coverage_page.py").run()
    app.radio(key="cov_profile").set_value("elderly").run()

    def covered() -> int:
        value = next(m.value for m in app.metric if m.label == "徒歩圏内")
        return int(value.split()[0].replace(",", ""))

    def total() -> int:
        value = next(m.value for m in app.metric if m.label == "要配慮者")
        return int(value.split()[0].replace(",", ""))

    summer = covered()
    app.radio(key="cov_season").set_value("winter").run()
    assert not app.exception
    assert covered() < summer
    assert any("雪道" in c.value for c in app.caption)
    now = total()
    app.select_slider(key="cov_year").set_value(2050).run()
    assert not app.exception and total() < now


def _number(app, label: str) -> int:  # type: ignore[no-untyped-def]
    value = next(m.value for m in app.metric if m.label == label)
    return int(value.split()[0].replace(",", "").split("/")[0])


def test_shelters_in_a_january_flood_and_in_2050(app):
    """The shelters page's season switch closes the 冬期閉鎖 sections on top of the flood's
    roads; its year slider puts 2050's (smaller) demand on the shelters."""
    app.switch_page("ui/pages/shelters_page.py").run()
    assert not app.exception, app.exception
    closed = _number(app, "通行止めの道路")
    people = _number(app, "避難先のある要配慮者") + _number(app, "避難先に行けない要配慮者")
    app.radio(key="sh_season").set_value("winter").run()
    assert not app.exception, app.exception
    assert _number(app, "通行止めの道路") > closed
    assert any("冬期閉鎖" in c.value for c in app.caption)
    app.radio(key="sh_season").set_value("summer").run()
    app.select_slider(key="sh_year").set_value(2050).run()
    assert not app.exception, app.exception
    assert _number(app, "通行止めの道路") == closed
    assert _number(app, "避難先のある要配慮者") + _number(app, "避難先に行けない要配慮者") < people


def test_siting_in_winter_and_in_2050(app):
    """In winter fewer people are within the same walking time of today's 居場所; in 2050
    there are fewer people to cover; the recommendation is recomputed for each."""
    app.switch_page("ui/pages/siting_page.py").run()
    assert not app.exception, app.exception
    summer = _number(app, "今の徒歩圏")
    app.radio(key="site_season").set_value("winter").run()
    assert not app.exception, app.exception
    assert _number(app, "今の徒歩圏") < summer
    assert any("雪道" in c.value for c in app.caption)
    app.radio(key="site_season").set_value("summer").run()
    app.select_slider(key="site_year").set_value(2050).run()
    assert not app.exception, app.exception
    assert any("2050 年の推計需要" in c.value for c in app.caption)


def test_transit_page_shows_what_the_command_computes(app, demo_dir, tmp_path, run_cli):
    import datetime as dt

    app.switch_page("ui/pages/transit_page.py").run()
    app.date_input(key="tr_date").set_value(dt.date(2027, 1, 14)).run()
    assert not app.exception, app.exception
    _code, out, _err = run_cli("transit", demo_dir / "region.toml", "--date", "2027-01-14",
                               "--window", "08:00-12:00", "--max-minutes", "45", "--out", tmp_path / "bus")
    cli = json.loads(out)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["徒歩＋バスで届く"] == f"{cli['covered']:,} 人"
    assert metrics["徒歩だけで届く"] == f"{cli['covered_walk']:,} 人"
    assert metrics["休日に届かなくなる"] == f"{cli['lost_weekend']:,} 人"
    assert metrics["この日の便"] == str(cli["trips_on_date"])
    assert "tomoni-bus-route" in _map_text(_component_args(app))
    app.button(key="tr_whatif").click().run()
    assert not app.exception
    tables = [d.value for d in app.dataframe]
    assert any("停留所の間（新しい停留所の位置）" in t.columns for t in tables)
    assert any("増やす便の発車" in t.columns for t in tables)


def test_coverage_page_cli_and_report_count_the_same_people(app, demo_dir, tmp_path, run_cli):
    """The register's people counted in the app, by ``tomoni coverage`` and in the report's
    summary give one number each (the same people, the same protection)."""
    app.switch_page("ui/pages/coverage_page.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    _code, out, _err = run_cli("coverage", demo_dir / "region.toml", "--out", tmp_path / "cov")
    cli = json.loads(out)
    assert metrics["要配慮者"] == f"{cli['total']:,} 人" and metrics["徒歩圏内"] == f"{cli['covered']:,} 人"
    from geo.outputs.report import report_html
    from geo.runs.region_results import analyse_region
    from layers.region import load_region

    html = report_html(analyse_region(load_region(demo_dir / "region.toml")))
    assert f"{cli['covered']:,}" in html and f"{cli['total']:,}" in html


def test_data_page_builds_roads_from_an_extract(app, tmp_path, monkeypatch):
    """A region opened from its TOML: the roads section builds its network from an OSM extract
    in the data folder, rewrites [roads], and says what it built; an extract outside the data
    folder is refused."""
    from tests.test_osm_extract import _grid_xml, _region_with_extract

    monkeypatch.setenv("TOMONI_CACHE_DIR", str(tmp_path / "cache"))
    osm = tmp_path / "grid.osm"
    osm.write_text(_grid_xml(), encoding="utf-8")
    toml = _region_with_extract(tmp_path / "r", osm, "buffer = 0\n")
    app.switch_page("ui/pages/data_page.py").run()
    app.radio[0].set_value("toml").run()
    app.text_input[0].input(str(toml)).run()
    app.button(key="open_toml").click().run()
    assert not app.exception
    app.text_input(key="roads_extract").input("/etc/passwd").run()
    app.button(key="roads_make").click().run()
    assert not app.exception and app.error
    app.text_input(key="roads_extract").input(str(osm)).run()
    app.button(key="roads_make").click().run()
    assert not app.exception, app.exception
    assert any("道路を作りました" in s.value for s in app.success)
    assert "buffer = 0" in toml.read_text("utf-8") and 'path = "../grid.osm"' in toml.read_text("utf-8")


def test_a_region_kept_outside_the_data_folder_is_copied_in_with_one_click(app, demo_dir, tmp_path,
                                                                          tmp_path_factory):
    """Opening a region file outside the data folder is refused (never read in place) and
    offers to copy it in: one click, and the copy — region file and every file it reads —
    opens from inside the data folder (the raw register is not copied)."""
    import shutil

    outside = tmp_path_factory.mktemp("elsewhere") / "council"
    shutil.copytree(demo_dir, outside)
    app.switch_page("ui/pages/data_page.py").run()
    app.radio[0].set_value("toml").run()
    path_box = next(w for w in app.text_input if w.label == "地域設定ファイルのパス")
    path_box.input(str(outside / "region.toml")).run()
    app.button(key="open_toml").click().run()
    assert any("データフォルダの外" in e.value for e in app.error)
    app.button(key="copy_in").click().run()
    assert not app.exception
    source = app.session_state["source"]
    copied = Path(source["path"])
    assert source["kind"] == "toml" and copied.is_file() and tmp_path in copied.parents
    from layers.region import read_config

    files = read_config(copied).input_files()
    assert all(tmp_path in Path(f).resolve().parents for f in files)
    assert not any("vulnerable_records" in Path(f).name for f in files)
    app.switch_page("ui/pages/map_page.py").run()
    assert not app.exception and "shelters" in app.session_state["_session_region"][1].layers


@pytest.mark.parametrize("page", ["map_page", "coverage_page", "transit_page", "consolidation_page",
                                  "siting_page", "shelters_page", "vc_route_page", "crossborder_page",
                                  "data_page", "export_page"])
def test_every_page_reads_in_plain_japanese(app, page):
    """What a person reads on each page of the demo — headings, metrics, notes, every table's
    headers and cells — holds no internal name (the list the report test reads too)."""
    from tests.plain_words import internal_words_in

    app.switch_page(f"ui/pages/{page}.py").run()
    assert not app.exception
    texts = [f"{getattr(el, 'label', '')} {getattr(el, 'value', '')}"
             for kind in ("markdown", "caption", "info", "warning", "error", "success", "metric", "subheader",
                          "header")
             for el in getattr(app, kind)]
    for frame in app.dataframe:
        texts += [" ".join(map(str, frame.value.columns)), frame.value.astype(str).to_string()]
    assert internal_words_in("\n".join(texts)) == []
