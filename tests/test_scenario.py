"""Hazard scenarios: which roads a hazard closes or slows, and every search on the result."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.engine.access import snap
from geo.engine.network import edge_segments, nearest_facility
from geo.engine.scenario import close_roads, make_scenario
from layers.errors import LayerError
from tests.scenario_fixtures import points_of

_pts = points_of


# ---------------------------------------------------------------- scenario


def test_demo_flood_cuts_roads_and_makes_a_shelter_unusable(flood):
    s = flood.summary()
    assert s["closed_segments"] > 0
    assert s["shelters"]["in_zone"] >= 1  # designated for floods, yet inside the zone
    assert s["shelters"]["usable"] > 0


def test_scenario_network_has_no_edge_on_a_closed_segment(demo_net, flood):
    scen = flood.network
    assert scen is not demo_net and scen.n == demo_net.n
    closed_entries = flood.closed[edge_segments(scen)]
    assert not closed_entries.any()
    # the normal network is untouched: it still has those edges
    assert flood.closed[edge_segments(demo_net)].any()
    assert len(scen.indices) < len(demo_net.indices)


def test_closed_segments_are_exactly_those_touching_a_zone(demo_region, demo_net, flood):
    from geo.engine.network import segment_lines

    zones = demo_region.layers["hazards"]
    zone = shapely.union_all(zones[zones["hazard"] == "flood"].to_crs(demo_net.crs).geometry.values)
    touching = shapely.intersects(segment_lines(demo_net), zone)
    assert np.array_equal(touching, flood.closed)


def test_shallow_factor_slows_rank_one_and_closes_deeper(demo_region, demo_net):
    zones = demo_region.layers["hazards"]
    zones = zones[zones["hazard"] == "flood"]
    scen, closed, slowed = close_roads(demo_net, zones, shallow_factor=2.0)
    assert slowed.any() and closed.any() and not (slowed & closed).any()
    assert np.allclose(scen.seg_len[slowed], demo_net.seg_len[slowed] * 2)
    with pytest.raises(LayerError):
        close_roads(demo_net, zones, shallow_factor=0.5)


def test_every_network_search_works_on_the_scenario_graph(demo_region, demo_net, flood):
    from geo.engine.access import joinable
    from geo.engine.network import Snap, catchments, k_nearest, od_matrix

    pts = demo_region.layers["places"].to_crs(demo_net.crs)
    x, y = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    fs, fn = snap(flood.network, x, y), snap(demo_net, x, y)
    # a place whose own road is closed joins the nearest open road (its trip may then be
    # shorter than the normal one along its own road); the others keep their road
    moved = fs.segment != fn.segment
    assert moved.any() and flood.closed[fn.segment[moved]].all()
    assert joinable(flood.network)[fs.segment[~fs.flagged]].all()
    same = np.flatnonzero(~moved)

    def sub(s: Snap) -> Snap:
        return Snap(segment=s.segment[same], offset=s.offset[same], access=s.access[same],
                    flagged=s.flagged[same])

    d_norm, _ = nearest_facility(demo_net, sub(fn))
    d_scen, _ = nearest_facility(flood.network, sub(fs))
    finite = np.isfinite(d_scen)
    assert (d_scen[finite] >= d_norm[finite] - 1e-6).all()  # closing roads never shortens a trip
    assert (~finite).any()
    catchments(flood.network, np.array([0, 1]), 800.0)
    k_nearest(flood.network, fs, 2)
    od_matrix(flood.network, np.array([0]), np.array([1, 2]))


def test_unknown_hazard_is_a_clear_error(demo_region, demo_net):
    with pytest.raises(LayerError) as e:
        make_scenario("隕石", hazards=demo_region.layers["hazards"], network=demo_net)
    # the engine names the parameter; the command line shows it as --hazard
    assert e.value.column == "hazard" and "flood" in str(e.value)
