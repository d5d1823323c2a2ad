"""The cached grid index of road segments against brute force with shapely."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.engine.network import _from_arrays, nearest_query, touching_segments, within_query
from geo.engine.network_cache import network_arrays, read_npz


def _lines(net):  # type: ignore[no-untyped-def]
    """The segments as lines, made here point by point (not by the code under test)."""
    return np.array([shapely.LineString([(net.x[a], net.y[a]), (net.x[b], net.y[b])])
                     for a, b in zip(net.seg_a, net.seg_b, strict=True)], dtype=object)


@st.composite
def roads_and_points(draw):  # type: ignore[no-untyped-def]
    """Scattered nodes joined by short and very long segments (a 5 km bypass across a
    town of 50 m streets), points inside, on and far outside the network's extent."""
    n = draw(st.integers(2, 30))
    coords = st.floats(-200.0, 5000.0, allow_nan=False)
    x = np.array(draw(st.lists(coords, min_size=n, max_size=n)))
    y = np.array(draw(st.lists(coords, min_size=n, max_size=n)))
    m = draw(st.integers(1, 60))
    u = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    v = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    k = draw(st.integers(1, 25))
    far = st.floats(-20000.0, 25000.0, allow_nan=False)
    px = np.array(draw(st.lists(far, min_size=k, max_size=k)))
    py = np.array(draw(st.lists(far, min_size=k, max_size=k)))
    radius = draw(st.floats(0.0, 3000.0))
    return x, y, u, v, px, py, radius


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(roads_and_points())
def test_grid_answers_equal_brute_force(data):
    x, y, u, v, px, py, radius = (np.round(a, 2) for a in data)  # centimetres, as surveyed
    keep = u != v
    if not keep.any():
        return
    w = np.hypot(x[u] - x[v], y[u] - y[v])[keep] + 1.0
    net = _from_arrays(np.arange(len(x), dtype=np.int64), x, y, u[keep], v[keep], w,
                       crs="EPSG:6678", directed=False)
    lines = _lines(net)
    dist = shapely.distance(shapely.points(px, py)[:, None], lines[None, :])
    pi, si, d = nearest_query(net, px, py)
    assert np.array_equal(pi, np.arange(len(px)))
    assert np.allclose(d, dist.min(axis=1), rtol=0, atol=1e-9)
    assert np.allclose(dist[pi, si], d, rtol=0, atol=1e-9)
    wp, ws = within_query(net, px, py, radius)
    ref_p, ref_s = np.nonzero(dist <= radius)
    assert np.array_equal(wp, ref_p) and np.array_equal(ws, ref_s)
    zones = shapely.buffer(shapely.points(px, py), radius / 2 + 1.0)
    zi, zs = touching_segments(net, zones)
    ref_z, ref_zs = np.nonzero(shapely.intersects(zones[:, None], lines[None, :]))
    assert np.array_equal(zi, ref_z) and np.array_equal(zs, ref_zs)


def test_index_is_saved_and_reloaded_with_the_network(tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 3000, 400), rng.uniform(0, 3000, 400)
    u, v = rng.integers(0, 400, 900), rng.integers(0, 400, 900)
    net = _from_arrays(np.arange(400, dtype=np.int64), x, y, u, v, np.full(900, 50.0),
                       crs="EPSG:6678", directed=False)
    path = tmp_path / "net.npz"
    np.savez(path, **network_arrays(net), meta=np.array([net.crs, "0"]))
    back = read_npz(path)
    assert back.grid_seg is not None and np.array_equal(back.grid_seg, net.grid_seg)
    assert np.array_equal(back.grid_ptr, net.grid_ptr)
    px, py = rng.uniform(-500, 3500, 300), rng.uniform(-500, 3500, 300)
    assert all(np.array_equal(a, b) for a, b in zip(nearest_query(net, px, py),
                                                    nearest_query(back, px, py), strict=True))


def test_a_point_on_a_node_shared_by_segments_takes_the_lowest_segment():
    # a cross: four segments meet at node 0; the point stands on it
    x = np.array([0.0, 100.0, -100.0, 0.0, 0.0])
    y = np.array([0.0, 0.0, 0.0, 100.0, -100.0])
    net = _from_arrays(np.arange(5, dtype=np.int64), x, y, np.array([0, 0, 0, 0]),
                       np.array([1, 2, 3, 4]), np.full(4, 100.0), crs="EPSG:6678", directed=False)
    _pi, si, d = nearest_query(net, np.array([0.0]), np.array([0.0]))
    assert d[0] == pytest.approx(0.0) and si[0] == 0


def test_a_network_whose_nodes_moved_after_its_index_was_built_is_searched_rightly():
    """``dataclasses.replace`` of the coordinates keeps the old index arrays; the queries
    notice it and index the moved nodes (a stale index searched the wrong cells)."""
    import dataclasses

    rng = np.random.default_rng(4)
    gx, gy = np.meshgrid(np.arange(30) * 100.0, np.arange(30) * 100.0)  # a street grid
    x, y = gx.ravel() + rng.uniform(-20, 20, 900), gy.ravel() + rng.uniform(-20, 20, 900)
    ids = np.arange(900).reshape(30, 30)
    u = np.r_[ids[:, :-1].ravel(), ids[:-1, :].ravel()]
    v = np.r_[ids[:, 1:].ravel(), ids[1:, :].ravel()]
    net = _from_arrays(np.arange(900, dtype=np.int64), x, y, u, v, np.hypot(x[u] - x[v], y[u] - y[v]),
                       crs="EPSG:6678", directed=False)
    assert net.grid_ptr is not None and len(net.grid_ptr) > 50  # many cells
    moved = dataclasses.replace(net, x=net.x.max() + net.x.min() - net.x)  # mirrored in place
    px, py = rng.uniform(0, 2900, 60), rng.uniform(0, 2900, 60)
    dist = shapely.distance(shapely.points(px, py)[:, None], _lines(moved)[None, :])
    _pi, _si, d = nearest_query(moved, px, py)
    assert np.allclose(d, dist.min(axis=1), rtol=0, atol=1e-9)
    near_p, near_s = within_query(moved, px, py, 150.0)
    want_p, want_s = np.nonzero(dist <= 150.0)
    assert np.array_equal(near_p, want_p) and np.array_equal(near_s, want_s)
