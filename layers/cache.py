"""Where tomoni keeps what it builds once (road networks, extracts' ways, projections):
one folder, keyed by content, kept under a size limit (the oldest entries go first) and
cleared on demand (``tomoni roads --rebuild``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

__all__ = ["cache_folder", "cache_limit_bytes", "file_hash", "forget", "keep_within_limit"]

log = logging.getLogger(__name__)

HASH_MEMO_BYTES = 64 << 20
"""Files at least this big have their digest remembered (by path, size, modification
time and inode) so a later command does not read a regional extract again to key it."""
_HASHES: dict[tuple[str, int, int, int], str] = {}


def cache_folder() -> Path:
    """``TOMONI_CACHE_DIR``, else ``$XDG_CACHE_HOME/tomoni``, else ``~/.cache/tomoni``."""
    base = os.environ.get("TOMONI_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tomoni"


def cache_limit_bytes() -> int:
    """The cache folder's size limit (8 GiB by default, ``TOMONI_CACHE_MB``)."""
    try:
        return max(int(os.environ.get("TOMONI_CACHE_MB", "8192")), 1) << 20
    except ValueError:
        return 8192 << 20


def file_hash(path: Path) -> str:
    """The first 24 hex digits of a file's SHA-256 (read in 1 MiB blocks; remembered for
    big files, see :data:`HASH_MEMO_BYTES`)."""
    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key in _HASHES:
        return _HASHES[key]
    memo = None
    if st.st_size >= HASH_MEMO_BYTES:
        memo = cache_folder() / "hashes" / f"{hashlib.sha256(repr(key).encode()).hexdigest()[:24]}.txt"
        try:
            known = memo.read_text(encoding="ascii").strip()
            if len(known) == 24 and all(c in "0123456789abcdef" for c in known):
                _HASHES[key] = known
                return known
        except (OSError, UnicodeDecodeError):
            pass
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = _HASHES[key] = h.hexdigest()[:24]
    if memo is not None:
        from layers.atomic import atomic_path

        memo.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(memo) as tmp:
            tmp.write_text(digest, encoding="ascii")
    return digest


def _entries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]


def keep_within_limit(limit: int | None = None) -> int:
    """Remove the least recently written entries until the cache folder holds at most
    ``limit`` bytes (:func:`cache_limit_bytes`); the newest entry always stays.  Returns
    how many were removed."""
    folder = cache_folder()
    if not folder.is_dir():
        return 0
    files = sorted(_entries(folder), key=lambda p: p.stat().st_mtime_ns)
    total = sum(p.stat().st_size for p in files)
    cap = cache_limit_bytes() if limit is None else limit
    removed = 0
    for p in files[:-1]:
        if total <= cap:
            break
        total -= p.stat().st_size
        p.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.info("cache over its limit: %d old entries removed", removed)
    return removed


def forget(key: str) -> int:
    """Remove the cache entries whose name holds ``key`` (a file's digest); returns how many."""
    folder = cache_folder()
    gone = [p for p in _entries(folder) if key in p.name] if folder.is_dir() else []
    for p in gone:
        p.unlink(missing_ok=True)
    return len(gone)
