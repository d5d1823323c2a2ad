"""Answers from public data alone (N03 boundaries, GSI shelters, 町字 points): per-市町村
shelter tables checked against the raw CSVs, hazard-zone counts, a report a planner can
hand out, and proxies that never call areas people."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from geo.analyses.shelter_tables import shelter_tables
from layers.region import load_region

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture(scope="module")
def public_toml(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All of Akita from public files only: N03, both GSI files, the 町字 points."""
    folder = tmp_path_factory.mktemp("public")
    a = shared_data / "akita"
    toml = folder / "akita.toml"
    toml.write_text(
        f'[region]\nname = "秋田県（公開データ）"\n[layers.boundaries]\n'
        f'path = "{a}/boundaries/n03_akita_2021_simplified.geojson"\ncode = "N03_007"\nname = "N03_004"\n'
        f'[layers.shelters]\npath = ["{a}/shelters/gsi_emergency_sites_akita.csv", '
        f'"{a}/shelters/gsi_evacuation_shelters_akita.csv"]\n'
        f'[layers.neighbourhoods]\npath = "{a}/machiaza/*.json"\n', "utf-8")
    return toml


@pytest.fixture(scope="module")
def public_region(public_toml):  # type: ignore[no-untyped-def]
    return load_region(public_toml)


def _raw(shared: Path, name: str) -> list[dict[str, str]]:
    with open(shared / "akita" / "shelters" / name, encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_tables_agree_with_the_raw_gsi_files(public_region, shared_data):
    sites = _raw(shared_data, "gsi_emergency_sites_akita.csv")
    shelters = _raw(shared_data, "gsi_evacuation_shelters_akita.csv")
    tables = shelter_tables(public_region.layers["shelters"],
                            boundaries=public_region.layers["boundaries"])
    by_muni = tables.by_municipality.set_index("municipality")
    assert by_muni.loc["合計", "emergency_sites"] == len(sites) == 2086
    assert by_muni.loc["合計", "shelters"] == len(shelters) == 1261
    assert by_muni.loc["合計", "welfare_shelters"] == sum(1 for r in shelters if r["受入対象者"].strip())
    akita_city = sum(1 for r in sites if r["都道府県名及び市町村名"] == "秋田県秋田市")
    assert by_muni.loc["秋田市", "emergency_sites"] == akita_city
    assert len(by_muni) == 26  # 25 municipalities and the total
    by_hz = tables.by_hazard.set_index("municipality")
    assert by_hz.loc["合計", "洪水"] == sum(1 for r in sites if r["洪水"].strip() == "1")
    assert by_hz.loc["合計", "津波"] == sum(1 for r in sites if r["津波"].strip() == "1")
    assert "capacity_total" not in by_muni  # GSI files state no capacity: the table says so
    assert any("収容人数の記載がない" in n for n in tables.rests_on)


def test_designated_sites_inside_their_own_hazard_zone_are_counted():
    sites = gpd.GeoDataFrame({
        "kind": ["emergency_site"] * 3, "muni_code": ["05201"] * 3, "welfare": [False] * 3,
        "capacity": [100, None, 50], "flood": [True, False, True], "landslide": [False, True, False],
        **{k: [False] * 3 for k in ("storm_surge", "earthquake", "tsunami", "fire", "inland_flood",
                                   "volcano")}},
        geometry=[shapely.Point(140.10, 39.70), shapely.Point(140.11, 39.70),
                  shapely.Point(140.30, 39.70)], crs="EPSG:4326")
    zone = shapely.box(140.09, 39.69, 140.12, 39.71)  # holds the first two, not the third
    hazards = gpd.GeoDataFrame({"hazard": ["flood"]}, geometry=[zone], crs="EPSG:4326")
    t = shelter_tables(sites, hazards=hazards).by_municipality.set_index("municipality")
    # the second is in the flood zone but designated for landslides only: not counted
    assert t.loc["合計", "in_zone"] == 1
    assert t.loc["合計", "capacity_stated"] == 2 and t.loc["合計", "capacity_total"] == 150


def test_a_public_data_report_is_one_a_planner_can_hand_out(public_toml, tmp_path, run_cli):
    code, _, err = run_cli("report", str(public_toml), "--out", str(tmp_path / "rep"),
                           "--format", "html")
    assert code == 0, err
    html = (tmp_path / "rep" / "report.html").read_text("utf-8")
    titles = re.findall(r"<section><h2>([^<]*)</h2>", html)
    assert titles[0] == "1. 地域のレイヤー" and titles[-1] == "方法"
    assert [int(t.split(".")[0]) for t in titles[:-1]] == list(range(1, len(titles)))
    assert any("避難所の指定状況（市町村ごと）" in t for t in titles)
    assert "<img" in html and "秋田市" in html and "合計" in html
    assert "町字（自治会の代わりの推定区域）" in html and "ほか 24 ファイル" in html
    # 町字 areas stand in for people: never called people
    assert "越境して近い地区（代替指標）" in html
    assert "越境して近い要配慮者" not in html and "要配慮者の分布" not in html
    assert "出典: 出典" not in html
    # the method page describes what this region has: no roads, no VC sites
    method = html.split("<h2>方法</h2>", 1)[1]
    assert "直線距離×迂回率の推定" in method
    assert "災害VC:" not in method and "道路沿いの距離です" not in method and "通行止め" not in method


def test_the_shelters_page_shows_public_tables_without_a_register(public_toml, monkeypatch):
    monkeypatch.setenv("TOMONI_START_REGION", str(public_toml))
    monkeypatch.setenv("TOMONI_DATA_ROOT", str(public_toml.parent))
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("ui/pages/shelters_page.py").run()
    assert not at.exception, at.exception
    assert any("公開データ" in s.value for s in at.subheader)
    table = at.dataframe[0].value
    assert "市町村" in table.columns and "指定緊急避難場所" in table.columns
    assert table["市町村"].iloc[-1] == "合計" and int(table["指定緊急避難場所"].iloc[-1]) == 2086


def test_the_crossborder_page_counts_areas_as_areas(public_toml, monkeypatch):
    """Without a register, 広域連携 counts 町字 areas as a stand-in: every label on the page
    says 地区（代替指標）, none says 要配慮者."""
    monkeypatch.setenv("TOMONI_START_REGION", str(public_toml))
    monkeypatch.setenv("TOMONI_DATA_ROOT", str(public_toml.parent))
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.switch_page("ui/pages/crossborder_page.py").run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric] + [s.value for s in at.subheader]
    assert any("地区（代替指標）" in x for x in labels)
    assert not any("要配慮者" in x for x in labels), labels
