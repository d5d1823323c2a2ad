"""The k-rule: densities of 要配慮者 that cannot identify anyone (see ``docs/privacy.md``).

Every published unit has count 0 or ≥ k (default :data:`K_DEFAULT` = 5, never
below :data:`K_MIN` = 3).  Units below k belong to the territory of the nearest
unit with at least k people (合算, :mod:`layers.territories`); every release is
checked against the publication ledger (:mod:`layers.ledger`) first.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from layers.cellkey import MAX_CHANGE, council_secret, fingerprint, protected_total, record_keys
from layers.crs import JAPAN_BOUNDS, STORAGE_CRS, analysis_crs_for
from layers.errors import ParameterError
from layers.ledger import record_release
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
)
from layers.registers import LAYER, Records
from layers.territories import publish, territories
from layers.validate import add_warning

__all__ = ["K_DEFAULT", "K_MIN", "anonymise_area_counts", "anonymise_areas", "anonymise_counts_mesh",
           "anonymise_mesh", "check_k", "count_keys", "counts_content_id", "register_publication"]

K_DEFAULT = 5
K_MIN = 3


def check_k(k: int) -> int:
    if not isinstance(k, int | np.integer) or int(k) < K_MIN:
        raise ParameterError(
            f"k は {K_MIN} 以上の整数にしてください。",
            parameter="k", layer=LAYER,
            fix=f"既定値は {K_DEFAULT} です（{K_DEFAULT} 人未満の単位は隣と合算されます）。",
        )
    return int(k)


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
    keys: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Apply the k-rule to counts per mesh code (codes of one level); with ``keys`` (the
    summed record keys of each code's people, from a register) each territory's count is
    published through the protection step (:func:`layers.cellkey.protect`).

    Territories (:mod:`layers.territories`) are made of the grid cells of the
    region (``region`` in lon/lat); without one, of the cells around the anchors
    (:data:`MARGIN_CELLS` beyond their extent) — never an extent set by a small count.
    """
    k = check_k(k)
    codes = np.asarray(codes, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    if len(codes):
        codes, inv = np.unique(codes, return_inverse=True)
        counts = np.bincount(inv.ravel(), weights=counts).astype(np.int64)
        if keys is not None:
            keys = np.bincount(inv.ravel(), weights=np.asarray(keys, np.int64)).astype(np.int64)
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
    all_keys = None
    if keys is not None:
        all_keys = np.zeros(len(all_row), np.int64)
        all_keys[pos[inside]] = keys[inside]
        all_keys[len(u_row):] = keys[~inside]
    drawn = np.r_[np.ones(len(u_row), bool), np.zeros(int((~inside).sum()), bool)]
    centres = np.column_stack([(all_col + 0.5) * DLON[level] * 90_000.0,
                               (all_row + 0.5) * DLAT[level] * 111_000.0])
    group = territories(all_counts, centres, k=k)
    size = SIZE_OF_LEVEL[level]
    out = publish(cell_codes(all_row, all_col, level).astype(str), all_counts, group,
                  cell_boxes(all_row, all_col, level), None, geography=f"mesh{size}", proxy=proxy,
                  drawn=drawn, whole_id=f"mesh{size}-all", keys=all_keys, k=k)
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
    keys: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Records → counts per JIS mesh cell with the k-rule, each territory's count protected
    by its people's keys (``keys``, else computed with the council's secret); see the module
    docstring."""
    level = _mesh_level(size)
    k = check_k(k)
    inside = _inside(records, region)
    every = bool(inside.all())  # the usual case: no copies of a 10M-record register
    codes = mesh_codes(records.lat if every else records.lat[inside],
                       records.lon if every else records.lon[inside], level)
    keys = _record_keys(records) if keys is None else np.asarray(keys)
    out = anonymise_counts_mesh(codes, np.ones(len(codes), np.int64), level=level, k=k, region=region,
                                keys=keys if every else keys[inside])
    _summarise(out, records, inside, k=k, geography=f"{size} m メッシュ", keys=keys)
    return out


def count_keys(units: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Keys for counts given already aggregated (``mesh_counts``, ``area_counts``): one per
    (unit, count), from the council's secret — the same count in the same unit always gets
    the same change, and a count that moves by one gets an unrelated one."""
    return record_keys([f"{u}:{int(c)}" for u, c in zip(units, counts, strict=True)], council_secret())


def counts_content_id(units: np.ndarray, counts: np.ndarray) -> str:
    """The ledger's identity of an aggregated count table: its (unit, count) pairs, sorted."""
    import hashlib

    pairs = sorted(f"{u}:{int(c)}" for u, c in zip(units, counts, strict=True) if int(c))
    return hashlib.sha256("\n".join(pairs).encode("utf-8")).hexdigest()[:32]


def _record_keys(records: Records) -> np.ndarray:
    """The records' keys with the council's secret (:mod:`layers.cellkey`): a register's
    counts are always published through the protection step."""
    from layers.demand import identities

    return record_keys(identities(records), council_secret())


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
               geography: str, keys: np.ndarray | None = None) -> None:
    merged, absorbed = out.attrs.get("merged", (0, 0))
    published = int(out["count"].sum()) if len(out) else 0

    def people(n: int) -> int | str:
        return _people(n, k)

    def protected(where: np.ndarray) -> int | str:
        """The people ``where`` holds, through the protection step (their keys)."""
        if keys is None:
            return people(int(where.sum()))
        return protected_total(int(where.sum()), int(keys[where].sum()), k=k)

    def protected_n(n: int) -> int | str:
        """A count about the file (rows read, rows without a place) through the same step:
        the located records' keys, or none for rows that have no key."""
        if keys is None:
            return people(n)
        return protected_total(n, int(keys.sum()) if n == records.n_read else 0, k=k)

    summary: dict[str, Any] = {
        "records_read": protected_n(records.n_read),
        "unlocated": protected_n(records.n_unlocated),
        "in_region": protected(inside),
        "outside_region": protected(~inside),
        "published_total": people(published),
        "units_published": len(out),
        "units_merged": merged,
        "units_absorbed": absorbed,
        "k": k,
        "geography": geography,
    }
    if records.swapped:
        summary["coordinates_swapped"] = True
    if records.n_estimated:  # placed from addresses at a 大字・町丁目 point only
        summary["estimated"] = protected_n(records.n_estimated)
    if records.category is not None:
        cats = np.asarray(records.category, dtype=object).astype(str)
        summary["categories"] = {str(c): protected(inside & (cats == c)) for c in sorted(set(cats[inside]))}
    out.attrs["summary"] = summary
    out.attrs["dataset_id"] = records.dataset_id
    note = (f"{geography}単位、k={k}：{k}人未満の単位は、いちばん近い {k}人以上の単位の区域に合算"
            f"（秘匿・合算 {absorbed} 単位）。区域の形は{k}人以上の単位の位置だけで決まり、"
            "個人の位置は表示していません。")
    if keys is not None:
        note += (f"人数は保護のため、同じ人の集まりには常に同じ調整（±{MAX_CHANGE}人以内）を"
                 "加えています（セル・キー法）。")
    if records.swapped:
        note += "名簿の緯度と経度の列が逆だったため、入れ替えて読みました。"
    if not len(out) and inside.any():
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
    keys: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Apply the k-rule to counts per area polygon (aligned with ``areas``): territories of
    the areas with at least k people (:mod:`layers.territories`), empty areas included;
    ``keys`` (each area's summed record keys) protect the counts as in
    :func:`anonymise_counts_mesh`."""
    k = check_k(k)
    crs = analysis_crs_for([areas])
    rep = areas.geometry.to_crs(crs).representative_point()
    centres = shapely.get_coordinates(rep.values)
    counts = np.asarray(counts, np.int64)
    group = territories(counts, centres, k=k)
    idc = id_column or next((c for c in ("area_id", "district_id", "code") if c in areas), None)
    ids = areas[idc].astype(str).to_numpy() if idc else np.arange(len(areas)).astype(str)
    points = shapely.get_coordinates(rep.to_crs(STORAGE_CRS).values)
    out = publish(ids, counts, group, np.asarray(areas.geometry.to_crs(STORAGE_CRS).values), points,
                  geography=geography, proxy=proxy, whole_id=f"{geography}-all", keys=keys, k=k)
    out.attrs["merged"] = _merge_facts(counts, group, k)
    return out


def anonymise_areas(
    records: Records,
    areas: gpd.GeoDataFrame,
    *,
    k: int = K_DEFAULT,
    geography: str = "neighbourhoods",
    keys: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Records → counts per area (自治会, 校区, 市町村) with the k-rule, protected as in
    :func:`anonymise_mesh`.

    Records outside every area are counted as outside the region.
    """
    k = check_k(k)
    polys = areas.geometry.to_crs(STORAGE_CRS).values
    region = shapely.union_all(polys)
    inside = _inside(records, region)
    pts = shapely.points(records.lon[inside], records.lat[inside])
    tree = shapely.STRtree(polys)
    pi, ai = tree.query(pts, predicate="within")
    first = np.full(len(pts), -1)
    first[pi[::-1]] = ai[::-1]
    counts = np.bincount(first[first >= 0], minlength=len(areas))
    keys = _record_keys(records) if keys is None else np.asarray(keys, np.int64)
    inner = keys[inside]
    area_keys = np.bincount(first[first >= 0], weights=inner[first >= 0],
                            minlength=len(areas)).astype(np.int64)
    out = anonymise_area_counts(areas, counts, k=k, geography=geography, keys=area_keys)
    _summarise(out, records, inside, k=k, geography=_GEO_LABEL.get(geography, geography), keys=keys)
    return out


_GEO_LABEL = {"neighbourhoods": "自治会", "school_districts": "校区", "boundaries": "市町村"}


# ----------------------------------------------------------------- publication ledger


def register_publication(dataset_id: str, geography: str, k: int,
                         density: gpd.GeoDataFrame | None = None) -> None:
    """Check a release of a register against the publication ledger and record it
    (:func:`layers.ledger.record_release`): one register, one geography, one secret; its
    warnings are attached to ``density``."""
    counts = dict(zip(density["unit_id"].astype(str), density["count"].astype(int), strict=True)) \
        if density is not None else {}
    said = record_release(dataset_id, geography, k, counts, layer=LAYER,
                          protection=fingerprint(council_secret()))
    if density is not None:
        for message in said:
            add_warning(density, message)
