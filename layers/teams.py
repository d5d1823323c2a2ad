"""A 災害VC's volunteer teams for the day (活動班): 班名, 人数, 車両, 資機材, 活動時間.

A CSV (UTF-8 or cp932) or an Excel sheet, one team per row.  ``車両`` decides how
a team travels: 徒歩 (or blank) walks the walk network; 軽トラ, 乗用車, ワゴン … drive
the drive network.  A team's vehicle counts as one of its tools (a need that lists
軽トラ among its 資機材 goes only to a team with one).  Team leaders' names and
telephone numbers are not read.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from layers.errors import LayerError
from layers.needs import key_column, parse_window, split_tools, table_of
from layers.readers import find_column, parse_numbers, table_row

__all__ = ["DEFAULT_HOURS", "Teams", "read_teams", "travel_mode"]

LAYER = "teams"
NAME_NAMES = ("班名", "班", "チーム名", "team")
SIZE_NAMES = ("人数", "班員数", "size")
VEHICLE_NAMES = ("車両", "移動手段", "vehicle")
TOOLS_NAMES = ("資機材", "持参資機材", "tools")
HOURS_NAMES = ("活動時間", "活動時間帯", "hours")
DEFAULT_HOURS = (9 * 3600, 15 * 3600 + 30 * 60)
"""A team's day when 活動時間 is blank: 9:00–15:30 (the usual VC day, back by 16:00)."""
WALK_WORDS = ("", "徒歩", "なし", "歩き", "walk", "-")


def travel_mode(vehicle: str) -> str:
    """``walk`` for 徒歩 or blank, else ``drive``."""
    return "walk" if unicodedata.normalize("NFKC", vehicle).strip().lower() in WALK_WORDS else "drive"


@dataclass(frozen=True)
class Teams:
    """The teams: name, size, vehicle, mode (walk/drive), tools (tuple, vehicle included),
    start and end (seconds from midnight)."""

    table: pd.DataFrame
    file: str

    def __len__(self) -> int:
        return len(self.table)


def read_teams(path: Path | tuple[str, bytes], *, sheet: str | None = None,
               encoding: str | None = None) -> Teams:
    """Read a teams list; every problem names the file, row and column."""
    df, file = table_of(path, sheet=sheet, encoding=encoding)
    if not len(df):
        raise LayerError("班の一覧にデータ行がありません。", file=file, row=2, layer=LAYER,
                         fix="見出し行の下に 1 班 1 行で書いてください。")
    names = key_column(df, NAME_NAMES, file, layer=LAYER, example="A班")
    size_col = find_column(df, SIZE_NAMES)
    if size_col is None:
        raise LayerError("人数の列が見つかりません。", file=file, row=1, column="人数", layer=LAYER,
                         fix="「人数」列に班の人数を書いてください（例: 5）。")
    _text, size = parse_numbers(df[size_col])
    bad = np.flatnonzero(~np.isfinite(size) | (size < 1) | (size != np.round(size)) | (size > 1000))
    if len(bad):
        raise LayerError(f"人数が 1 以上の整数ではない行があります（{len(bad)} 行）。", file=file,
                         row=table_row(df, int(bad[0])), column=size_col, layer=LAYER,
                         fix="班の人数を整数で書いてください（例: 5）。")
    veh_col = find_column(df, VEHICLE_NAMES)
    vehicle = (df[veh_col].astype(str).map(lambda v: unicodedata.normalize("NFKC", v).strip())
               if veh_col else pd.Series("徒歩", index=df.index))
    vehicle = vehicle.where(vehicle != "", "徒歩")
    tools_col = find_column(df, TOOLS_NAMES)
    tools = [tuple(sorted(set(split_tools(t)) | ({v} if travel_mode(v) == "drive" else set())))
             for t, v in zip(df[tools_col] if tools_col else [""] * len(df), vehicle, strict=True)]
    start, end = _hours(df, file)
    table = pd.DataFrame({"team": names, "size": size.astype(np.int64), "vehicle": vehicle.to_numpy(),
                          "mode": [travel_mode(v) for v in vehicle], "tools": tools,
                          "start": start, "end": end})
    return Teams(table=table, file=file.name)


def _hours(df: pd.DataFrame, file: Path) -> tuple[np.ndarray, np.ndarray]:
    col = find_column(df, HOURS_NAMES)
    n = len(df)
    start, end = np.full(n, DEFAULT_HOURS[0], np.int64), np.full(n, DEFAULT_HOURS[1], np.int64)
    if col is None:
        return start, end
    for i, v in enumerate(df[col].astype(str)):
        try:
            w = parse_window(v)
        except ValueError:
            raise LayerError("活動時間が読めません。", file=file, row=table_row(df, i), column=col,
                             layer=LAYER, fix="「9:00-15:30」のように書いてください。") from None
        if w is not None:
            start[i], end[i] = w
    return start, end
