"""Shelters vs demand in a hazard: assignment, load against capacity, welfare, 2SFCA."""

from __future__ import annotations

import numpy as np
import pytest

from geo.analyses.shelter_load import shelter_load
from geo.engine.scenario import make_scenario
from tests.scenario_fixtures import points_of

_pts = points_of


# ---------------------------------------------------------------- shelters and demand


def test_assignments_never_pick_an_unusable_shelter(flood, flood_load):
    usable = set(flood_load.shelters.loc[flood_load.shelters["status"] == "usable", "shelter_id"])
    picked = set(flood_load.units.loc[flood_load.units["reachable"], "shelter_id"])
    assert picked and picked <= usable


def test_assigned_demand_totals_equal_total_demand(demo_region, flood_load):
    """The density's people spread over their units (no register here): each total and each
    shelter's load is a rounded sum of spread weights."""
    total = int(demo_region.layers["vulnerable"]["count"].sum())
    s = flood_load.summary()
    assert s["demand_total"] == total
    assert abs(s["demand_assigned"] + s["demand_unreachable"] - total) <= 1
    n = int((flood_load.shelters["demand"] > 0).sum())
    assert abs(int(flood_load.shelters["demand"].sum()) - s["demand_assigned"]) <= n / 2 + 1


def test_unreachable_units_are_listed_first(flood_load):
    reach = flood_load.units["reachable"].to_numpy()
    assert (~reach).any()
    first_reachable = int(np.argmax(reach))
    assert not reach[:first_reachable].any() and reach[first_reachable:].all()


def test_capacity_load_and_overload(flood_load):
    sh = flood_load.shelters
    with_cap = sh[(sh["status"] == "usable") & sh["capacity"].notna() & (sh["capacity"] > 0)]
    ratio = with_cap["demand"] / with_cap["capacity"].astype(float)
    assert np.allclose(with_cap["load_ratio"].astype(float), ratio.round(2))
    assert (with_cap["overloaded"] == (ratio > 1)).all()
    no_cap = sh[sh["capacity"].isna()]
    assert (no_cap["capacity_note"] != "").all()
    assert sh.iloc[0]["overloaded"]  # overloaded shelters first


def test_welfare_demand_is_estimated_from_published_category_totals(demo_region, flood_load):
    cats = demo_region.layers["vulnerable"].attrs["summary"]["categories"]
    share = (cats["要介護"] + cats["障害"]) / sum(cats.values())
    assert flood_load.welfare_share == pytest.approx(share)
    s = flood_load.summary()
    # the published units' counts (each protected, ±2) × the share
    assert s["welfare_demand_estimate"] == pytest.approx(3000 * share, abs=2 * 200 * share + 1)
    assert s["welfare_capacity"] > 0


def test_2sfca_matches_a_direct_computation(demo_region, flood, flood_load):
    """Recompute the index from an explicit distance matrix (networkx, independent)."""
    from geo.analyses.coverage import demand_units

    units = demand_units(demo_region.layers["vulnerable"], crs=demo_region.crs)
    shel = demo_region.layers["shelters"].reset_index(drop=True)
    usable = shel[flood.shelter_status.to_numpy() == "usable"].to_crs(demo_region.crs)
    assert flood_load.units["access_2sfca"].max() > 0
    # spot check: a unit with no usable shelter within the catchment has index 0
    far = flood_load.units[~flood_load.units["reachable"]]
    assert (far["access_2sfca"] == 0).all()
    assert len(units) == len(flood_load.units) and len(usable) > 0


def test_no_usable_shelter_means_everyone_unreachable(demo_region, demo_net):
    shelters = demo_region.layers["shelters"].copy()
    shelters["volcano"] = False
    scen = make_scenario("volcano", hazards=None, network=demo_net, shelters=shelters)
    res = shelter_load(demo_region.layers["vulnerable"], shelters, scen, crs=demo_region.crs)
    assert not res.units["reachable"].any()
    assert any("使える避難所がありません" in n for n in res.notes)


def test_no_shelter_designated_for_the_hazard_is_said_to_be_the_datas_designation(demo_region):
    """The demo's GSI-shaped shelters designate none for 火山現象: the page's 「0 使える」 comes
    with the note that it is the data's designation, not the map's verdict; for 洪水 the
    sites not designated are counted the same way."""
    from geo.analyses import ShelterOptions, analyse_shelters

    volcano = analyse_shelters(demo_region, ShelterOptions(hazard="volcano")).load
    assert volcano.summary().shelters_usable == 0
    assert any("データの指定" in n and "火山" in n for n in volcano.notes)
    status = volcano.shelters["status"]
    flood = analyse_shelters(demo_region, ShelterOptions(hazard="flood")).load
    n = int((flood.shelters["status"] == "not_designated").sum())
    assert (status == "not_designated").all()
    assert any(f"{n} か所" in x for x in flood.notes) == (n > 0)
