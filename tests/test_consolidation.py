"""校区の広域化: distances to school before and after a consolidation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geo.analyses.consolidation import consolidation
from geo.engine.network import from_graph
from layers.cellkey import MAX_CHANGE
from layers.errors import LayerError


@pytest.fixture(scope="module")
def result(demo_region):
    net = from_graph(demo_region.roads, crs=demo_region.crs)
    return consolidation(demo_region.layers["vulnerable"], demo_region.layers["school_districts"],
                         before="before", after="after", crs=demo_region.crs, network=net,
                         neighbourhoods=demo_region.layers["neighbourhoods"])


def test_closing_schools_lengthens_the_way(result):
    u = result.units
    assert (u["district_before"] != "").all() and (u["district_after"] != "").all()
    # schools that stay open keep their pupils' distance; closed ones lengthen it
    kept = u["district_before"] == u["district_after"]
    assert np.allclose(u.loc[kept, "change_m"], 0.0, atol=0.2)
    assert (u.loc[~kept, "change_m"] > -1.0).mean() > 0.9
    s = result.summary()
    # the density's people spread over its units (no register here): the units' counts summed
    assert abs(s["people"] - 3000) <= MAX_CHANGE * len(u)
    assert s["mean_change_m"] > 0 and s["method"] == "network"
    assert 0 < s["people_pushed_past_threshold"] < s["people_past_threshold_after"] < s["people"]


def test_per_area_table_and_pushed_list(result):
    t = result.by_area
    # each area's people a rounded sum of spread weights (people off every 自治会 are left out)
    assert abs(int(t["people"].sum()) - result.summary()["people"]) <= len(t) / 2 + 30
    assert set(result.pushed["area_id"]) <= set(t.loc[t["people_pushed"].fillna(1) > 0, "area_id"])


def test_unknown_period_is_a_clear_error(demo_region):
    with pytest.raises(LayerError) as err:
        consolidation(demo_region.layers["vulnerable"], demo_region.layers["school_districts"],
                      before="2010", after="after", crs=demo_region.crs)
    assert "before" in (err.value.fix or "")


def test_tomoni_consolidation_cli(demo_dir, tmp_path, run_cli):
    code, out, err = run_cli("consolidation", demo_dir / "region.toml", "--before", "before",
                             "--after", "after", "--out", tmp_path / "c")
    assert code == 0, err
    s = json.loads(out)
    assert abs(s["people"] - 3000) <= MAX_CHANGE * 200 and s["threshold_m"] == 4000.0
    for name in ("consolidation_units.gpkg", "consolidation_by_area.csv", "pushed_areas.csv"):
        assert (tmp_path / "c" / name).exists()


@pytest.mark.parametrize(("periods", "expected"), [
    (["after", "before"], ("before", "after")),
    (["再編後", "再編前"], ("再編前", "再編後")),
    (["2023年度", "2016年度"], ("2016年度", "2023年度")),
    (["A案", "B案"], ("A案", "B案")),
])
def test_default_periods_are_before_then_after(periods, expected):
    import geopandas as gpd
    from shapely.geometry import box

    from layers.school_districts import before_after

    frame = gpd.GeoDataFrame({"period": periods}, geometry=[box(0, 0, 1, 1)] * len(periods),
                             crs="EPSG:4326")
    assert before_after(frame) == expected
