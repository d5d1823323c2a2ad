"""Shared fixtures: the shared real data, the generated demo region, CLI runner."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("TOMONI_SHARED_DATA", ROOT.parent / "shared" / "data"))
REQUIRE_SHARED = os.environ.get("TOMONI_REQUIRE_SHARED_DATA") == "1"


pytest_plugins = ["tests.scenario_fixtures"]
"""Purpose-named fixture modules shared by several test modules."""


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real Akita and Tachikawa files (never copied into the repo).

    Skips with a reason on a machine without it; fails when CI requires it.
    """
    if not (SHARED / "akita").is_dir():
        msg = (
            f"real-data test needs {SHARED} (../shared/data beside the project); "
            "set TOMONI_SHARED_DATA to its location"
        )
        if REQUIRE_SHARED:
            pytest.fail(msg + " — TOMONI_REQUIRE_SHARED_DATA=1 makes this a failure")
        pytest.skip(msg)
    return SHARED


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fictional demo region, generated once per test session."""
    from layers.demo import generate_demo

    out = tmp_path_factory.mktemp("demo")
    generate_demo(out)
    return out


@pytest.fixture(scope="session")
def demo_region(demo_dir: Path):  # type: ignore[no-untyped-def]
    """The demo region loaded (read-only: tests must not mutate its layers)."""
    from layers.region import load_region

    return load_region(demo_dir / "region.toml")


@pytest.fixture
def run_cli(
    capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., tuple[int, str, str]]:
    """Run ``tomoni ARGS`` in-process; return (exit status, stdout, stderr).

    Everything the CLI prints is also appended to ``cli-output.log`` in the
    session's temporary folder, so the final leak scan reads it.
    """
    from geo.cli import main

    log = tmp_path_factory.getbasetemp() / "cli-output.log"

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse refuses an option before anything runs
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"$ tomoni {' '.join(map(str, args))}\n{out}\n{err}\n")
        return code, out, err

    return run


@pytest.fixture(scope="session", autouse=True)
def _session_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every log record of the session goes to a file that the leak scan reads;
    the anonymiser's publication ledger lives in the session's temp folder."""
    base = tmp_path_factory.getbasetemp()
    os.environ["TOMONI_STATE_DIR"] = str(base / "state")
    handler = logging.FileHandler(base / "session.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


@pytest.fixture
def write_region(tmp_path: Path) -> Callable[[str], Path]:
    """Write a region TOML into the test's folder and return its path."""

    def write(text: str, name: str = "region.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def akita_region(shared_data: Path, tmp_path: Path) -> Path:
    """A region TOML over all 25 Akita municipalities: real N03 boundaries, the 3,347 real
    GSI shelter points and the 町字 points as stand-in areas (no roads: straight-line mode)."""
    import json

    d = shared_data / "akita"
    machiaza = sorted((d / "machiaza").glob("*.json"))
    toml = tmp_path / "akita.toml"
    toml.write_text(f"""[region]
name = "秋田県"
[layers.boundaries]
path = "{d}/boundaries/n03_akita_2021_simplified.geojson"
code = "N03_007"
name = "N03_004"
[layers.shelters]
path = ["{d}/shelters/gsi_emergency_sites_akita.csv", "{d}/shelters/gsi_evacuation_shelters_akita.csv"]
[layers.neighbourhoods]
path = {json.dumps([str(p) for p in machiaza], ensure_ascii=False)}
""", encoding="utf-8")
    return toml


@pytest.fixture
def tachikawa_region(shared_data: Path, tmp_path: Path) -> Callable[..., tuple[Path, int]]:
    """``make(extra="")``: a region TOML of 立川市 from the real OSM graph, GSI GeoJSON shelters
    and N03, with 要配慮者 counts per 250 m mesh placed at the 町丁目 points (8–12 each); ``extra``
    TOML is appended (e.g. a hazards layer).  Returns the TOML and the total count."""
    import json

    import jismesh.utils as ju
    import numpy as np

    def make(extra: str = "") -> tuple[Path, int]:
        d = shared_data / "tachikawa"
        pts = json.loads((d / "machiaza_points.json").read_text("utf-8"))
        lat = np.array([float(p["lat"]) for p in pts])
        lon = np.array([float(p["lng"]) for p in pts])
        codes = np.asarray(ju.to_meshcode(lat, lon, 4))
        counts = [8 + i % 5 for i in range(len(codes))]
        (tmp_path / "mesh_counts.csv").write_text(
            "mesh_code,count\n" + "\n".join(f"{c},{n}" for c, n in zip(codes, counts, strict=True)),
            encoding="utf-8")
        toml = tmp_path / "tachikawa.toml"
        toml.write_text(f"""[region]
name = "立川市"
[layers.boundaries]
path = "{d}/boundary_n03.geojson"
[layers.shelters]
path = ["{d}/gsi_emergency_sites_132021.geojson", "{d}/gsi_evacuation_shelters_132021.geojson"]
[layers.vulnerable]
path = "mesh_counts.csv"
kind = "mesh_counts"
[roads]
path = "{d}/roads_drive_osm_2021.graphml"
network = "walk"
{extra}""", encoding="utf-8")
        return toml, sum(counts)

    return make


# the demo's input files (and copies of them in saved regions) are inputs, not artefacts
DEMO_INPUTS = {
    "boundaries_n03.geojson", "roads_walk.graphml", "roads_drive.graphml", "jichikai.geojson",
    "hazards.geojson", "ibasho.csv", "gsi_emergency_sites.csv", "gsi_evacuation_shelters_cp932.csv",
    "vc_candidates.csv", "A27-16_059_before.zip", "README.txt", "barriers.geojson",
    "ibasho_addresses.csv", "湖北市.json", "湖南町.json", "川東村.json", "vc_teams.csv",
    "community_bus_gtfs-jp.zip",
}


def _leak_scan(session: pytest.Session) -> dict[str, list[str]]:
    """Scan every artefact the test session wrote for the demo's 要配慮者 records."""
    from tests.leakscan import scan_paths, sensitive_from_records

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return {}
    base = factory.getbasetemp()
    registers = sorted(base.rglob("private/vulnerable_records.csv"))
    if not registers:
        return {}
    sensitive = sensitive_from_records(registers[0])
    artefacts = [
        p for p in base.rglob("*")
        if p.is_file() and "private" not in p.parts and p.name not in DEMO_INPUTS
        and not p.name.startswith("A27-23_059")
    ]
    return scan_paths(artefacts, sensitive, rule="pairs")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Privacy leak scan over every artefact; in CI no test may skip silently."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    findings = _leak_scan(session)
    if findings:
        if reporter:
            reporter.write_line("PRIVACY LEAK SCAN FAILED:", red=True)
            for path, what in findings.items():
                reporter.write_line(f"  {path}: {'; '.join(what)}", red=True)
        session.exitstatus = 1
    elif reporter:
        reporter.write_line("privacy leak scan: no 要配慮者 record in any artefact of the session")
    if not REQUIRE_SHARED:
        return
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        if reporter:
            reporter.write_line(
                f"{skipped} test(s) skipped while TOMONI_REQUIRE_SHARED_DATA=1: failing the run",
                red=True,
            )
        session.exitstatus = 1
