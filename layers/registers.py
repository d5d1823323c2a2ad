"""Reading a 要配慮者 register (避難行動要支援者名簿 extract): coordinates and categories only.

Names, addresses and every other column are dropped at reading; a record never
reaches a log, an error message or a ``repr``.  What is kept (:class:`Records`)
goes to the anonymiser (:mod:`layers.anonymise`) and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pyproj import CRS

from layers.crs import STORAGE_CRS, swap_if_needed, transform_xy
from layers.errors import LayerError
from layers.geocode import ADDRESS_NAMES, place_table
from layers.ledger import content_id
from layers.readers import (
    LAT_NAMES,
    LON_NAMES,
    find_column,
    parse_numbers,
    parse_table,
    require_file,
    table_row,
)

if TYPE_CHECKING:
    from layers.geocode import Geocoder

__all__ = ["CATEGORY_NAMES", "ID_NAMES", "LAYER", "MOBILITY_NAMES", "Records", "read_records"]

LAYER = "vulnerable"
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
    n_estimated: int = 0
    """Records placed from their address at a 大字・町丁目 point only (推定)."""

    def __repr__(self) -> str:
        return f"Records(n_read={self.n_read}, located={len(self.lon)})"

    __str__ = __repr__


def read_records(
    path: Path | tuple[str, bytes],
    *,
    encoding: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    category: str | None = None,
    mobility: str | None = None,
    crs: CRS | None = None,
    sheet: str | None = None,
    geocoder: Geocoder | None = None,
    address: str | None = None,
) -> Records:
    """Read a register extract (CSV or Excel) into :class:`Records` (coordinates +
    category only).

    Rows without coordinates are counted as ``n_unlocated`` (a register often
    has some not yet geocoded); non-numeric coordinates are an error naming the
    row and column, never the value.  A register with addresses and no coordinates
    is placed by ``geocoder`` here, in memory (:func:`_placed`).
    """
    if isinstance(path, tuple):  # an upload: bytes in memory, never a temporary file
        name, raw = path
        path = Path(name)
    else:
        require_file(path)
        raw = path.read_bytes()
    df = parse_table(raw, file=path, encoding=encoding, sheet=sheet)
    del raw
    path = Path(df.attrs.get("file_label", path))
    n_read = len(df)
    if n_read == 0:
        raise LayerError("名簿にデータ行がありません。", file=path, row=2, layer=LAYER,
                         column=str(df.columns[0]) if len(df.columns) else None,
                         fix="見出し行の下に1人1行で記録された名簿を指定してください。")
    lat_v, lon_v, blank, estimated = _coordinates(df, lat, lon, address, geocoder, file=path)
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
    del df
    return Records(lon=lon_v, lat=lat_v, category=cat, mobility=mob, n_read=n_read,
                   n_unlocated=int(blank.sum()), dataset_id=content_id(lat_v, lon_v, cat), swapped=swapped,
                   n_estimated=estimated)


def _coordinates(df: pd.DataFrame, lat: str | None, lon: str | None, address: str | None,
                 geocoder: Geocoder | None, *, file: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(lat, lon, without a place, placed at 町字 only) from the coordinate columns, or
    from the addresses (:func:`_placed`) when there are none."""
    latc = find_column(df, LAT_NAMES, mapped=lat)
    lonc = find_column(df, LON_NAMES, mapped=lon)
    if latc is None and lonc is None and find_column(df, ADDRESS_NAMES, mapped=address):
        return _placed(df, address, geocoder, file=file)
    if latc is None or lonc is None:
        raise LayerError(
            "座標の列が見つかりません。", file=file, row=1,
            column=lat or lon or "緯度", layer=LAYER,
            fix="「緯度」「経度」（または lat/lon）の列か、「住所」の列を用意してください。",
        )
    lat_s, lat_v = parse_numbers(df[latc])
    lon_s, lon_v = parse_numbers(df[lonc])
    blank = ((lat_s == "") | (lon_s == "")).to_numpy()
    del lat_s, lon_s
    bad = ~blank & ~(np.isfinite(lat_v) & np.isfinite(lon_v))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        col = latc if not np.isfinite(lat_v[i]) else lonc
        raise LayerError(
            f"座標が数値ではない行があります（{int(bad.sum())} 行）。",
            file=file, row=table_row(df, i), column=col, layer=LAYER,
            fix="度単位の10進数で入力してください（値はこのメッセージに表示しません）。",
        )
    return lat_v, lon_v, blank, 0


PLACED_FINE = ("街区", "小字", "町字")
"""Levels at which a person's address is counted on the mesh; coarser (市町村) is not."""


def _placed(df: pd.DataFrame, address: str | None, geocoder: Geocoder | None, *,
            file: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Addresses of a register placed in memory: (lat, lon, not placed, placed at 町字 only).

    Nothing of an address is kept: the geocoder does not remember them, and only the
    points (to the anonymiser) and counts (to the summary) leave this function.  A record
    placed no finer than its 市町村 is not counted on a mesh (it is ``unlocated``); one
    placed at its 大字・町丁目 point is counted there and reported as 推定 (estimated).
    """
    col = find_column(df, ADDRESS_NAMES, mapped=address)
    if geocoder is None:
        raise LayerError("名簿に緯度・経度の列がなく、住所から位置を求める参照点もありません。", file=file,
                         row=1, column=col, layer=LAYER,
                         fix='地域設定（TOML）に [geocoder] path = "machiaza/*.json"（町字の参照点）を'
                             "書いて、--region でその地域設定を指定してください。")
    placed = place_table(df, str(col), geocoder, remember=False)
    level = placed["match_level"].to_numpy()
    fine = np.isin(level, PLACED_FINE)
    lat = np.where(fine, placed["lat"].to_numpy(float), np.nan)
    lon = np.where(fine, placed["lon"].to_numpy(float), np.nan)
    estimated = int((level == "町字").sum())
    del placed, level
    return lat, lon, ~fine, estimated


# ----------------------------------------------------------------- mesh
