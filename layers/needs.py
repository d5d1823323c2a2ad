"""A 災害VC's needs list (ニーズ票), as a kintone app or a spreadsheet exports it.

One row per request taken at the 受付: 受付番号, 住所 (or 緯度/経度), 作業内容,
必要人数, 必要資機材, 希望時間帯, 優先度, 要配慮者.  A CSV (UTF-8 or cp932) or an
Excel sheet.

Only what planning uses is kept (:class:`Needs`): the number, the work, the people
and tools it needs, its time window, its priority, the 要配慮者 flag, the place
and the 町字 it lies in.  Names, telephone numbers, the address text and every
other column are dropped at reading; a row's values never reach a log or an error
message (:class:`layers.errors.LayerError` names rows and columns, not values).
Addresses are placed offline by the region's geocoder, in memory.

Times are seconds from midnight of the plan's day.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from layers.crs import check_in_japan, swap_if_needed
from layers.errors import LayerError
from layers.geocode import ADDRESS_NAMES, NO_REFERENCE_FIX, describe_levels, level_counts, place_table
from layers.readers import (
    LAT_NAMES,
    LON_NAMES,
    find_column,
    parse_numbers,
    parse_table,
    require_file,
    table_row,
)
from layers.validate import check_ids

if TYPE_CHECKING:
    from layers.geocode import Geocoder

__all__ = [
    "DEFAULT_SERVICE_MIN",
    "Needs",
    "key_column",
    "parse_window",
    "read_needs",
    "split_tools",
    "table_of",
]

LAYER = "needs"
ID_NAMES = ("受付番号", "受付No", "受付NO", "ニーズ番号", "依頼番号", "番号", "ID", "id")
WORK_NAMES = ("作業内容", "依頼内容", "ニーズ内容", "内容", "work")
PEOPLE_NAMES = ("必要人数", "人数", "people")
TOOLS_NAMES = ("必要資機材", "資機材", "tools")
WINDOW_NAMES = ("希望時間帯", "時間帯", "希望時間", "window")
PRIORITY_NAMES = ("優先度", "緊急度", "priority")
CARE_NAMES = ("要配慮者", "要配慮", "配慮", "要配慮者フラグ", "care")
SERVICE_NAMES = ("作業時間(分)", "作業時間", "所要時間(分)", "所要時間", "service_min")

DEFAULT_SERVICE_MIN: tuple[tuple[str, int], ...] = (
    ("泥", 180), ("土砂", 180), ("家財", 120), ("搬出", 120), ("運搬", 120),
    ("片付", 120), ("清掃", 120), ("見守", 30), ("訪問", 30), ("安否", 30),
)
"""Minutes on site by the first keyword found in 作業内容; 90 when none matches.  A
``作業時間(分)`` column overrides it row by row."""
OTHER_SERVICE_MIN = 90
MAX_NEEDS = 1000
"""The most needs one plan takes.  A 災害VC dispatches tens to a few hundred needs a day;
the travel matrices grow with the square of the list and the solver's first answer with it,
so a longer list (10,000 rows took 87 s and 5 GB) is refused with what to do."""
PRIORITY_WORDS = {"高": 3, "緊急": 3, "至急": 3, "a": 3, "1": 3, "中": 2, "通常": 2, "b": 2, "2": 2,
                  "低": 1, "c": 1, "3": 1, "": 2}
"""優先度 as written → 3 (高) … 1 (低); blank is 中."""
YES = {"1", "要", "有", "あり", "はい", "true", "yes", "○", "〇", "◯", "●", "✓", "y"}
WORDS = {"午前": (9 * 3600, 12 * 3600), "午後": (13 * 3600, 17 * 3600)}
WHOLE_DAY = ("", "終日", "指定なし", "いつでも", "なし", "-")
_TIME = r"(\d{1,2})(?:[:時](\d{1,2})?分?)?"
_WINDOW = re.compile(rf"^{_TIME}\s*(?:-|~|〜|－|ー|から)\s*{_TIME}(?:まで)?$")
_SPLIT = re.compile(r"[、,，・/／;；\s]+")


def parse_window(text: str, *, words: bool = True, latest: int = 24 * 3600) -> tuple[int, int] | None:
    """``9:00-12:00``, ``9時〜12時``, ``午前``, ``午後`` → (start, end) seconds; blank or
    ``終日`` → None (any time); anything else raises ValueError.  ``words=False`` reads
    times only (午前 is an error); ``latest`` is the latest end allowed."""
    t = unicodedata.normalize("NFKC", str(text)).strip()
    if t in WHOLE_DAY:
        return None
    if t in WORDS:
        if not words:
            raise ValueError("not a time window")
        return WORDS[t]
    m = _WINDOW.match(t)
    if not m:
        raise ValueError("not a time window")
    h0, m0, h1, m1 = (int(g) if g else 0 for g in m.groups())
    start, end = h0 * 3600 + m0 * 60, h1 * 3600 + m1 * 60
    if not (0 <= start < end <= latest) or m0 >= 60 or m1 >= 60:
        raise ValueError("not a time window")
    return start, end


def split_tools(text: str) -> tuple[str, ...]:
    """``スコップ、一輪車・土のう袋`` → the tools, NFKC, in a stable order, no blanks."""
    t = unicodedata.normalize("NFKC", str(text)).strip()
    if t in ("", "なし", "-", "不要"):
        return ()
    return tuple(sorted({p for p in _SPLIT.split(t) if p}))


def _service_min(work: str) -> int:
    for word, minutes in DEFAULT_SERVICE_MIN:
        if word in work:
            return minutes
    return OTHER_SERVICE_MIN


@dataclass(frozen=True, repr=False)
class Needs:
    """The day's needs, reduced to what planning uses (see module doc).

    ``table`` columns: need_id, work, people, tools (tuple), window_start,
    window_end (seconds; the whole day when not given), priority (3 高 … 1 低), care
    (要配慮者), service_s, area (the 町字 of the address, or, for a need given by 緯度/経度, the
    町字 whose reference point is nearest; blank without a geocoder), lon, lat.  The ``repr``
    shows counts only.
    """

    table: pd.DataFrame
    file: str
    placed_by_address: int
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Needs(n={len(self.table)}, care={int(self.table['care'].sum())})"

    __str__ = __repr__

    def __len__(self) -> int:
        return len(self.table)


def read_needs(path: Path | tuple[str, bytes], *, geocoder: Geocoder | None = None,
               sheet: str | None = None, encoding: str | None = None,
               day_start: int = 8 * 3600, day_end: int = 18 * 3600) -> Needs:
    """Read a needs list (CSV or Excel; a path, or ``(name, bytes)`` of an upload).

    Every problem names the file, the spreadsheet row and the column, never the
    value; inputs are read, never written.
    """
    df, file = table_of(path, sheet=sheet, encoding=encoding)
    if not len(df):
        raise LayerError("ニーズ票にデータ行がありません。", file=file, row=2, layer=LAYER,
                         fix="見出し行の下に 1 件 1 行でニーズを書いてください。")
    if len(df) > MAX_NEEDS:
        raise LayerError(f"ニーズ票の行が多すぎます（{len(df):,} 件、1 回の計画は {MAX_NEEDS:,} 件まで）。",
                         file=file, row=MAX_NEEDS + 2, layer=LAYER,
                         fix="地区や優先度で分けて、1 回あたり "
                         f"{MAX_NEEDS:,} 件以下で計画してください。")
    ids = key_column(df, ID_NAMES, file, layer=LAYER, example="N-0001")
    lon, lat, area, by_address, how = _places(df, file, geocoder)
    work_col = find_column(df, WORK_NAMES)
    work = (df[work_col].astype(str).str.strip() if work_col else pd.Series("作業", index=df.index))
    work = work.where(work != "", "作業")
    people = _positive_ints(df, PEOPLE_NAMES, file, default=None, what="必要人数", fix_example="3")
    tools_col = find_column(df, TOOLS_NAMES)
    tools = [split_tools(v) for v in df[tools_col]] if tools_col else [()] * len(df)
    start, end = _windows(df, WINDOW_NAMES, file, default=(day_start, day_end))
    service = _positive_ints(df, SERVICE_NAMES, file, default=0, what="作業時間（分）", fix_example="90")
    service = np.where(service > 0, service, [_service_min(w) for w in work]) * 60
    table = pd.DataFrame({
        "need_id": ids, "work": work.to_numpy(), "people": people, "tools": tools,
        "window_start": start, "window_end": end, "priority": _priorities(df, file),
        "care": _flags(df, CARE_NAMES), "service_s": service.astype(np.int64), "area": area,
        "lon": lon, "lat": lat})
    del df
    return Needs(table=table, file=file.name, placed_by_address=by_address, notes=(how,) if how else ())


def key_column(df: pd.DataFrame, names: tuple[str, ...], file: Path, *, layer: str, example: str
               ) -> np.ndarray:
    """The stripped values of a list's key column (受付番号, 班名): found by name, none blank,
    none repeated — each problem names its row and the column."""
    col = find_column(df, names)
    if col is None:
        raise LayerError(f"「{names[0]}」の列が見つかりません。", file=file, row=1, column=names[0],
                         layer=layer, fix=f"「{names[0]}」列を用意してください（例: {example}）。")
    rows = np.array([table_row(df, i) for i in range(len(df))], dtype=np.int64)
    return check_ids(df[col], file=file, column=col, layer=layer, rows=rows,
                     fix_blank=f"すべての行に{names[0]}を入れてください。").to_numpy()


def table_of(path: Path | tuple[str, bytes], *, sheet: str | None, encoding: str | None
             ) -> tuple[pd.DataFrame, Path]:
    """A list read from a path or an upload ``(name, bytes)``, and the name to show."""
    if isinstance(path, tuple):
        name, raw = path
        file = Path(name)
    else:
        require_file(path)
        file, raw = path, path.read_bytes()
    df = parse_table(raw, file=file, encoding=encoding, sheet=sheet)
    return df, Path(df.attrs.get("file_label", file))


def _places(df: pd.DataFrame, file: Path, geocoder: Geocoder | None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, str]:
    """(lon, lat, 町字, rows placed by address, how finely they were placed) in EPSG:4326;
    every row must be placed."""
    lat_c, lon_c = find_column(df, LAT_NAMES), find_column(df, LON_NAMES)
    addr_c = find_column(df, ADDRESS_NAMES)
    n = len(df)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    area = np.full(n, "", dtype=object)
    if lat_c and lon_c:
        lat[:], lon[:] = parse_numbers(df[lat_c])[1], parse_numbers(df[lon_c])[1]
    elif addr_c is None:
        raise LayerError("位置の列（住所、または緯度・経度）が見つかりません。", file=file, row=1,
                         column="住所", layer=LAYER,
                         fix="「住所」列か「緯度」「経度」列を用意してください。")
    todo = ~(np.isfinite(lon) & np.isfinite(lat))
    by_address, how = 0, ""
    if todo.any() and addr_c is not None:
        if geocoder is None:
            raise LayerError("住所から位置を求めるための町字の参照点がありません。", file=file, row=1,
                             column=addr_c, layer=LAYER,
                             fix=NO_REFERENCE_FIX)
        rows = np.flatnonzero(todo)
        placed = place_table(df.iloc[rows], addr_c, geocoder, remember=False)
        ok = (placed["match_level"] != "").to_numpy()
        lon[rows[ok]] = placed["lon"].to_numpy(float)[ok]
        lat[rows[ok]] = placed["lat"].to_numpy(float)[ok]
        area[rows] = placed["town"].fillna("").astype(str).to_numpy()
        by_address = int(ok.sum())
        how = describe_levels(level_counts(placed["match_level"].tolist()),
                              int((placed["warning"] != "").sum()))
    missing = np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat)))
    if len(missing):
        shown = "、".join(str(table_row(df, int(i))) for i in missing[:10])
        raise LayerError(
            f"位置が分からない行があります（{len(missing)} 行: {shown}"
            f"{'…' if len(missing) > 10 else ''} 行目）。",
            file=file, row=table_row(df, int(missing[0])), column=addr_c or lat_c, layer=LAYER,
            fix="住所を市町村名から書くか、その行に緯度・経度（10進数の度）を入れてください。")
    lon, lat, _swapped = swap_if_needed(lon, lat)
    if geocoder is not None and (area == "").any():  # placed by coordinates: the nearest 町字 as a label
        blank = area == ""
        area[blank] = geocoder.nearest_town(lon[blank], lat[blank])
    check_in_japan(lon, lat, file=file, columns=(lon_c or addr_c or "経度", lat_c or addr_c or "緯度"),
                   header_rows=int(df.attrs.get("header_rows", 1)))
    return lon, lat, area, by_address, how


def _positive_ints(df: pd.DataFrame, names: tuple[str, ...], file: Path, *, default: int | None,
                   what: str, fix_example: str) -> np.ndarray:
    col = find_column(df, names)
    if col is None:
        if default is None:
            raise LayerError(f"{what}の列が見つかりません。", file=file, row=1, column=names[0],
                             layer=LAYER, fix=f"「{names[0]}」列を用意してください（例: {fix_example}）。")
        return np.full(len(df), default, np.int64)
    text, values = parse_numbers(df[col])
    blank = (text == "").to_numpy()
    if default is not None:
        values = np.where(blank, default, values)
    bad = np.flatnonzero(~np.isfinite(values) | (values < (0 if default is not None else 1))
                         | (values != np.round(values)) | (values > 10_000))
    if len(bad):
        raise LayerError(f"{what}が正の整数ではない行があります（{len(bad)} 行）。", file=file,
                         row=table_row(df, int(bad[0])), column=col, layer=LAYER,
                         fix=f"半角か全角の整数で書いてください（例: {fix_example}）。")
    return values.astype(np.int64)


def _windows(df: pd.DataFrame, names: tuple[str, ...], file: Path, *, default: tuple[int, int]
             ) -> tuple[np.ndarray, np.ndarray]:
    col = find_column(df, names)
    n = len(df)
    start, end = np.full(n, default[0], np.int64), np.full(n, default[1], np.int64)
    if col is None:
        return start, end
    bad = []
    for i, v in enumerate(df[col].astype(str)):
        try:
            w = parse_window(v)
        except ValueError:
            bad.append(i)
            continue
        if w is not None:
            start[i], end[i] = w
    if bad:
        raise LayerError(f"時間帯が読めない行があります（{len(bad)} 行）。", file=file,
                         row=table_row(df, bad[0]), column=col, layer=LAYER,
                         fix="「9:00-12:00」「9時〜12時」「午前」「午後」「終日」のように書いてください。")
    return start, end


def _priorities(df: pd.DataFrame, file: Path) -> np.ndarray:
    col = find_column(df, PRIORITY_NAMES)
    if col is None:
        return np.full(len(df), 2, np.int64)
    text = df[col].astype(str).map(lambda v: unicodedata.normalize("NFKC", v).strip().lower())
    value = text.map(PRIORITY_WORDS)
    bad = np.flatnonzero(value.isna().to_numpy())
    if len(bad):
        raise LayerError(f"優先度が読めない行があります（{len(bad)} 行）。", file=file,
                         row=table_row(df, int(bad[0])), column=col, layer=LAYER,
                         fix="高・中・低（または A・B・C、1・2・3）で書いてください。")
    return value.to_numpy(np.int64)


def _flags(df: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    col = find_column(df, names)
    if col is None:
        return np.zeros(len(df), bool)
    text = df[col].astype(str).map(lambda v: unicodedata.normalize("NFKC", v).strip().lower())
    return text.isin(YES).to_numpy()

