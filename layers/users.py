"""The users of a shared deployment: names and scrypt password hashes in a TOML file.

``users.toml``::

    [users]
    tanaka = "scrypt$16384$8$1$<salt hex>$<hash hex>"

Written by ``tomoni user-add users.toml NAME`` (the password is read without
echo); never holds a password in clear.  The app asks for a name and password
when ``TOMONI_USERS_FILE`` names such a file (``tomoni serve --users``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
import tomllib
from collections import deque
from pathlib import Path

from layers.atomic import atomic_write_text
from layers.errors import LayerError
from layers.readers import require_file

__all__ = ["LOCK_S", "MAX_FAILURES", "Throttle", "add_user", "audit_name", "hash_password", "read_users",
           "throttle", "verify"]

_N, _R, _P = 16384, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` for ``password``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def read_users(path: str | Path) -> dict[str, str]:
    """The ``[users]`` table of a users file (name → hash), or a clear error."""
    path = Path(path)
    require_file(path)
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        raise LayerError("利用者ファイルを TOML として読めません。", file=path,
                         fix="tomoni user-add で作り直してください。") from None
    users = doc.get("users", {})
    if not isinstance(users, dict) or not all(isinstance(v, str) and v.startswith("scrypt$")
                                               for v in users.values()):
        raise LayerError("利用者ファイルの [users] の書き方が違います。", file=path, column="users",
                         fix="tomoni user-add で作り直してください。")
    return {str(k): str(v) for k, v in users.items()}


def verify(users: dict[str, str], name: str, password: str) -> bool:
    """Whether ``password`` is ``name``'s (constant time; an unknown name costs the same)."""
    stored = users.get(name, hash_password("", salt=b"\0" * 16))
    try:
        _tag, n, r, p, salt, digest = stored.split("$")
        mine = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                              p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(mine.hex(), digest) and name in users


def add_user(path: str | Path, name: str, password: str) -> None:
    """Add or replace a user in a users file (created when missing, written atomically)."""
    if not name.strip() or any(c in name for c in "\"\\\n="):
        raise LayerError("利用者名に使えない文字があります。", column="name",
                         fix="英数字の名前にしてください。")
    if len(password) < 8:
        raise LayerError("パスワードは 8 文字以上にしてください。", column="password",
                         fix="長いパスワードを使ってください。")
    path = Path(path)
    users = read_users(path) if path.exists() else {}
    users[name.strip()] = hash_password(password)
    lines = ["# ともにマップの利用者（パスワードはハッシュのみ）", "[users]"]
    lines += [f'"{k}" = "{v}"' for k, v in sorted(users.items())]
    atomic_write_text(path, "\n".join(lines) + "\n")
    os.chmod(path, 0o600)


MAX_FAILURES = 5
"""Failed logins for one name within :data:`WINDOW_S` before the name is locked."""
WINDOW_S = 900.0
LOCK_S = 300.0
"""How long a name stays locked after :data:`MAX_FAILURES` failures (seconds)."""
FAIL_DELAY_S = 1.0
"""Every failed login waits this long before it is answered (a guesser's pace)."""


class Throttle:
    """Failed logins per name, process-wide (every session of the server): after
    :data:`MAX_FAILURES` within :data:`WINDOW_S` the name is locked for :data:`LOCK_S` —
    even the right password is refused until then."""

    def __init__(self, *, clock: object = time.monotonic) -> None:
        self._clock = clock
        self._fails: dict[str, deque[float]] = {}
        self._locked: dict[str, float] = {}
        self._lock = threading.Lock()

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    def wait(self, name: str) -> float:
        """Seconds before ``name`` may try again (0: now)."""
        with self._lock:
            until = self._locked.get(name, 0.0)
            return max(0.0, until - self._now())

    def failed(self, name: str) -> bool:
        """Record a failure; True when it locks the name."""
        now = self._now()
        with self._lock:
            fails = self._fails.setdefault(name, deque())
            fails.append(now)
            while fails and fails[0] < now - WINDOW_S:
                fails.popleft()
            if len(fails) >= MAX_FAILURES:
                self._locked[name] = now + LOCK_S
                fails.clear()
                return True
        return False

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._fails.pop(name, None)


throttle = Throttle()
"""The server's throttle (one per process, shared by every session)."""


def audit_name(users: dict[str, str], name: str) -> str:
    """The name to write in the audit log for a login attempt: a known user's name, else a
    short hash (a password typed into the name box never reaches the log)."""
    if name in users:
        return name
    return "unknown-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
