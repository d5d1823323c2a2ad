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
import tomllib
from pathlib import Path

from layers.atomic import atomic_write_text
from layers.errors import LayerError
from layers.readers import require_file

__all__ = ["add_user", "hash_password", "read_users", "verify"]

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
