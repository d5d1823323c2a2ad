"""Reading back the parts a batch wrote, and merging them into per-unit and per-area tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.outputs.csv_safe import csv_text
from geo.runs.batch.config import UNIT_COLUMNS
from layers.atomic import atomic_path, atomic_write_text
from layers.crs import STORAGE_CRS, transform_xy

__all__ = ["merge", "read_units"]


def read_units(out: str | Path) -> gpd.GeoDataFrame:
    """Every partition's unit rows as one frame."""
    parts = sorted(Path(out).glob("partitions/muni=*/units.parquet"))
    if not parts:
        return gpd.GeoDataFrame({c: [] for c in UNIT_COLUMNS}, geometry=[], crs=STORAGE_CRS)
    table = _unit_table(parts).to_pandas()
    geometry = gpd.GeoSeries.from_wkb(table.pop("geometry").to_numpy(), crs=STORAGE_CRS)
    return gpd.GeoDataFrame(table, geometry=geometry.to_numpy(), crs=STORAGE_CRS)


def _unit_table(parts: Sequence[Path], columns: Sequence[str] | None = None) -> Any:
    """The partition files as one Arrow table (the CRS, the same in every file, is read
    once by the caller: parsing it per file cost more than reading the rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa.concat_tables([pq.read_table(p, columns=list(columns) if columns else None)
                             for p in parts], promote_options="default")


def merge(out: str | Path) -> dict[str, pd.DataFrame]:
    """The merged tables from the partition files (UTF-8 with BOM CSV, atomic)."""
    out = Path(out)
    parts = sorted(out.glob("partitions/muni=*/units.parquet"))
    if not parts:
        return {}
    u = _unit_table(parts, ["unit_id", "muni_code", "count", "covered", "shelter_id",
                            "shelter_reachable", "cross", "nearest_muni"]).to_pandas()
    if not len(u):
        return {}
    u = u.assign(covered_n=np.where(u["covered"], u["count"], 0),
                 unreachable_n=np.where(u["shelter_reachable"], 0, u["count"]),
                 cross_n=np.where(u["cross"], u["count"], 0))
    by_muni = u.groupby("muni_code").agg(
        units=("unit_id", "count"), people=("count", "sum"), covered=("covered_n", "sum"),
        no_shelter=("unreachable_n", "sum"), cross_border=("cross_n", "sum")).reset_index()
    by_muni["rate"] = (by_muni["covered"] / by_muni["people"]).round(4)
    load = u[u["shelter_reachable"]].groupby("shelter_id")["count"].sum().reset_index(name="demand")
    pairs = u[u["cross"]].groupby(["muni_code", "nearest_muni"])["count"].sum() \
        .reset_index(name="people").rename(columns={"muni_code": "from_muni", "nearest_muni": "to_muni"})
    tables = {"summary_by_municipality": by_muni, "shelter_load": load, "crossborder_pairs": pairs}
    for name, t in tables.items():
        atomic_write_text(out / f"{name}.csv", csv_text(t), encoding="utf-8-sig")
    return tables


def part_path(out: Path, key: str) -> Path:
    return out / "partitions" / f"muni={key}" / "units.parquet"


def part_bytes(rows: pd.DataFrame, crs: str) -> bytes:
    """A partition's rows (``x``/``y`` in ``crs``) as the GeoParquet file it is stored as
    (points in the storage CRS).  Made by the worker: the driver only writes the bytes."""
    import io

    lon, lat = transform_xy(rows["x"].to_numpy(float), rows["y"].to_numpy(float), crs, STORAGE_CRS)
    g = gpd.GeoDataFrame(rows.drop(columns=["x", "y"]), geometry=shapely.points(lon, lat),
                         crs=STORAGE_CRS)
    buf = io.BytesIO()
    g.to_parquet(buf, index=False)
    return buf.getvalue()


def write_part(out: Path, result: dict[str, Any], crs: str) -> None:
    """Write a partition's file atomically: the bytes a worker made, else its ``rows``
    (``x``/``y`` in the result's ``crs``, default ``crs``)."""
    data = result.get("parquet")
    if data is None:
        data = part_bytes(result["rows"], result.get("crs", crs))
    target = part_path(out, result["key"])
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
