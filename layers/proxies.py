"""Counts that stand in for a register: mesh counts, e-Stat 地域メッシュ統計, 国土数値情報
population forecasts.  Public or pre-aggregated data, anonymised by the same k-rule
and labelled as a proxy (代替指標) wherever shown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from layers.errors import LayerError
from layers.mesh import (
    twice,
)
from layers.readers import (
    TABLE_FORMATS,
    detect_format,
    find_column,
    read_table,
    read_vector,
    table_row,
)
from layers.registers import LAYER

__all__ = ["MAX_COUNT", "people_counts", "read_estat_mesh", "read_ksj_forecast", "read_mesh_counts"]


# ----------------------------------------------------------------- proxies


def read_estat_mesh(path: Path, *, label: str = "65歳以上") -> tuple[np.ndarray, np.ndarray, int]:
    """e-Stat 地域メッシュ統計 text → (mesh codes, counts, level).

    Rows with ``HTKSYORI`` = 2 are dropped (suppressed and already included in
    their ``HTKSAKI`` cell); ``*`` is missing, ``-`` is 0.
    """
    df = read_table(path, header_rows=2)
    labels = df.attrs.get("labels", [])
    if "KEY_CODE" not in df.columns:
        raise LayerError("e-Stat のメッシュ統計（KEY_CODE 列）ではありません。", file=path, row=1,
                         column="KEY_CODE", layer=LAYER,
                         fix="e-Stat の「地域メッシュ統計」からダウンロードした .txt を指定してください。")
    col = None
    for name, lab in zip(df.columns, labels, strict=False):
        if label in str(lab) or label in str(name):
            col = name
            break
    if col is None:
        raise LayerError(f"「{label}」を含む列が見つかりません。", file=path, row=2, column=label,
                         layer=LAYER,
                         fix="label = \"65歳以上\" などで見出し（2行目）の語を指定してください。")
    status = df["HTKSYORI"].astype(str).str.strip() if "HTKSYORI" in df else pd.Series("0", df.index)
    keep = status != "2"
    vals = df.loc[keep, col].astype(str).str.strip().replace({"-": "0", "*": ""})
    counts = pd.to_numeric(vals, errors="coerce")
    codes = pd.to_numeric(df.loc[keep, "KEY_CODE"], errors="coerce")
    ok = counts.notna() & codes.notna()
    sub = df.loc[keep].loc[ok.to_numpy()]
    values = people_counts(counts[ok].astype(str), file=path, column=str(col), rows=sub)
    codes_a = codes[ok].astype(np.int64).to_numpy()
    level = _level_of(codes_a, path)
    return codes_a, values, level


def _level_of(codes: np.ndarray, path: Path) -> int:
    import jismesh.utils as ju

    if len(codes) == 0:
        raise LayerError("メッシュコードの行がありません。", file=path, row=2, layer=LAYER)
    c, n = twice(codes)
    levels = np.unique(np.asarray(ju.to_meshlevel(c))[:n])
    if len(levels) != 1 or int(levels[0]) not in (3, 4, 5):
        raise LayerError("1 km・500 m・250 m のいずれか一つのメッシュにそろっていません。", file=path,
                         column="mesh_code", layer=LAYER,
                         fix="同じ大きさのメッシュコード（8〜10桁）だけのファイルにしてください。")
    return int(levels[0])


MAX_COUNT = 1_000_000
"""People in one published unit at the most: a larger count is a typing error (or an attack)."""


def people_counts(values: pd.Series, *, file: Path, column: str, rows: pd.DataFrame,
                  whole: bool = True) -> np.ndarray:
    """Counts of people as non-negative integers (blank = 0), or an error naming the row.

    Negative, non-finite, fractional (``whole``) or absurdly large values
    (> :data:`MAX_COUNT`) are refused, never rounded or wrapped around.
    """
    v = pd.to_numeric(values.replace("", "0"), errors="coerce").to_numpy(float)
    bad = ~np.isfinite(v) | (v < 0) | (v > MAX_COUNT)
    if whole:
        bad |= np.isfinite(v) & (v != np.round(v))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LayerError(
            f"人数が 0 以上 {MAX_COUNT:,} 以下の整数ではない行があります（{int(bad.sum())} 行）。",
            file=file, row=table_row(rows, i), column=column, layer=LAYER,
            fix="人数は 0 以上の整数で入力してください（値はこのメッセージに表示しません）。")
    return np.round(v).astype(np.int64)


def read_mesh_counts(path: Path, *, encoding: str | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """CSV with ``mesh_code`` and ``count`` (or one count column per category, summed)."""
    df = read_table(path, encoding=encoding)
    codec = find_column(df, ("mesh_code", "メッシュコード", "KEY_CODE", "MESH_ID", "meshcode"))
    if codec is None:
        raise LayerError("メッシュコードの列がありません。", file=path, row=1, column="mesh_code",
                         layer=LAYER, fix="mesh_code と count の列を用意してください。")
    value_cols = [c for c in df.columns if c != codec]
    countc = find_column(df, ("count", "人数", "件数"))
    cols = [countc] if countc else value_cols
    total = np.zeros(len(df), np.int64)
    for c in cols:
        total += people_counts(df[c], file=path, column=c, rows=df)
    codes = pd.to_numeric(df[codec], errors="coerce")
    if codes.isna().any():
        i = int(np.flatnonzero(codes.isna().to_numpy())[0])
        raise LayerError("メッシュコードが数字ではない行があります。", file=path, row=table_row(df, i),
                         column=codec, layer=LAYER, fix="8〜10桁のメッシュコードを入力してください。")
    codes_a = codes.astype(np.int64).to_numpy()
    return codes_a, total, _level_of(codes_a, path)


def read_ksj_forecast(path: Path, *, column: str = "PTC", year: int | None = None,
                      encoding: str | None = None) -> tuple[np.ndarray, np.ndarray, int, str]:
    """国土数値情報 mesh population forecast → (codes, counts, level, column used)."""
    fmt = detect_format(path)
    if fmt in TABLE_FORMATS:
        df: pd.DataFrame = read_table(path, encoding=encoding)
    else:
        df = pd.DataFrame(read_vector(path, encoding=encoding).drop(columns="geometry"))
    codec = find_column(df, ("MESH_ID", "mesh_code", "KEY_CODE"))
    if codec is None:
        raise LayerError("MESH_ID 列がありません。", file=path, row=1, column="MESH_ID", layer=LAYER,
                         fix="国土数値情報「将来推計人口メッシュ」のファイルを指定してください。")
    cands = [c for c in df.columns if str(c).upper().startswith(column.upper())]
    if year is not None:
        cands = [c for c in cands if str(year) in str(c)]
    if not cands:
        raise LayerError(f"{column} で始まる列がありません。", file=path, row=1, column=column,
                         layer=LAYER, fix="column = \"PTC\"（65歳以上）、\"PTD\"（75歳以上）、"
                         "\"PTE\"（80歳以上）と year を確認してください。")
    col = sorted(cands)[0]
    # forecasts are estimates with decimals: rounded to whole people, but never negative or absurd
    vals = people_counts(df[col].astype(str).replace("nan", ""), file=path, column=str(col), rows=df,
                         whole=False)
    codes = pd.to_numeric(df[codec], errors="coerce").fillna(0).astype(np.int64).to_numpy()
    ok = codes > 0
    return codes[ok], vals[ok], _level_of(codes[ok], path), str(col)
