"""Saving a region assembled in the app as a folder (TOML + files) to reopen later.

A planner's uploads, column mappings and parameters survive a closed browser:
the folder is a normal region that ``tomoni check`` and the app's データ page
open.  Raw 要配慮者 records are never written: only anonymised layers are.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layers.atomic import atomic_write_bytes, atomic_write_text
from layers.errors import LayerError
from layers.region import LAYER_KEYS, RegionConfig

__all__ = ["SavedFile", "copy_region_in", "save_region"]


@dataclass(frozen=True)
class SavedFile:
    """One file to put in a saved region folder."""

    layer: str
    filename: str
    data: bytes
    options: Mapping[str, Any] = field(default_factory=dict)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _check_files(files: Sequence[SavedFile]) -> None:
    for f in files:
        if f.layer == "vulnerable" and not f.options.get("anonymised"):
            raise LayerError(
                "要配慮者の個票は保存できません（匿名化した集計だけを保存します）。",
                file=f.filename, layer="vulnerable",
                fix="データのページで匿名化した密度レイヤーを作ってから保存してください。",
            )
        if f.layer not in LAYER_KEYS:
            raise LayerError(f"不明なレイヤー名です: {f.layer}", file=f.filename,
                             fix=f"次のいずれか: {', '.join(LAYER_KEYS)}")


class _Placer:
    """Copies files into the region folder under names not used yet (atomically)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.used: set[str] = set()

    def place(self, src_name: str, data: bytes | None = None, src: Path | None = None) -> str:
        base_name = Path(src_name).name
        stem, dot, suffix = base_name.partition(".")
        candidate, n = base_name, 1
        while candidate in self.used:
            n += 1
            candidate = f"{stem}_{n}{dot}{suffix}"
        self.used.add(candidate)
        target = self.out / candidate
        if data is not None:
            atomic_write_bytes(target, data)
        elif src is not None:
            if src.is_dir():  # pragma: no cover - loaders take files
                raise LayerError("フォルダは保存できません。", file=src)
            self._copy(src, target)
            # shapefiles travel with their sidecar files
            if src.suffix.lower() == ".shp":
                for side in (".shx", ".dbf", ".prj", ".cpg"):
                    s2 = src.with_suffix(side)
                    if s2.exists():
                        self._copy(s2, target.with_suffix(side))
        return candidate

    def _copy(self, src: Path, target: Path) -> None:
        """``src`` to ``target`` through a temporary file (atomic); nothing to do when it is
        the same file (a region saved into the folder it was opened from)."""
        if target.exists() and os.path.samefile(src, target):
            return
        with tempfile.NamedTemporaryFile(dir=self.out, delete=False, prefix=".copy-") as tmp:
            shutil.copyfile(src, tmp.name)
        Path(tmp.name).replace(target)


def _zipped(folder: Path) -> bytes:
    """A GTFS feed kept as a folder, as the bytes of a zip of its files."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.iterdir()):
            if f.is_file():
                z.write(f, f.name)
    return buf.getvalue()


def _base_tables(base: RegionConfig | None, placer: _Placer
                 ) -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    """The base region's layer tables and roads (and its ``[geocoder]`` files, under the key
    ``geocoder``), its files copied in (never a raw register)."""
    tables: dict[str, dict[str, Any]] = {}
    roads: dict[str, Any] | None = None
    if base is None:
        return tables, roads
    if base.geocoder is not None:
        geo: dict[str, Any] = {"path": [placer.place(p.name, src=p) for p in base.geocoder.paths]}
        if base.geocoder.blocks:
            geo["blocks"] = [placer.place(p.name, src=p) for p in base.geocoder.blocks]
        tables["geocoder"] = geo
    for key, spec in base.layers.items():
        if key == "vulnerable":
            continue  # raw registers never leave; anonymised uploads come as files
        entry: dict[str, Any] = {"path": [placer.place(p.name, src=p) for p in spec.paths]}
        for k in ("fmt", "crs", "encoding"):
            v = getattr(spec, k)
            if v:
                entry["format" if k == "fmt" else k] = v
        entry.update(spec.options)
        tables[key] = entry
    if base.transit:  # a feed kept as a folder travels as a zip of it
        tables["transit"] = {"path": [placer.place(f"{p.name}.zip", data=_zipped(p)) if p.is_dir()
                                      else placer.place(p.name, src=p) for p in base.transit]}
    if base.projection:
        tables["projection"] = {"path": [placer.place(p.name, src=p) for p in base.projection]}
    if base.roads is not None:
        roads = {"path": placer.place(base.roads.path.name, src=base.roads.path),
                 "network": base.roads.network}
        if base.roads.drive is not None:
            roads["drive"] = placer.place(base.roads.drive.name, src=base.roads.drive)
    return tables, roads


def _toml_lines(name: str, *, fictional: bool, crs: str | None, tables: dict[str, dict[str, Any]],
                roads: dict[str, Any] | None, parameters: Mapping[str, Any] | None) -> list[str]:
    lines = ["# ともにマップ 地域設定（アプリから保存）", "[region]",
             f"name = {_toml_value(name)}"]
    if fictional:
        lines.append("fictional = true")
    if crs:
        lines.append(f"crs = {_toml_value(crs)}")
    for key in (*LAYER_KEYS, "transit"):  # [layers.transit]: timetables, not a map layer
        if key not in tables:
            continue
        lines += ["", f"[layers.{key}]"]
        for k, v in tables[key].items():
            if k == "path" and isinstance(v, list) and len(v) == 1:
                v = v[0]
            lines.append(f"{k} = {_toml_value(v)}")
    if roads:
        lines += ["", "[roads]"] + [f"{k} = {_toml_value(v)}" for k, v in roads.items()]
    for table in ("geocoder", "projection"):
        if table in tables:
            lines += ["", f"[{table}]"] + [f"{k} = {_toml_value(v)}" for k, v in tables[table].items()]
    if parameters:
        lines += ["", "[analysis]"] + [f"{k} = {_toml_value(v)}" for k, v in parameters.items()]
    return lines


def copy_region_in(toml: Path, folder: Path) -> Path:
    """A region kept elsewhere copied into ``folder`` (inside the app's data folder): its
    region file rewritten to the copies of every file it reads (:func:`save_region` with it as
    the base).  A raw register is not copied (it is added again on the データ page, anonymised)."""
    from layers.data_root import may_read_outside
    from layers.region import read_config

    if not may_read_outside():
        raise LayerError("共有の利用では、データフォルダの外の地域は読み込めません。", file=Path(toml).name,
                         fix="地域のファイルを管理者に渡し、データフォルダ（共有フォルダ）に置いてもらってください。")
    cfg = read_config(toml)
    return save_region(folder, name=cfg.name, base=cfg, fictional=cfg.fictional,
                       municipalities=cfg.municipalities)


def save_region(
    out: str | Path,
    *,
    name: str,
    base: RegionConfig | None = None,
    files: Sequence[SavedFile] = (),
    parameters: Mapping[str, Any] | None = None,
    fictional: bool = False,
    municipalities: Sequence[str] = (),
) -> Path:
    """Write a region folder: copies of the base region's files, the uploads, a TOML.

    Parameters
    ----------
    out
        Folder to write (created; existing files with the same names are replaced).
    base
        The region the planner started from (its files are copied in).
    files
        Uploaded files, by layer.
    parameters
        App parameters kept under ``[analysis]`` (hazard, thresholds …).
    """
    out = Path(out)
    _check_files(files)
    out.mkdir(parents=True, exist_ok=True)
    placer = _Placer(out)
    tables, roads = _base_tables(base, placer)
    for f in files:
        stored = placer.place(f.filename, data=f.data)
        # 町字 points added in the app place addresses: the region's [geocoder], not a layer
        entry = tables.setdefault("geocoder" if f.layer == "machiaza" else f.layer, {"path": []})
        paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
        entry["path"] = [*paths, stored]
        for k, v in f.options.items():
            if k not in ("anonymised", "region_areas") and v not in (None, ""):
                entry[k] = v
    lines = _toml_lines(name, fictional=fictional, crs=base.crs if base is not None else None,
                        tables=tables, roads=roads, parameters=parameters)
    if municipalities:  # the municipalities chosen in the app, under [region]
        lines.insert(3, f"municipalities = {_toml_value([str(m) for m in municipalities])}")
    toml = out / "region.toml"
    atomic_write_text(toml, "\n".join(lines) + "\n")
    return toml
