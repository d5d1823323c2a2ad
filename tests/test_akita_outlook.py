"""Winter and the years on real Akita layers: 潟上市's N03 boundary, its real GSI shelters
(the cp932 湖東 files) and 町字, with a test projection file in the 国土数値情報 layout
and a test OSM road file (no Akita road network is available offline).

What is real: where the shelters and 町字 are and what they are called.  What is made up
(and labelled so in the files): the roads, one 冬期閉鎖 section, one OSM date condition,
and the projection's numbers — 65+ in every cell falls from 12 in 2020 by one person
every five years, so every total below is worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.mesh import cell_boxes, cell_codes, cells_covering

pytestmark = pytest.mark.shared_data

YEARS = tuple(range(2020, 2055, 5))
STEP = 0.004  # about 340 m north–south, 340 m east–west at 39.9°N


def _old(year: int) -> float:
    """65+ per cell of the test projection: 12 in 2020, one fewer every five years."""
    return 12.0 - (year - 2020) / 5


def _roads(path: Path, bounds: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray, int]:
    """A street grid over ``bounds`` as OSM XML: every fourth east–west street a 県道
    (secondary), the others residential; one north–south street a 峠道 closed in winter by
    ``access:conditional``.  Returns the grid's latitudes and longitudes and the row of
    the 県道 whose west half the closures file closes."""
    w, s, e, n = bounds
    lons, lats = np.arange(w, e, STEP), np.arange(s, n, STEP)
    ids = np.arange(1, len(lons) * len(lats) + 1).reshape(len(lats), len(lons))
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="tomoni-tests">']
    out += [f'<node id="{ids[i, j]}" lat="{lat:.6f}" lon="{lon:.6f}" version="1"/>'
            for i, lat in enumerate(lats) for j, lon in enumerate(lons)]
    way = 1

    def add(refs: np.ndarray, tags: dict[str, str]) -> None:
        nonlocal way
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<way id="{way}" version="1">{nds}{tg}</way>')
        way += 1

    for i in range(len(lats)):
        main = i % 4 == 0
        add(ids[i], {"highway": "secondary" if main else "residential",
                     **({"name": f"県道{i}号線（試験）"} if main else {})})
    pass_col = len(lons) // 2
    for j in range(len(lons)):
        tags = {"highway": "residential"}
        if j == pass_col:
            tags = {"highway": "unclassified", "name": "峠道（試験）",
                    "access:conditional": "no @ (Dec 1-Apr 20)"}
        add(ids[:, j], tags)
    out.append("</osm>")
    path.write_text("\n".join(out), encoding="utf-8")
    return lats, lons, len(lats) // 2 // 4 * 4


@pytest.fixture(scope="module")
def katagami(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("katagami")
    a = shared_data / "akita"
    n03 = gpd.read_file(a / "boundaries" / "n03_akita_2021_simplified.geojson")
    town = n03[n03["N03_007"] == "05211"]
    assert len(town) == 1
    area = shapely.union_all(town.geometry.to_numpy())
    w, s, e, n = area.bounds
    lats, lons, row = _roads(folder / "roads_test.osm", (w - 0.004, s - 0.004, e + 0.004, n + 0.004))
    lat_closed, mid = float(lats[row]), (w + e) / 2
    # closed on 15 January: the whole 峠道, and the 県道 blocks west of ``mid``
    centres = (lons[:-1] + lons[1:]) / 2
    (folder / "closed_blocks.txt").write_text(str(len(lats) - 1 + int((centres < mid).sum())))
    # one 冬期閉鎖 section along a 県道 (the west half of it), in force 12-01 → 03-31
    gpd.GeoDataFrame({"路線名": ["県道（試験）"], "区間": ["西半分"], "開始": ["12-01"], "終了": ["03-31"]},
                     geometry=[shapely.LineString([(w - 0.004, lat_closed), (mid, lat_closed)])],
                     crs="EPSG:6668").to_file(folder / "toki_heisa_test.geojson", driver="GeoJSON")
    rows, cols = cells_covering(area, 4)
    boxes = cell_boxes(rows, cols, 4)
    keep = shapely.intersects(boxes, area)
    data: dict[str, object] = {"MESH_ID": cell_codes(rows[keep], cols[keep], 4).astype(str)}
    for y in YEARS:
        old = np.full(int(keep.sum()), _old(y))
        young, mid = np.full(len(old), 3.0), np.full(len(old), 15.0)
        data |= {f"PTN_{y}": old + young + mid, f"PTA_{y}": young, f"PTB_{y}": mid, f"PTC_{y}": old,
                 f"PTD_{y}": old * 0.5, f"PTE_{y}": old * 0.3}
    gpd.GeoDataFrame(data, geometry=list(boxes[keep]), crs="EPSG:6668").to_file(
        folder / "mesh500_projection_test.geojson", driver="GeoJSON")
    toml = folder / "katagami.toml"
    toml.write_text(f"""[region]
name = "潟上市（道路と将来推計は試験用）"
[layers.boundaries]
path = "{a}/boundaries/n03_akita_2021_simplified.geojson"
code = "N03_007"
name = "N03_004"
[layers.shelters]
path = ["{a}/shelters/gsi_emergency_sites_koto_cp932.csv",
        "{a}/shelters/gsi_evacuation_shelters_koto_cp932.csv"]
[layers.neighbourhoods]
path = {json.dumps(str(a / "machiaza" / "潟上市.json"), ensure_ascii=False)}
[roads]
path = "roads_test.osm"
network = "walk"
[season.winter]
closures = "toki_heisa_test.geojson"
[projection]
path = "mesh500_projection_test.geojson"
""", encoding="utf-8")
    return toml


def test_outlook_on_real_akita_layers(katagami, tmp_path, run_cli):
    """Who is cut off from the shelters in January, and how many people of 65+ there are in
    2025, 2035 and 2050 — by hand: 11, 9 and 6 per cell of the test file."""
    out = tmp_path / "out"
    code, stdout, err = run_cli("outlook", katagami, "--facilities", "shelters", "--demand", "65+",
                                "--years", "2025,2035,2050", "--max-minutes", "15", "--profile", "elderly",
                                "--date", "2027-01-15", "--out", out)
    assert code == 0, err
    s = json.loads(stdout)
    proj = gpd.read_file(katagami.parent / "mesh500_projection_test.geojson")
    cells = len(proj)
    # demand: the cells' 65+; every cell has some, so the totals are cells × the hand numbers
    assert [r["total"] for r in s["years"] if r["season"] == "夏"] == [11 * cells, 9 * cells, 6 * cells]
    from geo.analyses.inputs import _nearest_year

    # the winter comparison uses the projection year nearest today (2025 in 2026: 11 per cell)
    assert s["total"] == _old(_nearest_year(YEARS)) * cells
    assert s["closed_segments"] == int((katagami.parent / "closed_blocks.txt").read_text())
    assert 0 <= s["covered_winter"] <= s["covered_summer"]
    # lost: people covered in summer and not in winter, counted person by person (a few are
    # covered only in winter: their nearest road closes and the next one is a shorter way)
    assert s["covered_summer"] - s["covered_winter"] - 1 <= s["lost"] <= s["covered_summer"] and s["lost"] > 0
    closures = gpd.read_file(out / "winter_closures.geojson")
    assert list(closures["route"]) == ["県道（試験）"]
    by_place = pd.read_csv(out / "winter_loss_by_place.csv", encoding="utf-8-sig", dtype={"place_id": str})
    assert abs(by_place["people_lost"].sum() - s["lost"]) <= len(by_place)  # each row rounded
    names = set(by_place["name"])
    assert names and all(isinstance(x, str) and x for x in names)  # the real shelters' names
    area = pd.read_csv(out / "outlook_by_area.csv", encoding="utf-8-sig")
    towns = area[area["area_layer"] == "boundaries"]
    assert "潟上市" in set(towns["area_name"])
    chome = area[area["area_layer"] == "neighbourhoods"]
    assert len(set(chome["area_name"])) > 20  # the real 町字 of 潟上市
    table = pd.read_csv(out / "outlook_by_year.csv", encoding="utf-8-sig")
    summer = table[table["season"] == "夏"].set_index("year")
    winter = table[table["season"] != "夏"].set_index("year")
    assert (winter["covered"] <= summer["covered"]).all()
    # the rate of the covered cells stays the same when every cell loses the same share
    # (to the person: each year's people are counted spread over the cells, then rounded)
    assert abs(summer.loc[2050, "covered"] * 11 - summer.loc[2025, "covered"] * 6) <= 11


@pytest.fixture(scope="module")
def katagami_with_counts(katagami: Path) -> Path:
    """The same region with a made-up count of 要配慮者 per real 町字 of 潟上市 (12 each,
    kept per 町字 as a 社協 might keep it) as its register."""
    from layers.region import load_region

    names = load_region(katagami).layer("neighbourhoods")["name"].drop_duplicates()
    counts = katagami.parent / "youhairyo_by_chome_test.csv"
    pd.DataFrame({"町字": names, "人数": 12}).to_csv(counts, index=False, encoding="cp932")
    toml = katagami.parent / "katagami_counts.toml"
    toml.write_text(katagami.read_text("utf-8") + f"""[layers.vulnerable]
path = "{counts.name}"
kind = "area_counts"
by = "neighbourhoods"
""", encoding="utf-8")
    return toml


def test_the_app_on_real_akita_layers_in_winter_and_in_2050(katagami_with_counts, monkeypatch):
    """The カバー率 page on 潟上市: its real shelters as the facilities; in January fewer people
    are within reach; in 2050 the register shrinks with the test projection's 65+ (11 → 6
    per cell between the projection year nearest today and 2050), unit by unit in whole
    people."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TOMONI_START_REGION", str(katagami_with_counts))
    monkeypatch.setenv("TOMONI_DATA_ROOT", str(katagami_with_counts.parent))
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "streamlit_app.py"),
                            default_timeout=180)
    app.run()
    assert not app.exception, app.exception
    app.switch_page("ui/pages/coverage_page.py").run()
    assert not app.exception, app.exception
    app.selectbox(key="cov_facilities").set_value("shelters").run()
    app.radio(key="cov_profile").set_value("elderly").run()

    def metric(label: str) -> int:
        value = next(m.value for m in app.metric if m.label == label)
        return int(value.split()[0].replace(",", ""))

    summer, total = metric("徒歩圏内"), metric("要配慮者")
    from layers.region import load_region

    published = load_region(katagami_with_counts, with_roads=False).layer("vulnerable")["count"]
    assert "潟上市" in app.header[0].value and "架空" not in app.header[0].value
    app.radio(key="cov_season").set_value("winter").run()
    assert not app.exception, app.exception
    assert metric("徒歩圏内") < summer
    app.radio(key="cov_season").set_value("summer").run()
    app.select_slider(key="cov_year").set_value(2050).run()
    assert not app.exception, app.exception
    # each 町字's published count c (12 people, protected: 10 … 14) becomes round(c × 6 / 11)
    # (whole people per published unit)
    assert total == int(published.sum())
    assert metric("要配慮者") == pytest.approx(float((published * 6 / 11).round().sum()), rel=0.01)
