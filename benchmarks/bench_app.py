"""The app as a planner feels it: widget change → map settled, in Debian's Chromium.

Runs ``streamlit run streamlit_app.py`` on a region and drives it with Playwright,
timing what a person waits for:

* first map in a fresh browser session (the server already running: its first
  visitor pays the region load, printed apart);
* switching the hazard that colours the shelters (a rerun);
* hiding a layer — the 要配慮者 density, or the 町字/自治会 areas in a region without
  one — in the map's layer switcher (client-side: until the layer is off the map and
  two frames are drawn) and by removing its chip (a rerun: until the map is drawn again);
* a route to a clicked marker on the 災害VC・ルート page, and on the カバー率 page the
  season switch (summer → winter) and the year slider moved to the last projection year
  (demo only: it has roads).

Beside it, in the same run, the plain way: ``benchmarks/naive_map_app.py`` — one
Streamlit page that reads the region and builds the folium map with every layer
on each rerun, shown with st_folium (what a first version does).

    .venv/bin/python benchmarks/bench_app.py [--region demo|akita|PATH.toml] [--repeat 3]

``akita`` is every municipality of Akita from ../shared/data (3,347 GSI shelters,
7,345 町字 areas, N03 boundaries; no roads).  Floors (app trust issue): layer toggle
≤ 1 s, hazard switch ≤ 2 s, first map ≤ 4 s, route to a clicked point ≤ 2 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = os.environ.get("TOMONI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(script: str, env: dict[str, str], log: Path, cwd: Path = ROOT, *, launch: bool = False
          ) -> Iterator[str]:
    """Serve ``script``; ``launch``: as ``tomoni serve`` does (``python -m ui.launch``: the start
    region warmed while the server comes up), waiting until the warm-up is logged."""
    port = _port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", *(["ui.launch"] if launch else ["streamlit"]), "run", script,
             f"--server.port={port}",
             "--server.address=127.0.0.1", "--server.headless=true",
             "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
            cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 120
            while True:
                with contextlib.suppress(OSError), \
                        urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(log.read_text("utf-8", "replace"))
                time.sleep(0.3)
            while launch and not any(w in log.read_text("utf-8", "replace")
                                     for w in ("app caches warmed", "warming the app's caches failed")):
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(log.read_text("utf-8", "replace"))
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)


def region_toml(which: str, folder: Path) -> tuple[Path, bool]:
    """(region TOML, has roads) for ``demo``, ``akita`` or a path."""
    if which == "demo":
        from layers.demo import ensure_demo

        return ensure_demo(folder / "demo"), True
    if which == "akita":
        shared = Path(os.environ.get("TOMONI_SHARED_DATA", ROOT.parent / "shared" / "data")) / "akita"
        machiaza = sorted((shared / "machiaza").glob("*.json"))
        toml = folder / "akita.toml"
        toml.write_text(
            f'[region]\nname = "秋田県"\n[layers.boundaries]\n'
            f'path = "{shared}/boundaries/n03_akita_2021_simplified.geojson"\n'
            f'code = "N03_007"\nname = "N03_004"\n[layers.shelters]\n'
            f'path = ["{shared}/shelters/gsi_emergency_sites_akita.csv", '
            f'"{shared}/shelters/gsi_evacuation_shelters_akita.csv"]\n'
            f"[layers.neighbourhoods]\npath = {json.dumps([str(p) for p in machiaza], ensure_ascii=False)}\n",
            "utf-8")
        return toml, False
    return Path(which), True


def timed(action: Callable[[], None], settled: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    action()
    settled()
    return time.perf_counter() - t0


def _wait_change(page, before: str, probe: Callable[[], str], timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    end = time.time() + timeout
    while time.time() < end:
        with contextlib.suppress(Exception):
            if probe() != before:
                return
        page.wait_for_timeout(50)
    raise TimeoutError("the map did not change")


def _wait_map(page, selector: str = "path.tomoni-shelter") -> None:  # type: ignore[no-untyped-def]
    page.frame_locator(FRAME).last.locator(selector).first.wait_for(state="attached", timeout=120_000)


def _map_id(page) -> str:  # type: ignore[no-untyped-def]
    """The ids the app's map sets once its layers are drawn (a new one on every redraw of
    the map, and of its shelters layer, which a hazard switch redraws alone)."""
    frame = page.frame_locator(FRAME).last.locator("html")
    return str(frame.evaluate(
        "() => window.tomoniMapId ? window.tomoniMapId + ',' + (window.tomoniSheltersId || '') : ''"))


def _settled(page, before: str = "") -> None:  # type: ignore[no-untyped-def]
    _wait_change(page, before, lambda: _map_id(page), timeout=120)
    page.wait_for_timeout(0)


def measure_ours(browser, url: str, *, roads: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out: dict[str, float] = {}
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    out["first_map_s"] = timed(lambda: page.goto(url), lambda: _settled(page))
    # hazard switch (a rerun): the map is drawn again with the shelters recoloured
    before = _map_id(page)
    sel = page.locator('[data-testid="stSelectbox"]').first

    def pick_quake() -> None:
        sel.click()
        page.get_by_role("option", name="地震").click()

    out["hazard_switch_s"] = timed(pick_quake, lambda: _settled(page, before))
    frame = page.frame_locator(FRAME).last
    # the layer to hide: the 要配慮者 density when the region has one, else the 町字/自治会 areas
    with contextlib.suppress(Exception):
        frame.locator(".tomoni-mesh-tile").first.wait_for(timeout=20_000)
    title = "要配慮者" if frame.locator(".tomoni-mesh-tile").count() else "自治会"
    frame.locator(".leaflet-control-layers").hover()
    box = frame.locator(".leaflet-control-layers-overlays label").filter(has_text=title)
    if box.count():
        on_map = lambda: str(frame.locator("html").evaluate(  # noqa: E731
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
            "() => r(Object.keys(window.map._layers).length))))"))
        before_n = on_map()
        out["layer_toggle_client_s"] = timed(
            lambda: box.locator("input").uncheck(), lambda: _wait_change(page, before_n, on_map))
        box.locator("input").check()
        _wait_change(page, "off", lambda: "on" if on_map() == before_n else "off")
        chip = page.locator(f'[data-testid="stMultiSelect"] button[aria-label^="Remove {title}"]')
        before = _map_id(page)
        out["layer_toggle_rerun_s"] = timed(chip.click, lambda: _settled(page, before))
    if roads:
        page.goto(url + "/vc")
        _wait_map(page, "path.tomoni-route-normal")
        goal = page.locator('[data-testid="stSelectbox"]').nth(2).locator("input")
        route = page.frame_locator(FRAME).last.locator("path.tomoni-route-normal").first
        before_d = route.get_attribute("d") or ""

        def click_marker() -> None:
            page.frame_locator(FRAME).last.locator("path.tomoni-shelter").nth(5).click(force=True)

        def route_redrawn() -> None:
            _wait_change(page, "", lambda: "" if goal.input_value() != "地図をクリックした地点" else "x")
            _wait_change(page, before_d, lambda: page.frame_locator(FRAME).last.locator(
                "path.tomoni-route-normal").first.get_attribute("d") or "")

        out["route_to_click_s"] = timed(click_marker, route_redrawn)
        # カバー率: summer → winter (the winter network, coverage, gaps, the map drawn again)
        page.goto(url + "/coverage")
        _settled(page)
        before = _map_id(page)
        radio = page.locator('[data-testid="stRadio"]').filter(has_text="季節")
        winter = radio.get_by_text("冬（雪道・冬期閉鎖）")
        out["season_switch_s"] = timed(winter.click, lambda: _settled(page, before))
        before = _map_id(page)
        year = page.locator('[data-testid="stSlider"]').filter(has_text="年（将来推計）")
        slider = year.get_by_role("slider")
        if slider.count():
            slider.focus()
            out["year_slider_s"] = timed(lambda: slider.press("End"), lambda: _settled(page, before))
    ctx.close()
    return out


def measure_naive(browser, url: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out: dict[str, float] = {}
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    out["first_map_s"] = timed(lambda: page.goto(url), lambda: _wait_map(page, "path.leaflet-interactive"))
    frame = page.frame_locator(FRAME).last
    probe = lambda: str(frame.locator("path.leaflet-interactive").evaluate_all(  # noqa: E731
        "els => els.map(e => e.getAttribute('fill')).join('|')"))
    before = probe()

    def pick_quake() -> None:
        page.locator('[data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name="earthquake").click()

    out["hazard_switch_s"] = timed(pick_quake, lambda: _wait_change(page, before, probe))
    ctx.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--region", default="demo")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp_s:
        tmp = Path(tmp_s)
        toml, roads = region_toml(args.region, tmp)
        env = {"TOMONI_CACHE_DIR": str(tmp / "cache"), "BENCH_REGION": str(toml)}
        if args.region == "demo":
            env["TOMONI_DEMO_DIR"] = str(toml.parent)
        ours: list[dict[str, float]] = []
        naive: list[dict[str, float]] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
            app_env = env | ({"TOMONI_START_REGION": str(toml), "TOMONI_DATA_ROOT": str(toml.parent)}
                             if args.region != "demo" else {})
            with serve("streamlit_app.py", app_env, tmp / "ours.log", launch=True) as url:
                warm = measure_ours(browser, url, roads=roads)  # the server's first visitor
                print(f"server's first visitor (started as tomoni serve, its caches warmed): "
                      f"{warm['first_map_s']:.2f} s")
                ours = [measure_ours(browser, url, roads=roads) for _ in range(args.repeat)]
            naive_dir = tmp / "naive"  # Streamlit serves static/ beside the main script
            naive_dir.mkdir()
            shutil.copy(ROOT / "benchmarks" / "naive_map_app.py", naive_dir / "naive_map_app.py")
            (naive_dir / "static").symlink_to(ROOT / "static")
            shutil.copytree(ROOT / ".streamlit", naive_dir / ".streamlit")
            with serve("naive_map_app.py", env | {"BENCH_ROOT": str(ROOT)}, tmp / "naive.log",
                       cwd=naive_dir) as url:
                naive = [measure_naive(browser, url) for _ in range(args.repeat)]
            browser.close()
    med = {k: statistics.median(r[k] for r in ours) for k in ours[0]}
    nmed = {k: statistics.median(r[k] for r in naive) for k in naive[0]}
    print(f"region: {args.region}   (median of {args.repeat}, widget change → map settled in Chromium)")
    for key, value in med.items():
        line = f"  {key:24s} ours {value:6.2f} s"
        if key in nmed:
            line += f"   plain folium + st_folium {nmed[key]:6.2f} s   ratio {nmed[key] / value:5.1f}×"
        print(line)


if __name__ == "__main__":
    main()
