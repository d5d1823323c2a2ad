"""Coordinate reference systems: storage, analysis zone, datum conversion.

Rules (see ``docs/formats.md``):

* layers are **stored** in EPSG:4326 (lon/lat; JGD2011 geographic coordinates
  are the same to well under a metre);
* distances and areas are **analysed** in the JGD2011 平面直角座標系 zone chosen
  from the data's location (Akita → zone X, EPSG:6678), never a constant;
* declared JGD2000 (EPSG:4612) and Tokyo datum (EPSG:4301) inputs are converted,
  never silently taken as JGD2011 (Tokyo datum is ~400 m off).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from layers.errors import LayerError, spreadsheet_row

__all__ = [
    "EARTH_RADIUS_M",
    "JAPAN_BOUNDS",
    "STORAGE_CRS",
    "analysis_crs_for",
    "check_in_japan",
    "crs_label",
    "ensure_metric",
    "great_circle_m",
    "normalise_crs",
    "parse_crs",
    "plane_rectangular_zone",
    "swap_if_needed",
    "to_analysis",
]

STORAGE_CRS = "EPSG:4326"
"""CRS of every stored layer (lon/lat)."""

JAPAN_BOUNDS = (122.0, 20.0, 154.5, 46.0)
"""(min lon, min lat, max lon, max lat) enclosing Japan including remote islands."""

# (zone number, EPSG code of JGD2011 zone, origin lat, origin lon)
_ZONES: tuple[tuple[int, int, float, float], ...] = (
    (1, 6669, 33.0, 129.5),
    (2, 6670, 33.0, 131.0),
    (3, 6671, 36.0, 132 + 10 / 60),
    (4, 6672, 33.0, 133.5),
    (5, 6673, 36.0, 134 + 20 / 60),
    (6, 6674, 36.0, 136.0),
    (7, 6675, 36.0, 137 + 10 / 60),
    (8, 6676, 36.0, 138.5),
    (9, 6677, 36.0, 139 + 50 / 60),
    (10, 6678, 40.0, 140 + 50 / 60),
    (11, 6679, 44.0, 140.25),
    (12, 6680, 44.0, 142.25),
    (13, 6681, 44.0, 144.25),
    (14, 6682, 26.0, 142.0),
    (15, 6683, 26.0, 127.5),
    (16, 6684, 26.0, 124.0),
    (17, 6685, 26.0, 131.0),
    (18, 6686, 20.0, 136.0),
    (19, 6687, 26.0, 154.0),
)

# Declared input CRSs that we convert, by the names users write.
_ALIASES = {
    "JGD2011": "EPSG:6668",
    "JGD2000": "EPSG:4612",
    "TOKYO": "EPSG:4301",
    "WGS84": "EPSG:4326",
}


_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV",
          "XVI", "XVII", "XVIII", "XIX")


def crs_label(crs: str) -> str:
    """A CRS as a reader knows it: ``EPSG:6678`` → 「平面直角座標系 第X系（JGD2011）」;
    another CRS keeps its code."""
    code = str(crs).upper().removeprefix("EPSG:")
    if code in ("4326", "6668"):
        return "緯度経度（JGD2011/WGS84）"
    for number, epsg, _lat, _lon in _ZONES:
        if code == str(epsg):
            return f"平面直角座標系 第{_ROMAN[number - 1]}系（JGD2011）"
    return str(crs)


@dataclass(frozen=True)
class Zone:
    """One JGD2011 plane-rectangular zone."""

    number: int
    epsg: int

    @property
    def crs(self) -> str:
        return f"EPSG:{self.epsg}"


@lru_cache(maxsize=32)
def _zone_bounds(epsg: int) -> tuple[float, float, float, float]:
    area = CRS.from_epsg(epsg).area_of_use
    if area is None:  # pragma: no cover - every JGD2011 zone has one
        return JAPAN_BOUNDS
    return (area.west, area.south, area.east, area.north)


def plane_rectangular_zone(lon: float, lat: float) -> Zone:
    """Choose the JGD2011 平面直角座標系 zone for a location.

    Among the zones whose area of use contains the point, the one whose origin is
    nearest wins.  Zones are assigned per prefecture by law; this rule gives the
    legal zone for Akita (X) and Tokyo (IX) and a close metric zone elsewhere.
    A region can always name its zone with ``crs = "EPSG:66xx"``.

    Raises
    ------
    LayerError
        If the location lies outside Japan.
    """
    if not (JAPAN_BOUNDS[0] <= lon <= JAPAN_BOUNDS[2] and JAPAN_BOUNDS[1] <= lat <= JAPAN_BOUNDS[3]):
        raise LayerError(
            "データの位置が日本の範囲外のため、平面直角座標系を選べません。",
            fix="座標の列（緯度・経度）と座標系の指定を確認してください。",
        )
    best: tuple[float, Zone] | None = None
    fallback: tuple[float, Zone] | None = None
    coslat = math.cos(math.radians(lat))
    for number, epsg, olat, olon in _ZONES:
        d = math.hypot((lon - olon) * coslat, lat - olat)
        zone = Zone(number, epsg)
        w, s, e, n = _zone_bounds(epsg)
        if w <= lon <= e and s <= lat <= n and (best is None or d < best[0]):
            best = (d, zone)
        if fallback is None or d < fallback[0]:
            fallback = (d, zone)
    chosen = best or fallback
    assert chosen is not None  # _ZONES is not empty
    return chosen[1]


def analysis_crs_for(frames: Iterable[gpd.GeoDataFrame]) -> str:
    """Return the analysis CRS (as ``"EPSG:66xx"``) for the union of the layers."""
    bounds = [f.total_bounds for f in frames if len(f) and f.crs is not None]
    if not bounds:
        raise LayerError(
            "空でないレイヤーがないため、解析用の座標系を選べません。",
            fix="少なくとも1つのレイヤーを読み込むか、[region] に crs を指定してください。",
        )
    b = np.vstack(bounds)
    lon = (float(np.nanmin(b[:, 0])) + float(np.nanmax(b[:, 2]))) / 2
    lat = (float(np.nanmin(b[:, 1])) + float(np.nanmax(b[:, 3]))) / 2
    return plane_rectangular_zone(lon, lat).crs


def parse_crs(value: str | int | None, *, file: str | Path | None = None) -> CRS | None:
    """Parse a declared CRS (``"EPSG:4612"``, ``4301``, ``"JGD2000"``, ``"Tokyo"``)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    text = _ALIASES.get(text.upper(), text)
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except Exception as exc:  # pyproj raises CRSError
        raise LayerError(
            "座標系の指定を解釈できません。",
            file=file,
            column="crs",
            fix='"EPSG:6668"（JGD2011 緯度経度）、"EPSG:4612"（JGD2000）、'
            '"EPSG:4301"（旧日本測地系）、"EPSG:6678"（平面直角座標系X系）などで指定してください。',
        ) from exc


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def transform_xy(
    x: np.ndarray, y: np.ndarray, src: CRS | str, dst: CRS | str = STORAGE_CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays (always x = easting/lon, y = northing/lat)."""
    src_s = CRS.from_user_input(src).to_wkt()
    dst_s = CRS.from_user_input(dst).to_wkt()
    if src_s == dst_s:
        return np.asarray(x, float), np.asarray(y, float)
    tx, ty = _transformer(src_s, dst_s).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(tx), np.asarray(ty)


def normalise_crs(
    gdf: gpd.GeoDataFrame,
    *,
    file: str | Path | None = None,
    declared: CRS | None = None,
) -> gpd.GeoDataFrame:
    """Return ``gdf`` in the storage CRS (EPSG:4326).

    A ``declared`` CRS overrides what the file says (users write it in the region
    TOML when a file carries no CRS or a wrong one).  A layer without any CRS is
    refused, not guessed.
    """
    if declared is not None:
        gdf = gdf.set_crs(declared, allow_override=True)
    if gdf.crs is None:
        raise LayerError(
            "ファイルに座標系の情報がありません（.prj がない等）。",
            file=file,
            fix='地域設定（TOML）のこのレイヤーに crs = "EPSG:6668" のように座標系を書いてください。',
        )
    _check_coordinates(gdf, file=file)
    if CRS.from_user_input(gdf.crs).equals(CRS.from_user_input(STORAGE_CRS), ignore_axis_order=True):
        return gdf.set_crs(STORAGE_CRS, allow_override=True)
    return gdf.to_crs(STORAGE_CRS)


def _check_coordinates(gdf: gpd.GeoDataFrame, *, file: str | Path | None) -> None:
    """Refuse a coordinate that is not a number (NaN, inf) and, in a geographic CRS, one
    that cannot be a longitude/latitude (metric coordinates in a GeoJSON without a CRS are
    read as degrees: never silently)."""
    import shapely

    coords, row = shapely.get_coordinates(np.asarray(gdf.geometry.values), return_index=True)
    if not len(coords):
        return
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        raise LayerError(
            f"座標が数値でない点があります（{int(bad.sum())} 点）。",
            file=file, row=int(row[np.flatnonzero(bad)[0]]) + 2, column="geometry",
            fix="その地物の形を描き直すか、削除してください。",
        )
    if CRS.from_user_input(gdf.crs).is_geographic:
        out = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
        if out.any():
            raise LayerError(
                "座標が経度・緯度の範囲にありません（平面直角座標などのメートル単位の座標が、"
                "座標系の指定なしで書かれているようです）。",
                file=file, row=int(row[np.flatnonzero(out)[0]]) + 2, column="geometry",
                fix='地域設定（TOML）のこのレイヤーに crs = "EPSG:6678" のように'
                "正しい座標系を書いてください。",
            )


def check_in_japan(
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    file: str | Path | None = None,
    columns: tuple[str, str] = ("経度", "緯度"),
    header_rows: int = 1,
) -> None:
    """Refuse coordinates outside Japan, naming the first offending row."""
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    w, s, e, n = JAPAN_BOUNDS
    bad_lon = ~((lon >= w) & (lon <= e))
    bad_lat = ~((lat >= s) & (lat <= n))
    bad = bad_lon | bad_lat
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        col = columns[0] if bad_lon[i] else columns[1]
        raise LayerError(
            f"座標が日本の範囲外です（範囲外 {int(bad.sum())} 行）。",
            file=file,
            row=spreadsheet_row(i, header_rows=header_rows),
            column=col,
            fix="緯度は 20〜46、経度は 122〜154 の度単位で入力してください。"
            "平面直角座標（メートル）の場合は x/y 列と crs を指定してください。",
        )


def swap_if_needed(
    lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Detect lat/lon columns given the wrong way round and swap them.

    Japan's latitudes (20–46) and longitudes (122–154) do not overlap, so a column
    pair whose "latitude" looks like longitudes in most rows was swapped.
    """
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return lon, lat, False
    looks_swapped = (lat[ok] > 100) & (lon[ok] < 60)
    if looks_swapped.mean() > 0.5:
        return lat, lon, True
    return lon, lat, False


def to_analysis(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """Project a stored layer to the metric analysis CRS."""
    ensure_metric(crs)
    return gdf.to_crs(crs)


def ensure_metric(crs: CRS | str) -> None:
    """Refuse a geographic (degree) CRS where metres are meant, and one that cannot hold
    Japan in metres (another celestial body, a degenerate ellipsoid)."""
    c = CRS.from_user_input(crs)
    if c.is_geographic:
        raise LayerError(
            f"距離の計算に度単位の座標系（{c.to_string()}）が指定されています。",
            column="crs",
            fix='メートル単位の平面直角座標系（例: 秋田県は "EPSG:6678"）を指定してください。',
        )
    try:
        x, y = Transformer.from_crs(STORAGE_CRS, c, always_xy=True).transform(140.1, 39.7)
        ok = bool(np.isfinite(x) and np.isfinite(y) and abs(x) < 1e8 and abs(y) < 1e8)
    except ProjError:
        ok = False
    if not ok:
        raise LayerError(f"この座標系では日本の位置をメートルで表せません（{c.to_string()[:60]}）。",
                         column="crs", fix='平面直角座標系（例: 秋田県は "EPSG:6678"）を指定してください。')


def lonlat_columns_to_points(
    df: pd.DataFrame, lon: np.ndarray, lat: np.ndarray
) -> gpd.GeoDataFrame:
    """Build a point GeoDataFrame in the storage CRS from lon/lat arrays."""
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=STORAGE_CRS)


EARTH_RADIUS_M = 6_371_009.0
"""The mean Earth radius osmnx measures edge lengths with (great-circle distance)."""


def great_circle_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Metres along the great circle between two arrays of points (haversine, as osmnx)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
