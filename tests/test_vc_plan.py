"""The 災害VC plan: p-median against brute force, the plan per municipality, backups."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo.analyses.vc_plan import p_median, vc_plan
from geo.engine.scenario import make_scenario
from tests.scenario_fixtures import points_of

_pts = points_of


# ---------------------------------------------------------------- VC plan


def test_p_median_exact_equals_brute_force():
    rng = np.random.default_rng(3)
    cost = rng.uniform(100, 5000, size=(7, 40))
    w = rng.integers(1, 20, size=40)
    _sel, obj, how = p_median(cost, w, 3)
    import itertools

    brute = min(float(np.dot(cost[list(c)].min(axis=0), w)) for c in itertools.combinations(range(7), 3))
    assert how == "exact" and obj == pytest.approx(brute)


def test_p_median_interchange_on_a_larger_instance_is_close_to_optimal():
    import geo.analyses.vc_plan as vp

    rng = np.random.default_rng(5)
    cost = rng.uniform(100, 5000, size=(9, 60))
    w = rng.integers(1, 20, size=60)
    exact = p_median(cost, w, 3)[1]
    old = vp.MAX_ENUMERATION
    try:
        vp.MAX_ENUMERATION = 1
        _sel, obj, how = p_median(cost, w, 3)
    finally:
        vp.MAX_ENUMERATION = old
    assert how == "greedy_interchange" and obj <= exact * 1.05


def test_vc_plan_on_the_demo_flood(demo_region, demo_net, flood):
    plan = vc_plan(demo_region.layers["vulnerable"], demo_region.layers["vc_sites"], flood,
                   crs=demo_region.crs, boundaries=demo_region.layers["boundaries"],
                   shelters=demo_region.layers["shelters"], network=flood.network,
                   normal_network=demo_net)
    cand = plan.candidates.set_index("site_id")
    assert cand.loc["VC01", "status"] == "in_zone"  # the 湖北市 社協 sits by the river
    assert "VC01" not in plan.plan["open_site"].tolist()
    assert set(plan.plan["muni_code"]) == {"05901", "05902", "05903"}
    assert (plan.units["vc_id"].isin(plan.plan["open_site"]) | (plan.units["vc_id"] == "")).all()
    assert plan.median["p"] == 3 and plan.median["method"] == "exact"


def test_backup_from_a_neighbouring_municipality(demo_region, demo_net):
    """A flood zone over 湖南町's only candidate: the plan proposes a neighbour's site + route."""
    vc = demo_region.layers["vc_sites"]
    site = vc[vc["site_id"] == "VC03"].to_crs(demo_region.crs).geometry.iloc[0]
    zone = gpd.GeoDataFrame({"hazard": ["flood"], "rank": [3]},
                            geometry=[site.buffer(150)], crs=demo_region.crs).to_crs("EPSG:4326")
    scen = make_scenario("flood", hazards=zone, network=demo_net,
                         shelters=demo_region.layers["shelters"])
    plan = vc_plan(demo_region.layers["vulnerable"], vc, scen, crs=demo_region.crs,
                   boundaries=demo_region.layers["boundaries"], network=scen.network,
                   normal_network=demo_net)
    row = plan.plan.set_index("muni_code").loc["05902"]
    assert row["decision"] == "backup_neighbour" and row["open_site_muni"] != "05902"
    assert plan.routes["backup-05902"].found
    assert not scen.closed[plan.routes["backup-05902"].segments].any()
