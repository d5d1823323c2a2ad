"""広域連携: units better served across a municipal border, VC matrix, partner pairs."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.analyses.crossborder import CrossBorderOptions, analyse_crossborder, area_demand, crossborder
from geo.engine.network import from_graph


@pytest.fixture(scope="module")
def demo_cross(demo_region):  # type: ignore[no-untyped-def]
    net = from_graph(demo_region.roads, crs=demo_region.crs)
    layers = demo_region.layers
    return crossborder(layers["vulnerable"], {"shelters": layers["shelters"], "places": layers["places"]},
                       layers["boundaries"], crs=demo_region.crs, network=net,
                       vc_sites=layers["vc_sites"])


def test_cross_units_are_strictly_nearer_across_the_border(demo_cross):
    u = demo_cross.units
    cross = u[u["cross"]]
    assert len(cross) > 0
    assert (cross["nearest_muni"] != cross["muni_code"]).all()
    own = cross["own_m"].fillna(np.inf)
    assert (cross["nearest_m"] < own).all()
    assert np.allclose(cross["saving_m"].dropna(), (own - cross["nearest_m"])[own < np.inf], atol=0.11)
    not_cross = u[~u["cross"] & u["own_m"].notna()]
    assert (not_cross["own_m"] <= not_cross["nearest_m"] + 0.11).all() | \
        (not_cross["nearest_muni"] == not_cross["muni_code"]).all()


def test_pair_totals_equal_cross_people(demo_cross):
    """The density's people spread over its units (no register here): each pair's people and
    each layer's total are rounded sums of the same spread weights."""
    for layer, people in demo_cross.cross_people.items():
        mine = demo_cross.pairs.loc[demo_cross.pairs["layer"] == layer, "people"]
        assert abs(int(mine.sum()) - int(people)) <= len(mine) / 2 + 1
    u = demo_cross.units
    assert (u.loc[u["cross"], "cross_n"] > 0).all()  # an anchor across: some of its people too


def test_people_across_the_border_are_counted_where_they_live(tmp_path):
    """Straight line, two municipalities (west 05211, east 05212), a sparse register: brute
    force over the records says who is nearer a サロン across the border than one at home;
    the published pair counts and the layer total are within the protection's change."""
    from layers.region import load_region
    from tests.test_exact_counts import LAT0, LON0, _metric, _within, _write_region

    rng = np.random.default_rng(8)
    people = np.round(np.column_stack([rng.uniform(LON0 - 0.12, LON0 + 0.12, 300),
                                       rng.uniform(LAT0 - 0.09, LAT0 + 0.09, 300)]), 6)
    people[np.abs(people[:, 0] - LON0) < 1e-3, 0] += 2e-3  # nobody on the border
    salons = np.array([[LON0 - 0.11, LAT0], [LON0 + 0.01, LAT0 + 0.06], [LON0 + 0.1, LAT0 - 0.05]])
    toml = _write_region(tmp_path / "r", people, salons)
    west = shapely.box(LON0 - 0.13, LAT0 - 0.1, LON0, LAT0 + 0.1)
    east = shapely.box(LON0, LAT0 - 0.1, LON0 + 0.13, LAT0 + 0.1)
    gpd.GeoDataFrame({"N03_001": ["秋田県"] * 2, "N03_004": ["西市", "東市"], "N03_007": ["05211", "05212"]},
                     geometry=[west, east], crs="EPSG:4326").to_file(tmp_path / "r" / "boundaries.geojson")
    res = analyse_crossborder(load_region(toml), CrossBorderOptions(straight_line=True))
    px, py = _metric(people[:, 0], people[:, 1])
    fx, fy = _metric(salons[:, 0], salons[:, 1])
    d = np.hypot(px[:, None] - fx[None, :], py[:, None] - fy[None, :])
    home = np.where(people[:, 0] < LON0, 0, 1)
    where = np.where(salons[:, 0] < LON0, 0, 1)
    own = np.where(where[None, :] == home[:, None], d, np.inf).min(axis=1)
    cross = (where[d.argmin(axis=1)] != home) & (d.min(axis=1) < own)
    pairs = res.pairs[res.pairs["layer"] == "places"].set_index(["from_muni", "to_muni"])["people"]
    for (a, b), h in ((("05211", "05212"), 0), (("05212", "05211"), 1)):
        true = int((cross & (home == h)).sum())
        assert _within(pairs.get((a, b), 0), true), ((a, b), pairs.to_dict(), true)
    assert _within(res.cross_people["places"], int(cross.sum()))


def test_vc_matrix_and_partners(demo_cross):
    m = demo_cross.vc_matrix
    assert list(m.index) == list(m.columns) == ["05901", "05902", "05903"]
    assert np.allclose(np.diag(m.to_numpy()), 0) and np.allclose(m.to_numpy(), m.to_numpy().T)
    p = demo_cross.partners
    assert len(p) >= 1 and (p["muni_a"] < p["muni_b"]).all()
    assert set(p["muni_a"]) | set(p["muni_b"]) == {"05901", "05902", "05903"}


def test_cli_crossborder_on_the_demo(demo_dir, tmp_path, run_cli):
    code, out, err = run_cli("crossborder", demo_dir / "region.toml", "--hazard", "flood",
                             "--out", tmp_path)
    assert code == 0, err
    s = json.loads(out)
    assert s["municipalities"] == 3 and s["method"] == "network" and s["partners"]
    for name in ("crossborder.gpkg", "crossborder_pairs.csv", "partners.csv", "vc_matrix.csv",
                 "flows.geojson"):
        assert (tmp_path / name).exists()
    assert (tmp_path / "partners.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    flows = gpd.read_file(tmp_path / "flows.geojson")
    assert (flows.geom_type == "LineString").all()


def test_all_25_akita_municipalities_in_straight_line_mode(akita_region, tmp_path, run_cli):
    """Real N03 + 3,347 real GSI points + 町字 stand-in areas, the whole prefecture in one run."""
    toml = akita_region
    code, out, err = run_cli("crossborder", toml, "--straight-line", "--out", tmp_path / "cb")
    assert code == 0, err
    s = json.loads(out)
    assert s["municipalities"] == 25
    assert s["method"] == "推定（直線距離×迂回率）"
    assert s["units"] > 7000 and s["cross_units"] > 0
    partners = (tmp_path / "cb" / "partners.csv").read_text("utf-8-sig")
    assert "05" in partners
    m = (tmp_path / "cb" / "vc_matrix.csv").read_text("utf-8-sig").splitlines()
    assert len(m) == 26  # header + 25 municipalities
    assert any("代替指標" in n for n in s["notes"])  # counted by area, and said so
    import itertools

    import pandas as pd

    pairs = pd.read_csv(tmp_path / "cb" / "crossborder_pairs.csv", encoding="utf-8-sig", dtype=str)
    key = list(zip(-pd.to_numeric(pairs["people"]), pairs["layer"], pairs["from_muni"], pairs["to_muni"],
                   strict=True))
    tied = [a[1:] <= b[1:] for a, b in itertools.pairwise(key) if a[0] == b[0]]
    assert all(tied)  # equal counts in 市町村 code order (the prefecture's order), not by name


def test_area_demand_is_labelled_a_proxy(demo_region):
    dens = area_demand(demo_region.layers["neighbourhoods"])
    assert dens.attrs["proxy"] and (dens["count"] == 1).all()
