"""Candidate sites for the 災害ボランティアセンター (災害VC).

Canonical schema (EPSG:4326 points):

==========  =====  ====================================================
column      type   meaning
==========  =====  ====================================================
site_id     str    the file's ID column or ``VC01``…
name        str    名称 / name
muni_code   str    市町村コード when given (else filled by the region)
priority    Int64  候補順位 / priority, optional (1 = first choice)
source      str    file name
geometry    Point
==========  =====  ====================================================
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

from layers.boundaries import normalise_code
from layers.points import load_named_points
from layers.validate import optional_int, pick

__all__ = ["COLUMNS", "load_vc_sites"]

LAYER = "vc_sites"
COLUMNS = ["site_id", "name", "muni_code", "priority", "source", "geometry"]
ID_NAMES = ("site_id", "id", "ID", "番号")
NAME_NAMES = ("名称", "施設名", "name", "候補地")
MUNI_NAMES = ("市町村コード", "muni_code", "code")
PRIORITY_NAMES = ("候補順位", "優先順位", "priority")


def load_vc_sites(
    paths: Sequence[Path],
    *,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    id: str | None = None,  # the TOML key users write
    name: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    x: str | None = None,
    y: str | None = None,
    sheet: str | None = None,
    address: str | None = None,
    geocoder: Geocoder | None = None,
) -> gpd.GeoDataFrame:
    """Load 災害VC candidate points; see the module docstring for the schema."""
    base, raws = load_named_points(
        paths, layer=LAYER, id_prefix="VC", id_names=ID_NAMES, name_names=NAME_NAMES,
        fmt=fmt, crs=crs, encoding=encoding, id_col=id, name_col=name,
        lat=lat, lon=lon, x=x, y=y, sheet=sheet, address=address, geocoder=geocoder,
    )
    munis, prios = [], []
    for path, raw in raws:
        mc = pick(raw, MUNI_NAMES, file=path)
        pc = pick(raw, PRIORITY_NAMES, file=path)
        munis.append(
            normalise_code(raw[mc]).to_numpy() if mc else np.full(len(raw), "", dtype=object)
        )
        prios.append(optional_int(raw, pc, file=path, layer=LAYER, rows=raw.attrs.get("rows")))
    out = gpd.GeoDataFrame(
        {
            "site_id": base["id"].to_numpy(),
            "name": base["name"].to_numpy(),
            "muni_code": np.concatenate(munis),
            "priority": pd.concat(prios, ignore_index=True).astype("Int64").array,
            "source": base["source"].to_numpy(),
        },
        geometry=base.geometry.to_numpy(),
        crs=base.crs,
    )
    if "match_level" in base.columns:  # placed from addresses: how finely
        out.insert(len(out.columns) - 1, "match_level", base["match_level"].to_numpy())
    out.attrs = dict(base.attrs)
    return out
