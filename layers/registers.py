"""Reading a 要配慮者 register (避難行動要支援者名簿 extract): coordinates and categories only.

Names, addresses and every other column are dropped at reading; a record never
reaches a log, an error message or a ``repr``.  What is kept (:class:`Records`)
goes to the anonymiser (:mod:`layers.anonymise`) and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pyproj import CRS

from layers.crs import STORAGE_CRS, swap_if_needed, transform_xy
from layers.errors import LayerError
from layers.excel import is_excel
from layers.geocode import ADDRESS_NAMES, NO_REFERENCE_FIX, place_table
from layers.ledger import content_id
from layers.readers import (
    LAT_NAMES,
    LON_NAMES,
    find_column,
    header_cells,
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
    ids: np.ndarray | None = None
    """Each record's register number (整理番号 …, ``""`` where blank) when the register has
    one: what its cell key is made from (:mod:`layers.demand`).  Never written anywhere."""

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
        source: Path | bytes = raw
    else:
        require_file(path)
        source = path
    if sheet is None and not is_excel(_head(source), path):
        fast = _fast_records(source, encoding=encoding, lat=lat, lon=lon, category=category,
                             mobility=mobility, crs=crs)
        if fast is not None:
            return fast
    raw = source if isinstance(source, bytes) else source.read_bytes()
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
    kept_ids = None
    if idc is not None:
        ids = df[idc].astype(str).str.strip()
        kept_ids = ids.to_numpy(object)[keep]
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
        mob = flag.isin(MOBILITY_YES).to_numpy()[keep]
    del df
    return Records(lon=lon_v, lat=lat_v, category=cat, mobility=mob, n_read=n_read,
                   n_unlocated=int(blank.sum()), dataset_id=content_id(lat_v, lon_v, cat), swapped=swapped,
                   n_estimated=estimated, ids=kept_ids)


HEAD_BYTES = 1 << 20
"""Bytes read to find the header and the encoding of a register."""
MOBILITY_YES = ["1", "要", "有", "あり", "true", "yes", "○", "〇"]


def _head(source: Path | bytes) -> bytes:
    if isinstance(source, bytes):
        return source[:HEAD_BYTES]
    with open(source, "rb") as f:
        return f.read(HEAD_BYTES)


def _encoding_of(head: bytes, declared: str | None) -> str | None:
    """The encoding of a register from its first megabyte (``None``: not clear — the
    careful reader decides)."""
    if declared:
        return declared
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    cut = head[: head.rfind(b"\n") + 1] or head
    for enc in ("utf-8", "cp932"):
        try:
            cut.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def _fast_records(source: Path | bytes, *, encoding: str | None, lat: str | None, lon: str | None,
                  category: str | None, mobility: str | None, crs: CRS | None) -> Records | None:
    """The common register read at file speed: only the needed columns, once, in blocks
    (Arrow's CSV reader; memory bounded by those columns, not by the file).

    Returns ``None`` for anything unusual — no coordinate columns (addresses), junk or
    full-width digits in a coordinate, repeated numbers, a broken line, an encoding in
    doubt — and the careful reader then reads the file and names the row and column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pa_csv

    head = _head(source)
    enc = _encoding_of(head, encoding)
    found = _header(head, enc)
    if enc is None or found is None:
        return None
    names, sep = found
    frame = pd.DataFrame(columns=[n for n, _ in names])
    raw_of = dict(names)
    cols = {"lat": find_column(frame, LAT_NAMES, mapped=lat),
            "lon": find_column(frame, LON_NAMES, mapped=lon),
            "cat": find_column(frame, CATEGORY_NAMES, mapped=category),
            "mob": find_column(frame, MOBILITY_NAMES, mapped=mobility),
            "id": find_column(frame, ID_NAMES)}
    if cols["lat"] is None or cols["lon"] is None or (category and cols["cat"] is None) \
            or len(raw_of) != len(names):
        return None
    wanted = {k: raw_of[v] for k, v in cols.items() if v is not None}
    try:
        reader = pa_csv.open_csv(
            pa.BufferReader(source) if isinstance(source, bytes) else pa.OSFile(str(source)),
            # 1 MB blocks: as fast as 16 MB and a quarter of the memory in flight (cp932 is
            # transcoded block by block: 16 MB blocks held 270 MB of a 1M-row register)
            read_options=pa_csv.ReadOptions(column_names=[r for _, r in names], skip_rows=1,
                                            block_size=1 << 20, encoding=enc),
            parse_options=pa_csv.ParseOptions(delimiter=sep),
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(dict.fromkeys(wanted.values())),
                # numbers parsed by Arrow (anything else → the careful reader), 区分 and
                # 避難支援 as dictionaries: no string column of a million cells is built
                column_types={v: (pa.float64() if k in ("lat", "lon") else pa.string() if k == "id"
                                  else pa.dictionary(pa.int32(), pa.string()))
                              for k, v in wanted.items()},
                null_values=[""], strings_can_be_null=False, quoted_strings_can_be_null=False))
        parts = [_block(batch, wanted, pc) for batch in reader]
    except (pa.ArrowInvalid, _Unusual, UnicodeDecodeError, ValueError):
        return None
    return _records_from_blocks(parts, wanted, crs)


class _Unusual(Exception):
    """Something the careful reader should look at (and name the row of)."""


def _header(head: bytes, enc: str | None) -> tuple[list[tuple[str, str]], str] | None:
    """(normalised name, name as written) of each header cell, and the delimiter."""
    import csv

    if enc is None:
        return None
    try:
        cells, sep = header_cells(head.decode(enc, errors="ignore"))
    except csv.Error:
        return None
    return (cells, sep) if cells else None


def _block(batch: Any, wanted: dict[str, str], pc: Any) -> dict[str, Any]:
    """One block of rows: coordinates (blank = NaN), 区分 codes with their trimmed names,
    避難支援 flags, trimmed 番号; rows empty in every column read are dropped (Excel's
    trailing ``,,,,`` lines)."""
    out: dict[str, Any] = {}
    empty = np.ones(batch.num_rows, bool)
    for k in ("lat", "lon"):
        arr = batch.column(wanted[k])
        out[k] = arr.to_numpy(zero_copy_only=False)
        out[k + "_blank"] = arr.is_null().to_numpy(zero_copy_only=False)
        empty &= out[k + "_blank"]
    for k in ("cat", "mob"):
        if k in wanted:
            arr = batch.column(wanted[k])
            names = [str(v).strip() for v in arr.dictionary.to_pylist()]
            codes = arr.indices.to_numpy(zero_copy_only=False)
            out[k] = (names, codes)
            empty &= np.array([v == "" for v in names] or [False], bool)[codes]
    if "id" in wanted:
        ids = pc.utf8_trim_whitespace(batch.column(wanted["id"]))
        blank_id = pc.equal(ids, "")
        empty &= blank_id.to_numpy(zero_copy_only=False)
        out["id"] = ids
        out["id_blank"] = blank_id
    keep = ~empty
    out["n"] = int(keep.sum())
    for k in ("lat", "lon", "lat_blank", "lon_blank"):
        out[k] = out[k][keep]
    for k in ("cat", "mob"):
        if k in out:
            out[k] = (out[k][0], out[k][1][keep])
    if "id" in out:
        out["id_all"] = pc.filter(out["id"], pa_bool(keep))  # row by row, blanks as ""
        wanted_ids = pc.and_(pa_bool(keep), pc.invert(out.pop("id_blank")))
        out["id"] = pc.filter(out["id"], wanted_ids)
    return out


def pa_bool(values: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.bool_())


def _records_from_blocks(parts: list[dict[str, Any]], wanted: dict[str, str],
                         crs: CRS | None) -> Records | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    n_read = sum(p["n"] for p in parts)
    if n_read == 0:
        return None  # the careful reader says so, naming the file
    if "id" in wanted:
        ids = pa.chunked_array([p.pop("id") for p in parts], pa.string())
        repeated = pc.count_distinct(ids).as_py() != len(ids)
        del ids
        if repeated:
            return None  # repeated numbers: the careful reader names the rows
    blank = np.concatenate([p["lat_blank"] | p["lon_blank"] for p in parts])
    keep = None if not blank.any() else ~blank  # the usual case: nothing to leave out, no copies

    def joined(key: str) -> np.ndarray:
        out = np.concatenate([p.pop(key) for p in parts])
        return out if keep is None else out[keep]

    lat_v, lon_v = joined("lat"), joined("lon")
    ids = None
    if "id" in wanted:
        every = pa.chunked_array([p.pop("id_all") for p in parts], pa.string()).to_numpy(zero_copy_only=False)
        ids = every if keep is None else every[keep]
    lon_v, lat_v, swapped = swap_if_needed(lon_v, lat_v)
    if crs is not None:
        lon_v, lat_v = transform_xy(lon_v, lat_v, crs, STORAGE_CRS)
    cat = None
    if "cat" in wanted:  # one code per row, then one take: no per-row Python object made
        names: dict[str, int] = {}
        for p in parts:
            lookup = np.array([names.setdefault(c, len(names)) for c in p["cat"][0]], dtype=np.int32)
            p["cat_code"] = lookup[p.pop("cat")[1]] if len(lookup) else np.zeros(0, np.int32)
        cat = np.asarray(list(names), dtype=object)[joined("cat_code")]
    mob = None
    if "mob" in wanted:
        yes = set(MOBILITY_YES)
        for p in parts:
            flags, codes = p.pop("mob")
            p["mob_flag"] = (np.array([v.lower() in yes for v in flags], bool)[codes] if len(flags)
                             else np.zeros(0, bool))
        mob = joined("mob_flag")
    return Records(lon=lon_v, lat=lat_v, category=cat, mobility=mob, n_read=n_read,
                   n_unlocated=int(blank.sum()), dataset_id=content_id(lat_v, lon_v, cat),
                   swapped=swapped, ids=ids)


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
                         fix=NO_REFERENCE_FIX)
    placed = place_table(df, str(col), geocoder, remember=False)
    level = placed["match_level"].to_numpy()
    fine = np.isin(level, PLACED_FINE)
    lat = np.where(fine, placed["lat"].to_numpy(float), np.nan)
    lon = np.where(fine, placed["lon"].to_numpy(float), np.nan)
    estimated = int((level == "町字").sum())
    del placed, level
    return lat, lon, ~fine, estimated


# ----------------------------------------------------------------- mesh
