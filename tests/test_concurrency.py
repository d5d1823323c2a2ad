"""Sessions at once: the caches shared across app sessions and the publication ledger."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from geo.analyses.coverage import CoverageOptions, analyse_coverage
from geo.analyses.shelter_load import ShelterOptions, analyse_shelters
from geo.engine.network_cache import forget_loaded
from layers.errors import LayerError
from layers.ledger import ledger_scope
from layers.region import load_region
from layers.vulnerable import register_publication


@pytest.fixture(scope="module")
def second_region(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo region without its barriers file: another network (other barriers) on the
    same road file, so the two share the road index but not the barrier index."""
    folder = tmp_path_factory.mktemp("second")
    for item in demo_dir.iterdir():
        if item.is_file():
            shutil.copy(item, folder / item.name)
        elif item.name != "results":
            shutil.copytree(item, folder / item.name)
    toml = folder / "region.toml"
    text = toml.read_text("utf-8")
    start = text.index("[layers.barriers]")
    end = text.find("\n[", start + 1)
    toml.write_text(text[:start] + (text[end + 1:] if end >= 0 else ""), "utf-8")
    return toml


def _session(toml: Path, which: str) -> tuple[object, ...]:
    region = load_region(toml)
    if which == "coverage":
        s = analyse_coverage(region, CoverageOptions(max_distance=700.0)).summary()
        return (s.covered, s.total, s.barriers)
    run = analyse_shelters(region, ShelterOptions(hazard="flood"))
    return (run.load.summary().demand_assigned, run.scenario.summary().closed_segments)


def test_two_sessions_at_once_on_different_regions(demo_dir: Path, second_region: Path) -> None:
    jobs = [(demo_dir / "region.toml", "coverage"), (second_region, "coverage"),
            (demo_dir / "region.toml", "shelters"), (second_region, "shelters")]
    serial = [_session(t, w) for t, w in jobs]
    assert serial[0] != serial[1]  # the barriers make a difference: the test can tell them apart
    forget_loaded()  # every thread races to load and index the networks afresh
    start = threading.Barrier(len(jobs) * 2)

    def run(job: tuple[Path, str]) -> tuple[object, ...]:
        start.wait()
        return _session(*job)

    with ThreadPoolExecutor(len(jobs) * 2) as pool:
        together = list(pool.map(run, jobs * 2))
    assert together == serial * 2


def test_two_users_releases_do_not_interfere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each logged-in user's releases are checked against their own; one user's upload never
    blocks another's.  Within one user the one-geography rule still holds."""
    monkeypatch.setenv("TOMONI_STATE_DIR", str(tmp_path))
    results: dict[str, str] = {}

    def user(name: str, geography: str) -> None:
        ledger_scope(name)  # what the app does at the start of each of this user's runs
        register_publication("same-register", geography, 5)
        try:
            register_publication("same-register", "boundaries", 5)
            results[name] = "published twice"
        except LayerError:
            results[name] = "refused"

    threads = [threading.Thread(target=user, args=("sato", "mesh500")),
               threading.Thread(target=user, args=("suzuki", "neighbourhoods"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == {"sato": "refused", "suzuki": "refused"}
    stored = (tmp_path / "publications.json").read_text("utf-8")
    assert "sato" not in stored and "suzuki" not in stored  # scopes are hashes, not names


def test_a_shared_scope_checks_every_user_together(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOMONI_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("TOMONI_LEDGER_SCOPE", "shared")

    def user(name: str, geography: str) -> None:
        ledger_scope(name)
        register_publication("same-register", geography, 5)

    first = threading.Thread(target=user, args=("sato", "mesh500"))
    first.start()
    first.join()
    ledger_scope("suzuki")
    with pytest.raises(LayerError, match="既に別の単位"):
        register_publication("same-register", "neighbourhoods", 5)
    ledger_scope(None)
