"""A real Streamlit server on localhost and Debian's Chromium driven by Playwright.

Never ``playwright install``: the browser is the system's ``chromium``.  Without
it the tests skip with a reason on a developer machine and fail in CI.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TOMONI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        msg = "real-browser tests need Debian's chromium (installed by scripts/setup.sh)"
        if os.environ.get("CI") or os.environ.get("TOMONI_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return CHROMIUM


@contextlib.contextmanager
def serve_app(demo_dir: Path, log: Path, extra: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run streamlit_app.py`` on a free loopback port, on the region in ``demo_dir``
    (``extra``: more environment, e.g. a users file)."""
    port = _free_port()
    env = {**os.environ, "TOMONI_DEMO_DIR": str(demo_dir), **(extra or {})}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui.launch", "run", "streamlit_app.py",  # as tomoni serve starts it
             f"--server.port={port}", "--server.address=127.0.0.1", "--server.headless=true",
             "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.read() == b"ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("streamlit did not start:\n" + log.read_text("utf-8", "replace"))
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def app_url(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the demo region."""
    with serve_app(demo_dir, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium_path: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A fresh browser page recording every failed request in ``page.failed``: every request
    to another host, and every failure of the app's own files except a load the browser
    itself cancelled (``net::ERR_ABORTED``: Streamlit replaced the map's frame while its
    stylesheet was still loading — nothing a person sees)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    failed: list[str] = []

    def record(request) -> None:  # type: ignore[no-untyped-def]
        local = request.url.startswith(("http://127.0.0.1", "http://localhost"))
        if not (local and "ERR_ABORTED" in (request.failure or "")):
            failed.append(request.url)

    pg.on("requestfailed", record)
    pg.failed = failed  # type: ignore[attr-defined]
    yield pg
    context.close()
