"""Reading the files users actually have, with errors they can act on.

This module knows *formats* (CSV in cp932 or UTF-8, GeoJSON, GeoPackage,
shapefiles zipped or not, GeoParquet); the layer modules know what the columns
*mean*.  Nothing here logs or raises a cell value.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import stat
import unicodedata
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.crs import (
    STORAGE_CRS,
    check_in_japan,
    normalise_crs,
    swap_if_needed,
    transform_xy,
)
from layers.errors import LayerError, spreadsheet_row

if TYPE_CHECKING:
    from layers.geocode import Geocoder

__all__ = [
    "TABLE_FORMATS",
    "VECTOR_FORMATS",
    "decode_text",
    "detect_format",
    "find_column",
    "header_cells",
    "read_table",
    "read_vector",
    "require_geometry",
    "require_rows",
    "table_header",
    "table_to_points",
]

log = logging.getLogger(__name__)

TABLE_FORMATS = {"csv", "txt", "tsv", "xlsx", "xls", "ods"}
VECTOR_FORMATS = {"geojson", "gpkg", "shp", "zip", "parquet", "json"}
_EXT_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".ods": "ods",
    ".geojson": "geojson",
    ".json": "json",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".zip": "zip",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".graphml": "graphml",
    ".osm": "osm",
    ".xml": "osm",
    ".pbf": "pbf",
}

# Column names for coordinates, in the order they are tried.
LAT_NAMES = ("緯度", "lat", "latitude", "y座標(緯度)", "ido", "LAT", "Latitude")
LON_NAMES = ("経度", "lon", "lng", "long", "longitude", "keido", "LON", "Longitude")
X_NAMES = ("x", "X", "x座標", "X座標")
Y_NAMES = ("y", "Y", "y座標", "Y座標")


def _limit_mb(name: str, default: int) -> int:
    """A size limit in bytes from the environment (read at each use)."""
    try:
        return max(int(os.environ.get(name, default)), 1) * 1024 * 1024
    except ValueError:
        return default * 1024 * 1024


def max_file_bytes() -> int:
    """Largest input file read (4 GiB by default, ``TOMONI_MAX_FILE_MB``)."""
    return _limit_mb("TOMONI_MAX_FILE_MB", 4096)


def max_unzipped_bytes() -> int:
    """Largest total a zip may expand to (2 GiB by default, ``TOMONI_MAX_UNZIPPED_MB``)."""
    return _limit_mb("TOMONI_MAX_UNZIPPED_MB", 2048)


MAX_ZIP_RATIO = 200
"""A zip whose contents are this many times larger than itself is refused (a zip bomb)."""
MAX_COLUMNS = 2000
MAX_ROWS = 20_000_000


def require_file(path: Path) -> None:
    """Refuse a missing path, a folder, anything but a regular file (a device such as
    ``/dev/zero``, a named pipe) and a file over :func:`max_file_bytes`, with a clear message."""
    if not path.exists():
        raise LayerError(
            "ファイルが見つかりません。",
            file=path,
            fix="パスの綴りを確認してください。地域設定（TOML）のパスはTOMLファイルの場所からの相対パスです。",
        )
    if path.is_dir():
        raise LayerError(
            "ファイルではなくフォルダが指定されています。",
            file=path,
            fix="フォルダの中のファイル名まで指定してください（複数なら path = [\"a.csv\", \"b.csv\"]）。",
        )
    if not stat.S_ISREG(path.stat().st_mode):
        raise LayerError(
            "通常のファイルではありません（デバイスや名前付きパイプなどは読めません）。",
            file=path,
            fix="データの入ったファイル（CSV、GeoJSON、zip など）を指定してください。",
        )
    if path.stat().st_size > max_file_bytes():
        raise LayerError(
            f"ファイルが大きすぎます（{path.stat().st_size / 2**20:,.0f} MB、"
            f"上限 {max_file_bytes() / 2**20:,.0f} MB）。",
            file=path,
            fix="範囲（市町村など）を絞ったファイルにするか、TOMONI_MAX_FILE_MB で上限を変えてください。",
        )


def detect_format(path: Path, declared: str | None = None) -> str:
    """Recognise a file's format from ``declared``, its extension and its first bytes."""
    if declared:
        return declared.lower().lstrip(".")
    name = path.name.lower()
    if name.endswith(".osm.bz2") or name.endswith(".osm.gz"):
        return "osm"
    if name.endswith(".osm.pbf"):
        return "pbf"
    fmt = _EXT_FORMATS.get(path.suffix.lower())
    if fmt is not None:
        return fmt
    head = path.read_bytes()[:512] if path.is_file() else b""
    if head.startswith(b"PK"):
        return "zip"
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    if head.startswith(b"PAR1"):
        return "parquet"
    stripped = head.lstrip(b"\xef\xbb\xbf \r\n\t")
    if stripped.startswith(b"{") or stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"<"):
        return "graphml" if b"graphml" in head else "osm"
    return "csv"


def decode_text(raw: bytes, *, file: Path, encoding: str | None = None) -> str:
    """Decode text as UTF-8 (with or without BOM) or cp932, never guessing silently."""
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise LayerError(
                f"文字コード {encoding} として読めません。",
                file=file,
                row=_line_of_offset(raw, getattr(exc, "start", 0)),
                fix="encoding の指定を外すか、正しい文字コード（utf-8 / cp932）を指定してください。",
            ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Valid UTF-8 multi-byte text before the first bad byte means a UTF-8
        # file with broken bytes, not a cp932 file: cp932 would decode it into
        # garbage without complaint.
        if any(b >= 0x80 for b in raw[3 if raw.startswith(b"\xef\xbb\xbf") else 0: exc.start]):
            raise LayerError(
                "UTF-8 として読めない文字があります（ファイルの一部が壊れています）。",
                file=file,
                row=_line_of_offset(raw, exc.start),
                column=_field_at(raw, exc.start),
                fix="その行の文字を入力し直すか、Excel で「CSV UTF-8（コンマ区切り）」として"
                "保存し直してください。",
            ) from None
    try:
        text = raw.decode("cp932")
        # Python's cp932 maps the unused single bytes 0x80, 0xA0, 0xFD–0xFF to
        # control/private-use characters instead of failing: treat them as errors.
        bad = re.search("[\x80\uf8f0-\uf8f3]", text)
        if bad:
            offset = len(text[: bad.start()].encode("cp932"))
            raise UnicodeDecodeError("cp932", raw, offset, offset + 1, "unused byte")
        return text
    except UnicodeDecodeError as exc:
        raise LayerError(
            "文字コードを判別できません（UTF-8 でも Shift_JIS(cp932) でもありません）。",
            file=file,
            row=_line_of_offset(raw, exc.start),
            column=_field_at(raw, exc.start),
            fix="Excel で「CSV UTF-8（コンマ区切り）」として保存し直してください。",
        ) from exc


def _line_of_offset(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, max(offset, 0)) + 1


def _field_at(raw: bytes, offset: int) -> str | None:
    """Header name of the CSV field holding byte ``offset`` (for error messages)."""
    start = raw.rfind(b"\n", 0, max(offset, 0)) + 1
    index = raw.count(b",", start, offset)
    head = raw.split(b"\n", 1)[0].rstrip(b"\r")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    text = None
    for enc in ("utf-8", "cp932"):
        try:
            text = head.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        return f"{index + 1}列目"
    names = [n.strip() for n in text.split(",")]
    return names[index] if index < len(names) else f"{index + 1}列目"


def read_table(
    path: Path,
    *,
    encoding: str | None = None,
    sep: str | None = None,
    header_rows: int = 1,
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read a CSV/TSV text table or an Excel sheet (:mod:`layers.excel`: title rows,
    merged headers, ``sheet`` by name) with every cell as a (stripped) string.

    The header is the first row; with ``header_rows=2`` (e-Stat mesh statistics)
    the second row is a label row and is returned in ``df.attrs["labels"]``.
    Header names are NFKC-normalised; cells are kept as written (numbers are
    normalised where they are parsed, so full-width digits still work).
    """
    require_file(path)
    return parse_table(path.read_bytes(), file=path, encoding=encoding, sep=sep,
                       header_rows=header_rows, sheet=sheet)


def table_header(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> list[str]:
    """The column names of a table (NFKC, stripped) from its first line only: recognising
    a file's kind never parses the whole file (a 1M-row register is read once)."""
    from layers.excel import is_excel

    require_file(path)
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if is_excel(head, path):
        return list(read_table(path, sheet=sheet).columns)
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    cells, _sep = header_cells(decode_text(line, file=path, encoding=encoding))
    return [name for name, _raw in cells]


def header_cells(text: str) -> tuple[list[tuple[str, str]], str]:
    """The first line of a table's text: (NFKC-stripped name, name as written) of each
    cell, and the delimiter (tab when it has more tabs than commas)."""
    import csv

    line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    sep = "\t" if line.count("\t") > line.count(",") else ","
    row = next(csv.reader(io.StringIO(line), delimiter=sep), [])
    return [(unicodedata.normalize("NFKC", c).strip(), c) for c in row], sep


def parse_table(
    raw: bytes,
    *,
    file: Path | str,
    encoding: str | None = None,
    sep: str | None = None,
    header_rows: int = 1,
    sheet: str | None = None,
) -> pd.DataFrame:
    """:func:`read_table` on bytes already in memory (uploads, registers)."""
    from layers.excel import is_excel, parse_excel

    file = Path(file)
    path = file
    if is_excel(raw, file):
        return parse_excel(raw, file=file, sheet=sheet)
    if not raw.strip():
        raise LayerError(
            "ファイルが空です（見出し行もありません）。", file=path, row=1, column="見出し行",
            fix="見出し行とデータ行のあるファイルを指定してください。",
        )
    if raw.count(b"\n") > MAX_ROWS:
        raise LayerError(
            f"行が多すぎます（上限 {MAX_ROWS:,} 行）。", file=path,
            fix="市町村ごとなど、ファイルを分けてください。",
        )
    text = decode_text(raw, file=path, encoding=encoding)
    if sep is None:
        first = text.splitlines()[0] if text else ""
        sep = "\t" if first.count("\t") > first.count(",") else ","
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                header=0,
                index_col=False,  # a row longer than the header is never taken as an index
            )
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in said):
            _refuse_long_rows(text, sep, file=path)
    except pd.errors.ParserError as exc:
        # pandas says "Expected 5 fields in line 12, saw 7": keep only the line number
        line = _line_from_parser_error(str(exc))
        raise LayerError(
            "列の数が見出し行と合わない行があります。",
            file=path,
            row=line,
            fix="その行の区切り文字（カンマ）や引用符を確認してください。",
        ) from None
    if len(df.columns) > MAX_COLUMNS:
        raise LayerError(
            f"列が多すぎます（{len(df.columns):,} 列、上限 {MAX_COLUMNS:,} 列）。", file=path, row=1,
            fix="必要な列だけを残したファイルにしてください。",
        )
    df.columns = [unicodedata.normalize("NFKC", str(c)).strip() for c in df.columns]
    labels: list[str] = []
    if header_rows == 2:
        if df.empty:
            raise LayerError("見出しの2行目がありません。", file=path, row=2)
        labels = [str(v) for v in df.iloc[0].tolist()]
        df = df.iloc[1:].reset_index(drop=True)
    df = df.loc[:, [c for c in df.columns if not c.startswith("Unnamed:")]]
    for col in df.columns:  # vectorised: Unicode spaces (the full-width 　 too) trimmed
        df[col] = df[col].fillna("").astype(str).str.strip()
    # drop rows that are entirely blank (Excel leaves them at the end)
    blank = (df == "").all(axis=1)
    if blank.any():
        df = df.loc[~blank]
    df.attrs["labels"] = labels
    df.attrs["header_rows"] = header_rows
    df.attrs["source_rows"] = np.asarray(df.index, dtype=np.int64)
    return df.reset_index(drop=True)


def _refuse_long_rows(text: str, sep: str, *, file: str | Path | None) -> None:
    """A row with more cells than the header is an error naming it, unless its extra cells
    are empty (a trailing comma, as spreadsheets write)."""
    import csv

    rows = csv.reader(io.StringIO(text), delimiter=sep)
    width = len(next(rows, []))
    for number, row in enumerate(rows, start=2):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise LayerError(
                f"見出し行より列の多い行があります（見出し {width} 列、この行 {len(row)} 列）。",
                file=file, row=number,
                fix="その行の区切り文字（カンマ）や引用符を確認するか、見出し行に列名を足してください。",
            )


def _line_from_parser_error(msg: str) -> int | None:
    m = re.search(r"line (\d+)", msg)
    return int(m.group(1)) if m else None


def table_row(df: pd.DataFrame, i: int) -> int:
    """Spreadsheet row number of position ``i`` of a table from :func:`read_table`."""
    src = df.attrs.get("source_rows")
    idx = int(src[i]) if src is not None and i < len(src) else int(i)
    return spreadsheet_row(idx, header_rows=int(df.attrs.get("header_rows", 1)))


def find_column(
    df: pd.DataFrame, candidates: Sequence[str], *, mapped: str | None = None
) -> str | None:
    """Return the first column of ``df`` matching ``mapped`` or one of ``candidates``.

    Matching ignores case and surrounding spaces.
    """
    lookup = {str(c).strip().lower(): c for c in df.columns}
    if mapped:
        return lookup.get(mapped.strip().lower())
    for name in candidates:
        col = lookup.get(name.strip().lower())
        if col is not None:
            return str(col)
    return None


def parse_numbers(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse a text column of numbers; only cells that fail are NFKC-normalised
    (so full-width digits such as ３９．７ still read) — fast on a million rows."""
    text = col.astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(float, copy=True)
    retry = ~np.isfinite(values) & (text != "").to_numpy()
    if retry.any():
        fixed = text[retry].map(lambda v: unicodedata.normalize("NFKC", v).strip())
        values[retry] = pd.to_numeric(fixed, errors="coerce").to_numpy(float)
    return text, values


def _numeric(
    df: pd.DataFrame, col: str, *, file: Path
) -> np.ndarray:
    values, numbers = parse_numbers(df[col])
    blank = (values == "").to_numpy()
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise LayerError(
            f"座標が空欄の行があります（{int(blank.sum())} 行）。",
            file=file,
            row=table_row(df, i),
            column=col,
            fix="座標を入力するか、その行を削除してください。",
        )
    bad = ~np.isfinite(numbers)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LayerError(
            f"座標が数値ではない行があります（{int(bad.sum())} 行）。",
            file=file,
            row=table_row(df, i),
            column=col,
            fix="度単位の10進数（例: 39.7186）で入力してください。度分秒や全角文字は使えません。",
        )
    return numbers


def table_to_points(
    df: pd.DataFrame,
    *,
    file: Path,
    lat_col: str | None = None,
    lon_col: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: CRS | None = None,
    warnings: list[str] | None = None,
    geocoder: Geocoder | None = None,
    address_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Turn a table with 緯度/経度, lat/lon or x/y (+ declared CRS) columns into points,
    or, without coordinates, a 住所/所在地 column placed by ``geocoder``.

    Returns the points in the storage CRS.  Swapped latitude/longitude columns are
    detected, swapped back and reported in ``warnings``.  Geocoded points carry
    ``match_level`` and ``geocode_note`` columns.
    """
    warnings = warnings if warnings is not None else []
    lat = find_column(df, LAT_NAMES, mapped=lat_col)
    lon = find_column(df, LON_NAMES, mapped=lon_col)
    if lat and lon:
        lat_v = _numeric(df, lat, file=file)
        lon_v = _numeric(df, lon, file=file)
        lon_v, lat_v, swapped = swap_if_needed(lon_v, lat_v)
        if swapped:
            warnings.append(
                f"列「{lat}」と「{lon}」の緯度・経度が逆になっていたため入れ替えました。"
            )
        src = crs or CRS.from_epsg(6668)
        if not src.is_geographic:
            raise LayerError(
                f"緯度・経度の列がありますが、指定された座標系 {src.to_string()} は度単位ではありません。",
                file=file,
                column="crs",
                fix="緯度・経度なら crs を外すか EPSG:6668 にし、平面直角座標なら x/y 列を使ってください。",
            )
        lon_v, lat_v = transform_xy(lon_v, lat_v, src, STORAGE_CRS)
        check_in_japan(lon_v, lat_v, file=file, columns=(lon, lat),
                       header_rows=int(df.attrs.get("header_rows", 1)))
        return _points(df, lon_v, lat_v)
    x = find_column(df, X_NAMES, mapped=x_col)
    y = find_column(df, Y_NAMES, mapped=y_col)
    if x and y:
        x_v = _numeric(df, x, file=file)
        y_v = _numeric(df, y, file=file)
        if crs is None:
            raise LayerError(
                "x/y 座標の列がありますが、座標系が指定されていません。",
                file=file,
                column=x,
                fix='地域設定（TOML）のこのレイヤーに crs = "EPSG:6678"（平面直角座標系X系）'
                "のように座標系を書いてください。",
            )
        lon_v, lat_v = transform_xy(x_v, y_v, crs, STORAGE_CRS)
        check_in_japan(lon_v, lat_v, file=file, columns=(x, y),
                       header_rows=int(df.attrs.get("header_rows", 1)))
        return _points(df, lon_v, lat_v)
    from layers.geocode import ADDRESS_NAMES

    addr = find_column(df, ADDRESS_NAMES, mapped=address_col)
    if addr is not None and not (lat or lon):
        return _geocoded_points(df, addr, geocoder, file=file, warnings=warnings)
    missing = "緯度" if not lat else "経度"
    raise LayerError(
        "座標の列が見つかりません。",
        file=file,
        row=1,
        column=missing,
        fix="「緯度」「経度」（または lat/lon、x/y と crs）の列を用意するか、"
        "地域設定で lat = \"列名\"、lon = \"列名\" を指定してください。",
    )


def _geocoded_points(df: pd.DataFrame, column: str, geocoder: Geocoder | None, *, file: Path,
                     warnings: list[str]) -> gpd.GeoDataFrame:
    """Points from a table of addresses (no coordinates): every row placed, or an error
    naming the rows that could not be."""
    from layers.geocode import NO_REFERENCE_FIX, describe_levels, level_counts, place_table

    if geocoder is None:
        raise LayerError(
            "住所の列はありますが、座標（緯度・経度）の列がありません。", file=file, row=1, column=column,
            fix=NO_REFERENCE_FIX)
    placed = place_table(df, column, geocoder)
    missing = (placed["match_level"] == "").to_numpy()
    if missing.any():
        rows = [table_row(df, int(i)) for i in np.flatnonzero(missing)]
        shown = "、".join(str(r) for r in rows[:10]) + ("…" if len(rows) > 10 else "")
        raise LayerError(
            f"住所から位置を求められない行があります（{len(rows)} 行: {shown} 行目）。", file=file,
            row=rows[0], column=column,
            fix="住所に市町村名から書いてあるか確かめるか、その行に緯度・経度を入れてください。")
    doubtful = int((placed["warning"] != "").sum())
    warnings.append(describe_levels(level_counts(placed["match_level"].tolist()), doubtful))
    out = df.assign(match_level=placed["match_level"].to_numpy(),
                    geocode_note=placed["warning"].to_numpy())
    lon, lat = placed["lon"].to_numpy(float), placed["lat"].to_numpy(float)
    check_in_japan(lon, lat, file=file, columns=(column, column),
                   header_rows=int(df.attrs.get("header_rows", 1)))
    return _points(out, lon, lat)


def _points(df: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> gpd.GeoDataFrame:
    lon = np.round(lon, 7)
    lat = np.round(lat, 7)
    out = gpd.GeoDataFrame(df.copy(), geometry=gpd.points_from_xy(lon, lat), crs=STORAGE_CRS)
    out.attrs = dict(df.attrs)
    return out


def dbf_needs_cp932(dbf: bytes) -> bool:
    """Whether the attribute records of a .dbf are cp932 (not UTF-8 or ASCII).

    Only the record bytes are tested: the header holds binary counts and dates.
    """
    if len(dbf) < 32:
        return False
    header_len = int.from_bytes(dbf[8:10], "little")
    records = dbf[header_len:]
    if not any(b >= 0x80 for b in records):
        return False
    try:
        records.decode("utf-8")
        return False
    except UnicodeDecodeError:
        pass
    try:
        records.decode("cp932")
        return True
    except UnicodeDecodeError:
        return False


def _shapefile_encoding(shp: Path) -> str | None:
    """Old 国土数値情報 shapefiles are cp932 without a .cpg: detect that."""
    if shp.with_suffix(".cpg").exists():
        return None
    dbf = shp.with_suffix(".dbf")
    if not dbf.exists():
        return None
    return "cp932" if dbf_needs_cp932(dbf.read_bytes()) else None


def read_vector(  # noqa: C901 (one branch per optional part of the file)
    path: Path,
    *,
    fmt: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    crs: CRS | None = None,
) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage, shapefile (plain or zipped) or GeoParquet file.

    The result is in the storage CRS.  A ``crs`` declared by the user overrides
    what the file says.
    """
    require_file(path)
    fmt = detect_format(path, fmt)
    kwargs: dict[str, object] = {}
    if layer:
        kwargs["layer"] = layer
    target: str = str(path)
    if fmt == "parquet":
        try:
            gdf = gpd.read_parquet(path)
        except Exception as exc:
            raise LayerError(
                "GeoParquet として読めません。",
                file=path,
                fix="geopandas の to_parquet などで書かれた GeoParquet を指定してください。",
            ) from exc
        return normalise_crs(gdf, file=path, declared=crs)
    if fmt == "zip":
        target = _zip_target(path)
    elif fmt == "shp":
        enc = encoding or _shapefile_encoding(path)
        if enc:
            kwargs["encoding"] = enc
        for part in (".dbf", ".shx"):
            if not path.with_suffix(part).exists():
                raise LayerError(
                    f"シェープファイルの {part} ファイルがありません。",
                    file=path,
                    fix=".shp/.shx/.dbf/.prj を同じフォルダにそろえるか、まとめて zip で指定してください。",
                )
    elif fmt == "json" and _is_plain_json_list(path):
        raise LayerError(
            "GeoJSON ではなく JSON の配列です。",
            file=path,
            fix="町丁・字の代表点（[{town, lat, lng}]）なら neighbourhoods レイヤーに指定してください。",
        )
    if encoding and "encoding" not in kwargs:
        kwargs["encoding"] = encoding
    try:
        gdf = gpd.read_file(target, engine="pyogrio", **kwargs)
    except LayerError:
        raise
    except Exception as exc:
        raise LayerError(
            f"地理データとして読めません（形式: {fmt}）。",
            file=path,
            fix="ファイルが壊れていないか、拡張子が中身と合っているか確認してください。"
            "形式が違う場合は format = \"geojson\" などで指定できます。",
        ) from exc
    if fmt == "zip" and not encoding and _zip_needs_cp932(path):
        gdf = gpd.read_file(target, engine="pyogrio", encoding="cp932", **{
            k: v for k, v in kwargs.items() if k != "encoding"
        })
    return normalise_crs(gdf, file=path, declared=crs)


def _is_plain_json_list(path: Path) -> bool:
    head = path.read_bytes()[:64].lstrip(b"\xef\xbb\xbf \r\n\t")
    return head.startswith(b"[")


def _zip_target(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            unzipped = sum(i.file_size for i in infos)
            packed = max(path.stat().st_size, 1)
            if unzipped > max_unzipped_bytes() or unzipped > MAX_ZIP_RATIO * max(packed, 1 << 20):
                raise LayerError(
                    f"zip を展開すると大きすぎます（{unzipped / 2**20:,.0f} MB）。",
                    file=path,
                    fix="中身を確かめてください。正しいデータなら展開したファイルを直接指定するか、"
                    "TOMONI_MAX_UNZIPPED_MB で上限を変えてください。",
                )
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerError(
            "zip ファイルが壊れています（展開できません）。",
            file=path,
            fix="ダウンロードし直すか、展開したシェープファイル（.shp）を直接指定してください。",
        ) from exc
    if bad is not None:
        raise LayerError(
            "zip の中のファイルが壊れています。",
            file=path,
            fix="ダウンロードし直してください。",
        )
    shps = sorted(n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX"))
    others = sorted(
        n for n in names if n.lower().endswith((".geojson", ".gpkg")) and not n.startswith("__")
    )
    if len(shps) + len(others) > 1:
        listed = "、".join(Path(n).name for n in [*shps, *others][:5])
        raise LayerError(
            f"zip の中に地理データが {len(shps) + len(others)} つあります（{listed}）。"
            "どれを読むか決められません。",
            file=path,
            fix="1つのデータだけを入れた zip にするか、展開して読みたい .shp を直接指定してください。",
        )
    if shps:
        shp = shps[0]
        stem = shp[:-4]
        lower = {n.lower() for n in names}
        for part in (".dbf", ".shx"):
            if (stem + part).lower() not in lower:
                raise LayerError(
                    f"zip の中に {Path(stem).name}{part} がありません（シェープファイルが不完全です）。",
                    file=path,
                    fix=".shp と同じ名前の .shx/.dbf/.prj をすべて zip に入れてください。",
                )
        return f"/vsizip/{path}/{shp}"
    if others:
        return f"/vsizip/{path}/{others[0]}"
    raise LayerError(
        "zip の中にシェープファイル（.shp）や GeoJSON がありません。",
        file=path,
        fix="国土数値情報の zip ならシェープファイルを含む zip を指定してください。",
    )


def _zip_needs_cp932(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        shps = sorted(n for n in names if n.lower().endswith(".shp"))
        if not shps:
            return False
        stem = shps[0][:-4]
        if any(n.lower() == (stem + ".cpg").lower() for n in names):
            return False
        dbfs = [n for n in names if n.lower() == (stem + ".dbf").lower()]
        if not dbfs:
            return False
        with zf.open(dbfs[0]) as f:
            raw = f.read(1 << 20)  # the header and the first records tell the encoding
    return dbf_needs_cp932(raw)


def read_json(path: Path) -> object:
    """Read a JSON file (UTF-8 with or without BOM)."""
    require_file(path)
    text = decode_text(path.read_bytes(), file=path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LayerError(
            "JSON として読めません。",
            file=path,
            row=exc.lineno,
            fix="ファイルが途中で切れていないか確認してください。",
        ) from None


def require_rows(gdf: pd.DataFrame, *, file: Path | str | None, layer: str) -> None:
    """Refuse an empty layer (the first data row, row 2, is missing)."""
    if len(gdf) == 0:
        cols = [str(c) for c in gdf.columns if c != "geometry"]
        raise LayerError(
            "レイヤーにデータ行がありません（見出し行のみ、または地物が0件）。",
            file=file,
            row=2,
            column=cols[0] if cols else "geometry",
            layer=layer,
            fix="見出し行だけのファイルでないか、正しいファイルを指定したか確認してください。",
        )


_POLYGONAL = {"Polygon", "MultiPolygon"}
_POINT = {"Point"}


def require_geometry(
    gdf: gpd.GeoDataFrame,
    kinds: set[str],
    *,
    file: Path | str | None,
    layer: str,
) -> gpd.GeoDataFrame:
    """Refuse rows whose geometry is missing or of the wrong type.

    Multi-points with a single part are accepted as points.
    """
    geom = gdf.geometry
    if kinds == _POINT:
        types = np.asarray(geom.geom_type.fillna("None"))
        single_multi = (types == "MultiPoint") & (shapely.get_num_geometries(geom.values) == 1)
        if single_multi.any():
            gdf = gdf.copy()
            parts = shapely.get_geometry(np.asarray(geom.values)[single_multi], 0)
            gdf.loc[single_multi, gdf.geometry.name] = parts
            geom = gdf.geometry
    types = np.asarray(geom.geom_type.fillna("None"))
    missing = geom.isna().to_numpy() | geom.is_empty.to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise LayerError(
            f"ジオメトリ（形状）が空の行があります（{int(missing.sum())} 行）。",
            file=file,
            row=spreadsheet_row(i),
            column="geometry",
            layer=layer,
            fix="形状のない地物を削除してください。",
        )
    wrong = ~np.isin(types, sorted(kinds))
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        want = ("ポイント（点）" if kinds == _POINT else "ポリゴン（面）" if kinds == _POLYGONAL
                else "ライン（線）またはポリゴン（面）")
        raise LayerError(
            f"ジオメトリの種類が違います（{want}が必要ですが {types[i]} があります）。",
            file=file,
            row=spreadsheet_row(i),
            column="geometry",
            layer=layer,
            fix=f"このレイヤー（{layer}）には{want}のファイルを指定してください。",
        )
    return gdf


POLYGONAL = _POLYGONAL
POINT = _POINT
LINEAR_OR_POLYGONAL = {"LineString", "MultiLineString", *_POLYGONAL}


def user_rows(df: pd.DataFrame) -> np.ndarray:
    """Row numbers as the user sees them (spreadsheet rows, header = 1) for each row."""
    n = len(df)
    src = df.attrs.get("source_rows")
    header_rows = int(df.attrs.get("header_rows", 1))
    if src is None or len(src) != n:
        src = np.arange(n)
    return np.asarray(src, dtype=np.int64) + header_rows + 1


def read_point_file(
    path: Path,
    *,
    fmt: str | None = None,
    crs: CRS | None = None,
    encoding: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    x: str | None = None,
    y: str | None = None,
    layer: str = "",
    warnings: list[str] | None = None,
    sheet: str | None = None,
    geocoder: Geocoder | None = None,
    address: str | None = None,
) -> gpd.GeoDataFrame:
    """Read points from a CSV or Excel table (coordinates in columns, or addresses placed
    by ``geocoder``) or any vector file.

    ``attrs["rows"]`` holds the user-facing row number of every feature.
    """
    f = detect_format(path, fmt)
    if f in TABLE_FORMATS:
        df = read_table(path, encoding=encoding, sep="\t" if f == "tsv" else None, sheet=sheet)
        label = Path(df.attrs.get("file_label", path))
        require_rows(df, file=label, layer=layer)
        gdf = table_to_points(
            df, file=label, lat_col=lat, lon_col=lon, x_col=x, y_col=y, crs=crs,
            warnings=warnings, geocoder=geocoder, address_col=address,
        )
        gdf.attrs["rows"] = user_rows(df)
        return gdf
    gdf = read_vector(path, fmt=f, crs=crs, encoding=encoding)
    require_rows(gdf, file=path, layer=layer)
    gdf = require_geometry(gdf, POINT, file=path, layer=layer)
    xs = gdf.geometry.x.to_numpy()
    ys = gdf.geometry.y.to_numpy()
    check_in_japan(xs, ys, file=path, columns=("geometry", "geometry"))
    gdf.attrs["rows"] = np.arange(len(gdf)) + 2
    return gdf
