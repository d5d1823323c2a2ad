"""自治会 / 町内会 areas, the base unit of 小地域ネットワーク.

Two inputs:

* polygons with a name (municipal 自治会 maps, 町丁・字 boundaries);
* only representative points — e.g. the 町丁・字 points of 位置参照情報 /
  Geolonia ``[{town, koaza, lat, lng}]`` JSON, or a CSV with a name and
  coordinates.  Stand-in areas are then built as Voronoi cells around the
  points, clipped to their municipality, and flagged ``estimated = True``
  (every map and table that shows them says 推定).

Canonical schema (EPSG:4326 polygons):

==========  =====  =====================================================
column      type   meaning
==========  =====  =====================================================
area_id     str    the file's ID, or ``{muni_code}-0001``…
name        str    自治会名 / 町丁・字名
muni_code   str    市町村コード ("" when no boundaries are known)
estimated   bool   True for Voronoi stand-ins
source      str    file name
geometry    MultiPolygon
==========  =====  =====================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.boundaries import assign_municipality, normalise_code
from layers.crs import STORAGE_CRS, analysis_crs_for, check_in_japan, swap_if_needed
from layers.errors import LayerError
from layers.readers import (
    TABLE_FORMATS,
    detect_format,
    read_json,
    read_point_file,
    read_vector,
)
from layers.validate import add_warning, check_unique, pick, read_polygon_file

__all__ = ["COLUMNS", "areas_from_points", "load_neighbourhoods"]

LAYER = "neighbourhoods"
COLUMNS = ["area_id", "name", "muni_code", "estimated", "source", "geometry"]
NAME_NAMES = ("自治会名", "町内会名", "名称", "name", "area_name", "地区名", "町丁字名", "町字", "町丁目",
              "town")
ID_NAMES = ("area_id", "id", "ID", "コード", "自治会コード")
MUNI_NAMES = ("市町村コード", "muni_code", "N03_007")


def _place_points(gdf: gpd.GeoDataFrame, path: Path, *, name: str | None) -> gpd.GeoDataFrame:
    """町丁・字 representative points (the seeds of estimated areas)."""
    namec = pick(gdf, NAME_NAMES, mapped=name, file=path, required=True, what="町丁・字名", key="name")
    names = gdf[str(namec)].fillna("").astype(str)
    if "koaza" in gdf.columns:
        names = names + gdf["koaza"].fillna("").astype(str)
    return gpd.GeoDataFrame({"name": names.to_numpy(), "source": path.name},
                            geometry=gdf.geometry.to_numpy(), crs=STORAGE_CRS)


def _area_polygons(gdf: gpd.GeoDataFrame, path: Path, *, name: str | None, id: str | None
                   ) -> gpd.GeoDataFrame:
    """自治会 polygons in the canonical columns (ids checked unique within the file)."""
    namec = pick(gdf, NAME_NAMES, mapped=name, file=path, required=True, what="自治会名", key="name")
    idc = pick(gdf, ID_NAMES, mapped=id, file=path, what="ID", key="id")
    munic = pick(gdf, MUNI_NAMES, file=path)
    if idc:
        check_unique(gdf[idc], file=path, column=idc, layer=LAYER)
    return gpd.GeoDataFrame(
        {
            "area_id": gdf[idc].astype(str).to_numpy() if idc else "",
            "name": gdf[str(namec)].fillna("").astype(str).to_numpy(),
            "muni_code": normalise_code(gdf[munic]).to_numpy() if munic else "",
            "estimated": False,
            "source": path.name,
        },
        geometry=as_multi(gdf.geometry.to_numpy()),
        crs=STORAGE_CRS,
    )


def _fill_municipality(out: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame,
                       analysis_crs: str | None) -> None:
    """Areas without a municipality code get the one their representative point lies in."""
    blank = out["muni_code"] == ""
    reps = out.loc[blank].geometry.representative_point()
    crs_m = analysis_crs or analysis_crs_for([boundaries])
    out.loc[blank, "muni_code"] = assign_municipality(
        gpd.GeoDataFrame(geometry=reps, crs=STORAGE_CRS), boundaries, crs=crs_m).to_numpy()


def load_neighbourhoods(
    paths: Sequence[Path],
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    id: str | None = None,  # the TOML key users write
    name: str | None = None,
    analysis_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Load 自治会 polygons, or build estimated areas from representative points.

    Parameters
    ----------
    paths
        Polygon files, or point files (Geolonia JSON, CSV, GeoJSON points).
    boundaries
        Municipalities (from :func:`layers.boundaries.load_boundaries`) used to
        clip Voronoi stand-ins and to fill ``muni_code``.
    analysis_crs
        Metric CRS for the Voronoi construction (default: chosen from the data).
    """
    polys: list[gpd.GeoDataFrame] = []
    points: list[gpd.GeoDataFrame] = []
    warnings: list[str] = []
    for path in paths:
        kind, gdf, w = _read_any(path, fmt=fmt, crs=crs, encoding=encoding)
        warnings += w
        if kind == "points":
            points.append(_place_points(gdf, path, name=name))
        else:
            polys.append(_area_polygons(gdf, path, name=name, id=id))
    frames = list(polys)
    if points:
        pts = gpd.GeoDataFrame(pd.concat(points, ignore_index=True), crs=STORAGE_CRS)
        est = areas_from_points(pts, boundaries=boundaries, crs=analysis_crs)
        warnings += list(est.attrs.get("warnings", []))
        frames.append(est)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORAGE_CRS)
    missing_id = out["area_id"] == ""
    if missing_id.any():
        out.loc[missing_id, "area_id"] = [f"A{i + 1:04d}" for i in range(int(missing_id.sum()))]
    dup = out["area_id"].duplicated()
    if dup.any():
        raise LayerError(
            "自治会の ID が重複しています。",
            layer=LAYER, column="area_id", file=out.loc[dup, "source"].iloc[0],
            fix="ファイルをまたいで ID を一意にしてください。",
        )
    if boundaries is not None and (out["muni_code"] == "").any():
        _fill_municipality(out, boundaries, analysis_crs)
    out = out[COLUMNS]
    out.attrs = {"warnings": warnings}
    if out["estimated"].any():
        add_warning(
            out,
            f"{int(out['estimated'].sum())} 区域は町丁・字の代表点から作った推定区域（ボロノイ分割）です。",
        )
    return out


def _read_any(
    path: Path, *, fmt: str | None, crs: CRS | None, encoding: str | None
) -> tuple[str, gpd.GeoDataFrame, list[str]]:
    f = detect_format(path, fmt)
    warnings: list[str] = []
    if f in ("json",) and path.read_bytes()[:64].lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"["):
        return "points", _machiaza_points(path, warnings), warnings
    if f in TABLE_FORMATS:
        return "points", read_point_file(path, fmt=f, crs=crs, encoding=encoding, layer=LAYER,
                                         warnings=warnings), warnings
    gdf = read_vector(path, fmt=f, crs=crs, encoding=encoding)
    types = set(gdf.geom_type.dropna().unique())
    if types and types <= {"Point", "MultiPoint"}:
        return "points", read_point_file(path, fmt=f, crs=crs, layer=LAYER), warnings
    gdf, w = read_polygon_file(path, layer=LAYER, fmt=f, crs=crs, encoding=encoding, frame=gdf)
    return "polygons", gdf, w


def _machiaza_points(path: Path, warnings: list[str]) -> gpd.GeoDataFrame:
    """Read Geolonia-style ``[{town, koaza, lat, lng}]`` (lat/lng may be strings)."""
    data = read_json(path)
    if not isinstance(data, list) or not data:
        raise LayerError(
            "町丁・字の代表点の配列が空か、形式が違います。",
            file=path,
            fix='[{"town": "…", "lat": 39.7, "lng": 140.1}, …] の形式で指定してください。',
        )
    df = pd.DataFrame([d if isinstance(d, dict) else {} for d in data])
    for key in ("town", "lat", "lng"):
        if key not in df.columns:
            raise LayerError(
                f"代表点に {key} がありません。",
                file=path,
                column=key,
                fix='各要素に "town", "lat", "lng" を入れてください。',
            )
    blank = (df["lat"].isna() | (df["lat"].astype(str).str.strip() == "")
             | df["lng"].isna() | (df["lng"].astype(str).str.strip() == "")).to_numpy()
    if blank.any():
        # real 位置参照情報 extracts have a few towns without a location yet
        warnings.append(
            f"{path.name}: 座標のない代表点 {int(blank.sum())} 件を除きました"
            f"（{int(np.flatnonzero(blank)[0]) + 1} 番目ほか）。"
        )
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(df["lng"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(lat) & np.isfinite(lon)) & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LayerError(
            "座標が数値ではない要素があります。",
            file=path,
            row=i + 1,
            column="lat" if not np.isfinite(lat[i]) else "lng",
            fix="lat/lng を度単位の数値にしてください。",
        )
    df = df.loc[~blank].reset_index(drop=True)
    lat, lon = lat[~blank], lon[~blank]
    lon, lat, _ = swap_if_needed(lon, lat)
    check_in_japan(lon, lat, file=path, columns=("lng", "lat"), header_rows=0)
    df["koaza"] = df["koaza"].fillna("") if "koaza" in df.columns else ""
    return gpd.GeoDataFrame(
        {"town": df["town"].fillna("").astype(str), "koaza": df["koaza"].astype(str)},
        geometry=gpd.points_from_xy(lon, lat),
        crs=STORAGE_CRS,
    )


def areas_from_points(
    points: gpd.GeoDataFrame,
    *,
    boundaries: gpd.GeoDataFrame | None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Voronoi stand-in areas around named points, clipped to their municipality.

    Points sharing a location are merged into one area (names joined with ・).
    Without ``boundaries`` the cells are clipped to the points' hull plus 1 km.
    """
    crs = crs or analysis_crs_for([points] + ([boundaries] if boundaries is not None else []))
    warnings: list[str] = []
    pts = points.to_crs(crs)
    if boundaries is not None and len(boundaries):
        codes = assign_municipality(points, boundaries, crs=crs).to_numpy()
        outside = codes == ""
        if outside.any():
            warnings.append(
                f"市町村の外（2 km 以上）にある代表点 {int(outside.sum())} 件を除きました。"
            )
        clip = dict(zip(boundaries["code"], boundaries.geometry.to_crs(crs), strict=True))
    else:
        codes = np.full(len(points), "", dtype=object)
        outside = np.zeros(len(points), bool)
        hull = shapely.convex_hull(shapely.union_all(pts.geometry.to_numpy())).buffer(1000)
        clip = {"": hull}
        warnings.append("市町村の境界がないため、推定区域は代表点の範囲＋1 km で切り取りました。")
    xy = np.round(shapely.get_coordinates(pts.geometry.to_numpy()), 1)
    names = points["name"].astype(str).to_numpy()
    sources = points["source"].astype(str).to_numpy() if "source" in points else ""
    rows: list[dict[str, object]] = []
    geoms: list[shapely.Geometry] = []
    for code in sorted(set(codes[~outside])):
        sel = np.flatnonzero((codes == code) & ~outside)
        # merge points at the same spot
        keys, inverse = np.unique(xy[sel], axis=0, return_inverse=True)
        inverse = inverse.ravel()
        region = clip[code]
        if len(keys) == 1:
            cells = np.array([region])
        else:
            vor = shapely.voronoi_polygons(
                shapely.MultiPoint(keys), extend_to=shapely.box(*region.bounds).buffer(1000)
            )
            parts = shapely.get_parts(vor)
            tree = shapely.STRtree(parts)
            pi, ci = tree.query(shapely.points(keys), predicate="intersects")
            order = np.full(len(keys), -1)
            order[pi[::-1]] = ci[::-1]  # first hit per point
            cells = shapely.intersection(parts[order], region)
        for j in range(len(keys)):
            members = sel[inverse == j]
            cell = cells[j]
            if cell.is_empty:
                continue
            polys = [g for g in shapely.get_parts(cell) if g.geom_type == "Polygon"]
            if not polys:
                continue
            geoms.append(shapely.MultiPolygon(polys))
            rows.append(
                {
                    "area_id": f"{code or 'X'}-{len(rows) + 1:04d}",
                    "name": "・".join(dict.fromkeys(names[members])),
                    "muni_code": code,
                    "estimated": True,
                    "source": sources[members[0]] if not isinstance(sources, str) else sources,
                }
            )
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=COLUMNS[:-1]), geometry=geoms, crs=crs)
    out = out.to_crs(STORAGE_CRS)
    out.attrs = {"warnings": warnings}
    return out


def as_multi(geoms: np.ndarray) -> np.ndarray:
    """Every Polygon of ``geoms`` as a one-part MultiPolygon (others unchanged), in bulk."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    poly = shapely.get_type_id(geoms) == 3
    if poly.any():
        out[poly] = shapely.multipolygons(geoms[poly], indices=np.arange(int(poly.sum())))
    return out
