"""Who exported what: one JSON line per export or save, never any content.

``$TOMONI_STATE_DIR/audit.log`` (default ``~/.local/state/tomoni``) records the time,
the logged-in user (``local`` when the app runs without a login), the action
(``download_png``, ``save_region`` …) and the region's name — never a file's
content, a coordinate, a name from the data or a path outside the data folder.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
from pathlib import Path
from typing import Any

import streamlit as st

__all__ = ["audit", "audit_path", "logged"]


def audit_path() -> Path:
    base = os.environ.get("TOMONI_STATE_DIR") or str(
        Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "tomoni")
    return Path(base) / "audit.log"


def audit(action: str, **facts: str) -> None:
    """Append one line: time, user, action and the given facts (names of things, not data)."""
    line = json.dumps({"time": _dt.datetime.now().isoformat(timespec="seconds"),
                       "user": str(st.session_state.get("user", "local")), "action": action,
                       **{k: str(v) for k, v in facts.items()}}, ensure_ascii=False)
    path = audit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(line + "\n")
        fcntl.flock(f, fcntl.LOCK_UN)


def logged(file_name: str) -> dict[str, Any]:
    """Keyword arguments for ``st.download_button`` that audit the download."""
    return {"on_click": audit, "args": ("download",), "kwargs": {"file": str(file_name)}}
