"""Projected population: the 国土数値情報 500 m mesh projections (令和6年推計).

Read as distributed — GeoJSON or a shapefile (cp932 attributes), EPSG:6668 — and named in
the region TOML::

    [projection]
    path = "mesh500_h30_05.geojson"      # or a list (one file per prefecture)

Attributes: ``MESH_ID`` (9-digit 500 m mesh code), ``PTN_YYYY`` (total) and the bands
``PTA_YYYY`` 0–14, ``PTB_YYYY`` 15–64, ``PTC_YYYY`` 65+, ``PTD_YYYY`` 75+, ``PTE_YYYY``
80+ for YYYY = 2020 … 2070 in 5-year steps (``RTA``…``RTE`` are ratios, not read).
Public code often mislabels the bands, so they are **verified on load**: 0–14 + 15–64 +
65+ must make the total (within 1 person or 1 %), and 80+ ≤ 75+ ≤ 65+; a file that fails
says which columns.  A cell on a prefecture border appears once per prefecture: rows
are summed by ``MESH_ID``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.errors import LayerError
from layers.readers import read_vector, require_rows

__all__ = ["BANDS", "Projection", "load_projection", "projected_demand", "scaled_density"]

log = logging.getLogger(__name__)

BANDS = {"total": "PTN", "0-14": "PTA", "15-64": "PTB", "65+": "PTC", "75+": "PTD", "80+": "PTE"}
"""Band → the KSJ attribute prefix (``PTC_2035`` is people 65+ in 2035)."""
_COLUMN = re.compile(r"^(PT[NABCDE])_(\d{4})$")


@dataclass(frozen=True)
class Projection:
    """One row per 500 m cell: ``mesh_id``, the ``PT?_YYYY`` counts and the cell's
    polygon (EPSG:6668); ``years`` in order."""

    cells: gpd.GeoDataFrame
    years: tuple[int, ...]

    def band(self, band: str, year: int) -> np.ndarray:
        """People of ``band`` (``"65+"``, ``"75+"``, ``"total"`` …) in ``year`` per cell."""
        if band not in BANDS:
            raise LayerError(f"年齢区分 {band} はありません。", column="band",
                             fix=f"次のいずれか: {', '.join(BANDS)}")
        if year not in self.years:
            raise LayerError(f"将来推計に {year} 年がありません。", column="year",
                             fix=f"次のいずれか: {', '.join(str(y) for y in self.years)}")
        return self.cells[f"{BANDS[band]}_{year}"].to_numpy(float)


def load_projection(paths: tuple[Path, ...] | list[Path]) -> Projection:
    """Read, check and merge the projection files (see the module doc)."""
    frames = []
    for path in paths:
        gdf = read_vector(Path(path))
        require_rows(gdf, file=path, layer="projection")
        gdf = gdf.rename(columns={c: str(c).upper() for c in gdf.columns if c != gdf.geometry.name})
        if "MESH_ID" not in gdf:
            raise LayerError("MESH_ID の列がありません。", file=path, row=1, column="MESH_ID",
                             layer="projection",
                             fix="国土数値情報の500mメッシュ別将来推計人口のファイルを指定してください。")
        cols = [c for c in gdf.columns if _COLUMN.match(str(c))]
        if not any(c.startswith("PTN_") for c in cols):
            raise LayerError("PTN_（総数）の列がありません。", file=path, row=1, column="PTN_2020",
                             layer="projection",
                             fix="PTN_2020 … PTN_2070 の列があるファイルを指定してください。")
        values = gdf[cols].apply(pd.to_numeric, errors="coerce")
        bad = values.isna().any(axis=1).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            col = str(values.columns[values.iloc[i].isna().to_numpy()][0])
            raise LayerError("人口が数値でない行があります。", file=path, row=i + 2, column=col,
                             layer="projection", fix="数値（人）にしてください。")
        frame = pd.concat([gdf[["MESH_ID"]].astype(str), values], axis=1)
        frame["geometry"] = gdf.geometry.to_crs("EPSG:6668").to_numpy()
        _check_bands(frame, file=Path(path))
        frames.append(frame)
    if not frames:
        raise LayerError("将来推計のファイルがありません。", column="projection.path",
                         fix='[projection] path = "…" を書いてください。')
    allf = pd.concat(frames, ignore_index=True)
    numbers = [c for c in allf.columns if _COLUMN.match(str(c))]
    summed = allf.groupby("MESH_ID", sort=True)[numbers].sum()  # border cells, once per prefecture
    geom = allf.groupby("MESH_ID", sort=True)["geometry"].first()
    years = tuple(sorted({int(c[4:]) for c in numbers if c.startswith("PTN_")}))
    cells = gpd.GeoDataFrame(summed.reset_index().rename(columns={"MESH_ID": "mesh_id"}),
                             geometry=geom.to_numpy(), crs="EPSG:6668")
    log.info("projection: %d cells, years %s", len(cells), years)
    return Projection(cells=cells, years=years)


def _check_bands(frame: pd.DataFrame, *, file: Path) -> None:
    """0–14 + 15–64 + 65+ = total; 80+ ≤ 75+ ≤ 65+ — else the columns are mislabelled."""
    years = sorted({int(m.group(2)) for c in frame.columns if (m := _COLUMN.match(str(c)))})
    for y in years:
        have = {p: f"{p}_{y}" in frame for p in ("PTN", "PTA", "PTB", "PTC", "PTD", "PTE")}
        if all(have[p] for p in ("PTN", "PTA", "PTB", "PTC")):
            total = frame[f"PTN_{y}"].to_numpy(float)
            parts = sum(frame[f"{p}_{y}"].to_numpy(float) for p in ("PTA", "PTB", "PTC"))
            off = np.abs(parts - total) > np.maximum(1.0, 0.01 * total)
            if off.mean() > 0.01:
                i = int(np.flatnonzero(off)[0])
                raise LayerError(
                    f"{y} 年の年齢区分の和が総数になりません（{int(off.sum())} 行）。列の意味が違う"
                    "可能性があります。", file=file, row=i + 2, column=f"PTA_{y}+PTB_{y}+PTC_{y}",
                    layer="projection",
                    fix="PTA=0〜14歳、PTB=15〜64歳、PTC=65歳以上、PTN=総数 のファイルか確かめてください。")
        for lo, hi, what in (("PTD", "PTC", "75歳以上 ≤ 65歳以上"), ("PTE", "PTD", "80歳以上 ≤ 75歳以上")):
            if have[lo] and have[hi]:
                over = frame[f"{lo}_{y}"].to_numpy(float) > frame[f"{hi}_{y}"].to_numpy(float) + 0.5
                if over.any():
                    i = int(np.flatnonzero(over)[0])
                    raise LayerError(
                        f"{y} 年の {lo} が {hi} より大きい行があります（{what} のはず）。"
                        "列の名前が入れ替わっている可能性があります。", file=file, row=i + 2,
                        column=f"{lo}_{y}", layer="projection",
                        fix="PTD=75歳以上、PTE=80歳以上 の順か確かめてください。")


def projected_demand(projection: Projection, year: int, *, band: str = "65+") -> gpd.GeoDataFrame:
    """The projected people of ``band`` in ``year`` as a density layer of 500 m cells
    (``unit_id`` = mesh code, ``geography`` ``mesh500``, whole people; empty cells left
    out).  Public, aggregated data: no k-rule applies."""
    count = np.round(projection.band(band, year)).astype(np.int64)
    keep = count > 0
    cells = projection.cells.loc[keep]
    return gpd.GeoDataFrame({"unit_id": cells["mesh_id"].astype(str).to_numpy(),
                             "geography": "mesh500", "count": count[keep], "members": "",
                             "proxy": f"将来推計 {band} {year}"},
                            geometry=cells.geometry.to_numpy(), crs="EPSG:6668")


def scaled_density(density: gpd.GeoDataFrame, projection: Projection, year: int, *, base: int,
                   band: str = "65+") -> gpd.GeoDataFrame:
    """The anonymised density scaled by the projected change of ``band`` from ``base`` to
    ``year`` in the 500 m cell holding each unit's representative point (unchanged where
    the cell had nobody of the band in ``base``, or lies outside the projection)."""
    import shapely

    then, now = projection.band(band, base), projection.band(band, year)
    ratio = np.divide(now, then, out=np.ones(len(then)), where=then > 0)
    pts = density.to_crs("EPSG:6668").geometry.representative_point().to_numpy()
    tree = shapely.STRtree(projection.cells.geometry.to_numpy())
    pi, ci = tree.query(pts, predicate="within")
    factor = np.ones(len(density))
    factor[pi] = ratio[ci]
    out = density.copy()
    out["count"] = np.round(density["count"].to_numpy(float) * factor).astype(np.int64)
    return out
