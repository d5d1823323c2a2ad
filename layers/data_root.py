"""The folder the app owns: the only place a browser user may open files from or save to.

A path typed into the app (a region TOML to open, a folder to save a region into)
is resolved — ``..`` and symbolic links followed — and must lie inside the data
root: ``TOMONI_DATA_ROOT``, or the project's ``data/`` folder.  Every file a region
opened from the browser reads must lie there too, so ``/etc/passwd``, ``/dev/zero``
or another user's home cannot be opened, and no region is saved elsewhere.  The
command line is not restricted: its user owns the machine's files already.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from layers.errors import LayerError

__all__ = ["data_root", "inside_data_root", "region_files_inside"]

ROOT = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """``TOMONI_DATA_ROOT`` or the project's ``data/`` folder (resolved)."""
    return Path(os.environ.get("TOMONI_DATA_ROOT") or ROOT / "data").expanduser().resolve()


def inside_data_root(path: str | Path, *, what: str = "ファイル") -> Path:
    """``path`` resolved (relative paths are taken from the data root), or a
    :class:`LayerError` when it lies outside the data root."""
    root = data_root()
    raw = Path(path).expanduser()
    resolved = (raw if raw.is_absolute() else root / raw).resolve()
    if resolved != root and root not in resolved.parents:
        raise LayerError(
            f"この{what}はアプリのデータフォルダの外にあります。",
            file=raw.name or str(raw),
            fix=f"データフォルダ（{root}）の中のパスを指定してください。"
            "管理者は TOMONI_DATA_ROOT でデータフォルダを変えられます。",
        )
    return resolved


def region_files_inside(files: Iterable[Path]) -> None:
    """Every file a region reads must lie inside the data root."""
    for f in files:
        inside_data_root(f, what="地域設定が読むファイル")
