"""The folder the app owns: the only place a browser user may open files from or save to.

A path typed into the app (a region TOML to open, a folder to save a region into)
is resolved — ``..`` and symbolic links followed — and must lie inside the data
root: ``TOMONI_DATA_ROOT``, or the project's ``data/`` folder.  Every file a region
opened from the browser reads must lie there too, so ``/etc/passwd``, ``/dev/zero``
or another user's home cannot be opened, and no region is saved elsewhere.  The
command line is not restricted: its user owns the machine's files already.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from layers.errors import LayerError

__all__ = ["SHARED", "claim_shared", "data_root", "data_user", "home", "inside_data_root",
           "may_read_outside", "region_files_inside"]

SHARED = "shared"
"""The folder of the data root where users share regions with each other."""
OWNER_FILE = ".tomoni-owner"
"""In a shared region's folder: a hash of the user who shared it (only they replace it)."""
_USER: contextvars.ContextVar[str | None] = contextvars.ContextVar("tomoni_data_user", default=None)


def data_user(user: str | None) -> None:
    """Put the current thread (an app session's run) in ``user``'s home (None: no login)."""
    _USER.set(user)


def may_read_outside() -> bool:
    """Whether this session may copy a region in from outside the data folder: only the app on
    one's own machine (no login).  A shared deployment never reads a server path outside its
    data folder, whoever asks."""
    return _USER.get() is None


def _tag(user: str) -> str:
    return hashlib.sha256(user.encode("utf-8")).hexdigest()[:16]


def home() -> Path:
    """The logged-in user's folder (created on first use), or the data root without a login."""
    user = _USER.get()
    if user is None:
        return data_root()
    folder = data_root() / "users" / _tag(user)
    folder.mkdir(parents=True, exist_ok=True)
    return folder

ROOT = Path(__file__).resolve().parents[1]


def safe_folder(name: str) -> str:
    """A folder name made from text a person typed (a municipality's name): characters a file
    system refuses become ``_``; never empty, never a path."""
    import re

    return re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", name).strip("._")[:60] or "region"


def data_root() -> Path:
    """``TOMONI_DATA_ROOT`` or the project's ``data/`` folder (resolved)."""
    return Path(os.environ.get("TOMONI_DATA_ROOT") or ROOT / "data").expanduser().resolve()


class OutsideDataRoot(LayerError):
    """A path outside the app's data folder (the app may offer to copy a region in)."""


def inside_data_root(path: str | Path, *, what: str = "ファイル", write: bool = False) -> Path:
    """``path`` resolved (relative paths are taken from the user's :func:`home`), or a
    :class:`LayerError` when it lies outside what this session may read (``write``: write)."""
    root = data_root()
    raw = Path(path).expanduser()
    resolved = (raw if raw.is_absolute() else home() / raw).resolve()
    if not _within(resolved, root):
        raise OutsideDataRoot(
            f"この{what}はアプリのデータフォルダの外にあります。",
            file=raw.name or str(raw),
            fix=f"データフォルダ（{root}）の中のパスを指定してください。"
            "管理者は TOMONI_DATA_ROOT でデータフォルダを変えられます。",
        )
    user = _USER.get()
    if user is None:
        return resolved
    shared = root / SHARED
    readable = [home(), shared] + ([] if write else [root / "demo"])
    if not any(_within(resolved, r) for r in readable):
        raise LayerError(
            f"この{what}はほかの利用者のフォルダにあります。開くことも保存することもできません。",
            file=raw.name or str(raw),
            fix=f"自分のフォルダ（{home()}）か共有フォルダ（{shared}）の中のパスを指定してください。"
            "ほかの利用者の地域は、その人が shared/ に保存すると開けます。")
    if write and _within(resolved, shared):
        _check_owner(resolved, shared, user, raw)
    return resolved


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_owner(target: Path, shared: Path, user: str, raw: Path) -> None:
    """A folder under ``shared/`` is replaced only by the user who shared it."""
    top = shared / target.relative_to(shared).parts[0] if target != shared else shared
    marker = top / OWNER_FILE
    if target == shared or (top.exists() and (not marker.exists()
                                              or marker.read_text("ascii").strip() != _tag(user))):
        raise LayerError("ほかの利用者が共有した地域です。置き換えることはできません。",
                         file=raw.name or str(raw),
                         fix="shared/ の下に新しいフォルダ名を付けて保存してください。")


def claim_shared(folder: Path) -> None:
    """Mark a folder just saved under ``shared/`` as the logged-in user's."""
    user = _USER.get()
    shared = data_root() / SHARED
    if user is None or not _within(folder, shared) or folder == shared:
        return
    top = shared / folder.relative_to(shared).parts[0]
    top.mkdir(parents=True, exist_ok=True)
    (top / OWNER_FILE).write_text(_tag(user) + "\n", "ascii")


def region_files_inside(files: Iterable[Path]) -> None:
    """Every file a region reads must lie inside the data root."""
    for f in files:
        inside_data_root(f, what="地域設定が読むファイル")
