"""Every command on the layers it needs: a missing optional layer is a note, not an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def no_boundaries(demo_dir: Path, tmp_path: Path) -> Path:
    """The demo region without 市町村界, 校区 and 自治会 (its files linked, not copied)."""
    for f in demo_dir.iterdir():
        if f.name != "results":
            (tmp_path / f.name).symlink_to(f)
    out, skip = [], False
    for line in (demo_dir / "region.toml").read_text("utf-8").splitlines(keepends=True):
        if line.startswith("["):
            skip = line.strip() in ("[layers.boundaries]", "[layers.school_districts]",
                                    "[layers.neighbourhoods]")
        if not skip:
            out.append(line)
    toml = tmp_path / "no_boundaries.toml"
    toml.write_text("".join(out), encoding="utf-8")
    return toml


def test_route_between_coordinates_needs_roads_only(no_boundaries, tmp_path, run_cli):
    code, out, err = run_cli("route", no_boundaries, "--from", "140.4378,39.6515", "--to",
                             "140.3716,39.6088", "--hazard", "flood", "--out", tmp_path / "r")
    assert code == 0, err
    res = json.loads(out)
    assert res["normal"]["length_m"] > 0 and res["hazard"]["length_m"] >= res["normal"]["length_m"]
    # a point far outside every layer is still refused, by the data's extent
    code, _, err = run_cli("route", no_boundaries, "--from", "141.5,40.5", "--to", "140.3716,39.6088",
                           "--out", tmp_path / "r2")
    assert code == 2 and "地域の外" in err


def test_vc_plan_without_boundaries_plans_the_region_as_one_area(no_boundaries, tmp_path, run_cli):
    code, out, err = run_cli("vc-plan", no_boundaries, "--hazard", "flood", "--out", tmp_path / "vc")
    assert code == 0, err
    res = json.loads(out)
    assert len(res["open"]) == 1 and res["backups"] == 0
    assert any("地域全体を一つの区域" in n for n in res["notes"])
    assert (tmp_path / "vc" / "vc_plan.csv").exists()


def test_crossborder_without_boundaries_is_a_clear_error(no_boundaries, tmp_path, run_cli):
    code, _, err = run_cli("crossborder", no_boundaries, "--out", tmp_path / "cb")
    assert code == 2 and "boundaries" in err and "Traceback" not in err


def test_every_analysis_at_once_names_what_it_left_out(no_boundaries):
    from geo.runs.region_results import analyse_region
    from layers.region import load_region

    res = analyse_region(load_region(no_boundaries, with_roads=False))
    assert res.vc is not None and res.cross is None
    assert any("広域連携" in n for n in res.notes)
