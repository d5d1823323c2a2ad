"""Excel workbooks (.xlsx, .xlsm, .xls, .ods) read as the same string tables as CSV.

What councils keep in Excel rarely starts at A1: a title row or two (「避難行動要支援者
名簿　令和6年4月1日現在」), a header with merged cells (「座標」 over 緯度 and 経度, 「氏名」
merged down two rows), and often several sheets.  :func:`parse_excel` finds the header
below the title rows, joins a two-row header that merged cells make, reads the sheet
named by ``sheet`` (or the first one with data) and returns a frame like
:func:`layers.readers.parse_table`: every cell a stripped string, ``attrs["source_rows"]``
and ``attrs["header_rows"]`` so that errors name the row a spreadsheet shows, and
``attrs["sheet"]`` for the sheet read.  Dates become ``YYYY-MM-DD``; 和暦 written as
text is read by :func:`japanese_date` wherever a date is needed.

The reader is python-calamine (Rust; reads xlsx, xls and ods).  A workbook is a zip
(xlsx, ods): its expanded size is checked first, so a zip bomb is an error, not memory.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from layers.errors import LayerError

__all__ = ["EXCEL_SUFFIXES", "is_excel", "japanese_date", "parse_excel"]

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
HEADER_SCAN_ROWS = 30
"""Rows searched for the header (title rows, notes and blank rows above it)."""
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (BIFF in an OLE container)


def is_excel(raw: bytes, file: Path | str) -> bool:
    """A workbook by its name, or by its first bytes (an .xls, or a zip with a workbook)."""
    if Path(file).suffix.lower() in EXCEL_SUFFIXES:
        return True
    if raw[:8] == _OLE:
        return True
    return raw[:2] == b"PK" and (b"xl/workbook" in raw[:4096] or b"[Content_Types]" in raw[:4096])


def _check_zip(raw: bytes, file: Path) -> None:
    from layers.readers import MAX_ZIP_RATIO, max_unzipped_bytes

    if raw[:2] != b"PK":
        return
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile:
        raise LayerError("Excel ファイルとして読めません（壊れているか、途中で切れています）。", file=file,
                         fix="Excel で開けるか確かめ、保存し直してください。") from None
    if total > max_unzipped_bytes() or total > MAX_ZIP_RATIO * max(len(raw), 1):
        raise LayerError("Excel ファイルの中身が大きすぎます（展開すると異常に大きくなります）。", file=file,
                         fix="必要なシートと列だけを残したファイルにしてください。")


def _text(value: Any) -> str:
    """A cell as text, the way it reads in Excel (12 not 12.0; dates as YYYY-MM-DD)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _fill_merged(rows: list[list[str]], merged: list[tuple[tuple[int, int], tuple[int, int]]],
                 upto: int) -> None:
    """Give every cell of a merged range (in the first ``upto`` rows) its top-left value."""
    for (r0, c0), (r1, c1) in merged:
        if r0 >= upto:
            continue
        value = rows[r0][c0] if r0 < len(rows) and c0 < len(rows[r0]) else ""
        for r in range(r0, min(r1, upto - 1) + 1):
            for c in range(c0, c1 + 1):
                if r < len(rows) and c < len(rows[r]):
                    rows[r][c] = value


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?\d+(\.\d+)?", text))


def _header_row(rows: list[list[str]]) -> int | None:
    """The first row that reads as a header: most of the widest row's cells filled, with
    text (not numbers) — title rows above it have one or two cells."""
    scan = rows[:HEADER_SCAN_ROWS]
    widest = max((sum(1 for v in r if v) for r in scan), default=0)
    for i, r in enumerate(scan):
        filled = [v for v in r if v]
        if widest == 1 and filled:  # a one-column list: its first cell is the header
            return i
        if (len(filled) >= max(2, (widest + 1) // 2) and len(set(filled)) > 1
                and not any(_is_number(v) for v in filled)):  # a merged title repeats one text
            return i
    return None


def _two_row_header(merged: list[tuple[tuple[int, int], tuple[int, int]]], h: int) -> bool:
    """A header whose merged cells span two rows, or span columns over sub-headers."""
    return any(r0 == h and (r1 > h or c1 > c0) for (r0, c0), (r1, c1) in merged)


def _sheet(book: Any, sheet: str | None, file: Path) -> Any:
    names = list(book.sheet_names)
    if sheet is not None:
        wanted = unicodedata.normalize("NFKC", sheet).strip()
        for n in names:
            if unicodedata.normalize("NFKC", n).strip() == wanted:
                return book.get_sheet_by_name(n)
        raise LayerError(f"シート「{sheet}」がありません。", file=file, column="sheet",
                         fix=f"シート名は次のいずれかです: {', '.join(names)}")
    hidden = {m.name for m in getattr(book, "sheets_metadata", [])
              if str(getattr(m, "visible", "")).rsplit(".", 1)[-1] != "Visible"}
    for n in [n for n in names if n not in hidden]:  # a hidden sheet only when asked for by name
        s = book.get_sheet_by_name(n)
        if s.height and s.width:
            return s
    raise LayerError("表示されているシートにデータがありません。", file=file, row=1,
                     fix="データの入ったシートを表示してから保存するか、シート名を指定してください。")


MAX_GRID_CELLS = 20_000_000
"""Rows × columns of a sheet's grid the reader may allocate (about 640 MB): every row Excel
allows (1,048,576) by 19 columns, more than any register extract has."""
_CELL_REF = re.compile(rb'<(?:c|dimension)\s[^>]*?(?:r|ref)="(?:[A-Z]{1,3}\d+:)?([A-Z]{1,3})(\d{1,9})"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_extent(raw: bytes, file: Path) -> None:
    """Refuse an .xlsx whose sheet reaches beyond the rows and columns a table may have,
    *before* the reader allocates its grid: one cell at XFD1048576 (or a dimension that
    says so) asked for 549 GB and killed the process."""
    from layers.readers import MAX_COLUMNS, MAX_ROWS

    if raw[:2] != b"PK":
        return
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        for name in sheets:
            far_row = far_col = 0
            far = (b"A", 1)
            for m in _CELL_REF.finditer(zf.read(name)):
                col, row = _column_number(m.group(1)), int(m.group(2))
                if col > far_col or row > far_row:
                    far_col, far_row = max(far_col, col), max(far_row, row)
                    far = (m.group(1), row)
            if far_row > MAX_ROWS or far_col > MAX_COLUMNS or far_row * far_col > MAX_GRID_CELLS:
                raise LayerError(f"シートの範囲が大きすぎます（{far_row:,} 行 × {far_col:,} 列）。",
                                 file=file, row=far[1], column=far[0].decode("ascii"),
                                 fix="データの範囲の外にある遠くのセル（書式だけのものも）を消して"
                                 "保存し直してください。")


def parse_excel(raw: bytes, *, file: Path | str, sheet: str | None = None) -> pd.DataFrame:
    """A workbook sheet as a string table; see the module notes."""
    from python_calamine import CalamineWorkbook

    from layers.readers import MAX_COLUMNS, MAX_ROWS

    file = Path(file)
    _check_zip(raw, file)
    _check_extent(raw, file)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except Exception:  # calamine raises its own types for every kind of broken file
        raise LayerError("Excel ファイルとして読めません（壊れているか、パスワード付きです）。", file=file,
                         fix="Excel で開けるか確かめ、パスワードを外して保存し直してください。") from None
    ws = _sheet(book, sheet, file)
    if ws.height > MAX_ROWS or ws.width > MAX_COLUMNS:
        raise LayerError(f"シートが大きすぎます（{ws.height:,} 行 × {ws.width:,} 列）。", file=file,
                         fix="必要な行と列だけを残したファイルにしてください。")
    rows = [[_text(v) for v in r] for r in ws.to_python(skip_empty_area=False)]
    merged = list(ws.merged_cell_ranges or [])
    _fill_merged(rows, merged, HEADER_SCAN_ROWS + 2)
    h = _header_row(rows)
    if h is None:
        raise LayerError("見出し行が見つかりません（最初の30行に、列名の並んだ行がありません）。",
                         file=_labelled(file, ws.name), row=1,
                         fix="1行に列名（名称、住所、緯度 など）を並べた見出し行を作ってください。")
    names = rows[h]
    first = h + 1
    if _two_row_header(merged, h) and first < len(rows):
        sub = rows[first]
        names = [s if s and s != n else n for n, s in zip(names, sub, strict=False)]
        first += 1
    names = [unicodedata.normalize("NFKC", n).strip() or f"列{j + 1}" for j, n in enumerate(names)]
    body = rows[first:]
    width = len(names)
    df = pd.DataFrame([(r + [""] * width)[:width] for r in body], columns=names, dtype=str)
    keep = ~(df == "").all(axis=1).to_numpy() if len(df) else np.zeros(0, bool)
    df = df.loc[keep].reset_index(drop=True)
    df = df.loc[:, [not (c.startswith("列") and (df[c] == "").all()) for c in df.columns]]
    df.attrs["labels"] = []
    df.attrs["header_rows"] = first
    df.attrs["source_rows"] = np.flatnonzero(keep).astype(np.int64)
    df.attrs["sheet"] = ws.name
    df.attrs["file_label"] = str(_labelled(file, ws.name))
    return df


def _labelled(file: Path, sheet: str) -> Path:
    """The file as errors name it: ``名簿.xlsx（シート: 4月）``."""
    return file.with_name(f"{file.name}（シート: {sheet}）")


_ERAS = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019,
         "M": 1868, "T": 1912, "S": 1926, "H": 1989, "R": 2019}
_WAREKI = re.compile(
    r"(明治|大正|昭和|平成|令和|[MTSHR])\s*(\d+|元)\s*[年.\-/]\s*(\d+)\s*[月.\-/]\s*(\d+)\s*日?")
_SEIREKI = re.compile(r"(\d{4})\s*[年.\-/]\s*(\d+)\s*[月.\-/]\s*(\d+)\s*日?")


def japanese_date(text: str) -> dt.date | None:
    """A date as people write it in Japan: 昭和15年3月2日, S15.3.2, 令和元年5月1日, R6/4/1,
    1940年3月2日, 1940-03-02 (full-width digits too); ``None`` when it is not a date."""
    s = unicodedata.normalize("NFKC", str(text)).strip().upper()
    m = _WAREKI.fullmatch(s)
    try:
        if m:
            year = 1 if m.group(2) == "元" else int(m.group(2))
            return dt.date(_ERAS[m.group(1)] + year - 1, int(m.group(3)), int(m.group(4)))
        m = _SEIREKI.fullmatch(s)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:  # 2月30日
        return None
    return None
