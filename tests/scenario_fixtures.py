"""Fixtures of the hazard-scenario tests: the demo's road network and its flood."""

from __future__ import annotations

import pytest

from geo.analyses.shelter_load import shelter_load
from geo.engine.network import from_graph
from geo.engine.scenario import make_scenario


@pytest.fixture(scope="module")
def demo_net(demo_region):  # type: ignore[no-untyped-def]
    """The demo's walk network as arrays."""
    return from_graph(demo_region.roads, crs=demo_region.crs)


@pytest.fixture(scope="module")
def flood(demo_region, demo_net):  # type: ignore[no-untyped-def]
    """The demo in its flood (Japanese hazard name, as users type it)."""
    return make_scenario("洪水", hazards=demo_region.layers["hazards"], network=demo_net,
                         shelters=demo_region.layers["shelters"])


@pytest.fixture(scope="module")
def flood_load(demo_region, flood):  # type: ignore[no-untyped-def]
    """The load the demo's 要配慮者 put on its usable shelters in the flood."""
    return shelter_load(demo_region.layers["vulnerable"], demo_region.layers["shelters"], flood,
                        crs=demo_region.crs)


def points_of(region, layer, key, ids):  # type: ignore[no-untyped-def]
    """Metric (x, y) of the features of ``layer`` whose ``key`` is in ``ids``."""
    g = region.layers[layer].to_crs(region.crs).set_index(key)
    return [(float(g.loc[i].geometry.x), float(g.loc[i].geometry.y)) for i in ids]
