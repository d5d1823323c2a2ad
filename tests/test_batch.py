"""Batch runs on Dask: partitions equal one whole-region run; failures, dead workers, reruns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.runs.batch.config import PartitionSpec, read_batch, specs_for
from geo.runs.batch.dask_run import run_batch
from geo.runs.batch.merge import read_units
from geo.runs.batch.partition import run_partition, whole_region_units
from layers.errors import LayerError
from layers.region import load_region

COLUMNS = ["place_id", "place_m", "covered", "shelter_id", "shelter_m", "shelter_reachable",
           "nearest_muni", "own_m", "cross"]


def _same(whole: pd.DataFrame, parts: pd.DataFrame, where: dict[str, str] | None = None) -> None:
    """Equal per unit; facilities compared by place (``where``: id → location), since two
    facilities at one address are equally near and either is right."""
    w = whole.set_index("unit_id").sort_index()
    p = parts.set_index("unit_id").loc[w.index]
    assert len(p) == len(w)
    for c in COLUMNS:
        a, b = w[c].to_numpy(), p[c].to_numpy()
        if where is not None and c in ("shelter_id", "place_id"):
            a = np.array([where.get(str(v), str(v)) for v in a])
            b = np.array([where.get(str(v), str(v)) for v in b])
        if a.dtype.kind == "f":
            assert np.allclose(np.nan_to_num(a, nan=-1.0), np.nan_to_num(b.astype(float), nan=-1.0),
                               atol=1e-6), c
        else:
            assert (a == b).all(), c


def _where(region) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each 居場所 and shelter id → its location (two at one address are equally near)."""
    kinds = (("places", "place_id"), ("shelters", "shelter_id"))
    return {str(i): f"{g.x:.6f},{g.y:.6f}" for key, id_col in kinds
            for i, g in zip(region.layers[key][id_col], region.layers[key].geometry, strict=True)}


@pytest.fixture
def demo_batch(demo_dir, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    toml = tmp_path / "regions.toml"
    toml.write_text(f"""[batch]
name = "みずうみ地域（架空）"
region = "{demo_dir / 'region.toml'}"
hazard = "flood"
buffer_m = 1500
""", encoding="utf-8")
    return toml


def test_three_partitions_equal_the_whole_region_run(demo_batch, tmp_path):
    cfg = read_batch(demo_batch)
    specs = specs_for(cfg)
    assert [s.muni for s in specs] == ["05901", "05902", "05903"]
    res = run_batch(specs, tmp_path / "out", workers=2)
    assert sorted(res.done) == ["05901", "05902", "05903"] and not res.failed
    whole = whole_region_units(cfg.region, hazard="flood")
    _same(whole, read_units(tmp_path / "out"))
    # the merged tables count people, never a sum of units at their anchors: no shelter
    # reaches a unit's anchor across the river, yet some of its people nearer a neighbour's
    merged = pd.read_csv(tmp_path / "out" / "summary_by_municipality.csv", encoding="utf-8-sig",
                         dtype={"muni_code": str}).set_index("muni_code")
    assert merged.loc[["05901", "05902", "05903"], "units"].tolist() == \
        whole.groupby("muni_code").size().loc[["05901", "05902", "05903"]].tolist()
    status = json.loads((tmp_path / "out" / "batch_status.json").read_text("utf-8"))
    assert all(f["verified"] for f in status["facts"].values())
    # the driver cut and shipped each partition: a worker loads the region and its graph only
    # when the shipped cut was not enough (the buffer doubled)
    assert all(f["region_loaded"] == (f["graph"] == "region graph") for f in status["facts"].values())
    assert (tmp_path / "out" / "partitions" / "muni=05901" / "units.parquet").exists()


def test_a_partition_that_raises_is_reported_and_the_others_finish(demo_batch, tmp_path):
    cfg = read_batch(demo_batch)
    specs = [*specs_for(cfg)[:2], PartitionSpec(key="09999", region=str(cfg.region), muni="09999")]
    res = run_batch(specs, tmp_path / "out", workers=2)
    assert sorted(res.done) == ["05901", "05902"]
    assert list(res.failed) == ["09999"] and "09999" in res.failed["09999"]
    status = json.loads((tmp_path / "out" / "batch_status.json").read_text("utf-8"))
    assert status["failed"] == res.failed


def test_a_killed_worker_is_replaced_and_its_partition_rerun(demo_batch, tmp_path):
    cfg = read_batch(demo_batch)
    marker = tmp_path / "killed-once"

    def dies_once(spec):  # type: ignore[no-untyped-def]  # pickled by value for the workers
        import os
        from pathlib import Path as P

        if spec.muni == "05902" and not P(marker).exists():
            P(marker).write_text("x")
            os._exit(1)  # the worker process dies mid-task
        return run_partition(spec)

    res = run_batch(specs_for(cfg), tmp_path / "out", workers=2, runner=dies_once)
    assert marker.exists()
    assert sorted(res.done) == ["05901", "05902", "05903"] and not res.failed


def test_a_partition_run_again_from_its_spec_alone_gives_the_same_rows(demo_batch, tmp_path):
    """A partition lost with a worker is submitted again without its shipped cut: the spec
    alone (its prepared sub-network and the buffer it was cut with) must give the same rows.
    Run with the spec's first buffer instead, the places beyond it were dropped while the
    sub-network's edge said the answers were verified (a CI run saw a wrong 居場所)."""
    import io

    from geo.runs.batch.partition import iter_inputs

    cfg = read_batch(demo_batch)
    rows = []
    for spec, _cut in iter_inputs(specs_for(cfg), tmp_path / "out"):
        rows.append(pd.read_parquet(io.BytesIO(run_partition(spec)["parquet"])))
    region = load_region(cfg.region, with_roads=False)
    _same(whole_region_units(cfg.region, hazard="flood"), pd.concat(rows), _where(region))


def test_rerun_computes_only_what_is_missing(demo_batch, tmp_path):
    cfg = read_batch(demo_batch)
    out = tmp_path / "out"
    first = run_batch(specs_for(cfg), out, workers=1)
    assert len(first.done) == 3
    (out / "partitions" / "muni=05903" / "units.parquet").unlink()
    before = (out / "partitions" / "muni=05901" / "units.parquet").stat().st_mtime_ns
    second = run_batch(specs_for(cfg), out, workers=1)
    assert second.done == ["05903"] and sorted(second.skipped) == ["05901", "05902"]
    assert (out / "partitions" / "muni=05901" / "units.parquet").stat().st_mtime_ns == before
    third = run_batch(specs_for(cfg), out, workers=1)
    assert third.done == [] and len(third.skipped) == 3


def test_a_region_that_fits_runs_in_one_process_with_the_same_results(demo_batch, tmp_path, run_cli):
    """Batch steps aside for a small region (it says so); --dask still partitions; the
    rows are the same either way, and a rerun skips what is written."""
    code, out, err = run_cli("batch", demo_batch, "--out", tmp_path / "one")
    assert code == 0, err
    s = json.loads(out)
    assert s["mode"] == "one process" and s["computed"] == 3 and "--dask" in err
    code, out, err = run_cli("batch", demo_batch, "--out", tmp_path / "dask", "--workers", "1", "--dask")
    assert code == 0 and json.loads(out)["mode"] == "dask"
    _same(read_units(tmp_path / "dask"), read_units(tmp_path / "one"))
    for name in ("summary_by_municipality.csv", "shelter_load.csv", "crossborder_pairs.csv"):
        one = pd.read_csv(tmp_path / "one" / name, encoding="utf-8-sig")
        dask = pd.read_csv(tmp_path / "dask" / name, encoding="utf-8-sig")
        pd.testing.assert_frame_equal(one, dask)
    code, out, _ = run_cli("batch", demo_batch, "--out", tmp_path / "one")
    assert code == 0 and json.loads(out)["skipped"] == 3


def test_unit_points_land_where_the_units_are_in_any_plane_zone(demo_dir, tmp_path):
    """A region computed in another plane-rectangular zone (EPSG:6677) is written at the
    units' true places, by one process and by Dask alike (not read as zone X)."""
    from layers.crs import STORAGE_CRS, transform_xy

    home = tmp_path / "zone9"
    home.mkdir()
    for f in demo_dir.iterdir():  # the demo's files, read in place
        if f.name != "region.toml":
            (home / f.name).symlink_to(f)
    region = home / "region.toml"
    text = (demo_dir / "region.toml").read_text(encoding="utf-8")
    assert 'crs = "EPSG:6678"' in text
    region.write_text(text.replace('crs = "EPSG:6678"', 'crs = "EPSG:6677"'), encoding="utf-8")
    cfg = tmp_path / "REGIONS.toml"
    cfg.write_text(f'[batch]\nregion = "{region}"\nbuffer_m = 1500\n', encoding="utf-8")
    specs = specs_for(read_batch(cfg))
    whole = whole_region_units(region).set_index("unit_id")
    lon, lat = transform_xy(whole["x"].to_numpy(), whole["y"].to_numpy(), "EPSG:6677", STORAGE_CRS)
    for one in (True, False):
        out = tmp_path / f"out-{one}"
        run_batch(specs, out, one_process=one, workers=1)
        got = read_units(out).set_index("unit_id").loc[whole.index]
        assert np.allclose(got.geometry.x, lon, atol=1e-7) and np.allclose(got.geometry.y, lat, atol=1e-7)


def test_tomoni_batch_cli_and_bad_configs(demo_batch, tmp_path, run_cli):
    code, out, err = run_cli("batch", demo_batch, "--out", tmp_path / "out", "--workers", "1")
    assert code == 0, err
    s = json.loads(out)
    assert s["partitions"] == 3 and s["computed"] == 3 and s["failed"] == {}
    bad = tmp_path / "bad.toml"
    bad.write_text("[batch]\nname = 'x'\n", encoding="utf-8")
    code, out, err = run_cli("batch", bad, "--out", tmp_path / "o2")
    assert code == 2 and "batch.region" in err and out == ""
    bad.write_text(f"[batch]\nregion = \"{read_batch(demo_batch).region}\"\nmunicipalities = [\"01100\"]\n",
                   encoding="utf-8")
    code, out, err = run_cli("batch", bad, "--out", tmp_path / "o3")
    assert code == 2 and "01100" in err
    with pytest.raises(LayerError):
        read_batch(tmp_path / "missing.toml")
    region = read_batch(demo_batch).region
    for body, column in ((f'region = "{region}"\nbuffer_m = "far"\n', "batch.buffer_m"),
                         (f'region = "{region}"\nbuffer_m = -1\n', "batch.buffer_m"),
                         (f'region = "{region}"\nmax_distance = 0\n', "batch.max_distance"),
                         (f'region = "{region}"\nhazard = "隕石"\n', "batch.hazard"),
                         (f'region = "{region}"\nstraight_line = "yes"\n', "batch.straight_line"),
                         (f'region = "{region}"\naccess = "nearby"\n', "batch.access"),
                         (f'region = "{region}"\ncircuity = 0.5\n', "batch.circuity"),
                         (f'region = "{region}"\njoin_radius = 0\n', "batch.join_radius"),
                         ('region = "nowhere.toml"\n', "batch.region"),
                         ("region = [\n", "")):
        bad.write_text("[batch]\n" + body, encoding="utf-8")
        code, out, err = run_cli("batch", bad, "--out", tmp_path / "o5")
        assert code == 2 and out == "" and column in err and "Traceback" not in err, (body, err)
    code, out, err = run_cli("batch", demo_batch, "--out", tmp_path / "o4", "--scheduler",
                             "tcp://127.0.0.1:9")
    assert code == 2 and "--scheduler" in err and "Traceback" not in err


def test_all_25_akita_municipalities_as_one_batch(akita_region, tmp_path, run_cli):
    """Real N03 + GSI shelters + 町字 areas, straight-line mode (no Akita roads): 25 partitions."""
    region = akita_region
    batch = tmp_path / "regions.toml"
    batch.write_text('[batch]\nname = "秋田県"\nregion = "akita.toml"\nhazard = "earthquake"\n'
                     "buffer_m = 10000\n", encoding="utf-8")
    code, out, err = run_cli("batch", batch, "--out", tmp_path / "out", "--workers", "2", "--dask")
    assert code == 0, err
    s = json.loads(out)
    assert s["partitions"] == 25 and s["computed"] == 25 and s["mode"] == "dask"
    merged = pd.read_csv(tmp_path / "out" / "summary_by_municipality.csv", encoding="utf-8-sig",
                         dtype={"muni_code": str})
    assert len(merged) == 25 and int(merged["units"].sum()) > 7000
    whole = whole_region_units(region, hazard="earthquake", straight_line=True)
    from layers.region import load_region

    shelters = load_region(region, with_roads=False).layers["shelters"]
    where = {str(i): f"{g.x:.6f},{g.y:.6f}" for i, g in zip(shelters["shelter_id"], shelters.geometry,
                                                              strict=True)}
    _same(whole, read_units(tmp_path / "out"), where)


def test_workers_use_their_own_partition_graph_when_the_buffer_suffices(demo_dir, tmp_path):
    toml = tmp_path / "regions.toml"
    toml.write_text(f'[batch]\nregion = "{demo_dir / "region.toml"}"\nbuffer_m = 20000\n', encoding="utf-8")
    specs = specs_for(read_batch(toml))
    res = run_batch(specs, tmp_path / "out", workers=1)
    # the driver cut and shipped each partition: no worker loaded the region or its graph
    assert all(f["graph"] == "prepared" and not f["region_loaded"] for f in res.facts.values()), res.facts
    assert sorted(p.name for p in (tmp_path / "out" / "inputs").iterdir()) == [
        "muni=05901-20000m.npz", "muni=05902-20000m.npz", "muni=05903-20000m.npz"]
    whole = whole_region_units(demo_dir / "region.toml", hazard="flood")
    _same(whole, read_units(tmp_path / "out"))


def test_a_batch_of_several_region_files_runs_each_region_in_turn(demo_dir, tmp_path):
    """Two region files (the demo kept to one municipality, and to the other two): the
    specs name their own region and every municipality is computed once."""
    import shutil

    folder = shutil.copytree(demo_dir, tmp_path / "demo", ignore=shutil.ignore_patterns("results"))
    base = (folder / "region.toml").read_text("utf-8")
    for name, munis in (("a.toml", '["05901"]'), ("b.toml", '["05902", "05903"]')):
        (folder / name).write_text(base.replace('crs = "EPSG:6678"',
                                                f'crs = "EPSG:6678"\nmunicipalities = {munis}'),
                                   encoding="utf-8")
    toml = tmp_path / "regions.toml"
    toml.write_text('[batch]\nregions = ["demo/a.toml", "demo/b.toml"]\nbuffer_m = 3000\n',
                    encoding="utf-8")
    cfg = read_batch(toml)
    specs = specs_for(cfg)
    assert [(s.muni, Path(s.region).name) for s in specs] == [
        ("05901", "a.toml"), ("05902", "b.toml"), ("05903", "b.toml")]
    res = run_batch(specs, tmp_path / "out", one_process=True)
    assert sorted(res.done) == ["05901", "05902", "05903"] and not res.failed
    assert set(read_units(tmp_path / "out")["muni_code"]) == {"05901", "05902", "05903"}
    toml.write_text('[batch]\nregions = ["demo/a.toml", "nai.toml"]\n', encoding="utf-8")
    with pytest.raises(LayerError, match=r"nai\.toml"):
        read_batch(toml)


@pytest.mark.parametrize(("options", "batch_lines"), [
    ([], ""),
    (["--access", "multi", "--join-radius", "120"], 'access = "multi"\njoin_radius = 120\n'),
    (["--straight-line"], "straight_line = true\n"),
], ids=["nearest", "multi", "straight-line"])
def test_batch_per_unit_equals_tomoni_coverage(demo_dir, tmp_path, run_cli, options, batch_lines):
    """What a planner gets from ``tomoni batch`` per unit is what ``tomoni coverage`` gives for
    the same region and options (a reference batch does not compute itself: the coverage
    command's own files): the nearest 居場所's distance and whether it is within 500 m."""
    import geopandas as gpd

    code, _, err = run_cli("coverage", demo_dir / "region.toml", "--facilities", "places",
                           "--max-distance", "500", "--out", tmp_path / "cov", *options)
    assert code == 0, err
    cov = gpd.read_file(tmp_path / "cov" / "coverage_units.gpkg").set_index("unit_id").sort_index()
    cfg = tmp_path / "REGIONS.toml"
    cfg.write_text(f'[batch]\nregion = "{demo_dir / "region.toml"}"\nmax_distance = 500\n{batch_lines}',
                   encoding="utf-8")
    code, _, err = run_cli("batch", cfg, "--out", tmp_path / "b", "--workers", "1", "--dask")
    assert code == 0, err
    units = read_units(tmp_path / "b").set_index("unit_id").loc[cov.index]
    assert len(units) == len(cov) > 100
    got = units["place_m"].to_numpy(float)
    want = cov["distance_m"].to_numpy(float)
    reached = np.isfinite(want)
    assert (np.isfinite(got) == reached).all()
    assert np.allclose(got[reached], want[reached], atol=0.11)  # both rounded to 0.1 m
    assert (units["covered"].to_numpy(bool) == cov["covered"].to_numpy(bool)).all()
    assert 0 < cov["covered"].sum() < len(cov)
    # per municipality, the people and those covered are the coverage command's own numbers
    # for its municipalities: the same people, each from their home, through the same gate
    areas = pd.read_csv(tmp_path / "cov" / "coverage_by_area.csv", encoding="utf-8-sig", dtype=str)
    areas = areas[areas["area_layer"] == "boundaries"].set_index("area_id")
    merged = pd.read_csv(tmp_path / "b" / "summary_by_municipality.csv", encoding="utf-8-sig",
                         dtype=str).set_index("muni_code").loc[areas.index]
    assert merged["people"].tolist() == areas["total"].tolist()
    assert merged["covered"].tolist() == areas["covered"].tolist()


def test_a_separate_scheduler_and_two_workers_survive_a_killed_worker(demo_batch, tmp_path):
    """``tomoni batch --scheduler``: a ``dask scheduler`` and two ``dask worker`` processes
    started on their own on 127.0.0.1; one worker is killed (SIGKILL from outside) while the
    batch runs.  The result equals the whole-region run."""
    import signal
    import socket
    import subprocess
    import sys
    import threading
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker", addr, "--nthreads", "1",
              "--no-dashboard", "--no-nanny", "--host", "127.0.0.1"]
    log = open(tmp_path / "dask.log", "wb")  # noqa: SIM115 - closed in finally
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=log, stderr=subprocess.STDOUT)]
    try:
        procs += [subprocess.Popen(worker, stdout=log, stderr=subprocess.STDOUT) for _ in range(2)]
        cfg = read_batch(demo_batch)
        out = tmp_path / "out"
        result: dict[str, object] = {}

        def run() -> None:
            result["res"] = run_batch(specs_for(cfg), out, scheduler=addr)

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.time() + 240
        while time.time() < deadline and thread.is_alive():
            if list(out.glob("partitions/muni=*/units.parquet")):
                break
            time.sleep(0.1)
        killed = thread.is_alive()
        if killed:
            procs[1].send_signal(signal.SIGKILL)  # a worker gone mid-run: the other finishes
        thread.join(timeout=600)
        res = result["res"]
        assert killed and not thread.is_alive()
        assert sorted(res.done) == ["05901", "05902", "05903"] and not res.failed  # type: ignore[attr-defined]
        region = load_region(cfg.region, with_roads=False)
        _same(whole_region_units(cfg.region, hazard="flood"), read_units(out), _where(region))
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=30)
        log.close()


def test_a_prefecture_extract_is_read_once_and_each_municipality_cut_from_it(demo_dir, tmp_path, run_cli,
                                                                              monkeypatch):
    """The demo's roads written as an OSM extract (.osm.pbf) and named by [roads]: a batch
    of its three municipalities reads the extract once (one cached ways file, one read),
    and each unit's nearest 居場所 is as far as on the GraphML roads (within 0.5 %)."""
    import shutil

    import layers.osm_extract
    from layers.roads import load_roads
    from tests.osm_files import graph_as_osm, to_pbf

    monkeypatch.setenv("TOMONI_CACHE_DIR", str(tmp_path / "cache"))
    region_dir = tmp_path / "region"
    shutil.copytree(demo_dir, region_dir)
    osm = graph_as_osm(load_roads(region_dir / "roads_walk.graphml", network="walk"), tmp_path / "demo.osm")
    to_pbf(osm, region_dir / "prefecture-latest.osm.pbf")
    toml = region_dir / "region.toml"
    toml.write_text(toml.read_text("utf-8").replace('path = "roads_walk.graphml"',
                                                    'path = "prefecture-latest.osm.pbf"'), "utf-8")
    reads = []
    real = layers.osm_extract._read_ways_now
    monkeypatch.setattr(layers.osm_extract, "_read_ways_now",
                        lambda *a, **k: reads.append(a) or real(*a, **k))
    batch = tmp_path / "regions.toml"
    batch.write_text(f'[batch]\nname = "抽出"\nregion = "{toml}"\nhazard = "flood"\nbuffer_m = 1500\n',
                     "utf-8")
    code, out, err = run_cli("batch", batch, "--out", tmp_path / "out")
    assert code == 0, err
    assert json.loads(out)["computed"] == 3 and len(reads) == 1
    assert len(list((tmp_path / "cache").glob("ways-*.npz"))) == 1
    ext = read_units(tmp_path / "out").sort_values("unit_id").reset_index(drop=True)
    graphml = whole_region_units(demo_dir / "region.toml", hazard="flood").sort_values("unit_id")
    graphml = graphml.reset_index(drop=True)
    both = ext["place_m"].notna() & graphml["place_m"].notna()
    assert both.sum() > 0.9 * len(ext)
    assert np.allclose(ext.loc[both, "place_m"], graphml.loc[both, "place_m"], rtol=5e-3, atol=1.0)
