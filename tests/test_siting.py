"""Where the next 居場所 should open: MCLP, capacitated MCLP, fewest sites (issue: siting)."""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_array

from geo.analyses.coverage import coverage
from geo.analyses.siting import (
    closed_schools,
    gap_candidates,
    greedy_mclp,
    recommend,
    solve_mclp,
    solve_min_sites,
)
from geo.engine.network import from_graph
from layers.cellkey import MAX_CHANGE
from layers.errors import LayerError


def _instance(seed: int, n_i: int = 30, n_j: int = 8, density: float = 0.2):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    a = (rng.random((n_i, n_j)) < density).astype(float)
    w = rng.integers(1, 40, n_i).astype(float)
    return csr_array(a), w, a


def _capacitated_value(a: np.ndarray, w: np.ndarray, sites: tuple[int, ...], cap: np.ndarray) -> float:
    """Max people served by ``sites`` with capacities: a small transportation LP."""
    pairs = [(i, j) for j in sites for i in np.flatnonzero(a[:, j])]
    if not pairs:
        return 0.0
    c = -np.array([w[i] for i, _ in pairs])
    rows, rhs = [], []
    for i in range(len(w)):
        rows.append([1.0 if p[0] == i else 0.0 for p in pairs])
        rhs.append(1.0)
    for j in sites:
        rows.append([w[p[0]] if p[1] == j else 0.0 for p in pairs])
        rhs.append(cap[j])
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=(0, 1), method="highs")
    return float(-res.fun)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_mclp_equals_brute_force(seed, p):
    a, w, dense = _instance(seed)
    sol = solve_mclp(a, w, p, mip_gap=0.0)
    brute = max(w[dense[:, list(c)].sum(axis=1) > 0].sum()
                for c in itertools.combinations(range(dense.shape[1]), p))
    assert sol.method == "milp" and sol.objective == pytest.approx(brute)
    assert len(sol.chosen) <= p and sol.gap == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_mclp_equals_brute_force(seed):
    a, w, dense = _instance(seed, n_i=20, n_j=7, density=0.3)
    cap = np.random.default_rng(seed + 100).integers(20, 120, dense.shape[1]).astype(float)
    sol = solve_mclp(a, w, 2, capacity=cap, mip_gap=0.0)
    brute = max(_capacitated_value(dense, w, c, cap) for c in itertools.combinations(range(7), 2))
    assert sol.objective == pytest.approx(brute, rel=1e-6)
    uncapped = solve_mclp(a, w, 2, mip_gap=0.0)
    assert sol.objective <= uncapped.objective + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_fewest_sites_equals_brute_force(seed):
    a, w, dense = _instance(seed, density=0.25)
    reach = w[dense.sum(axis=1) > 0].sum()
    target = 0.7 * reach
    sol = solve_min_sites(a, w, target)
    k_brute = next(k for k in range(1, 9) if any(
        w[dense[:, list(c)].sum(axis=1) > 0].sum() >= target - 1e-9
        for c in itertools.combinations(range(8), k)))
    assert len(sol.chosen) == k_brute and sol.objective >= target - 1e-9
    with pytest.raises(LayerError):
        solve_min_sites(a, w, reach + 1)


def test_greedy_is_a_valid_warm_start_and_never_beats_the_milp():
    for seed in range(10):
        a, w, _ = _instance(seed, n_i=60, n_j=15)
        g = greedy_mclp(a, w, 3)
        sol = solve_mclp(a, w, 3, warm=g, mip_gap=0.0)
        g_obj = float(w[np.asarray(a[:, g].sum(axis=1)).ravel() > 0].sum())
        assert sol.objective >= g_obj - 1e-9


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3 announces its 4.0 API
def test_spopt_mclp_gives_the_same_objective(demo_region):
    """The same demo instance through spopt's MCLP (PuLP/CBC): equal objective."""
    import pulp
    from spopt.locate import MCLP

    from geo.analyses.siting import coverage_pairs

    net = from_graph(demo_region.roads, crs=demo_region.crs)
    layers = demo_region.layers
    before = coverage(layers["vulnerable"], layers["places"], crs=demo_region.crs, network=net)
    units = before.units[~before.units["covered"]].reset_index(drop=True)
    cands = layers["shelters"].reset_index(drop=True)
    ui, ci, d = coverage_pairs(units, cands, crs=demo_region.crs, network=net, max_distance=500)
    cost = np.full((len(units), len(cands)), 1e7)
    np.minimum.at(cost, (ui, ci), d)
    w = units["count"].to_numpy(float)
    a = csr_array((np.ones(len(ui)), (ui, ci)), shape=cost.shape)
    a.sum_duplicates()
    a.data[:] = 1
    for p in (2, 4):
        ours = solve_mclp(a, w, p, mip_gap=0.0)
        model = MCLP.from_cost_matrix(cost, w, service_radius=500.0, p_facilities=p)
        model.solve(pulp.PULP_CBC_CMD(msg=False))
        assert ours.objective == pytest.approx(pulp.value(model.problem.objective))


def test_demo_recommendation_beats_every_random_choice(demo_region):
    net = from_graph(demo_region.roads, crs=demo_region.crs)
    L = demo_region.layers
    cov = coverage(L["vulnerable"], L["places"], crs=demo_region.crs, network=net)
    cands = gap_candidates(cov, network=net, limit=300)
    rec = recommend(L["vulnerable"], L["places"], cands, crs=demo_region.crs, network=net, p=3,
                    areas={"neighbourhoods": L["neighbourhoods"]})
    assert rec.covered_after > rec.covered_before
    assert rec.gap <= 0.01 and len(rec.sites) == 3
    rng = np.random.default_rng(0)
    for _ in range(100):
        pick = cands.iloc[rng.choice(len(cands), 3, replace=False)]
        extra = pick.rename(columns={"candidate_id": "place_id"})[["place_id", "geometry"]]
        both = gpd.GeoDataFrame(pd.concat([L["places"][["place_id", "geometry"]], extra],
                                          ignore_index=True), crs="EPSG:4326")
        rnd = coverage(L["vulnerable"], both, crs=demo_region.crs, network=net)
        assert rnd.summary()["covered"] <= rec.covered_after + 2 * MAX_CHANGE  # both protected
    # the curve is non-decreasing with diminishing (never negative) gains
    assert (rec.curve["covered_after"].diff().dropna() >= 0).all()
    # the before/after table adds up to the totals, within the protection of each count
    t = rec.before_after[rec.before_after["area_layer"] == "neighbourhoods"]
    slack = MAX_CHANGE * (len(t) + 2) + 4 * int(t["gain"].isna().sum())
    assert abs(int(t["gain"].sum()) - (rec.covered_after - rec.covered_before)) <= slack


def test_closed_schools_from_the_consolidation(demo_region):
    sd = demo_region.layers["school_districts"]
    gone = closed_schools(sd, before="before", after="after")
    after = sd[sd["period"] == "after"]
    assert len(gone) > 0 and not set(gone["name"]) & set(after["name"]) - {"湖南町立南台小学校"}
    assert gone["candidate_id"].str.startswith("school:").all()


def test_cli_recommend_on_the_demo(demo_dir, tmp_path, run_cli):
    toml = demo_dir / "region.toml"
    code, out, err = run_cli("recommend", toml, "--facilities", "places", "--candidates", "gap_nodes",
                             "--p", "3", "--max-distance", "500", "--curve-to", "5", "--out", tmp_path)
    assert code == 0, err
    s = json.loads(out)  # nothing but the JSON on stdout (the solver's banner is kept off it)
    assert s["p"] == 3 and len(s["sites"]) == 3 and s["covered_after"] > s["covered_before"]
    assert 0 <= s["gap"] <= 0.01 and len(s["curve"]) == 5
    for name in ("recommendation.gpkg", "recommended_sites.csv", "gain_curve.csv",
                 "coverage_before_after.csv"):
        assert (tmp_path / name).exists()
    assert (tmp_path / "gain_curve.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    code, out, err = run_cli("recommend", toml, "--candidates", "shelters", "--capacity", "capacity",
                             "--p", "2", "--outside-hazard", "洪水", "--out", tmp_path / "cap")
    assert code == 0, err
    assert json.loads(out)["model"] == "capacitated_mclp"

    code, out, err = run_cli("recommend", toml, "--candidates", "gap_units", "--target", "0.3",
                             "--out", tmp_path / "target")
    assert code == 0, err
    s = json.loads(out)
    assert s["model"] == "min_sites" and s["covered_after"] >= 0.3 * s["total"]

    # candidates from a user's CSV (公民館 list)
    csv = tmp_path / "kouminkan.csv"
    csv.write_text("名称,緯度,経度,定員\n中央公民館,39.6390,140.4260,40\n南公民館,39.6000,140.3800,30\n",
                   encoding="utf-8")
    code, out, err = run_cli("recommend", toml, "--candidates", csv, "--p", "1", "--out", tmp_path / "f")
    assert code == 0, err


@pytest.mark.parametrize(("args", "column"), [
    (["--candidates", "nofile.csv"], "--candidates"),
    (["--candidates", "shelters", "--capacity", "定員なし"], "--capacity"),
    (["--candidates", "shelters", "--p", "0"], "--p"),
    (["--candidates", "shelters", "--max-distance", "-5"], "--max-distance"),
    (["--candidates", "shelters", "--target", "1.5"], "--target"),
    (["--candidates", "shelters", "--outside-hazard", "隕石"], "--outside-hazard"),
])
def test_recommend_bad_input_is_a_clear_error(demo_dir, tmp_path, run_cli, args, column):
    code, out, err = run_cli("recommend", demo_dir / "region.toml", *args, "--out", tmp_path)
    assert code == 2 and out == "" and column in err and "Traceback" not in err
