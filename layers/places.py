"""居場所 (community places, サロン, 通いの場, 子ども食堂 …).

Read from CSV (緯度/経度, lat/lon, or x/y with a declared CRS), GeoJSON,
GeoPackage or any point file.

Canonical schema (EPSG:4326 points):

==========  =======  ====================================================
column      type     meaning
==========  =======  ====================================================
place_id    str      the file's ID column (番号, ID, id) or ``P0001``…
name        str      名称 / 施設名 / name
kind        str      種別 (サロン, 子ども食堂 …), "" when not given
capacity    Int64    定員, optional
open_days   str      開催日 / 開設日 / 曜日 as written (e.g. ``月・木``)
source      str      file name
geometry    Point
==========  =======  ====================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

if TYPE_CHECKING:
    from layers.geocode import Geocoder

from layers.points import load_named_points
from layers.validate import optional_int, pick

__all__ = ["COLUMNS", "load_places"]

LAYER = "places"
COLUMNS = ["place_id", "name", "kind", "capacity", "open_days", "source", "geometry"]
ID_NAMES = ("place_id", "id", "ID", "番号", "No", "NO")
NAME_NAMES = ("名称", "施設名", "居場所名", "name", "サロン名", "場所名")
KIND_NAMES = ("種別", "種類", "kind", "type", "区分")
CAPACITY_NAMES = ("定員", "capacity", "収容人数")
DAYS_NAMES = ("開催日", "開設日", "開催曜日", "曜日", "open_days", "opening_days")


def load_places(
    paths: Sequence[Path],
    *,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    id: str | None = None,  # the TOML key users write
    name: str | None = None,
    kind: str | None = None,
    capacity: str | None = None,
    open_days: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    x: str | None = None,
    y: str | None = None,
    sheet: str | None = None,
    address: str | None = None,
    geocoder: Geocoder | None = None,
) -> gpd.GeoDataFrame:
    """Load 居場所 points; see the module docstring for the schema."""
    base, raws = load_named_points(
        paths, layer=LAYER, id_prefix="P", id_names=ID_NAMES, name_names=NAME_NAMES,
        fmt=fmt, crs=crs, encoding=encoding, id_col=id, name_col=name,
        lat=lat, lon=lon, x=x, y=y, sheet=sheet, address=address, geocoder=geocoder,
    )
    kinds, caps, days = [], [], []
    for path, raw in raws:
        rows = raw.attrs.get("rows")
        kc = pick(raw, KIND_NAMES, mapped=kind, file=path, what="種別", key="kind")
        cc = pick(raw, CAPACITY_NAMES, mapped=capacity, file=path, what="定員", key="capacity")
        dc = pick(raw, DAYS_NAMES, mapped=open_days, file=path, what="開催日", key="open_days")
        kinds.append(raw[kc].fillna("").astype(str).to_numpy() if kc else np.full(len(raw), ""))
        caps.append(optional_int(raw, cc, file=path, layer=LAYER, rows=rows))
        days.append(raw[dc].fillna("").astype(str).to_numpy() if dc else np.full(len(raw), ""))
    out = gpd.GeoDataFrame(
        {
            "place_id": base["id"].to_numpy(),
            "name": base["name"].to_numpy(),
            "kind": np.concatenate(kinds),
            "capacity": pd.concat(caps, ignore_index=True).astype("Int64").array,
            "open_days": np.concatenate(days),
            "source": base["source"].to_numpy(),
        },
        geometry=base.geometry.to_numpy(),
        crs=base.crs,
    )
    if "match_level" in base.columns:  # placed from addresses: how finely
        out.insert(len(out.columns) - 1, "match_level", base["match_level"].to_numpy())
    out.attrs = dict(base.attrs)
    return out
