"""Shared fixtures: the shared real data, the generated demo region, CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TOMONI_SHARED_DATA", ROOT.parent / "shared" / "data"))
REQUIRE_SHARED = os.environ.get("TOMONI_REQUIRE_SHARED_DATA") == "1"


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
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``tomoni ARGS`` in-process; return (exit status, stdout, stderr)."""
    from geo.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def write_region(tmp_path: Path) -> Callable[[str], Path]:
    """Write a region TOML into the test's folder and return its path."""

    def write(text: str, name: str = "region.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI no test may skip silently: a skip turns the run red."""
    if not REQUIRE_SHARED:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        if reporter:
            reporter.write_line(
                f"{skipped} test(s) skipped while TOMONI_REQUIRE_SHARED_DATA=1: failing the run",
                red=True,
            )
        session.exitstatus = 1
