"""Projected demand: the 国土数値情報 500 m mesh projections read as distributed, their age
bands verified, border cells summed; demand by year; coverage year by year."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.cellkey import MAX_CHANGE
from layers.errors import LayerError
from layers.mesh import cell_boxes, cell_codes
from layers.projection import load_projection, projected_demand, scaled_density


def _ksj(path, *, swap_de: bool = False, wrong_sum: bool = False, rows=(9528, 9529),
         cols=(22416, 22417)):  # type: ignore[no-untyped-def]
    """Four cells in the KSJ layout, hand-made numbers; 65+ halves from 2020 to 2050."""
    r, c = np.meshgrid(rows, cols, indexing="ij")
    r, c = r.ravel(), c.ravel()
    data = {"MESH_ID": cell_codes(r, c, 4).astype(str)}
    for y, k in ((2020, 1.0), (2035, 0.75), (2050, 0.5)):
        old = np.array([100.0, 40.0, 0.0, 10.0]) * k
        young = np.array([20.0, 5.0, 0.0, 1.0])
        mid = np.array([80.0, 55.0, 0.0, 9.0])
        total = old + young + mid + (5.0 if wrong_sum else 0.0)
        d, e = old * 0.6, old * 0.4
        data |= {f"PTN_{y}": total, f"PTA_{y}": young, f"PTB_{y}": mid, f"PTC_{y}": old,
                 f"PTD_{y}": e if swap_de else d, f"PTE_{y}": d if swap_de else e}
    frame = gpd.GeoDataFrame(data, geometry=list(cell_boxes(r, c, 4)), crs="EPSG:6668")
    frame.to_file(path, driver="GeoJSON")
    return path


def test_a_projection_file_is_read_with_its_bands_checked(tmp_path):
    proj = load_projection([_ksj(tmp_path / "p.geojson")])
    assert proj.years == (2020, 2035, 2050) and len(proj.cells) == 4
    assert list(proj.band("65+", 2050)) == [50.0, 20.0, 0.0, 5.0]
    demand = projected_demand(proj, 2035, band="75+")
    assert list(demand["count"]) == [45, 18, 4]  # 100×0.75×0.6, 40×0.75×0.6, 10×0.75×0.6 → whole people
    assert (demand["geography"] == "mesh500").all()


def test_a_cp932_shapefile_as_distributed_reads_the_same(tmp_path):
    """KSJ also ships the projection as a shapefile whose .dbf is cp932 with no .cpg beside
    it; a Japanese attribute (市区町村名) must not stop the read, and the numbers are the
    GeoJSON's."""
    src = gpd.read_file(_ksj(tmp_path / "p.geojson"))
    src["SHI_NAME"] = ["潟上市", "潟上市", "五城目町", "五城目町"]
    shp = tmp_path / "mesh500_05.shp"
    src.to_file(shp, driver="ESRI Shapefile", encoding="cp932")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    proj = load_projection([shp])
    assert proj.years == (2020, 2035, 2050)
    assert list(proj.band("65+", 2050)) == [50.0, 20.0, 0.0, 5.0]


def test_mislabelled_bands_are_refused_naming_the_column(tmp_path):
    with pytest.raises(LayerError) as err:
        load_projection([_ksj(tmp_path / "swap.geojson", swap_de=True)])
    assert err.value.column == "PTE_2020" and "入れ替わって" in err.value.message
    with pytest.raises(LayerError) as err:
        load_projection([_ksj(tmp_path / "sum.geojson", wrong_sum=True)])
    assert "総数" in err.value.message and err.value.row == 2


def test_a_cell_on_a_prefecture_border_is_summed_once(tmp_path):
    a = _ksj(tmp_path / "a.geojson")
    b = _ksj(tmp_path / "b.geojson", rows=(9529, 9530))  # shares the row 9529 cells with a
    proj = load_projection([a, b])
    assert len(proj.cells) == 6
    code = cell_codes(np.array([9529]), np.array([22416]), 4).astype(str)[0]
    shared = proj.cells.set_index("mesh_id").loc[code]
    assert shared["PTC_2020"] == 0.0 + 100.0  # a's third cell holds 0 people 65+; b's first, 100


def test_the_register_scaled_by_the_change_of_its_cell(tmp_path):
    proj = load_projection([_ksj(tmp_path / "p.geojson")])
    centres = shapely.centroid(proj.cells.geometry.to_numpy())
    density = gpd.GeoDataFrame({"unit_id": ["u1", "u2", "u3"], "count": [12, 7, 9]},
                               geometry=[centres[0], centres[2], shapely.Point(141.5, 39.0)],
                               crs="EPSG:6668")
    out = scaled_density(density, proj, 2050, base=2020)
    # u1: 65+ halves → 6; u2: nobody 65+ in 2020 → unchanged; u3: outside → unchanged
    assert list(out["count"]) == [6, 7, 9]
    assert list(density["count"]) == [12, 7, 9]  # the input is not modified


def test_outlook_by_year_on_the_demo(demo_dir, tmp_path, run_cli):
    from geo.analyses.inputs import _nearest_year
    from layers.demo import PROJECTION_YEARS

    out = tmp_path / "o"
    code, stdout, err = run_cli("outlook", demo_dir / "region.toml", "--out", out,
                                "--years", "2025,2035,2050", "--max-minutes", "10",
                                "--profile", "elderly", "--date", "2027-01-15")
    assert code == 0, err
    table = pd.read_csv(out / "outlook_by_year.csv", encoding="utf-8-sig")
    assert list(table["year"]) == [2025, 2025, 2035, 2035, 2050, 2050]
    s = json.loads(stdout)
    base = _nearest_year(PROJECTION_YEARS)
    today = table[(table["year"] == base) & (table["season"] == "夏")]
    if len(today):  # the register describes the projection year nearest today
        assert int(today["total"].iloc[0]) == s["total"]
    summer = table[table["season"] == "夏"].set_index("year")
    winter = table[table["season"] != "夏"].set_index("year")
    assert summer.loc[2050, "total"] < summer.loc[2025, "total"]  # the demo shrinks
    assert (winter["covered"] <= summer["covered"]).all()
    area = pd.read_csv(out / "outlook_by_area.csv", encoding="utf-8-sig")
    assert set(area["year"]) == {2025, 2035, 2050}
    # every covered person is within reach of exactly one 居場所 (their nearest)
    place = pd.read_csv(out / "outlook_by_place.csv", encoding="utf-8-sig")
    # (each count protected: 「k未満」 rows are 1 … k-1 people, the others within ±2)
    people = pd.to_numeric(place["people"], errors="coerce")
    hidden = people.isna().groupby([place["year"], place["season"]]).sum()
    rows = people.groupby([place["year"], place["season"]]).size()
    reach = people.fillna(0).groupby([place["year"], place["season"]]).sum()
    for row in table.itertuples():
        key = (row.year, row.season)
        slack = MAX_CHANGE * (rows[key] + 1) + 4 * hidden[key] + rows[key]  # + rounding per row
        assert abs(reach[key] - int(row.covered)) <= slack
    assert (place["below"] == (people.fillna(0) < s["min_people"])).all()
    last = pd.read_csv(out / "outlook_last_places.csv", encoding="utf-8-sig")
    for row in last.itertuples():  # a 自治会 has lost its last place iff none of its places is viable
        mine = place[(place["year"] == row.year) & (place["season"] == row.season)
                     & (place["area_id"] == row.area_id)]
        assert row.places == len(mine) and row.lost_last_place == bool(mine["below"].all())
    assert sum(s["areas_without_viable_place"].values()) == int(last["lost_last_place"].sum())
    code, _, err = run_cli("outlook", demo_dir / "region.toml", "--out", tmp_path / "bad",
                           "--years", "2025,20x")
    assert code == 2 and "年" in err


def test_the_last_place_of_a_neighbourhood_falls_below_the_threshold():
    """Two 自治会: 北 has places A (12 people within reach today, 6 in 2050) and B (4, then 11);
    南 has C (15, then 9).  At 10 people: 北 keeps a viable place in both years (A, then B);
    南 loses its last one in 2050 — and only 南 is new.  D is nobody's nearest: 0 people."""
    from geo.analyses.coverage import CoverageResult
    from geo.analyses.outlook import last_places, people_in_reach

    crs = "EPSG:6678"
    areas = gpd.GeoDataFrame({"area_id": ["N", "S"], "name": ["北区", "南区"]},
                             geometry=[shapely.box(0, 500, 1000, 1000), shapely.box(0, 0, 1000, 500)],
                             crs=crs)
    places = gpd.GeoDataFrame({"place_id": ["A", "B", "C", "D"], "name": ["a", "b", "c", "d"]},
                              geometry=shapely.points([(100, 900), (800, 700), (500, 200), (900, 100)]),
                              crs=crs)
    rows = []
    for year, people in ((2025, {"A": 12, "B": 4, "C": 15}), (2050, {"A": 6, "B": 11, "C": 9})):
        fac, count = zip(*people.items(), strict=True)
        units = gpd.GeoDataFrame({"unit_id": [*list(fac), "far"], "count": [*list(count), 50],
                                  "facility_id": [*list(fac), "A"], "covered": [True] * 3 + [False]},
                                 geometry=shapely.points([(0, 0)] * 4), crs=crs)
        result = CoverageResult(units=units, max_distance=500.0, method="network", facilities="places")
        rows.append(people_in_reach(result, places, id_col="place_id", areas=areas, area_id="area_id",
                                    area_name="name").assign(year=year, season="夏", demand="register"))
    by_place = pd.concat(rows, ignore_index=True)
    assert by_place.set_index(["year", "place_id"])["people"].to_dict() == {
        (2025, "A"): 12, (2025, "B"): 4, (2025, "C"): 15, (2025, "D"): 0,
        (2050, "A"): 6, (2050, "B"): 11, (2050, "C"): 9, (2050, "D"): 0}
    last = last_places(by_place, min_people=10).set_index(["year", "area_id"])
    assert last.loc[(2025, "N"), "viable_places"] == 1 and last.loc[(2050, "N"), "viable_places"] == 1
    assert not last.loc[(2025, "S"), "lost_last_place"]  # C and D: C has 15
    assert last.loc[(2050, "S"), "lost_last_place"] and last.loc[(2050, "S"), "newly_lost"]
    assert not last["lost_last_place"].loc[[(2025, "N"), (2050, "N")]].any()
    assert last.loc[(2050, "S"), "people_best"] == 9 and last.loc[(2050, "S"), "area_name"] == "南区"


def test_a_projection_is_cached_by_its_content_and_read_again_when_it_changes(tmp_path, monkeypatch):
    """The parsed projection is kept as GeoParquet keyed by the file's SHA-256: the same file
    gives the same cells from the cache; a changed file (2050's 65+ rewritten) is read anew;
    a damaged cache file is not trusted."""
    from geo.analyses.inputs import file_states, projection_of

    monkeypatch.setenv("TOMONI_CACHE_DIR", str(tmp_path / "cache"))
    path = _ksj(tmp_path / "p.geojson")
    projection_of.cache_clear()
    first = projection_of(file_states([path]))
    cached = list((tmp_path / "cache").glob("projection-*.parquet"))
    assert len(cached) == 1
    projection_of.cache_clear()
    again = projection_of(file_states([path]))
    assert again.years == first.years
    assert np.allclose(again.band("65+", 2050), first.band("65+", 2050))
    frame = gpd.read_file(path)
    frame.loc[0, ["PTC_2050", "PTB_2050"]] = [frame.loc[0, "PTC_2050"] - 10, frame.loc[0, "PTB_2050"] + 10]
    frame.to_file(path, driver="GeoJSON")
    projection_of.cache_clear()
    changed = projection_of(file_states([path]))
    assert changed.band("65+", 2050)[0] == pytest.approx(first.band("65+", 2050)[0] - 10)
    assert len(list((tmp_path / "cache").glob("projection-*.parquet"))) == 2
    for f in (tmp_path / "cache").glob("projection-*.parquet"):
        f.write_bytes(b"not parquet")
    projection_of.cache_clear()
    reread = projection_of(file_states([path]))
    assert reread.band("65+", 2050)[0] == pytest.approx(changed.band("65+", 2050)[0])
    projection_of.cache_clear()
