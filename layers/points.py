"""Shared loading of point layers that have an id and a name (居場所, VC sites, candidates)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from layers.errors import LayerError
from layers.readers import read_point_file
from layers.validate import add_warning, check_ids, pick

if TYPE_CHECKING:
    from layers.geocode import Geocoder

__all__ = ["load_named_points"]


def load_named_points(
    paths: Sequence[Path],
    *,
    layer: str,
    id_prefix: str,
    id_names: Sequence[str],
    name_names: Sequence[str],
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    id_col: str | None = None,
    name_col: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    x: str | None = None,
    y: str | None = None,
    sheet: str | None = None,
    address: str | None = None,
    geocoder: Geocoder | None = None,
) -> tuple[gpd.GeoDataFrame, list[tuple[Path, gpd.GeoDataFrame]]]:
    """Read point files and give every feature an ``id`` and a ``name``.

    Returns the canonical frame (``<layer>_id``-style ``id``, ``name``,
    ``source``, geometry) and, per file, the raw frame for layer-specific columns.
    IDs are taken from an id column when there is one (duplicates are refused),
    else generated as ``{id_prefix}0001``…  Tables with addresses and no coordinates are
    placed by ``geocoder`` and keep their ``match_level``.
    """
    frames: list[gpd.GeoDataFrame] = []
    raws: list[tuple[Path, gpd.GeoDataFrame]] = []
    warnings: list[str] = []
    counter = 0
    for path in paths:
        w: list[str] = []
        gdf = read_point_file(
            path, fmt=fmt, crs=crs, encoding=encoding, lat=lat, lon=lon, x=x, y=y,
            layer=layer, warnings=w, sheet=sheet, geocoder=geocoder, address=address,
        )
        warnings += [f"{path.name}: {m}" for m in w]
        rows = gdf.attrs.get("rows")
        idc = pick(gdf, id_names, mapped=id_col, file=path, what="ID", key="id")
        namec = pick(gdf, name_names, mapped=name_col, file=path, required=True,
                     what="名称", key="name")
        assert namec is not None
        _refuse_people(gdf, path, layer)
        if idc:
            ids = check_ids(gdf[idc], file=path, column=idc, layer=layer, rows=rows)
        else:
            ids = pd.Series(
                [f"{id_prefix}{counter + i + 1:04d}" for i in range(len(gdf))], index=gdf.index
            )
        counter += len(gdf)
        names = gdf[namec].fillna("").astype(str)
        cols = {"id": ids.to_numpy(), "name": names.to_numpy(), "source": path.name}
        if "match_level" in gdf.columns:
            cols["match_level"] = gdf["match_level"].to_numpy()
        frames.append(gpd.GeoDataFrame(cols, geometry=gdf.geometry.to_numpy(), crs=gdf.crs))
        raws.append((path, gdf))
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    dup = out["id"].duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise LayerError(
            "同じ ID が複数のファイルにあります。",
            layer=layer,
            row=None,
            column="id",
            file=out["source"].iloc[i],
            fix="ファイルをまたいで ID を一意にしてください。",
        )
    for m in warnings:
        add_warning(out, m)
    return out, raws


def _refuse_people(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """A list of people (a register) is never a point layer: its names would be drawn at
    their homes (:mod:`layers.personal`)."""
    from layers.personal import personal_columns

    people = personal_columns(gdf.drop(columns=[c for c in ("geometry", "match_level") if c in gdf]))
    if people:
        column, why = people[0]
        raise LayerError(f"個人の一覧（名簿）のように見えるため、地図のレイヤーには読み込みません（{why}）。",
                         file=path, row=1, column=column, layer=layer,
                         fix="要配慮者の名簿は [layers.vulnerable]（または tomoni anonymize）で読み込んで"
                         "ください。施設の一覧なら、その列を消してください。")
