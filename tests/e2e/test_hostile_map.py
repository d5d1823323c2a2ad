"""Hostile names in a real Chromium: hovering and clicking every feature runs no script,
in the exported HTML map and on the app's 地図 page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import serve_app
from tests.hostile_region import make_hostile_region

pytestmark = pytest.mark.slow

# every interactive feature gets the events a person's pointer gives it
_POKE = """() => {
  const paths = Array.from(document.querySelectorAll('path.leaflet-interactive'));
  for (const p of paths) {
    const r = p.getBoundingClientRect();
    const o = {bubbles: true, cancelable: true, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2};
    p.dispatchEvent(new MouseEvent('mouseover', o));
    p.dispatchEvent(new MouseEvent('mousemove', o));
    p.dispatchEvent(new MouseEvent('click', o));
    p.dispatchEvent(new MouseEvent('mouseout', o));
  }
  return paths.length;
}"""


@pytest.fixture(scope="module")
def hostile_dir(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_hostile_region(demo_dir, tmp_path_factory.mktemp("hostile_e2e")).parent


def _watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    dialogs: list[str] = []

    def on_dialog(d) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def test_exported_html_map_runs_no_planted_script(hostile_dir, tmp_path, page):
    from geo.cli import main

    out = tmp_path / "map.html"
    assert main(["map", str(hostile_dir / "region.toml"), "--out", str(out)]) == 0
    dialogs = _watch(page)
    page.goto(out.as_uri())
    page.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    n = page.evaluate(_POKE)
    assert n > 100
    page.wait_for_timeout(500)
    assert page.locator(".leaflet-tooltip, .leaflet-popup").count() >= 1  # something was shown
    assert page.evaluate("() => window.__xss") is None and dialogs == []


def test_app_map_page_runs_no_planted_script(hostile_dir, tmp_path, page):
    with serve_app(hostile_dir, tmp_path / "server.log") as url:
        dialogs = _watch(page)
        page.goto(url)
        frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
        frame.locator("path.tomoni-shelter").first.wait_for(timeout=90_000)
        inner = [f for f in page.frames if f is not page.main_frame]
        poked = 0
        for f in inner:
            try:
                poked += f.evaluate(_POKE)
            except Exception:  # a frame without the map
                continue
        assert poked > 100
        page.wait_for_timeout(1000)
        for f in [page.main_frame, *inner]:
            assert f.evaluate("() => window.__xss") is None
        assert dialogs == []
        assert page.get_by_text("&lt;img").count() == 0  # Streamlit shows names as text, not entities
