"""Where tomoni keeps what it builds once (road networks, extracts' ways, projections):
one folder, keyed by content.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["cache_folder", "file_hash"]


def cache_folder() -> Path:
    """``TOMONI_CACHE_DIR``, else ``$XDG_CACHE_HOME/tomoni``, else ``~/.cache/tomoni``."""
    base = os.environ.get("TOMONI_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tomoni"


def file_hash(path: Path) -> str:
    """The first 24 hex digits of a file's SHA-256 (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:24]
