"""Coverage of 要配慮者 units by facilities: network distances, aggregates, gaps, CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.analyses.coverage import ESTIMATE_LABEL, by_area, coverage, gaps, nearest_straight
from geo.engine.network import from_graph
from layers.cellkey import MAX_CHANGE
from tests import reference_access as ref


@pytest.fixture(scope="module")
def demo_net(demo_region):
    return from_graph(demo_region.roads, crs=demo_region.crs)


@pytest.fixture(scope="module")
def demo_coverage(demo_region, demo_net):
    return coverage(demo_region.layers["vulnerable"], demo_region.layers["places"],
                    crs=demo_region.crs, network=demo_net, max_distance=500, demand=demo_region.demand)


def _independent(graph, units, places, crs):  # type: ignore[no-untyped-def]
    """Distances by the independent reference (shapely nearest road + networkx paths)."""
    return ref.distances(graph, crs, np.column_stack([units.geometry.x, units.geometry.y]),
                         np.column_stack([places.geometry.x, places.geometry.y]))


def test_distances_match_an_independent_networkx_computation(demo_region, demo_net,
                                                               demo_coverage):
    units = demo_coverage.units
    sample = units.iloc[:: max(1, len(units) // 12)]
    places = demo_region.layers["places"].to_crs(demo_region.crs)
    expected = _independent(demo_region.roads, sample, places, demo_region.crs)
    got = sample["distance_m"].to_numpy(float)
    assert np.allclose(got, np.round(expected, 1), atol=0.11)


def test_totals_aggregates_and_gaps_are_consistent(demo_region, demo_coverage):
    """Every count is protected (within MAX_CHANGE of the register's, 「k未満」 below k): the
    tables agree with the total within the perturbation, not exactly."""
    s = demo_coverage.summary()
    assert abs(s["total"] - 3000) <= MAX_CHANGE and 0 < s["covered"] < 3000 and s["method"] == "network"
    table = by_area(demo_coverage, {k: demo_region.layers[k] for k in
                                    ("neighbourhoods", "school_districts", "boundaries")})
    for _, part in table.groupby("area_layer"):
        hidden = int(part["total"].isna().sum())
        assert abs(part["total"].sum() - 3000) <= MAX_CHANGE * len(part) + 4 * hidden
        assert abs(part["covered"].sum() - s["covered"]) <= MAX_CHANGE * len(part) + 4 * len(part)
    gap = gaps(demo_coverage, demo_region.layers["vulnerable"])
    # a gap holds the uncovered people of its mostly-uncovered units: never more than all
    assert 0 < gap["uncovered"].sum() <= s["total"] - s["covered"] + 3 * MAX_CHANGE * len(gap)
    assert list(gap["rank"]) == list(range(1, len(gap) + 1))
    assert gap["uncovered"].dropna().is_monotonic_decreasing
    places = demo_region.layers["places"].set_index("place_id")["name"]
    named = gap[gap["nearest_facility"] != ""]
    assert len(named) and (named["nearest_name"] == places.loc[named["nearest_facility"]].to_numpy()).all()


def test_straight_line_fallback_is_labelled(demo_region):
    res = coverage(demo_region.layers["vulnerable"], demo_region.layers["places"],
                   crs=demo_region.crs, network=None)
    assert (res.units["method"] == ESTIMATE_LABEL).all()
    assert res.circuity == pytest.approx(1.3) and any(ESTIMATE_LABEL in n for n in res.notes)


def test_network_never_shorter_than_straight_line(demo_region, demo_coverage):
    units = demo_coverage.units
    places = demo_region.layers["places"].to_crs(demo_region.crs)
    straight = units.geometry.apply(lambda p: places.distance(p).min()).to_numpy()
    d = units["distance_m"].to_numpy(float)
    ok = np.isfinite(d)
    assert (d[ok] >= straight[ok] - 0.2).all()


def test_tomoni_coverage_cli(demo_dir, tmp_path, run_cli):
    code, out, err = run_cli("coverage", demo_dir / "region.toml", "--facilities", "places",
                             "--max-distance", "500", "--out", tmp_path / "cov")
    assert code == 0, err
    summary = json.loads(out)
    assert set(summary) >= {"total", "covered", "rate", "gaps", "method"}
    assert summary["method"] == "network" and abs(summary["total"] - 3000) <= MAX_CHANGE
    units = gpd.read_file(tmp_path / "cov/coverage_units.gpkg")
    assert {"unit_id", "count", "facility_id", "distance_m", "covered", "method"} <= set(units.columns)
    csv = (tmp_path / "cov/coverage_by_area.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with BOM
    gj = json.loads((tmp_path / "cov/gaps.geojson").read_text("utf-8"))
    assert len(gj["features"]) == summary["gaps"]


def test_real_tachikawa_graph_with_real_shelters(shared_data):
    """The real OSM drive graph of 立川市 walked both ways, its real GSI shelters as
    facilities, 町丁目 points as units: equal to the independent reference."""
    import json as _json
    from pathlib import Path

    from layers.roads import load_roads
    from layers.shelters import load_shelters

    d = Path(shared_data) / "tachikawa"
    g = load_roads(d / "roads_drive_osm_2021.graphml", network="walk")
    net = from_graph(g, crs="EPSG:6677")
    shelters = load_shelters([d / "gsi_emergency_sites_132021.geojson"]).to_crs("EPSG:6677")
    pts = _json.loads((d / "machiaza_points.json").read_text("utf-8"))
    units = gpd.GeoDataFrame(
        {"unit_id": [p["town"] for p in pts], "count": 5, "members": "", "geography": "町丁目"},
        geometry=gpd.points_from_xy([float(p["lng"]) for p in pts], [float(p["lat"]) for p in pts]),
        crs="EPSG:4326",
    )
    res = coverage(units, shelters.to_crs("EPSG:4326"), crs="EPSG:6677", network=net,
                   max_distance=800, facility_layer="shelters")
    assert res.units["reachable"].mean() > 0.9  # a few 町丁目 points lie beyond the graph
    sample = res.units.iloc[::16]
    expected = _independent(g, sample, shelters, "EPSG:6677")
    assert np.allclose(sample["distance_m"].to_numpy(float), np.round(expected, 1), atol=0.11)
    assert 0.3 < res.summary()["rate"] <= 1.0


def test_tomoni_coverage_on_a_tachikawa_region(tachikawa_region, tmp_path, run_cli):
    """A region from the real Tachikawa graph + GSI shelters and 要配慮者 counts per mesh."""
    toml, total = tachikawa_region()
    code, out, err = run_cli("coverage", toml, "--facilities", "shelters", "--max-distance", "800",
                             "--out", tmp_path / "cov")
    assert code == 0, err
    s = json.loads(out)
    # the counts per mesh are the council's own: each published unit is protected (±2)
    cells = (toml.parent / "mesh_counts.csv").read_text("utf-8").count("\n")
    assert s["method"] == "network" and abs(s["total"] - total) <= MAX_CHANGE * cells
    assert 0.3 < s["rate"] <= 1.0
    for name in ("coverage_units.gpkg", "coverage_by_area.csv", "gaps.geojson"):
        assert (tmp_path / "cov" / name).exists()


def test_unreachable_units_are_reported_not_zero_or_inf():
    from shapely.geometry import box

    from geo.engine.network import _from_arrays

    # two separate streets: facility on the first, a unit on the second
    ids = np.arange(4, dtype=np.int64)
    x = np.array([0.0, 400.0, 0.0, 400.0])
    y = np.array([0.0, 0.0, 3000.0, 3000.0])
    net = _from_arrays(ids, x, y, np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2]),
                       np.array([400.0, 400.0, 400.0, 400.0]), crs="EPSG:6678", directed=False)
    cells = gpd.GeoDataFrame({"unit_id": ["a", "b"], "count": [5, 7], "geography": "test",
                              "members": ""},
                             geometry=[box(150, -50, 250, 50), box(150, 2950, 250, 3050)],
                             crs="EPSG:6678").to_crs("EPSG:4326")
    fac = gpd.GeoDataFrame({"place_id": ["F"]}, geometry=gpd.points_from_xy([50.0], [0.0]),
                           crs="EPSG:6678").to_crs("EPSG:4326")
    res = coverage(cells, fac, crs="EPSG:6678", network=net, max_distance=500)
    u = res.units.set_index("unit_id")
    assert u.loc["a", "reachable"] and u.loc["a", "covered"]
    assert not u.loc["b", "reachable"] and not u.loc["b", "covered"]
    assert np.isnan(u.loc["b", "distance_m"]) and u.loc["b", "facility_id"] == ""
    assert res.summary()["covered"] == 5


def test_units_count_in_the_area_holding_them_else_the_nearest_within_1km():
    from geo.analyses.coverage import area_of

    polys = np.array([shapely.box(0, 0, 100, 100), shapely.box(110, 0, 200, 100),
                      shapely.box(50, 50, 150, 150)], dtype=object)  # the third overlaps both
    points = shapely.points([10, 195, 105, 60, 3000], [10, 10, 20, 60, 3000])
    # inside A; inside B; on the 10 m gap, 5 m from both (the first wins the tie);
    # inside A and the overlapping third (the first holding it); 2.9 km from all
    assert area_of(points, polys).tolist() == [0, 1, 0, 0, -1]


def _brute_nearest(ux: np.ndarray, uy: np.ndarray, fx: np.ndarray, fy: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Every point against every facility, by hand: the first listed of the nearest."""
    d = np.hypot(ux[:, None] - fx[None, :], uy[:, None] - fy[None, :])
    d = np.where(np.isnan(d), np.inf, d)
    best = d.min(axis=1)
    which = np.where(np.isfinite(best), np.argmax(d == best[:, None], axis=1), -1)
    return best, which


def test_the_straight_line_nearest_is_the_first_listed_of_the_equidistant():
    """The straight-line kernel (a k-d tree over distinct places) against every pair by hand,
    on grids where ties are everywhere: facilities at one address, a point in the middle of
    a ring of 8 places (more ties than the tree's candidates), and places or people without
    coordinates."""
    rng = np.random.default_rng(7)
    for trial in range(200):
        size = int(rng.integers(1, 6))
        fx = rng.integers(0, 2 * size, int(rng.integers(1, 30))).astype(float) * 100
        fy = rng.integers(0, 2 * size, len(fx)).astype(float) * 100
        ux = rng.integers(0, 4 * size, int(rng.integers(1, 150))).astype(float) * 50
        uy = rng.integers(0, 4 * size, len(ux)).astype(float) * 50
        if trial % 5 == 0:
            fx[0] = np.nan
        if trial % 7 == 0:
            ux[-1] = np.nan
        dist, which = nearest_straight(ux, uy, fx, fy)
        best, first = _brute_nearest(ux, uy, fx, fy)
        assert np.array_equal(which, first), trial
        assert np.array_equal(dist, best), trial
    # twelve places at exactly 5 m (3-4-5 triangles), more than the tree's candidates, after a far one
    ring = np.array([(10, 0), (5, 0), (0, 5), (-5, 0), (0, -5), (3, 4), (4, 3), (-3, 4), (-4, 3),
                     (3, -4), (4, -3), (-3, -4), (-4, -3)], float) * 100
    for seed in range(20):
        listed = np.r_[0, 1 + np.random.default_rng(seed).permutation(12)]
        dist, which = nearest_straight(np.zeros(1), np.zeros(1), ring[listed, 0], ring[listed, 1])
        assert which[0] == 1 and dist[0] == 500.0, seed
    five = np.zeros(5)
    assert nearest_straight(np.ones(1), np.ones(1), five, five)[1][0] == 0
