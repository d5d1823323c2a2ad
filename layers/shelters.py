"""Shelters: GSI 指定緊急避難場所 and 指定避難所 (both layouts, any encoding).

Which layout a file has is recognised from its header, never from its name:

* 指定緊急避難場所 (``kind = "emergency_site"``): the 8 hazard columns
  ``洪水 … 火山現象`` hold ``1`` or blank and become booleans;
* 指定避難所 (``kind = "shelter"``): ``受入対象者`` non-empty marks a
  welfare-type shelter (``welfare = True``).  A 指定避難所 whose
  ``指定緊急避難場所との住所同一`` is 1 takes the hazard flags of the emergency
  site at the same address (``flags_from = "same_address"``); otherwise its
  flags are all False (``flags_from = "none"``): GSI designates shelters for
  staying, not per hazard.

Merged nationwide files (UTF-8, often with BOM, with 都道府県名及び市町村名) and
per-municipality downloads (cp932, without that column) both load, as do
GeoJSON files with the same properties.

Canonical schema (EPSG:4326 points):

=============  =======  ======================================================
column         type     meaning
=============  =======  ======================================================
shelter_id     str      共通ID (or the file's id column, or a generated id)
name           str      施設・場所名
address        str      住所
muni_code      str      5-digit code from 共通ID, else filled by the region
kind           str      ``emergency_site`` or ``shelter``
flood …        bool     one column per hazard in :data:`HAZARDS`
volcano
flags_from     str      ``gsi`` / ``same_address`` / ``none``
welfare        bool     受入対象者 given (福祉避難所-type)
accepts        str      受入対象者 text
capacity       Int64    optional (収容人数, 想定収容人数, capacity)
source         str      file name
geometry       Point
=============  =======  ======================================================
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

from layers.errors import LayerError
from layers.hazard_kinds import DEFAULT_HAZARD, HAZARD_LABELS, HAZARDS
from layers.readers import (
    TABLE_FORMATS,
    detect_format,
    read_point_file,
)
from layers.validate import add_warning, check_ids, optional_int, pick

__all__ = ["COLUMNS", "DEFAULT_HAZARD", "HAZARDS", "HAZARD_LABELS", "inherit_flags", "load_shelters",
           "usable_for"]

LAYER = "shelters"

KIND_LABELS: dict[str, str] = {"shelter": "指定避難所", "emergency_site": "指定緊急避難場所"}
"""The two kinds of record, as a person names them."""
COLUMNS = [
    "shelter_id", "name", "address", "muni_code", "kind", *HAZARDS,
    "flags_from", "welfare", "accepts", "capacity", "source", "geometry",
]

ID_NAMES = ("共通ID", "shelter_id", "id", "ID")
NAME_NAMES = ("施設・場所名", "name", "名称", "施設名")
ADDRESS_NAMES = ("住所", "address", "所在地")
CAPACITY_NAMES = ("想定収容人数", "収容人数", "収容可能人数", "capacity", "定員")
ACCEPT_NAMES = ("受入対象者", "accepts")
SAME_ADDR_NAMES = ("指定緊急避難場所との住所同一",)


def _layout(columns: Sequence[str]) -> str:
    cols = set(columns)
    if "受入対象者" in cols or "指定緊急避難場所との住所同一" in cols:
        return "shelter"
    if sum(1 for c in HAZARDS.values() if c in cols) >= 4 or sum(1 for k in HAZARDS if k in cols) >= 4:
        return "emergency_site"
    return "generic"


def _flag(values: pd.Series) -> np.ndarray:
    s = values.fillna("").astype(str).str.strip().str.lower()
    return s.isin(["1", "1.0", "true", "yes", "○", "〇", "◯", "y", "t"]).to_numpy()


def load_shelters(
    paths: Sequence[Path],
    *,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    id: str | None = None,  # the TOML key users write
    name: str | None = None,
    capacity: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    kind: str | None = None,
    sheet: str | None = None,
    address: str | None = None,
    geocoder: Geocoder | None = None,
) -> gpd.GeoDataFrame:
    """Load shelters from GSI CSVs (either layout, UTF-8 or cp932), Excel or GeoJSON
    (addresses without coordinates placed by ``geocoder``).

    Parameters
    ----------
    paths
        One or more files; emergency-site and shelter files can be mixed.
    fmt, crs, encoding
        Overrides of detection.
    id, name, capacity, lat, lon
        Column mappings for files that are not in the GSI layout.
    kind
        ``"emergency_site"`` or ``"shelter"`` for a generic file.

    Returns
    -------
    geopandas.GeoDataFrame
        See the module docstring.  ``attrs["counts"]`` gives rows per kind.
    """
    frames = []
    rows_all: list[np.ndarray] = []
    files: list[Path] = []
    warnings: list[str] = []
    for path in paths:
        w: list[str] = []
        gdf = read_point_file(
            path, fmt=fmt, crs=crs, encoding=encoding, lat=lat, lon=lon, layer=LAYER, warnings=w,
            sheet=sheet, geocoder=geocoder, address=address,
        )
        warnings += [f"{path.name}: {m}" for m in w]
        layout = _layout_of(gdf, path, kind, name)
        frames.append(_canonical(gdf, path, layout, id_col=id, name_col=name, cap_col=capacity))
        rows_all.append(np.asarray(gdf.attrs.get("rows", np.arange(len(gdf)) + 2)))
        files.append(path)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    # duplicate IDs: name the file and row of the repeat
    dup = out["shelter_id"].duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        offsets = np.cumsum([0, *[len(f) for f in frames]])
        k = int(np.searchsorted(offsets, i, side="right") - 1)
        raise LayerError(
            "同じ共通IDの施設が複数のファイルにあります。",
            file=files[k],
            row=int(rows_all[k][i - offsets[k]]),
            column="共通ID",
            layer=LAYER,
            fix="同じデータ（全国版と市町村版など）を二重に指定していないか確認してください。",
        )
    out = _inherit_flags(out)
    out.attrs["counts"] = {k: int(v) for k, v in out["kind"].value_counts().sort_index().items()}
    for m in warnings:
        add_warning(out, m)
    return out


def _layout_of(gdf: gpd.GeoDataFrame, path: Path, kind: str | None, name: str | None) -> str:
    """Which GSI layout a file has (``kind`` when given); a generic named file is a shelter."""
    layout = kind or _layout(list(gdf.columns))
    if layout == "generic":
        if pick(gdf, NAME_NAMES, mapped=name, file=path) is None:
            raise LayerError(
                "指定緊急避難場所・指定避難所のどちらの形式か判別できません。",
                file=path,
                row=1,
                column="施設・場所名",
                fix="国土地理院の CSV の見出し行（NO,共通ID,…）をそのまま残すか、"
                "name 列と kind = \"shelter\" などを地域設定で指定してください。",
            )
        layout = "shelter"
    return layout


def _canonical(
    gdf: gpd.GeoDataFrame,
    path: Path,
    layout: str,
    *,
    id_col: str | None,
    name_col: str | None,
    cap_col: str | None,
) -> gpd.GeoDataFrame:
    n = len(gdf)
    rows = gdf.attrs.get("rows")
    idc = pick(gdf, ID_NAMES, mapped=id_col, file=path, what="ID", key="id")
    namec = pick(gdf, NAME_NAMES, mapped=name_col, file=path, required=True,
                 what="施設・場所名", key="name")
    assert namec is not None
    addrc = pick(gdf, ADDRESS_NAMES, file=path)
    capc = pick(gdf, CAPACITY_NAMES, mapped=cap_col, file=path, what="収容人数", key="capacity")
    accc = pick(gdf, ACCEPT_NAMES, file=path)
    samec = pick(gdf, SAME_ADDR_NAMES, file=path)
    if idc is not None:
        ids = check_ids(gdf[idc], file=path, column=idc, layer=LAYER, rows=rows,
                        fix_blank="共通ID を入力するか、ID 列を使わない場合は列ごと削除してください。")
    else:
        ids = pd.Series([f"{path.stem}-{i + 1}" for i in range(n)], index=gdf.index)
    muni = ids.str.extract(r"^[A-Za-z](\d{5})", expand=False).fillna("")
    data: dict[str, object] = {
        "shelter_id": ids.to_numpy(),
        "name": gdf[namec].fillna("").astype(str).to_numpy(),
        "address": gdf[addrc].fillna("").astype(str).to_numpy() if addrc else "",
        "muni_code": muni.to_numpy(),
        "kind": layout,
    }
    for key, col in HAZARDS.items():
        if layout == "emergency_site":
            src = col if col in gdf.columns else (key if key in gdf.columns else None)
            data[key] = _flag(gdf[src]) if src else np.zeros(n, bool)
        else:
            data[key] = np.zeros(n, bool)
    data["flags_from"] = "gsi" if layout == "emergency_site" else "none"
    accepts = gdf[accc].fillna("").astype(str) if accc else pd.Series([""] * n, index=gdf.index)
    data["welfare"] = (accepts != "").to_numpy() & (layout == "shelter")
    data["accepts"] = accepts.to_numpy()
    data["same_address"] = _flag(gdf[samec]) if samec else np.zeros(n, bool)
    data["capacity"] = optional_int(gdf, capc, file=path, layer=LAYER, rows=rows).array
    data["source"] = path.name
    if "match_level" in gdf.columns:  # placed from addresses: how finely
        data["match_level"] = gdf["match_level"].to_numpy()
    return gpd.GeoDataFrame(data, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def _inherit_flags(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give 指定避難所 at the same address as an emergency site that site's flags."""
    sites = gdf[gdf["kind"] == "emergency_site"]
    want = (gdf["kind"] == "shelter") & gdf["same_address"] & (gdf["address"] != "")
    if sites.empty or not want.any():
        return gdf.drop(columns="same_address")
    flags = sites.groupby("address")[list(HAZARDS)].any()
    target = gdf.loc[want, "address"]
    hit = target.isin(flags.index)
    idx = target.index[hit.to_numpy()]
    if len(idx):
        gdf.loc[idx, list(HAZARDS)] = flags.loc[gdf.loc[idx, "address"]].to_numpy()
        gdf.loc[idx, "flags_from"] = "same_address"
    return gdf.drop(columns="same_address")


def inherit_flags(shelters: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shelter layers combined after loading (the app's uploads, one file at a time): each
    指定避難所 still without flags takes those of an emergency site at the same address, as
    :func:`load_shelters` does when the files are read together."""
    if not len(shelters) or "flags_from" not in shelters:
        return shelters
    gdf = shelters.copy()
    gdf["same_address"] = (gdf["flags_from"] == "none").to_numpy()
    return _inherit_flags(gdf)


def usable_for(shelters: gpd.GeoDataFrame, hazard: str) -> pd.Series:
    """Whether each shelter is designated for ``hazard`` (a key of :data:`HAZARDS`)."""
    if hazard not in HAZARDS:
        raise LayerError(
            "災害の種類が分かりません。",
            column="hazard",
            fix=f"次のいずれかを指定してください: {', '.join(HAZARDS)}",
        )
    return shelters[hazard].astype(bool)


def is_table(path: Path, fmt: str | None = None) -> bool:
    """Whether a path is read as a text table."""
    return detect_format(path, fmt) in TABLE_FORMATS
