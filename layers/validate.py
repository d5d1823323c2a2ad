"""Validation shared by the layer loaders: IDs, polygon repair, column mapping."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.errors import LayerError, spreadsheet_row

__all__ = [
    "add_warning",
    "check_unique",
    "concat_layers",
    "optional_int",
    "pick",
    "repair_polygons",
    "warnings_of",
]


def warnings_of(gdf: pd.DataFrame) -> list[str]:
    """The warnings a loader attached to a layer."""
    return list(gdf.attrs.get("warnings", []))


def add_warning(gdf: pd.DataFrame, message: str) -> None:
    """Attach a warning to a layer (kept in ``gdf.attrs["warnings"]``)."""
    gdf.attrs.setdefault("warnings", [])
    gdf.attrs["warnings"] = [*gdf.attrs["warnings"], message]


def pick(
    df: pd.DataFrame,
    candidates: Sequence[str],
    *,
    mapped: str | None = None,
    file: Path | str | None = None,
    required: bool = False,
    what: str = "",
    key: str = "",
) -> str | None:
    """Find the column for a field: the user's mapping first, then known names.

    A mapping that names a missing column is always an error (a typo in the TOML
    should not silently fall back to another column).
    """
    lookup = {str(c).strip().lower(): str(c) for c in df.columns}
    if mapped:
        col = lookup.get(mapped.strip().lower())
        if col is None:
            raise LayerError(
                f"指定された列がファイルにありません（{what}）。",
                file=file,
                column=mapped,
                fix=f"地域設定の {key} = \"…\" をファイルの見出しと同じ列名にしてください。"
                f" ファイルの列: {', '.join(map(str, df.columns[:20]))}",
            )
        return col
    for name in candidates:
        col = lookup.get(name.strip().lower())
        if col is not None:
            return col
    if required:
        raise LayerError(
            f"{what}の列が見つかりません。",
            file=file,
            column=candidates[0] if candidates else None,
            fix=f"「{candidates[0]}」列を用意するか、地域設定で {key} = \"列名\" を指定してください。",
        )
    return None


def check_unique(
    values: pd.Series, *, file: Path | str | None, column: str, layer: str,
    rows: np.ndarray | None = None,
) -> None:
    """Refuse duplicate IDs, naming the row of the first repeat."""
    v = values.astype(str)
    dup = v.duplicated(keep="first").to_numpy() & (v != "").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        row = int(rows[i]) if rows is not None else spreadsheet_row(i)
        raise LayerError(
            f"ID が重複しています（重複 {int(dup.sum())} 行）。",
            file=file,
            row=row,
            column=column,
            layer=layer,
            fix="ID を一意にしてください。同じ施設の二重登録なら片方の行を削除してください。",
        )


def check_ids(
    values: pd.Series, *, file: Path | str | None, column: str, layer: str,
    rows: np.ndarray | None = None, fix_blank: str = "すべての行に ID を入力してください。",
) -> pd.Series:
    """Refuse blank and duplicate IDs; return the stripped IDs."""
    ids = values.fillna("").astype(str).str.strip()
    blank = (ids == "").to_numpy()
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise LayerError(
            "ID が空欄の行があります。",
            file=file, row=int(rows[i]) if rows is not None else spreadsheet_row(i),
            column=column, layer=layer, fix=fix_blank,
        )
    check_unique(ids, file=file, column=column, layer=layer, rows=rows)
    return ids


def repair_polygons(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair invalid polygons with ``make_valid`` and report which rows changed."""
    geoms = np.asarray(gdf.geometry.values)
    valid = shapely.is_valid(geoms)
    if valid.all():
        return gdf, []
    bad = np.flatnonzero(~valid)
    fixed = shapely.make_valid(geoms[bad])
    # keep only the polygonal parts of what make_valid returns
    polys = []
    for g in fixed:
        if g.geom_type in ("Polygon", "MultiPolygon"):
            polys.append(g)
        else:
            parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type in ("Polygon", "MultiPolygon")]
            polys.append(shapely.union_all(parts) if parts else shapely.Polygon())
    out = gdf.copy()
    gs = out.geometry.to_numpy().copy()
    gs[bad] = polys
    out[out.geometry.name] = gpd.GeoSeries(gs, index=out.index, crs=gdf.crs)
    rows = ", ".join(str(spreadsheet_row(int(i))) for i in bad[:10])
    more = " ほか" if len(bad) > 10 else ""
    return out, [f"不正なポリゴン {len(bad)} 件を修復しました（{rows}{more} 行目）。"]


def optional_int(
    df: pd.DataFrame, col: str | None, *, file: Path | str | None, layer: str,
    rows: np.ndarray | None = None,
) -> pd.Series:
    """Parse an optional integer column (e.g. capacity); blanks become <NA>."""
    if col is None:
        return pd.Series(pd.array([pd.NA] * len(df), dtype="Int64"), index=df.index)
    raw = df[col].astype(object).where(df[col].notna(), "").astype(str)
    raw = raw.map(lambda v: unicodedata.normalize("NFKC", v))
    raw = raw.str.replace(",", "", regex=False).str.replace("人", "", regex=False)
    raw = raw.str.strip()
    num = pd.to_numeric(raw.where(raw != "", None), errors="coerce")
    bad = num.isna().to_numpy() & (raw != "").to_numpy() & (raw.str.lower() != "nan").to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = int(rows[i]) if rows is not None else spreadsheet_row(i)
        raise LayerError(
            "数値ではない値があります。",
            file=file,
            row=row,
            column=col,
            layer=layer,
            fix="半角の整数（例: 30）で入力するか、空欄にしてください。",
        )
    neg = (num < 0).fillna(False).to_numpy()
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        row = int(rows[i]) if rows is not None else spreadsheet_row(i)
        raise LayerError(
            "負の値があります。", file=file, row=row, column=col, layer=layer,
            fix="0 以上の整数を入力してください。",
        )
    return num.round().astype("Int64")


def concat_layers(frames: Sequence[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Concatenate loaded parts of one layer, keeping their warnings."""
    warnings: list[str] = []
    for f in frames:
        warnings.extend(warnings_of(f))
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    out.attrs = {"warnings": warnings}
    return out


def rename_columns(mapping: Mapping[str, str | None]) -> dict[str, str]:
    """Drop ``None`` values from a column mapping."""
    return {k: v for k, v in mapping.items() if v}


def read_polygon_file(
    path: Path,
    *,
    layer: str,
    fmt: str | None = None,
    crs: object = None,
    encoding: str | None = None,
    frame: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a polygon file, refuse other geometry types, repair invalid polygons.

    Returns the frame (storage CRS) and the warnings about repairs.  ``frame``: the file
    as :func:`layers.readers.read_vector` already read it (it is not read again).
    """
    from layers.readers import POLYGONAL, read_vector, require_geometry, require_rows

    gdf = frame if frame is not None else read_vector(path, fmt=fmt, crs=crs,  # type: ignore[arg-type]
                                                      encoding=encoding)
    require_rows(gdf, file=path, layer=layer)
    gdf = require_geometry(gdf, POLYGONAL, file=path, layer=layer)
    gdf, repaired = repair_polygons(gdf)
    return gdf, [f"{path.name}: {w}" for w in repaired]
