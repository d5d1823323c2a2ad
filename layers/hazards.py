"""Hazard zones: 浸水想定区域 (国土数値情報 A31), 土砂災害警戒区域 (A33) or any polygons.

The hazard type of a polygon comes from, in order: a column the user names
(``type_column``), a column called ``hazard``/``種別``/``災害種別``, the whole-file
``hazard = "flood"`` option, or the dataset code in the column names (A31 →
flood, A33 → landslide, A40 → tsunami, A49 → storm_surge).  Types are the keys
of :data:`layers.shelters.HAZARDS`; Japanese names are accepted.

Canonical schema (EPSG:4326 polygons):

==========  =====  ======================================================
column      type   meaning
==========  =====  ======================================================
zone_id     str    ``{hazard}-0001``…
hazard      str    ``flood``, ``landslide``, ``tsunami`` …
rank        Int64  depth/severity rank (A31 浸水深ランク 1–7, A33 区分 …),
                   <NA> when unknown; higher is more severe
name        str    zone name when the file has one
source      str    file name
geometry    MultiPolygon
==========  =====  ======================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.errors import LayerError
from layers.shelters import HAZARDS
from layers.validate import add_warning, optional_int, pick, read_polygon_file

__all__ = ["COLUMNS", "hazard_key", "in_zones", "load_hazards"]

LAYER = "hazards"
COLUMNS = ["zone_id", "hazard", "rank", "name", "source", "geometry"]
TYPE_NAMES = ("hazard", "種別", "災害種別", "hazard_type", "type")
RANK_NAMES = ("rank", "depth_rank", "浸水深ランク", "ランク", "A31_205", "A31a_205", "A33_001")
NAME_NAMES = ("name", "名称", "区域名", "A33_004")

_ALIASES = {
    "洪水": "flood", "浸水": "flood", "flood": "flood", "河川氾濫": "flood",
    "土砂災害": "landslide", "土砂": "landslide", "崖崩れ": "landslide", "がけ崩れ": "landslide",
    "土石流": "landslide", "地滑り": "landslide", "地すべり": "landslide",
    "急傾斜地の崩壊": "landslide", "landslide": "landslide",
    "津波": "tsunami", "tsunami": "tsunami",
    "高潮": "storm_surge", "storm_surge": "storm_surge",
    "地震": "earthquake", "earthquake": "earthquake",
    "火災": "fire", "大規模な火事": "fire", "fire": "fire",
    "内水": "inland_flood", "内水氾濫": "inland_flood", "inland_flood": "inland_flood",
    "火山": "volcano", "火山現象": "volcano", "volcano": "volcano",
}
_DATASET = {"A31": "flood", "A33": "landslide", "A40": "tsunami", "A49": "storm_surge"}


def hazard_key(value: str) -> str | None:
    """Canonical hazard key for a user's word (``"洪水"`` → ``"flood"``), or None."""
    v = str(value).strip()
    if v in HAZARDS:
        return v
    return _ALIASES.get(v) or _ALIASES.get(v.lower())


def _hazard_types(gdf: gpd.GeoDataFrame, path: Path, *, default: str | None, type_column: str | None,
                  rows: np.ndarray) -> np.ndarray:
    """The canonical hazard type of each row: from the type column, else ``hazard`` in the
    TOML, else recognised from the 国土数値情報 dataset's column names."""
    tc = pick(gdf, TYPE_NAMES, mapped=type_column, file=path, what="災害種別",
              key="type_column")
    if tc is not None:
        raw = gdf[tc].fillna("").astype(str)
        keys = raw.map(lambda v: hazard_key(v) or "")
        if default:
            keys = keys.where(keys != "", default)
        bad = (keys == "").to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise LayerError(
                "災害の種類が分からない行があります。",
                file=path, row=int(rows[i]), column=tc, layer=LAYER,
                fix=f"{', '.join(HAZARDS)}（または 洪水・土砂災害・津波 など）を入力してください。",
            )
        types = keys.to_numpy()
    else:
        guess = default or next(
            (v for k, v in _DATASET.items() if any(str(c).startswith(k) for c in gdf.columns)),
            None,
        )
        if guess is None:
            raise LayerError(
                "災害の種類が分かりません（種別の列も hazard の指定もありません）。",
                file=path, column="hazard", layer=LAYER,
                fix='地域設定の [layers.hazards] に hazard = "flood" のように書くか、'
                "種別の列（hazard）をファイルに入れてください。",
            )
        types = np.full(len(gdf), guess, dtype=object)
    return np.asarray(types)


def load_hazards(
    paths: Sequence[Path],
    *,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    hazard: str | None = None,
    type_column: str | None = None,
    rank: str | None = None,
) -> gpd.GeoDataFrame:
    """Load hazard polygons with a canonical type and an optional rank."""
    default = None
    if hazard is not None:
        default = hazard_key(hazard)
        if default is None:
            raise LayerError(
                "hazard に指定された災害の種類が分かりません。",
                column="hazard",
                layer=LAYER,
                fix=f"次のいずれかを指定してください: {', '.join(HAZARDS)}（洪水、土砂災害 なども可）",
            )
    frames = []
    warnings: list[str] = []
    for path in paths:
        gdf, w = read_polygon_file(path, layer=LAYER, fmt=fmt, crs=crs, encoding=encoding)
        warnings += w
        rows = np.arange(len(gdf)) + 2
        types = _hazard_types(gdf, path, default=default, type_column=type_column, rows=rows)
        rc = pick(gdf, RANK_NAMES, mapped=rank, file=path, what="ランク", key="rank")
        ranks = optional_int(gdf, rc, file=path, layer=LAYER, rows=rows)
        nc = pick(gdf, NAME_NAMES, file=path)
        frames.append(
            gpd.GeoDataFrame(
                {
                    "hazard": types,
                    "rank": ranks.array,
                    "name": gdf[nc].fillna("").astype(str).to_numpy() if nc else "",
                    "source": path.name,
                },
                geometry=[
                    shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g
                    for g in gdf.geometry.to_numpy()
                ],
                crs=gdf.crs,
            )
        )
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    out["rank"] = out["rank"].astype("Int64")
    counters: dict[str, int] = {}
    ids = []
    for h in out["hazard"]:
        counters[h] = counters.get(h, 0) + 1
        ids.append(f"{h}-{counters[h]:04d}")
    out.insert(0, "zone_id", ids)
    out = out[COLUMNS]
    out.attrs = {}
    for m in warnings:
        add_warning(out, m)
    return out


def in_zones(points: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None) -> np.ndarray:
    """Whether each point lies inside any of ``zones`` (one bulk spatial query), aligned to
    ``points``; all False without zones."""
    inside = np.zeros(len(points), dtype=bool)
    if zones is None or not len(zones) or not len(points):
        return inside
    hit = zones.geometry.to_crs(points.crs).sindex.query(points.geometry.to_numpy(), predicate="within")[0]
    inside[np.unique(hit)] = True
    return inside
