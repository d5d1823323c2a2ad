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
    """The merged tables (UTF-8 with BOM CSV, atomic): the units per municipality from the
    partition files; every count of people from the people tables
    (:mod:`geo.runs.batch.people`: each person from their home, through the gate)."""
    from geo.runs.batch.people import read_people

    out = Path(out)
    parts = sorted(out.glob("partitions/muni=*/units.parquet"))
    if not parts:
        return {}
    u = _unit_table(parts, ["unit_id", "muni_code"]).to_pandas()
    if not len(u):
        return {}
    people = read_people(out)
    units = u.groupby("muni_code").agg(units=("unit_id", "count")).reset_index()
    counted = people["by_muni"] if len(people["by_muni"]) else pd.DataFrame(
        {"muni_code": pd.Series(dtype=str), **{c: pd.array([], dtype="Int64") for c in PEOPLE_COLUMNS}})
    by_muni = units.merge(counted.drop_duplicates("muni_code"), on="muni_code", how="left")
    c = by_muni["covered"].to_numpy(float, na_value=np.nan)
    t = by_muni["people"].to_numpy(float, na_value=np.nan)
    by_muni["rate"] = np.round(np.divide(c, t, out=np.full(len(t), np.nan), where=t > 0), 4)
    mine = set(units["muni_code"].astype(str))
    load, pairs = people["load"], people["pairs"]
    if len(pairs):
        pairs = pairs[pairs["from_muni"].isin(mine)].reset_index(drop=True)
    tables = {"summary_by_municipality": by_muni, "shelter_load": load, "crossborder_pairs": pairs}
    for name, t_ in tables.items():
        atomic_write_text(out / f"{name}.csv", csv_text(t_), encoding="utf-8-sig")
    return tables


PEOPLE_COLUMNS = ("people", "covered", "no_shelter", "cross_border")
"""The counts of people per municipality (protected; :mod:`geo.runs.batch.people`)."""


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
