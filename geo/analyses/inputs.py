"""What every analysis entry reads from a region: its area layers, the demand layer
(register or projection, through the projection cache), the road network, points and dates.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from geo.engine.network import Network
from geo.engine.network_cache import region_network
from layers.crs import JAPAN_BOUNDS, STORAGE_CRS, transform_xy
from layers.errors import ParameterError
from layers.layer_facts import AREA_KEYS, id_column
from layers.projection import Projection, load_projection, projected_demand, scaled_density

if TYPE_CHECKING:
    from layers.demand import Demand
    from layers.region import RegionLike

__all__ = [
    "AREA_KEYS",
    "clock_text",
    "demand_layer",
    "file_states",
    "has_roads",
    "next_weekday",
    "parse_lonlat",
    "prepare_region",
    "projection_of",
    "projection_years",
    "region_areas",
    "region_point",
    "register_people",
]



POINT_MARGIN_M = 5000.0
"""How far outside the region's data a route end may lie."""


def region_areas(region: RegionLike) -> dict[str, gpd.GeoDataFrame]:
    """The region's area layers (自治会, 校区, 市町村) for per-area tables."""
    return {k: region.layers[k] for k in AREA_KEYS if k in region.layers}


def _network(region: RegionLike, straight_line: bool = False) -> Network | None:
    return None if straight_line else region_network(region)


DEMANDS = ("register", "65+", "75+", "total")


def demand_layer(region: RegionLike, *, year: int | None = None,
                 demand: str = "register") -> gpd.GeoDataFrame:
    """The demand of an analysis: the anonymised 要配慮者 layer, or a projection year of it
    (scaled by the change of 65+ in its 500 m cell since the projection year nearest today),
    or the projected 65+/75+ themselves (:mod:`layers.projection`)."""
    if demand not in DEMANDS:
        raise ParameterError("需要の種類が分かりません。", parameter="demand",
                             fix=f"次のいずれか: {', '.join(DEMANDS)}")
    if year is None and demand == "register":
        return region.layer("vulnerable")
    paths = region.config.projection
    if not paths:
        raise ParameterError("将来推計がありません。", parameter="year",
                             fix=HOW_TO_ADD["projection"])
    proj = projection_of(file_states(paths))
    when = year if year is not None else _nearest_year(proj.years)
    if demand == "register":
        return scaled_density(region.layer("vulnerable"), proj, when, base=_nearest_year(proj.years))
    return projected_demand(proj, when, band=demand)


def register_people(region: RegionLike, *, year: int | None = None,
                    demand: str = "register") -> Demand | None:
    """The register's people in memory (:attr:`layers.region.Region.demand`) when the
    analysis counts today's register; None otherwise (a projection year or a proxy: the
    density is spread over its units, :func:`geo.analyses.coverage.people_of`)."""
    if year is not None or demand != "register":
        return None
    return getattr(region, "demand", None)


def file_states(paths: Any) -> tuple[tuple[Path, int, int], ...]:
    """Each path with its size and modification time: a file replaced is read again."""
    return tuple((Path(p), Path(p).stat().st_size, Path(p).stat().st_mtime_ns) for p in paths)


PROJECTION_CACHE_VERSION = 1


@functools.lru_cache(maxsize=4)
def projection_of(files: tuple[tuple[Path, int, int], ...]) -> Projection:
    """The projection of these files, read and checked once: kept in this process and, as
    GeoParquet keyed by the files' SHA-256, in the cache folder (public, aggregated data; a
    prefecture's 500 m GeoJSON takes seconds to parse, its cached copy a tenth of one)."""
    import hashlib
    import logging

    from layers.atomic import atomic_path
    from layers.cache import cache_folder, file_hash

    key = hashlib.sha256("|".join(file_hash(f[0]) for f in files).encode()).hexdigest()[:32]
    cached = cache_folder() / f"projection-{key}-v{PROJECTION_CACHE_VERSION}.parquet"
    if cached.exists():
        try:
            cells = gpd.read_parquet(cached)
            years = tuple(sorted({int(str(c)[4:]) for c in cells.columns if str(c).startswith("PTN_")}))
            return Projection(cells=cells, years=years)
        except Exception:  # a damaged cache file: read the source files again
            logging.getLogger(__name__).warning("projection cache unreadable, reading the files again")
    proj = load_projection([f[0] for f in files])
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cached) as tmp:
            proj.cells.to_parquet(tmp)
    except OSError:  # a read-only cache folder: work without it
        pass
    return proj


def projection_years(region: RegionLike) -> tuple[tuple[int, ...], int]:
    """The projection years of the region's ``[projection]`` (empty without one) and the
    one nearest today (0 without one)."""
    if not region.config.projection:
        return (), 0
    years = projection_of(file_states(region.config.projection)).years
    return years, _nearest_year(years)


def _nearest_year(years: tuple[int, ...]) -> int:
    """The projection year nearest today (a register describes today)."""
    import datetime as dt

    today = dt.date.today().year
    return min(years, key=lambda y: (abs(y - today), y))


def region_point(region: RegionLike, value: str, parameter: str) -> tuple[tuple[float, float], str]:
    """A route end as a person gives it: the id of a VC candidate / shelter / 居場所, or
    ``"LON,LAT"``; returns the metric point (region CRS) and a label."""
    for key in ("vc_sites", "shelters", "places"):
        layer = region.layers.get(key)
        col = id_column(layer, key) if layer is not None else None
        if layer is not None and col is not None and (layer[col].astype(str) == value).any():
            row = layer[layer[col].astype(str) == value].to_crs(region.crs).iloc[0]
            return (float(row.geometry.x), float(row.geometry.y)), str(row.get("name", value))
    lon, lat = parse_lonlat(value, parameter)
    x, y = transform_xy(np.array([lon]), np.array([lat]), STORAGE_CRS, region.crs)
    b = region.extent()
    m = POINT_MARGIN_M
    if not (b[0] - m <= x[0] <= b[2] + m and b[1] - m <= y[0] <= b[3] + m):
        raise ParameterError("地点が地域の外です。", parameter=parameter,
                             fix="地域（地域設定のデータの範囲）の中の 経度,緯度 を指定してください。")
    return (float(x[0]), float(y[0])), f"{lon:.4f},{lat:.4f}"


def parse_lonlat(value: str, parameter: str) -> tuple[float, float]:
    """``"140.10,39.72"`` → (lon, lat), with a clear error for the usual mistakes."""
    parts = [p.strip() for p in str(value).replace("、", ",").split(",")]
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError:
        raise ParameterError("地点の形式が違います（経度,緯度 の 2 つの数、または施設のID）。",
                             parameter=parameter, fix="例: 140.1023,39.7186（経度が先）") from None
    w, s, e, n = JAPAN_BOUNDS
    if s <= lon <= n and w <= lat <= e:
        raise ParameterError("地点の経度と緯度が逆のようです。", parameter=parameter,
                             fix="経度を先に書いてください。例: 140.1023,39.7186")
    if not (w <= lon <= e and s <= lat <= n):
        raise ParameterError("地点が日本の範囲外です。", parameter=parameter,
                             fix=f"経度 {w:g}〜{e:g}、緯度 {s:g}〜{n:g} の範囲で指定してください。")
    return lon, lat


def next_weekday() -> dt.date:
    """The next Monday–Friday after today: the default day of a walk + bus run."""
    day = dt.date.today() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def clock_text(seconds: object, *, nearest: bool = False) -> str:
    """Seconds from midnight as ``9:05`` (``25:10`` past midnight); blank for none.  The
    minute is cut (a plan's start) or, with ``nearest``, rounded (an arrival)."""
    try:
        v = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if v != v or v in (float("inf"), float("-inf")):
        return ""
    m = round(v / 60.0) if nearest else int(v) // 60
    return f"{m // 60}:{m % 60:02d}"


def prepare_region(region: RegionLike) -> None:
    """Load what every analysis of ``region`` reads first — its road network — into the
    process's caches (a server warms its start region with it; nothing is written)."""
    if has_roads(region):
        region_network(region)


HOW_TO_ADD = {
    "roads": ("アプリではデータのページの「道路（OpenStreetMap）」で作ってください"
              "（コマンドでは tomoni roads、地域設定では [roads] path）。"),
    "transit": ("アプリでは公共交通のページかデータのページで GTFS-JP の zip を追加してください"
                "（地域設定では [layers.transit] path）。"),
    "projection": ("国土数値情報の 500m メッシュ別将来推計人口をデータのフォルダに置き、地域設定に "
                   '[projection] path = "将来推計人口.geojson" を書いてください。'),
}
"""How to give a region what an analysis needs and it lacks: one text each, for every entry
that says so (instead of answering without it)."""


def has_roads(region: RegionLike) -> bool:
    """Whether the region names a road network (``[roads]``): analyses that need roads say so
    instead of answering without them."""
    return getattr(getattr(region, "config", None), "roads", None) is not None
