"""Large layers in a real browser: our canvas mesh layer vs the naive folium way.

Workload: a whole prefecture of 500 m mesh cells (about 50,000; inside Akita's
boundaries when ../shared/data is there) plus all 3,347 Akita shelter/site
points.  Both maps are standalone offline HTML files opened in Debian's
Chromium; we measure

* time to first map: navigation start → the layers are painted;
* redraw after a layer toggle: remove + add the mesh layer → painted again;
* redraw after a pan of 400×300 px.

Naive = folium ``GeoJson`` of the cell polygons (SVG) + one CircleMarker per
shelter, which is what a folium user writes first.  Run:

    .venv/bin/python benchmarks/bench_map_render.py [--cells 50000]

Floors (issue "Maps"): first map ≤ 5 s, redraw ≤ 2 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.outputs.assets import standalone_html
from geo.outputs.maps import region_map
from layers.boundaries import load_boundaries
from layers.shelters import load_shelters

SHARED = ROOT.parent / "shared" / "data" / "akita"
DLAT, DLON = 1 / 240, 1 / 160  # JIS X 0410 4次 (500 m) mesh


def workload(n_cells: int, seed: int = 7) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    lat0, lat1, lon0, lon1 = 38.87, 40.51, 139.69, 140.99
    south = lat0 + np.arange(int((lat1 - lat0) / DLAT)) * DLAT
    west = lon0 + np.arange(int((lon1 - lon0) / DLON)) * DLON
    ss, ww = np.meshgrid(south, west, indexing="ij")
    ss, ww = ss.ravel(), ww.ravel()
    if (SHARED / "boundaries").is_dir():
        b = load_boundaries([SHARED / "boundaries/n03_akita_2021_simplified.geojson"])
        inside = shapely.contains_xy(shapely.union_all(b.geometry.values), ww + DLON / 2, ss + DLAT / 2)
        ss, ww = ss[inside], ww[inside]
    if len(ss) > n_cells:
        keep = np.sort(rng.choice(len(ss), n_cells, replace=False))
        ss, ww = ss[keep], ww[keep]
    elif len(ss) < n_cells:  # pad with cells just outside (still a prefecture-size layer)
        extra = n_cells - len(ss)
        ss = np.concatenate([ss, lat0 - DLAT * (1 + np.arange(extra) // 300)])
        ww = np.concatenate([ww, lon0 + DLON * (np.arange(extra) % 300)])
    import jismesh.utils as ju

    counts = rng.poisson(rng.gamma(1.2, 6.0, len(ss))) + 5
    codes = np.asarray(ju.to_meshcode(ss + DLAT / 2, ww + DLON / 2, 4)).astype(str)
    cells = gpd.GeoDataFrame(
        {"unit_id": codes, "geography": "mesh500", "count": counts, "absorbed": "",
         "n_units": 1, "members": codes, "proxy": ""},
        geometry=shapely.box(ww, ss, ww + DLON, ss + DLAT), crs="EPSG:4326",
    )
    if (SHARED / "shelters").is_dir():
        shelters = load_shelters([SHARED / "shelters/gsi_emergency_sites_akita.csv",
                                  SHARED / "shelters/gsi_evacuation_shelters_akita.csv"])
    else:  # pragma: no cover - synthetic stand-in
        raise SystemExit("../shared/data/akita is needed for the 3,347 real shelters")
    return cells, shelters


def ours(cells: gpd.GeoDataFrame, shelters: gpd.GeoDataFrame) -> str:
    m = region_map({"vulnerable": cells, "shelters": shelters}, localise_assets=False)
    return standalone_html(m)


def naive(cells: gpd.GeoDataFrame, shelters: gpd.GeoDataFrame) -> str:
    m = folium.Map(location=[39.7, 140.3], zoom_start=8, tiles=None)
    m.options["maxZoom"] = 18
    folium.GeoJson(
        cells[["unit_id", "count", "geometry"]].to_json(),
        style_function=lambda f: {"fillColor": "#c51b8a" if f["properties"]["count"] > 10 else "#fbb4b9",
                                  "color": "#ffffff", "weight": 0.3, "fillOpacity": 0.7},
    ).add_to(m)
    for x, y, name in zip(shelters.geometry.x, shelters.geometry.y, shelters["name"], strict=True):
        folium.CircleMarker([y, x], radius=4, tooltip=name, color="#1a7f37").add_to(m)
    return standalone_html(m)


MEASURE_OURS = """async () => {
  await new Promise(r => {
    const f = () => window.tomoniMesh && window.tomoniMeshDrawn ? r() : setTimeout(f, 5); f(); });
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const first = performance.now();
  const m = window.tomoniMap, l = window.tomoniMesh;
  await new Promise(r => setTimeout(r, 800));  // let the opening fitBounds settle
  const painted = (action) => Promise.race([
    new Promise(r => { l.once('load', r); action(); }),
    new Promise((_, no) => setTimeout(() => no(new Error('no load event')), 20000))]);
  let t = performance.now();
  await painted(() => { m.removeLayer(l); m.addLayer(l); });
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const toggle = performance.now() - t;
  t = performance.now();
  await painted(() => m.panBy([400, 300], {animate: false}));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const pan = performance.now() - t;
  return {first: first, toggle: toggle, pan: pan};
}"""

MEASURE_NAIVE = """async () => {
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const first = performance.now();
  await new Promise(r => setTimeout(r, 800));
  const mk = Object.keys(window).find(k => k.startsWith('map_'));
  const gk = Object.keys(window).find(k => k.startsWith('geo_json_') && window[k] && window[k].eachLayer);
  const m = window[mk], l = window[gk];
  let t = performance.now();
  m.removeLayer(l); m.addLayer(l);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const toggle = performance.now() - t;
  t = performance.now();
  m.panBy([400, 300], {animate: false});
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const pan = performance.now() - t;
  return {first: first, toggle: toggle, pan: pan};
}"""


def measure(html_path: Path, script: str, chromium: str, runs: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking"])
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(html_path.as_uri(), wait_until="load", timeout=300_000)
            results.append(page.evaluate(script))
            page.close()
        browser.close()
    return {k: float(np.median([r[k] for r in results])) / 1000 for k in results[0]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    cells, shelters = workload(args.cells)
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, script in (("tomoni", ours, MEASURE_OURS), ("naive folium", naive, MEASURE_NAIVE)):
            t = time.perf_counter()
            html = build(cells, shelters)
            build_s = time.perf_counter() - t
            path = Path(tmp) / f"{name.replace(' ', '_')}.html"
            path.write_text(html, "utf-8")
            figures = measure(path, script, args.chromium, args.runs)
            out[name] = {"python_build_s": build_s, "html_mb": len(html.encode()) / 1e6, **figures}
            print(f"{name:13s} build {build_s:6.2f} s  html {out[name]['html_mb']:6.1f} MB  "
                  f"first map {figures['first']:6.2f} s  toggle redraw {figures['toggle']:6.2f} s  "
                  f"pan redraw {figures['pan']:6.2f} s", flush=True)
    a, b = out["tomoni"], out["naive folium"]
    print(f"\n{len(cells):,} mesh cells + {len(shelters):,} shelters")
    for key, label in (("first", "first map"), ("toggle", "toggle redraw"), ("pan", "pan redraw"),
                       ("python_build_s", "python build")):
        print(f"  {label:14s} tomoni {a[key]:6.2f} s  naive {b[key]:6.2f} s  ratio {b[key] / a[key]:6.1f}x")
    ok = a["first"] + a["python_build_s"] <= 5.0 and a["toggle"] <= 2.0
    print(f"\nfloor (first map incl. build ≤ 5 s, redraw ≤ 2 s): {'OK' if ok else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), "utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
