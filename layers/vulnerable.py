"""要配慮者 densities that cannot identify anyone: the anonymiser.

Inputs (``kind``):

* ``records`` — individual register records (CSV, cp932 or UTF-8): coordinates
  (緯度/経度 or lat/lon), a free category column (高齢独居, 要介護 …), an optional
  mobility flag.  Read in memory, aggregated, released;
* ``mesh_counts`` — counts per JIS mesh code (``mesh_code``, ``count``);
* ``area_counts`` — counts per 自治会/町丁/校区/市町村 (name or code + ``count``);
* ``estat`` — e-Stat 地域メッシュ統計 text (cp932, two header rows, ``*`` for
  suppressed cells; ``HTKSYORI`` = 2 rows are dropped because their people are
  already in the ``HTKSAKI`` cell: never double counted); the column is found by
  its Japanese label (default ``65歳以上``).  A proxy, labelled so;
* ``ksj_forecast`` — 国土数値情報 mesh population forecasts (``MESH_ID`` and
  ``PTC``/``PTD``/``PTE`` columns, 65+/75+/80+, suffixed by year).  A proxy.

The rule (see ``docs/privacy.md``): every published unit has count 0 or ≥ k
(default :data:`K_DEFAULT` = 5, never below :data:`K_MIN` = 3).  Units below k
(and empty ones) belong to the territory of the nearest unit with at least k
people (合算, :mod:`layers.territories`): totals are preserved, no subtraction
reveals a suppressed count, and no published shape shows which small units hold
people.  If the whole region holds fewer than k people nothing is published.
Records outside the region are counted, not kept.  One register is published on
one geography only, and never so that two releases differ by 1 … k-1 people in a
unit (:mod:`layers.ledger`): publishing the same records as 500 m mesh *and* 自治会,
or this month's register beside last month's, would let a reader difference them.

Nothing in this module logs, raises or returns a record value: errors name the
row and column only; :class:`Records` has no useful ``repr``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.anonymise import (
    _GEO_LABEL,
    K_DEFAULT,
    K_MIN,
    _inside,
    _people,
    _summarise,
    anonymise_area_counts,
    anonymise_areas,
    anonymise_counts_mesh,
    anonymise_mesh,
    check_k,
    count_keys,
    counts_content_id,
    register_publication,
)
from layers.cellkey import council_secret
from layers.crs import STORAGE_CRS
from layers.demand import Demand, from_records
from layers.errors import LayerError, ParameterError
from layers.geocode import ADDRESS_NAMES
from layers.layer_facts import AREA_KEYS
from layers.mesh import (
    MESH_SIZES,
    mesh_cells,
)
from layers.proxies import people_counts, read_estat_mesh, read_ksj_forecast, read_mesh_counts
from layers.readers import (
    LAT_NAMES,
    LON_NAMES,
    TABLE_FORMATS,
    detect_format,
    find_column,
    read_table,
    read_vector,
    require_file,
    table_header,
    table_row,
)
from layers.registers import LAYER, Records, read_records
from layers.territories import COLUMNS

if TYPE_CHECKING:
    from layers.geocode import Geocoder

__all__ = [
    "K_DEFAULT",
    "K_MIN",
    "MESH_SIZES",
    "Records",
    "anonymise_areas",
    "anonymise_mesh",
    "anonymise_upload",
    "anonymise_upload_and_register",
    "load_vulnerable",
    "mesh_cells",
    "read_density",
    "read_records",
    "register_publication",
]


# ----------------------------------------------------------------- the layer loader


def load_vulnerable_and_register(
    paths: Sequence[Path],
    *,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    kind: str = "auto",
    mesh: int = 500,
    k: int = K_DEFAULT,
    by: str | None = None,
    label: str = "65歳以上",
    column: str = "PTC",
    year: int | None = None,
    lat: str | None = None,
    lon: str | None = None,
    category: str | None = None,
    mobility: str | None = None,
    area: str | None = None,
    address: str | None = None,
    sheet: str | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    region_areas: Mapping[str, gpd.GeoDataFrame] | None = None,
    geocoder: Geocoder | None = None,
) -> tuple[gpd.GeoDataFrame, Demand | None]:
    """Load the 要配慮者 layer: anonymised on load; for a register, its people in memory too
    (:class:`layers.demand.Demand`, for the analyses' exact counts; never written).

    A register (CSV or Excel) with addresses and no coordinates is placed by ``geocoder``
    (the region's ``[geocoder]``) inside the anonymiser, in memory.

    Parameters
    ----------
    kind
        ``records``, ``mesh_counts``, ``area_counts``, ``estat``, ``ksj_forecast``
        or ``auto`` (recognised from the header).
    mesh
        Mesh size in metres (1000, 500, 250) when aggregating to mesh.
    k
        Minimum published count (≥ 3).
    by
        Aggregate to an area layer of the region instead of mesh:
        ``neighbourhoods``, ``school_districts`` or ``boundaries``.
    area
        For ``area_counts``: the column holding the area name or ID.
    """
    k = check_k(int(k))
    if len(paths) != 1:
        raise LayerError("要配慮者レイヤーには1つのファイルを指定してください。", layer=LAYER,
                         column="path", fix="path = \"名簿.csv\" のように1つだけ書いてください。")
    path = paths[0]
    require_file(path)
    kind = _detect_kind(path, kind, sheet)
    region = None
    if boundaries is not None and len(boundaries):
        region = shapely.union_all(boundaries.geometry.to_crs(STORAGE_CRS).values)
    areas = _target_areas(by, boundaries, region_areas) if by is not None else None
    out: gpd.GeoDataFrame
    if kind == "records":
        records = read_records(path, encoding=encoding, lat=lat, lon=lon, category=category,
                               mobility=mobility, crs=crs, sheet=sheet, geocoder=geocoder,
                               address=address)
        return _publish_register(records, areas, k=k, by=by, mesh=int(mesh), region=region)
    if kind in ("mesh_counts", "estat", "ksj_forecast"):
        out = _proxy_counts(path, kind, k=k, label=label, column=column, year=year, encoding=encoding)
    elif kind == "density":
        out = read_density(path, k=k)
    elif kind == "area_counts":
        if areas is None:
            raise LayerError("地域ごとの人数には集計先のレイヤー（by）が必要です。", file=path,
                             column="by", layer=LAYER,
                             fix="by = \"neighbourhoods\" のように、人数を付ける区域のレイヤーを"
                             "指定してください。")
        out = _area_counts(path, areas, k=k, by=str(by), area=area, encoding=encoding)
    else:  # pragma: no cover - _detect_kind validates
        raise ParameterError("kind が分かりません。", parameter="kind", layer=LAYER)
    return out, None


@functools.wraps(load_vulnerable_and_register)
def load_vulnerable(paths: Sequence[Path], **options: Any) -> gpd.GeoDataFrame:
    """The published layer of :func:`load_vulnerable_and_register` (its register's people
    are dropped)."""
    return load_vulnerable_and_register(paths, **options)[0]


def _publish_register(records: Records, areas: gpd.GeoDataFrame | None, *, k: int, by: str | None,
                      mesh: int, region: shapely.Geometry | None
                      ) -> tuple[gpd.GeoDataFrame, Demand]:
    """A register's density (counts protected by the cell keys of its people), recorded in
    the ledger, and its people in memory."""
    demand = from_records(records, k=k, secret=council_secret())
    if areas is not None:
        out = anonymise_areas(records, areas, k=k, geography=str(by), keys=demand.keys)
    else:
        out = anonymise_mesh(records, size=mesh, k=k, region=region, keys=demand.keys)
    geography = str(by) if areas is not None else f"mesh{mesh}"
    register_publication(records.dataset_id, geography, k, out)
    inside = _inside(records, region)
    if not inside.all():  # the analyses count the region's people only
        demand = Demand(demand.lon[inside], demand.lat[inside], demand.weight[inside],
                        demand.keys[inside] if demand.keys is not None else None, k)
    return out, demand


def _target_areas(by: str, boundaries: gpd.GeoDataFrame | None,
                  region_areas: Mapping[str, gpd.GeoDataFrame] | None) -> gpd.GeoDataFrame:
    """The area layer ``by`` names (today's 校区 when the layer has periods)."""
    layers = dict(region_areas or {})
    if boundaries is not None:
        layers.setdefault("boundaries", boundaries)
    if by not in AREA_KEYS or by not in layers:
        raise ParameterError(
            f"集計先のレイヤー {by} がありません。", parameter="by", layer=LAYER,
            fix="by = \"neighbourhoods\"（自治会）、\"school_districts\"、\"boundaries\" のうち、"
            "地域設定にあるものを指定してください。",
        )
    areas = layers[by]
    if by == "school_districts" and "period" in areas:
        last = list(dict.fromkeys(areas["period"].astype(str)))[-1]
        areas = areas[areas["period"].astype(str) == last]
    return areas


def _proxy_counts(path: Path, kind: str, *, k: int, label: str, column: str, year: int | None,
                  encoding: str | None) -> gpd.GeoDataFrame:
    """Mesh counts, e-Stat or KSJ forecasts anonymised on their mesh (proxies labelled)."""
    proxy = ""
    if kind == "mesh_counts":
        codes, counts, level = read_mesh_counts(path, encoding=encoding)
    elif kind == "estat":
        codes, counts, level = read_estat_mesh(path, label=label)
        proxy = f"代替指標（国勢調査 地域メッシュ統計「{label}」人口）"
    else:
        codes, counts, level, used = read_ksj_forecast(path, column=column, year=year,
                                                        encoding=encoding)
        proxy = f"代替指標（国土数値情報 将来推計人口 {used}）"
    # the council's own counts pass the protection step and the ledger like a register;
    # public proxies (e-Stat, 国土数値情報) are published figures already
    keys = None if proxy else count_keys(codes, counts)
    out = anonymise_counts_mesh(codes, counts, level=level, k=k, proxy=proxy, keys=keys)
    size = {3: 1000, 4: 500, 5: 250}[level]
    fake = Records(np.zeros(0), np.zeros(0), None, None, int(counts.sum()), 0, "")
    _summarise(out, fake, np.zeros(0, bool), k=k, geography=f"{size} m メッシュ")
    total = _people(int(counts.sum()), k) if keys is None else _protected_total(counts, keys, k)
    out.attrs["summary"].update(records_read=total, in_region=total)
    if keys is not None:
        register_publication(counts_content_id(codes, counts), f"mesh{size}", k, out)
    if proxy:
        out.attrs["anonymisation_note"] = proxy + "。" + out.attrs["anonymisation_note"]
    return out


def _detect_kind(path: Path, kind: str, sheet: str | None = None) -> str:
    kinds = ("records", "mesh_counts", "area_counts", "estat", "ksj_forecast", "density")
    if kind != "auto":
        if kind not in kinds:
            raise LayerError("kind が分かりません。", file=path, column="kind", layer=LAYER,
                             fix=f"次のいずれかを指定してください: {', '.join(kinds)}")
        return kind
    if detect_format(path) not in TABLE_FORMATS:
        cols = set(read_vector(path).columns)
        return "density" if {"unit_id", "count", "geography"} <= cols else "ksj_forecast"
    head = table_header(path, sheet=sheet)
    cols = {str(c).strip().lower() for c in head}
    if "key_code" in cols and "htksyori" in cols:
        return "estat"
    if "mesh_id" in cols:
        return "ksj_forecast"
    if {"mesh_code", "メッシュコード", "meshcode"} & cols:
        return "mesh_counts"
    if cols & {c.lower() for c in (*LAT_NAMES, *LON_NAMES, *ADDRESS_NAMES)}:
        return "records"
    raise LayerError(
        "要配慮者ファイルの種類が分かりません。", file=path, row=1, column="kind", layer=LAYER,
        fix="個票（緯度・経度）、メッシュ別人数（mesh_code, count）、e-Stat メッシュ統計のいずれかか、"
        "kind = \"area_counts\" などで指定してください。",
    )


def _area_counts(path: Path, areas: gpd.GeoDataFrame, *, k: int, by: str, area: str | None,
                 encoding: str | None) -> gpd.GeoDataFrame:
    df = read_table(path, encoding=encoding)
    keyc = find_column(df, ("area_id", "自治会コード", "code", "コード", "name", "名称", "自治会名",
                            "町丁字名", "町字", "町丁目", "大字・町丁目", "地区名"), mapped=area)
    countc = find_column(df, ("count", "人数", "件数"))
    if keyc is None or countc is None:
        raise LayerError("区域名（またはコード）と人数の列がありません。", file=path, row=1,
                         column=area or "count", layer=LAYER,
                         fix="「自治会名」（または area_id）と「人数」（count）の列を用意してください。")
    # each area by its id, else code, else name (the first column that has the key wins)
    parts = [pd.Series(np.arange(len(areas)), index=areas[col].astype(str).str.strip().to_numpy())
             for col in ("area_id", "district_id", "code", "name") if col in areas]
    lookup = pd.concat(parts) if parts else pd.Series(dtype=np.int64)
    lookup = lookup[~lookup.index.duplicated(keep="first")]
    values = np.asarray(people_counts(df[countc], file=path, column=countc, rows=df), np.int64)
    where = lookup.reindex(df[keyc].astype(str).str.strip().to_numpy()).to_numpy(float)
    missing = np.flatnonzero(np.isnan(where))
    if len(missing):
        raise LayerError("地域設定の区域にない名前（コード）があります。", file=path,
                         row=table_row(df, int(missing[0])), column=keyc, layer=LAYER,
                         fix=f"{by} レイヤーの名称か ID と同じ表記にしてください。")
    counts = np.bincount(where.astype(np.int64), weights=values, minlength=len(areas)).astype(np.int64)
    ids = np.arange(len(areas)).astype(str)
    keys = count_keys(ids, counts)
    out = anonymise_area_counts(areas, counts, k=k, geography=by, keys=keys)
    fake = Records(np.zeros(0), np.zeros(0), None, None, int(counts.sum()), 0, "")
    _summarise(out, fake, np.zeros(0, bool), k=k, geography=_GEO_LABEL.get(by, by))
    total = _protected_total(counts, keys, k)
    out.attrs["summary"].update(records_read=total, in_region=total)
    register_publication(counts_content_id(ids, counts), by, k, out)
    return out


def _protected_total(counts: np.ndarray, keys: np.ndarray, k: int) -> int | str:
    """The sum of ``counts`` through the protection step (their keys summed)."""
    from layers.cellkey import protected_total

    return protected_total(int(np.sum(counts)), int(np.sum(keys)), k=k)


def read_density(path: Path, *, k: int = K_DEFAULT) -> gpd.GeoDataFrame:
    """Reopen an anonymised density written by tomoni (e.g. a saved region).

    The rule is checked again: a file with a count between 1 and k-1 is refused.
    """
    gdf = read_vector(path)
    missing = [c for c in ("unit_id", "count", "geography") if c not in gdf.columns]
    if missing:
        raise LayerError("匿名化済みの密度ファイルではありません。", file=path, row=1,
                         column=missing[0], layer=LAYER,
                         fix="tomoni anonymize やアプリで書き出した .geojson / .gpkg を指定してください。")
    counts = pd.to_numeric(gdf["count"], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
    bad = (counts < 0) | ((counts > 0) & (counts < k))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LayerError(f"{k} 人未満の単位があります（公開できません）。", file=path, row=i + 2,
                         column="count", layer=LAYER,
                         fix="名簿から tomoni anonymize で作り直してください。")
    for col in COLUMNS[:-1]:
        if col not in gdf.columns:
            gdf[col] = 1 if col == "n_units" else np.nan if col.startswith("point_") else ""
    gdf["count"] = counts
    out = gpd.GeoDataFrame(gdf[COLUMNS[:-1]], geometry=gdf.geometry.values, crs=STORAGE_CRS)
    out.attrs["summary"] = {"units_published": len(out), "published_total": int(counts.sum()),
                            "k": k, "geography": str(out["geography"].iloc[0]) if len(out) else ""}
    out.attrs["anonymisation_note"] = (f"匿名化済みの密度（k={k}：{k}人未満の単位は"
                                       "近くの単位の区域に合算済み）。個人の位置は含みません。")
    return out


def anonymise_upload(filename: str, data: bytes, **options: Any) -> gpd.GeoDataFrame:
    """The published density of :func:`anonymise_upload_and_register` (its people dropped)."""
    return anonymise_upload_and_register(filename, data, **options)[0]


def anonymise_upload_and_register(
    filename: str,
    data: bytes,
    *,
    mesh: int = 500,
    k: int = K_DEFAULT,
    by: str | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    region_areas: Mapping[str, gpd.GeoDataFrame] | None = None,
    geocoder: Geocoder | None = None,
) -> tuple[gpd.GeoDataFrame, Demand]:
    """Anonymise an uploaded register extract held in memory (no file is written; one with
    addresses only is placed by ``geocoder`` in memory): its density, and its people in memory
    for the session's analyses."""
    k = check_k(int(k))
    records = read_records((filename, data), geocoder=geocoder)
    region = None
    if boundaries is not None and len(boundaries):
        region = shapely.union_all(boundaries.geometry.to_crs(STORAGE_CRS).values)
    areas = None
    if by is not None:
        areas = dict(region_areas or {}).get(by)
        if areas is None:
            raise LayerError(f"集計先のレイヤー {by} がありません。", file=filename, column="by",
                             layer=LAYER,
                             fix="メッシュで集計するか、その区域のレイヤーを読み込んでください。")
    return _publish_register(records, areas, k=k, by=by, mesh=int(mesh), region=region)


def summary_line(density: gpd.GeoDataFrame) -> dict[str, Any]:
    """The printable summary of an anonymised layer (counts only)."""
    return dict(density.attrs.get("summary", {}))
