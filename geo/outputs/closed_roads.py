"""The roads a hazard scenario closes, as a frame to draw and export.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo.engine.scenario import Scenario

__all__ = ["closed_roads_frame"]


def closed_roads_frame(scenario: Scenario) -> gpd.GeoDataFrame:
    """The closed (and slowed) road segments of a scenario as lines (EPSG:4326)."""
    from geo.engine.road_index import lines_of
    from layers.crs import STORAGE_CRS

    if scenario.base is None:
        return gpd.GeoDataFrame({"state": []}, geometry=[], crs=STORAGE_CRS)
    net = scenario.base
    hit = np.flatnonzero(scenario.closed | scenario.slowed)
    lines = lines_of(net, hit)
    state = np.where(scenario.closed[hit], "closed", "slowed")
    return gpd.GeoDataFrame({"state": state, "length_m": np.round(net.seg_len[hit], 1)},
                            geometry=lines, crs=net.crs).to_crs(STORAGE_CRS)
