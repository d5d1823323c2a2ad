"""Siting over the years: the worst-year and weighted-sum answers against brute force and
a hand-worked case where today's best site is the wrong one for 2050."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.sparse import csr_array

from geo.analyses.siting import solve_mclp
from geo.analyses.siting_over_time import _gains, solve_worst_year


def test_todays_best_site_is_not_the_one_that_lasts():
    """A covers a hamlet of 10 people today and 2 in 2050; B a town street of 6 and 6;
    C 1 and 5.  Today's answer is A; the worst year's is B (6 both years, against A's 2)."""
    a = csr_array(np.eye(3))
    w = np.array([[10.0, 6.0, 1.0], [2.0, 6.0, 5.0]])  # years × units
    assert solve_mclp(a, w[0], 1).chosen == [0]
    assert solve_worst_year(a, w, 1) == [1]
    assert solve_mclp(a, np.array([1.0, 2.0]) @ w, 1).chosen == [1]  # 2050 weighted twice: B (18)


@pytest.mark.parametrize("seed", range(6))
def test_worst_year_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n_i, n_j, n_y, p = 14, 7, 3, 2
    a = csr_array((rng.random((n_i, n_j)) < 0.3).astype(float))
    w = rng.integers(0, 20, (n_y, n_i)).astype(float)
    best = max(min(w[y, np.asarray(a[:, list(c)].sum(axis=1)).ravel() > 0].sum() for y in range(n_y))
               for c in itertools.combinations(range(n_j), p))
    chosen = solve_worst_year(a, w, p)
    assert len(chosen) <= p
    assert _gains(a, w, chosen).min() == pytest.approx(best)


def test_recommend_over_the_years_on_the_demo(demo_dir, tmp_path, run_cli):
    import json

    import pandas as pd

    code, out, err = run_cli("recommend", demo_dir / "region.toml", "--candidates", "gap_nodes", "--p", "2",
                             "--years", "2025,2050", "--out", tmp_path / "r")
    assert code == 0, err
    over = json.loads(out)["over_time"]
    assert over["years"] == [2025, 2050] and len(over["sites"]) == 2
    assert over["worst_gain"] >= over["today_worst_gain"]  # never worse in its own objective
    table = pd.read_csv(tmp_path / "r" / "siting_over_time.csv", encoding="utf-8-sig")
    assert list(table["year"]) == [2025, 2050]
    code, _, err = run_cli("recommend", demo_dir / "region.toml", "--candidates", "gap_nodes",
                           "--years", "2025,2050", "--objective", "sum", "--weights", "1",
                           "--out", tmp_path / "bad")
    assert code == 2 and "重み" in err
    code, _, err = run_cli("recommend", demo_dir / "region.toml", "--candidates", "gap_nodes",
                           "--years", "2025,2050", "--objective", "sum", "--weights", "1,x",
                           "--out", tmp_path / "bad2")
    assert code == 2 and "重み" in err and "Traceback" not in err
