"""Every input layer (anonymised only) and every result layer, for analysts and older Excel.

* ``tomoni_export.gpkg`` — one GeoPackage: the region's layers (the 要配慮者
  layer only as its published density) and every result layer of
  :func:`geo.runs.region_results.analyse_region`;
* ``csv/*.csv`` — every table in UTF-8 with BOM (opens in Excel); with
  ``cp932=True`` also ``csv_cp932/*.csv`` in Shift_JIS for older Excel (characters
  cp932 cannot hold become ``?`` and are counted in the log);
* ``parquet/*.parquet`` — GeoParquet per layer (``parquet=True``).

Everything is written atomically (temporary file + rename).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geo.outputs.csv_safe import csv_text
from geo.outputs.layer_export import write_geopackage
from layers.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from layers.crs import STORAGE_CRS

if TYPE_CHECKING:  # the region run is drawn here, never run
    from geo.runs.region_results import RegionResults
    from layers.region import RegionLike

__all__ = ["export_all", "input_layers"]

log = logging.getLogger(__name__)


def input_layers(region: RegionLike) -> dict[str, gpd.GeoDataFrame]:
    """The region's layers as they may leave the tool (the density, never records)."""
    out = {}
    for key, frame in region.layers.items():
        if frame is None:
            continue
        g = frame.to_crs(STORAGE_CRS)
        if key == "vulnerable":
            g = g.drop(columns=[c for c in g.columns if c not in
                                ("unit_id", "geography", "count", "n_units", "proxy", "geometry")])
        out[key] = g
    return out


def _cp932(text: str) -> tuple[bytes, int]:
    data = text.encode("cp932", errors="replace")
    bad = sum(1 for ch in text if ch.encode("cp932", errors="replace") == b"?" and ch != "?")
    return data, bad


def export_all(res: RegionResults, out: Path, *, cp932: bool = False, parquet: bool = False) -> list[Path]:
    """Write the GeoPackage, the CSV tables and (optionally) cp932 CSV and GeoParquet."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    layers = {**input_layers(res.region), **res.result_layers()}
    paths = [write_geopackage(layers, out / "tomoni_export.gpkg")]
    tables = {**{k: pd.DataFrame(v.drop(columns="geometry")) for k, v in layers.items()},
              **res.result_tables()}
    for name, table in tables.items():
        text = csv_text(table)
        paths.append(atomic_write_text(out / "csv" / f"{name}.csv", text, encoding="utf-8-sig"))
        if cp932:
            data, bad = _cp932(text)
            if bad:
                log.warning("%s: cp932 で表せない %d 文字を ? にしました", name, bad)
            paths.append(atomic_write_bytes(out / "csv_cp932" / f"{name}.csv", data))
    if parquet:
        (out / "parquet").mkdir(exist_ok=True)
        for name, frame in layers.items():
            target = out / "parquet" / f"{name}.parquet"
            with atomic_path(target) as tmp:
                frame.to_parquet(tmp, index=False)
            paths.append(target)
    return paths
