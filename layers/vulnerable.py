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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.crs import JAPAN_BOUNDS, STORAGE_CRS, analysis_crs_for, swap_if_needed, transform_xy
from layers.errors import LayerError, ParameterError
from layers.ledger import content_id, record_release
from layers.mesh import (
    DLAT,
    DLON,
    MESH_SIZES,
    SIZE_OF_LEVEL,
    cell_boxes,
    cell_codes,
    cells_covering,
    mesh_cells,
    mesh_codes,
    twice,
)
from layers.readers import (
    LAT_NAMES,
    LON_NAMES,
    TABLE_FORMATS,
    detect_format,
    find_column,
    parse_numbers,
    parse_table,
    read_table,
    read_vector,
    require_file,
    table_row,
)
from layers.territories import COLUMNS, publish, territories

__all__ = [
    "K_DEFAULT",
    "K_MIN",
    "MESH_SIZES",
    "Records",
    "anonymise_areas",
    "anonymise_mesh",
    "anonymise_upload",
    "load_vulnerable",
    "mesh_cells",
    "read_density",
    "read_records",
    "register_publication",
]

LAYER = "vulnerable"
K_DEFAULT = 5
K_MIN = 3
"""Mesh size in metres → JIS X 0410 level (3次 1 km, 4次 500 m, 5次 250 m)."""
CATEGORY_NAMES = ("区分", "要配慮区分", "種別", "category", "カテゴリ", "分類")
ID_NAMES = ("整理番号", "番号", "受付番号", "管理番号", "ID", "id", "record_id")
MOBILITY_NAMES = ("避難支援", "要支援", "支援要否", "mobility", "移動支援")


# ----------------------------------------------------------------- records


@dataclass(frozen=True, repr=False)
class Records:
    """Individual records in memory: coordinates and categories only.

    Names, addresses and every other column are dropped at reading.  The
    ``repr`` shows counts only, so a record never reaches a log or a traceback.
    """

    lon: np.ndarray
    lat: np.ndarray
    category: np.ndarray | None
    mobility: np.ndarray | None
    n_read: int
    n_unlocated: int
    dataset_id: str
    swapped: bool = False
    """緯度 and 経度 were given the wrong way round in the file and were swapped (said in the
    summary)."""

    def __repr__(self) -> str:
        return f"Records(n_read={self.n_read}, located={len(self.lon)})"

    __str__ = __repr__


def _check_k(k: int) -> int:
    if not isinstance(k, int | np.integer) or int(k) < K_MIN:
        raise ParameterError(
            f"k は {K_MIN} 以上の整数にしてください。",
            parameter="k", layer=LAYER,
            fix=f"既定値は {K_DEFAULT} です（{K_DEFAULT} 人未満の単位は隣と合算されます）。",
        )
    return int(k)


def read_records(
    path: Path | tuple[str, bytes],
    *,
    encoding: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    category: str | None = None,
    mobility: str | None = None,
    crs: CRS | None = None,
) -> Records:
    """Read a register extract into :class:`Records` (coordinates + category only).

    Rows without coordinates are counted as ``n_unlocated`` (a register often
    has some not yet geocoded); non-numeric coordinates are an error naming the
    row and column, never the value.
    """
    if isinstance(path, tuple):  # an upload: bytes in memory, never a temporary file
        name, raw = path
        path = Path(name)
    else:
        require_file(path)
        raw = path.read_bytes()
    df = parse_table(raw, file=path, encoding=encoding)
    del raw
    n_read = len(df)
    if n_read == 0:
        raise LayerError("名簿にデータ行がありません。", file=path, row=2, layer=LAYER,
                         column=str(df.columns[0]) if len(df.columns) else None,
                         fix="見出し行の下に1人1行で記録された名簿を指定してください。")
    latc = find_column(df, LAT_NAMES, mapped=lat)
    lonc = find_column(df, LON_NAMES, mapped=lon)
    if latc is None or lonc is None:
        raise LayerError(
            "座標の列が見つかりません。", file=path, row=1,
            column=lat or lon or "緯度", layer=LAYER,
            fix="「緯度」「経度」（または lat/lon）の列を用意するか、lat = \"列名\" で指定してください。",
        )
    lat_s, lat_v = parse_numbers(df[latc])
    lon_s, lon_v = parse_numbers(df[lonc])
    blank = ((lat_s == "") | (lon_s == "")).to_numpy()
    bad = ~blank & ~(np.isfinite(lat_v) & np.isfinite(lon_v))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        col = latc if not np.isfinite(lat_v[i]) else lonc
        raise LayerError(
            f"座標が数値ではない行があります（{int(bad.sum())} 行）。",
            file=path, row=table_row(df, i), column=col, layer=LAYER,
            fix="度単位の10進数で入力してください（値はこのメッセージに表示しません）。",
        )
    keep = ~blank
    idc = find_column(df, ID_NAMES)
    if idc is not None:
        ids = df[idc].astype(str).str.strip()
        dup = (ids != "") & ids.duplicated(keep=False)
        if dup.any():
            first = np.flatnonzero(dup.to_numpy())
            raise LayerError(
                f"番号が重複している行があります（{int(dup.sum())} 行、例: "
                f"{table_row(df, int(first[0]))} 行目と {table_row(df, int(first[1]))} 行目）。"
                "同じ人を二度数えてしまいます。",
                file=path, row=table_row(df, int(first[0])), column=idc, layer=LAYER,
                fix="重複した行を削除するか、番号を付け直してください（値はこのメッセージに表示しません）。")
    lon_v, lat_v, swapped = swap_if_needed(lon_v[keep], lat_v[keep])
    if crs is not None:
        lon_v, lat_v = transform_xy(lon_v, lat_v, crs, STORAGE_CRS)
    catc = find_column(df, CATEGORY_NAMES, mapped=category)
    mobc = find_column(df, MOBILITY_NAMES, mapped=mobility)
    if category and catc is None:
        raise LayerError("指定された区分の列がありません。", file=path, row=1, column=category,
                         layer=LAYER, fix="category = \"列名\" を見出しと同じにしてください。")
    cat = df[catc].astype(str).to_numpy()[keep] if catc else None
    mob = None
    if mobc:
        flag = df[mobc].astype(str).str.strip().str.lower()
        mob = flag.isin(["1", "要", "有", "あり", "true", "yes", "○", "〇"]).to_numpy()[keep]
    del df, lat_s, lon_s
    return Records(lon=lon_v, lat=lat_v, category=cat, mobility=mob, n_read=n_read,
                   n_unlocated=int(blank.sum()), dataset_id=content_id(lat_v, lon_v, cat), swapped=swapped)


# ----------------------------------------------------------------- mesh


def _mesh_level(size: int) -> int:
    if size not in MESH_SIZES:
        raise ParameterError(
            "メッシュの大きさが分かりません。", parameter="mesh", layer=LAYER,
            fix="1000（1 km）、500（500 m、既定）、250（250 m）のいずれかを指定してください。",
        )
    return MESH_SIZES[size]


def anonymise_counts_mesh(
    codes: np.ndarray,
    counts: np.ndarray,
    *,
    level: int,
    k: int = K_DEFAULT,
    proxy: str = "",
    region: shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Apply the k-rule to counts per mesh code (codes of one level).

    Territories (:mod:`layers.territories`) are made of the grid cells of the
    region (``region`` in lon/lat); without one, of the cells around the anchors
    (:data:`MARGIN_CELLS` beyond their extent) — never an extent set by a small count.
    """
    k = _check_k(k)
    codes = np.asarray(codes, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    if len(codes):
        codes, inv = np.unique(codes, return_inverse=True)
        counts = np.bincount(inv.ravel(), weights=counts).astype(np.int64)
    row, col = mesh_cells(codes, level) if len(codes) else (np.zeros(0, int), np.zeros(0, int))
    u_row, u_col = _universe(row, col, counts, level=level, k=k, region=region)
    key = u_row * 10_000_000 + u_col
    occupied = row * 10_000_000 + col
    pos = np.searchsorted(key, occupied)
    inside = (pos < len(key)) & (key[np.minimum(pos, len(key) - 1)] == occupied)
    # the region's cells (empty or not), then occupied cells outside it (counted, not drawn)
    all_row = np.r_[u_row, row[~inside]]
    all_col = np.r_[u_col, col[~inside]]
    all_counts = np.zeros(len(all_row), np.int64)
    all_counts[pos[inside]] = counts[inside]
    all_counts[len(u_row):] = counts[~inside]
    drawn = np.r_[np.ones(len(u_row), bool), np.zeros(int((~inside).sum()), bool)]
    centres = np.column_stack([(all_col + 0.5) * DLON[level] * 90_000.0,
                               (all_row + 0.5) * DLAT[level] * 111_000.0])
    group = territories(all_counts, centres, k=k)
    size = SIZE_OF_LEVEL[level]
    out = publish(cell_codes(all_row, all_col, level).astype(str), all_counts, group,
                  cell_boxes(all_row, all_col, level), None, geography=f"mesh{size}", proxy=proxy,
                  drawn=drawn, whole_id=f"mesh{size}-all")
    out.attrs["level"] = level
    out.attrs["merged"] = _merge_facts(all_counts, group, k)
    return out


MARGIN_CELLS = 4
"""Without a region, territories reach this many cells beyond the anchors' extent."""


def _universe(row: np.ndarray, col: np.ndarray, counts: np.ndarray, *, level: int, k: int,
              region: shapely.Geometry | None) -> tuple[np.ndarray, np.ndarray]:
    """The grid cells territories are made of (sorted by row, col)."""
    if region is not None and not region.is_empty:
        try:
            u_row, u_col = cells_covering(region, level)
        except ValueError:
            raise ParameterError("地域が大きすぎて、このメッシュでは分けられません。",
                                 parameter="mesh", layer=LAYER,
                             fix="より大きいメッシュ（1000 m）か、自治会・校区などの区域で集計してください。"
                             ) from None
    else:
        anchor = counts >= k
        src_r, src_c = (row[anchor], col[anchor]) if anchor.any() else (row // 80 * 80, col // 80 * 80)
        if not len(src_r):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if not anchor.any():  # no anchor: the whole 1次メッシュ (about 80 km) blocks of the records
            r0, r1 = int(src_r.min()), int(src_r.max()) + 79
            c0, c1 = int(src_c.min()), int(src_c.max()) + 79
        else:
            r0, r1 = int(src_r.min()) - MARGIN_CELLS, int(src_r.max()) + MARGIN_CELLS
            c0, c1 = int(src_c.min()) - MARGIN_CELLS, int(src_c.max()) + MARGIN_CELLS
        rr, cc = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij")
        u_row, u_col = rr.ravel(), cc.ravel()
    order = np.lexsort((u_col, u_row))
    return u_row[order].astype(np.int64), u_col[order].astype(np.int64)


def _merge_facts(counts: np.ndarray, group: np.ndarray, k: int) -> tuple[int, int]:
    """(published units that took in small units, small units taken in) for the summary."""
    if not len(group) or group[0] == -1:
        return 0, 0
    small = (counts > 0) & (counts < k)
    taken = int(small.sum())
    return len(np.unique(group[small])), taken


def anonymise_mesh(
    records: Records,
    *,
    size: int = 500,
    k: int = K_DEFAULT,
    region: shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Records → counts per JIS mesh cell with the k-rule; see the module docstring."""
    level = _mesh_level(size)
    k = _check_k(k)
    inside = _inside(records, region)
    codes = mesh_codes(records.lat[inside], records.lon[inside], level)
    out = anonymise_counts_mesh(codes, np.ones(len(codes), np.int64), level=level, k=k, region=region)
    _summarise(out, records, inside, k=k, geography=f"{size} m メッシュ")
    return out


def _inside(records: Records, region: shapely.Geometry | None) -> np.ndarray:
    w, s, e, n = JAPAN_BOUNDS
    ok = (records.lon >= w) & (records.lon <= e) & (records.lat >= s) & (records.lat <= n)
    if region is not None:
        ok &= shapely.contains_xy(region, records.lon, records.lat)
    return ok


def _people(n: int, k: int) -> int | str:
    """A count of people for a summary: between 1 and k-1 it is never shown (``5未満``)."""
    return f"{k}未満" if 0 < n < k else int(n)


def _summarise(out: gpd.GeoDataFrame, records: Records, inside: np.ndarray, *, k: int,
               geography: str) -> None:
    merged, absorbed = out.attrs.get("merged", (0, 0))
    published = int(out["count"].sum()) if len(out) else 0

    def people(n: int) -> int | str:
        return _people(n, k)

    summary: dict[str, Any] = {
        "records_read": people(records.n_read),
        "unlocated": people(records.n_unlocated),
        "in_region": people(int(inside.sum())),
        "outside_region": people(int((~inside).sum())),
        "published_total": people(published),
        "units_published": len(out),
        "units_merged": merged,
        "units_absorbed": absorbed,
        "k": k,
        "geography": geography,
    }
    if records.swapped:
        summary["coordinates_swapped"] = True
    if records.category is not None:
        cats, n = np.unique(records.category[inside], return_counts=True)
        summary["categories"] = {str(c): (int(v) if v >= k else f"{k}未満")
                                 for c, v in zip(cats, n, strict=True)}
    out.attrs["summary"] = summary
    out.attrs["dataset_id"] = records.dataset_id
    note = (f"{geography}単位、k={k}：{k}人未満の単位は、いちばん近い {k}人以上の単位の区域に合算"
            f"（秘匿・合算 {absorbed} 単位）。区域の形は{k}人以上の単位の位置だけで決まり、"
            "個人の位置は表示していません。")
    if records.swapped:
        note += "名簿の緯度と経度の列が逆だったため、入れ替えて読みました。"
    if published < int(inside.sum()):
        note += f"区域内の合計が{k}人未満のため公開していません。"
    out.attrs["anonymisation_note"] = note


# ----------------------------------------------------------------- areas


def anonymise_area_counts(
    areas: gpd.GeoDataFrame,
    counts: np.ndarray,
    *,
    k: int = K_DEFAULT,
    geography: str = "areas",
    id_column: str | None = None,
    proxy: str = "",
) -> gpd.GeoDataFrame:
    """Apply the k-rule to counts per area polygon (aligned with ``areas``): territories of
    the areas with at least k people (:mod:`layers.territories`), empty areas included."""
    k = _check_k(k)
    crs = analysis_crs_for([areas])
    rep = areas.geometry.to_crs(crs).representative_point()
    centres = shapely.get_coordinates(rep.values)
    counts = np.asarray(counts, np.int64)
    group = territories(counts, centres, k=k)
    idc = id_column or next((c for c in ("area_id", "district_id", "code") if c in areas), None)
    ids = areas[idc].astype(str).to_numpy() if idc else np.arange(len(areas)).astype(str)
    points = shapely.get_coordinates(rep.to_crs(STORAGE_CRS).values)
    out = publish(ids, counts, group, np.asarray(areas.geometry.to_crs(STORAGE_CRS).values), points,
                  geography=geography, proxy=proxy, whole_id=f"{geography}-all")
    out.attrs["merged"] = _merge_facts(counts, group, k)
    return out


def anonymise_areas(
    records: Records,
    areas: gpd.GeoDataFrame,
    *,
    k: int = K_DEFAULT,
    geography: str = "neighbourhoods",
) -> gpd.GeoDataFrame:
    """Records → counts per area (自治会, 校区, 市町村) with the k-rule.

    Records outside every area are counted as outside the region.
    """
    k = _check_k(k)
    polys = areas.geometry.to_crs(STORAGE_CRS).values
    region = shapely.union_all(polys)
    inside = _inside(records, region)
    pts = shapely.points(records.lon[inside], records.lat[inside])
    tree = shapely.STRtree(polys)
    pi, ai = tree.query(pts, predicate="within")
    first = np.full(len(pts), -1)
    first[pi[::-1]] = ai[::-1]
    counts = np.bincount(first[first >= 0], minlength=len(areas))
    out = anonymise_area_counts(areas, counts, k=k, geography=geography)
    _summarise(out, records, inside, k=k, geography=_GEO_LABEL.get(geography, geography))
    return out


_GEO_LABEL = {"neighbourhoods": "自治会", "school_districts": "校区", "boundaries": "市町村"}


# ----------------------------------------------------------------- proxies


def read_estat_mesh(path: Path, *, label: str = "65歳以上") -> tuple[np.ndarray, np.ndarray, int]:
    """e-Stat 地域メッシュ統計 text → (mesh codes, counts, level).

    Rows with ``HTKSYORI`` = 2 are dropped (suppressed and already included in
    their ``HTKSAKI`` cell); ``*`` is missing, ``-`` is 0.
    """
    df = read_table(path, header_rows=2)
    labels = df.attrs.get("labels", [])
    if "KEY_CODE" not in df.columns:
        raise LayerError("e-Stat のメッシュ統計（KEY_CODE 列）ではありません。", file=path, row=1,
                         column="KEY_CODE", layer=LAYER,
                         fix="e-Stat の「地域メッシュ統計」からダウンロードした .txt を指定してください。")
    col = None
    for name, lab in zip(df.columns, labels, strict=False):
        if label in str(lab) or label in str(name):
            col = name
            break
    if col is None:
        raise LayerError(f"「{label}」を含む列が見つかりません。", file=path, row=2, column=label,
                         layer=LAYER,
                         fix="label = \"65歳以上\" などで見出し（2行目）の語を指定してください。")
    status = df["HTKSYORI"].astype(str).str.strip() if "HTKSYORI" in df else pd.Series("0", df.index)
    keep = status != "2"
    vals = df.loc[keep, col].astype(str).str.strip().replace({"-": "0", "*": ""})
    counts = pd.to_numeric(vals, errors="coerce")
    codes = pd.to_numeric(df.loc[keep, "KEY_CODE"], errors="coerce")
    ok = counts.notna() & codes.notna()
    sub = df.loc[keep].loc[ok.to_numpy()]
    values = people_counts(counts[ok].astype(str), file=path, column=str(col), rows=sub)
    codes_a = codes[ok].astype(np.int64).to_numpy()
    level = _level_of(codes_a, path)
    return codes_a, values, level


def _level_of(codes: np.ndarray, path: Path) -> int:
    import jismesh.utils as ju

    if len(codes) == 0:
        raise LayerError("メッシュコードの行がありません。", file=path, row=2, layer=LAYER)
    c, n = twice(codes)
    levels = np.unique(np.asarray(ju.to_meshlevel(c))[:n])
    if len(levels) != 1 or int(levels[0]) not in (3, 4, 5):
        raise LayerError("1 km・500 m・250 m のいずれか一つのメッシュにそろっていません。", file=path,
                         column="mesh_code", layer=LAYER,
                         fix="同じ大きさのメッシュコード（8〜10桁）だけのファイルにしてください。")
    return int(levels[0])


MAX_COUNT = 1_000_000
"""People in one published unit at the most: a larger count is a typing error (or an attack)."""


def people_counts(values: pd.Series, *, file: Path, column: str, rows: pd.DataFrame,
                  whole: bool = True) -> np.ndarray:
    """Counts of people as non-negative integers (blank = 0), or an error naming the row.

    Negative, non-finite, fractional (``whole``) or absurdly large values
    (> :data:`MAX_COUNT`) are refused, never rounded or wrapped around.
    """
    v = pd.to_numeric(values.replace("", "0"), errors="coerce").to_numpy(float)
    bad = ~np.isfinite(v) | (v < 0) | (v > MAX_COUNT)
    if whole:
        bad |= np.isfinite(v) & (v != np.round(v))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LayerError(
            f"人数が 0 以上 {MAX_COUNT:,} 以下の整数ではない行があります（{int(bad.sum())} 行）。",
            file=file, row=table_row(rows, i), column=column, layer=LAYER,
            fix="人数は 0 以上の整数で入力してください（値はこのメッセージに表示しません）。")
    return np.round(v).astype(np.int64)


def read_mesh_counts(path: Path, *, encoding: str | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """CSV with ``mesh_code`` and ``count`` (or one count column per category, summed)."""
    df = read_table(path, encoding=encoding)
    codec = find_column(df, ("mesh_code", "メッシュコード", "KEY_CODE", "MESH_ID", "meshcode"))
    if codec is None:
        raise LayerError("メッシュコードの列がありません。", file=path, row=1, column="mesh_code",
                         layer=LAYER, fix="mesh_code と count の列を用意してください。")
    value_cols = [c for c in df.columns if c != codec]
    countc = find_column(df, ("count", "人数", "件数"))
    cols = [countc] if countc else value_cols
    total = np.zeros(len(df), np.int64)
    for c in cols:
        total += people_counts(df[c], file=path, column=c, rows=df)
    codes = pd.to_numeric(df[codec], errors="coerce")
    if codes.isna().any():
        i = int(np.flatnonzero(codes.isna().to_numpy())[0])
        raise LayerError("メッシュコードが数字ではない行があります。", file=path, row=table_row(df, i),
                         column=codec, layer=LAYER, fix="8〜10桁のメッシュコードを入力してください。")
    codes_a = codes.astype(np.int64).to_numpy()
    return codes_a, total, _level_of(codes_a, path)


def read_ksj_forecast(path: Path, *, column: str = "PTC", year: int | None = None,
                      encoding: str | None = None) -> tuple[np.ndarray, np.ndarray, int, str]:
    """国土数値情報 mesh population forecast → (codes, counts, level, column used)."""
    fmt = detect_format(path)
    if fmt in TABLE_FORMATS:
        df: pd.DataFrame = read_table(path, encoding=encoding)
    else:
        df = pd.DataFrame(read_vector(path, encoding=encoding).drop(columns="geometry"))
    codec = find_column(df, ("MESH_ID", "mesh_code", "KEY_CODE"))
    if codec is None:
        raise LayerError("MESH_ID 列がありません。", file=path, row=1, column="MESH_ID", layer=LAYER,
                         fix="国土数値情報「将来推計人口メッシュ」のファイルを指定してください。")
    cands = [c for c in df.columns if str(c).upper().startswith(column.upper())]
    if year is not None:
        cands = [c for c in cands if str(year) in str(c)]
    if not cands:
        raise LayerError(f"{column} で始まる列がありません。", file=path, row=1, column=column,
                         layer=LAYER, fix="column = \"PTC\"（65歳以上）、\"PTD\"（75歳以上）、"
                         "\"PTE\"（80歳以上）と year を確認してください。")
    col = sorted(cands)[0]
    # forecasts are estimates with decimals: rounded to whole people, but never negative or absurd
    vals = people_counts(df[col].astype(str).replace("nan", ""), file=path, column=str(col), rows=df,
                         whole=False)
    codes = pd.to_numeric(df[codec], errors="coerce").fillna(0).astype(np.int64).to_numpy()
    ok = codes > 0
    return codes[ok], vals[ok], _level_of(codes[ok], path), str(col)


# ----------------------------------------------------------------- publication ledger


def register_publication(dataset_id: str, geography: str, k: int,
                         density: gpd.GeoDataFrame | None = None) -> None:
    """Check a release of a register against the publication ledger and record it
    (:func:`layers.ledger.record_release`): one register, one geography; no unit whose
    count differs from an earlier release by 1 … k-1."""
    counts = dict(zip(density["unit_id"].astype(str), density["count"].astype(int), strict=True)) \
        if density is not None else {}
    record_release(dataset_id, geography, k, counts, layer=LAYER)


# ----------------------------------------------------------------- the layer loader


def load_vulnerable(
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
    boundaries: gpd.GeoDataFrame | None = None,
    region_areas: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> gpd.GeoDataFrame:
    """Load the 要配慮者 layer: anonymised on load, only the result is kept.

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
    k = _check_k(int(k))
    if len(paths) != 1:
        raise LayerError("要配慮者レイヤーには1つのファイルを指定してください。", layer=LAYER,
                         column="path", fix="path = \"名簿.csv\" のように1つだけ書いてください。")
    path = paths[0]
    require_file(path)
    kind = _detect_kind(path, kind)
    region = None
    if boundaries is not None and len(boundaries):
        region = shapely.union_all(boundaries.geometry.to_crs(STORAGE_CRS).values)
    areas = None
    if by is not None:
        layers = dict(region_areas or {})
        if boundaries is not None:
            layers.setdefault("boundaries", boundaries)
        if by not in ("neighbourhoods", "school_districts", "boundaries") or by not in layers:
            raise ParameterError(
                f"集計先のレイヤー {by} がありません。", parameter="by", layer=LAYER,
                fix="by = \"neighbourhoods\"（自治会）、\"school_districts\"、\"boundaries\" のうち、"
                "地域設定にあるものを指定してください。",
            )
        areas = layers[by]
        if by == "school_districts" and "period" in areas:
            last = list(dict.fromkeys(areas["period"].astype(str)))[-1]
            areas = areas[areas["period"].astype(str) == last]
    if kind == "records":
        records = read_records(path, encoding=encoding, lat=lat, lon=lon, category=category,
                               mobility=mobility, crs=crs)
        if areas is not None:
            out = anonymise_areas(records, areas, k=k, geography=str(by))
        else:
            out = anonymise_mesh(records, size=int(mesh), k=k, region=region)
        geography = str(by) if areas is not None else f"mesh{int(mesh)}"
        register_publication(records.dataset_id, geography, k, out)
        del records
    elif kind in ("mesh_counts", "estat", "ksj_forecast"):
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
        out = anonymise_counts_mesh(codes, counts, level=level, k=k, proxy=proxy)
        size = {3: 1000, 4: 500, 5: 250}[level]
        fake = Records(np.zeros(0), np.zeros(0), None, None, int(counts.sum()), 0, "")
        _summarise(out, fake, np.zeros(0, bool), k=k, geography=f"{size} m メッシュ")
        out.attrs["summary"].update(records_read=_people(int(counts.sum()), k),
                                    in_region=_people(int(counts.sum()), k))
        if proxy:
            out.attrs["anonymisation_note"] = proxy + "。" + out.attrs["anonymisation_note"]
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
    return out


def _detect_kind(path: Path, kind: str) -> str:
    kinds = ("records", "mesh_counts", "area_counts", "estat", "ksj_forecast", "density")
    if kind != "auto":
        if kind not in kinds:
            raise LayerError("kind が分かりません。", file=path, column="kind", layer=LAYER,
                             fix=f"次のいずれかを指定してください: {', '.join(kinds)}")
        return kind
    if detect_format(path) not in TABLE_FORMATS:
        cols = set(read_vector(path).columns)
        return "density" if {"unit_id", "count", "geography"} <= cols else "ksj_forecast"
    head = read_table(path).columns
    cols = {str(c).strip().lower() for c in head}
    if "key_code" in cols and "htksyori" in cols:
        return "estat"
    if "mesh_id" in cols:
        return "ksj_forecast"
    if {"mesh_code", "メッシュコード", "meshcode"} & cols:
        return "mesh_counts"
    if cols & {c.lower() for c in (*LAT_NAMES, *LON_NAMES)}:
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
                            "町丁字名", "地区名"), mapped=area)
    countc = find_column(df, ("count", "人数", "件数"))
    if keyc is None or countc is None:
        raise LayerError("区域名（またはコード）と人数の列がありません。", file=path, row=1,
                         column=area or "count", layer=LAYER,
                         fix="「自治会名」（または area_id）と「人数」（count）の列を用意してください。")
    lookup: dict[str, int] = {}
    for col in ("area_id", "district_id", "code", "name"):
        if col in areas:
            for i, v in enumerate(areas[col].astype(str)):
                lookup.setdefault(v.strip(), i)
    counts = np.zeros(len(areas), np.int64)
    values = people_counts(df[countc], file=path, column=countc, rows=df)
    for i, (key, val) in enumerate(zip(df[keyc].astype(str), values, strict=True)):
        j = lookup.get(key.strip())
        if j is None:
            raise LayerError("地域設定の区域にない名前（コード）があります。", file=path,
                             row=table_row(df, i), column=keyc, layer=LAYER,
                             fix=f"{by} レイヤーの名称か ID と同じ表記にしてください。")
        counts[j] += int(val)
    out = anonymise_area_counts(areas, counts, k=k, geography=by)
    fake = Records(np.zeros(0), np.zeros(0), None, None, int(counts.sum()), 0, "")
    _summarise(out, fake, np.zeros(0, bool), k=k, geography=_GEO_LABEL.get(by, by))
    out.attrs["summary"].update(records_read=_people(int(counts.sum()), k),
                                    in_region=_people(int(counts.sum()), k))
    return out


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


def anonymise_upload(
    filename: str,
    data: bytes,
    *,
    mesh: int = 500,
    k: int = K_DEFAULT,
    by: str | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    region_areas: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> gpd.GeoDataFrame:
    """Anonymise an uploaded register extract held in memory (no file is written)."""
    k = _check_k(int(k))
    records = read_records((filename, data))
    region = None
    if boundaries is not None and len(boundaries):
        region = shapely.union_all(boundaries.geometry.to_crs(STORAGE_CRS).values)
    if by is not None:
        areas = dict(region_areas or {}).get(by)
        if areas is None:
            raise LayerError(f"集計先のレイヤー {by} がありません。", file=filename, column="by",
                             layer=LAYER,
                             fix="メッシュで集計するか、その区域のレイヤーを読み込んでください。")
        out = anonymise_areas(records, areas, k=k, geography=by)
        register_publication(records.dataset_id, by, k, out)
    else:
        out = anonymise_mesh(records, size=int(mesh), k=k, region=region)
        register_publication(records.dataset_id, f"mesh{int(mesh)}", k, out)
    del records
    return out


def summary_line(density: gpd.GeoDataFrame) -> dict[str, Any]:
    """The printable summary of an anonymised layer (counts only)."""
    return dict(density.attrs.get("summary", {}))
