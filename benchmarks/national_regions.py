"""Synthetic prefecture region files for the national batch benchmark.

Each of the 47 "prefectures" is a folder shaped like a real region: N03-style
boundaries GeoJSON (four municipalities), 1 km 町字-like areas (the demand proxy),
居場所 as a council's CSV (Japanese columns, addresses), shelters in the GSI
指定緊急避難場所 CSV layout, and a street-grid road network of about 215,000 nodes.

The road files are placeholders whose network is **already in the cache** (the
state after a first run: the cache is keyed by the road file's SHA-256, the
network type and the CRS, see :mod:`geo.engine.network`).  Parsing 47 GraphML files of
215k nodes would take longer than the batch itself and measures osmnx, not the
batch; the batch then runs exactly as it would on a second day.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from bench_network import street_grid

from geo.engine.network import _from_arrays
from geo.engine.network_cache import CACHE_VERSION, file_hash, network_arrays
from layers.crs import transform_xy

CRS = "EPSG:6678"
GSI_COLUMNS = ["NO", "共通ID", "都道府県名及び市町村名", "施設・場所名", "住所", "洪水",
               "崖崩れ、土石流及び地滑り", "高潮", "地震", "津波", "大規模な火事", "内水氾濫", "火山現象",
               "指定避難所との住所同一", "緯度", "経度", "備考"]


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return transform_xy(np.asarray(x, float), np.asarray(y, float), CRS, "EPSG:4326")


def prefecture(folder: Path, index: int, nodes: int, cache: Path, *, area_step: float = 1000.0,
               places_per: int = 700, counts: bool = False) -> int:
    """Write prefecture ``index`` (0-based) into ``folder``; returns its node count.

    ``area_step``: the side of the 町字-like areas (m); ``places_per``: road nodes per
    居場所; ``counts``: also a 要配慮者 count per area (``counts_by_area.csv``, cp932, as
    a 社協 keeps it per 自治会) as the region's vulnerable layer (k-rule applied on load);
    else the areas stand in for the demand."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1000 + index)
    grid, _ = street_grid(nodes, seed=index + 1)
    ox, oy = -180_000.0 + (index % 7) * 50_000.0, -200_000.0 + (index // 7) * 50_000.0
    x, y = grid.x + ox, grid.y + oy
    u = np.repeat(np.arange(grid.n), np.diff(grid.indptr))
    net = _from_arrays(grid.node_ids, x, y, u, grid.indices, grid.weights, crs=CRS, directed=False)
    pref = f"{index + 1:02d}"
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    quads = [shapely.box(a, b, c, d) for a, b, c, d in
             ((x0, y0, xm, ym), (xm, y0, x1, ym), (x0, ym, xm, y1), (xm, ym, x1, y1))]
    codes = [f"{pref}{i + 1:03d}" for i in range(4)]
    gpd.GeoDataFrame({"N03_001": f"架空{pref}県", "N03_004": [f"第{i + 1}市" for i in range(4)],
                      "N03_007": codes}, geometry=quads, crs=CRS).to_crs("EPSG:4326") \
        .to_file(folder / "boundaries_n03.geojson", driver="GeoJSON")
    step = area_step
    gx, gy = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
    gx, gy = gx.ravel(), gy.ravel()
    gpd.GeoDataFrame({"自治会コード": [f"A{pref}-{i:05d}" for i in range(len(gx))],
                      "自治会名": [f"第{i}町（架空）" for i in range(len(gx))]},
                     geometry=shapely.box(gx, gy, gx + step, gy + step), crs=CRS) \
        .to_crs("EPSG:4326").to_file(folder / "machiaza.geojson", driver="GeoJSON")
    if counts:
        pd.DataFrame({"自治会コード": [f"A{pref}-{i:05d}" for i in range(len(gx))],
                      "人数": rng.integers(0, 40, len(gx))}).to_csv(folder / "counts_by_area.csv",
                                                                  index=False, encoding="cp932")
    for name, count, writer in (("ibasho.csv", nodes // places_per, _places),
                                ("gsi_sites.csv", nodes // 180, _sites)):
        at = rng.choice(grid.n, count, replace=False)
        lon, lat = _lonlat(x[at], y[at])
        writer(folder / name, pref, lon, lat, rng)
    road = folder / "roads.graphml"
    road.write_text(f"<?xml version='1.0' encoding='utf-8'?>\n<!-- 架空{pref}県: the network of this "
                    f"file is pre-cached ({net.n} nodes) -->\n<graphml/>\n", encoding="utf-8")
    key = f"{file_hash(road)}-walk-{CRS.replace(':', '')}-v{CACHE_VERSION}"
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(cache / f"network-{key}.npz", **network_arrays(net), meta=np.array([net.crs, "0"]))
    (folder / "region.toml").write_text(f"""[region]
name = "架空{pref}県"
fictional = true
crs = "{CRS}"

[layers.boundaries]
path = "boundaries_n03.geojson"
code = "N03_007"
name = "N03_004"

[layers.neighbourhoods]
path = "machiaza.geojson"

[layers.places]
path = "ibasho.csv"

[layers.shelters]
path = "gsi_sites.csv"

[roads]
path = "roads.graphml"
network = "walk"
""" + ("""
[layers.vulnerable]
path = "counts_by_area.csv"
kind = "area_counts"
by = "neighbourhoods"
""" if counts else ""), encoding="utf-8")
    return net.n


def _places(path: Path, pref: str, lon: np.ndarray, lat: np.ndarray, rng: np.random.Generator) -> None:
    n = len(lon)
    pd.DataFrame({"番号": [f"IB{i:04d}" for i in range(n)],
                  "名称": [f"通いの場{i}（架空）" for i in range(n)],
                  "種別": rng.choice(["サロン", "認知症カフェ", "子ども食堂"], n), "定員": 20,
                  "住所": [f"架空{pref}県第1市本町{i % 9 + 1}-{i % 30 + 1}" for i in range(n)],
                  "緯度": np.round(lat, 6), "経度": np.round(lon, 6)}) \
        .to_csv(path, index=False, encoding="cp932")


def _sites(path: Path, pref: str, lon: np.ndarray, lat: np.ndarray, rng: np.random.Generator) -> None:
    n = len(lon)
    flags = {c: np.where(rng.random(n) < p, "1", "") for c, p in
             (("洪水", 0.6), ("崖崩れ、土石流及び地滑り", 0.5), ("高潮", 0.1), ("地震", 0.85),
              ("津波", 0.2), ("大規模な火事", 0.5), ("内水氾濫", 0.3), ("火山現象", 0.05))}
    df = pd.DataFrame({"NO": np.arange(n) + 1, "共通ID": [f"E{pref}00{i:07d}" for i in range(n)],
                       "都道府県名及び市町村名": f"架空{pref}県第1市",
                       "施設・場所名": [f"第{i}避難場所（架空）" for i in range(n)],
                       "住所": [f"架空{pref}県第1市本町{i % 9 + 1}-{i % 30 + 1}" for i in range(n)],
                       **flags, "指定避難所との住所同一": "", "緯度": np.round(lat, 6),
                       "経度": np.round(lon, 6), "備考": ""})
    df[GSI_COLUMNS].to_csv(path, index=False, encoding="utf-8-sig")


def national(folder: Path, cache: Path, *, prefectures: int = 47, nodes: int = 215_000) -> tuple[Path, int]:
    """All prefectures and a ``REGIONS.toml`` naming them; returns it and the total nodes."""
    total = sum(prefecture(folder / f"{i + 1:02d}", i, nodes, cache) for i in range(prefectures))
    names = [f"{i + 1:02d}/region.toml" for i in range(prefectures)]
    batch = folder / "REGIONS.toml"
    batch.write_text(f'[batch]\nname = "全国（架空）"\nregions = {json.dumps(names)}\n'
                     'hazard = "earthquake"\n', encoding="utf-8")
    return batch, total
