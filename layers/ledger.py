"""The publication ledger: what was published from which register, and with which
protection.

Every count published from a register passes the cell-key step (:mod:`layers.cellkey`):
the same people always give the same number, and the difference of two releases is the
true change plus the difference of two table changes, so a monthly update (12 people leave,
15 arrive) can be published.  Before a register's density is released,
:func:`record_release` checks it against every earlier release of its scope:

* **one register, one geography**: a register (identified by its *content*, see
  :func:`content_id`) once published on one geography (mesh size or area layer) and k is
  never published on another — two geographies of the same people, overlaid, make slivers
  the perturbation was not drawn for;
* **one secret**: a release protected by a different secret than an earlier one on the same
  geography is refused (two independent changes of the same cells could be averaged);
* a release that differs from an earlier one in **a single unit** is published with a
  warning (the change may be one person, whom people who know the unit could guess).

What the ledger stores (``$TOMONI_STATE_DIR/publications.json``, default
``~/.local/state/tomoni``; JSON): per release, the content id (a SHA-256 prefix
of the register's normalised records — no record, name, address or coordinate),
the geography, k, the published counts per unit id — that is, the release itself, which is
public — a fingerprint of the secret (:func:`layers.cellkey.fingerprint`, from which the
secret cannot be recovered) and the *scope* it was released in.  Writes hold a file
lock, so concurrent sessions of the app and the CLI never lose a release.  The
last :data:`MAX_RELEASES` are kept.  Releases recorded by an older version (other rules)
are not compared.

Scopes: each release is checked against the earlier releases of its own scope.
The command line and a single-user app use the scope ``local``; a shared app
(``tomoni serve --users``) runs each logged-in user's session in that user's scope
(:func:`ledger_scope`, stored as a hash of the user name).  Releases given to the same
people should share a scope: a council that hands every user's outputs to one audience
runs its deployment with ``TOMONI_LEDGER_SCOPE=shared`` (one scope for all).
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from layers.atomic import atomic_write_text
from layers.errors import LayerError, ParameterError

__all__ = ["MAX_RELEASES", "content_id", "ledger_path", "ledger_scope", "record_release", "state_dir"]

MAX_RELEASES = 500
VERSION = 3
_SCOPE: contextvars.ContextVar[str] = contextvars.ContextVar("tomoni_ledger_scope", default="local")


def ledger_scope(user: str | None) -> None:
    """Put the current thread's releases (an app session's) in ``user``'s scope
    (``None``: ``local``); ``TOMONI_LEDGER_SCOPE=shared`` puts every user in one scope."""
    if user is None or os.environ.get("TOMONI_LEDGER_SCOPE") == "shared":
        _SCOPE.set("local")
    else:
        _SCOPE.set("user:" + hashlib.sha256(user.encode("utf-8")).hexdigest()[:16])


def state_dir() -> Path:
    """Where publication state lives: ``$TOMONI_STATE_DIR`` (``$XDG_STATE_HOME/tomoni`` by
    default) — the ledger and the cell-key secret."""
    base = os.environ.get("TOMONI_STATE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "tomoni"


def ledger_path() -> Path:
    """``$TOMONI_STATE_DIR/publications.json`` (:func:`state_dir`)."""
    return state_dir() / "publications.json"


HASH_SLICE = 1 << 20
"""Records hashed at a time (a 10M-row register never builds one 10M-item string)."""


def content_id(lat: np.ndarray, lon: np.ndarray, category: np.ndarray | None) -> str:
    """The register's identity by content: its located records as (lat, lon, category)
    rounded to 6 decimals and sorted — the same whatever the encoding, line endings,
    trailing blank lines, row order or extra columns of the file."""
    lat6 = np.round(np.asarray(lat, float), 6)
    lon6 = np.round(np.asarray(lon, float), 6)
    cats = np.asarray(category, dtype=object) if category is not None else np.full(len(lat6), "", object)
    codes, uniques = pd.factorize(cats.astype(str) if cats.dtype != object else cats)
    rank = np.argsort(np.argsort(np.asarray(uniques, dtype=str), kind="stable"), kind="stable")
    text_rank = (rank[codes] if len(uniques) else codes).astype(np.int64)
    del codes
    h = hashlib.sha256()  # in slices: the same bytes as hashing each whole column at once
    if len(lat6) and lat6.min() >= 0 and lat6.max() < 90 and lon6.min() >= 0 and lon6.max() < 180 \
            and len(uniques) < 256:  # one integer key: the same order as sorting (lat, lon, text)
        key = np.round(lat6 * 1e6).astype(np.int64)
        key <<= 28
        key |= np.round(lon6 * 1e6).astype(np.int64)
        key <<= 8
        key |= text_rank
        del text_rank, lat6, lon6
        key.sort()  # equal keys are equal records: no index sort needed, the key holds them
        by_rank = np.asarray(uniques, dtype=object)[np.argsort(rank)] if len(uniques) else cats[:0]
        for shift, mask in ((36, (1 << 27) - 1), (8, (1 << 28) - 1)):  # lat6, then lon6
            for i in range(0, len(key), HASH_SLICE):  # m / 1e6 is exactly np.round(v, 6)
                part = (key[i:i + HASH_SLICE] >> shift) & mask
                h.update((part.astype(np.float64) / 1e6).tobytes())
        for i in range(0, len(key), HASH_SLICE):
            text = "\x1f".join(by_rank[key[i:i + HASH_SLICE] & 255].tolist())
            h.update((("\x1f" if i else "") + text).encode("utf-8"))
        return h.hexdigest()[:32]
    order = np.lexsort((text_rank, lon6, lat6))
    for column in (lat6, lon6):
        for i in range(0, len(order), HASH_SLICE):
            h.update(np.ascontiguousarray(column[order[i:i + HASH_SLICE]]).tobytes())
    for i in range(0, len(order), HASH_SLICE):
        text = "\x1f".join(cats[order[i:i + HASH_SLICE]].tolist())
        h.update((("\x1f" if i else "") + text).encode("utf-8"))
    return h.hexdigest()[:32]


def _read_releases(path: Path) -> list[dict[str, Any]]:
    """The ledger's releases; a damaged ledger stops publication (it is never reset: a reset
    would let a release refused a moment earlier through)."""
    if not path.exists():
        return []
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        doc = None
    releases = doc.get("releases") if isinstance(doc, dict) else None
    if not isinstance(releases, list) or not all(isinstance(r, dict) for r in releases):
        raise LayerError("公開の記録（台帳）が壊れています。公開を止めました。", file=path,
                         fix="バックアップから戻してください。消すと、以前の公開との差から人数が分かる"
                         "公開を止められなくなります（docs/privacy.md）。")
    if doc.get("version") != VERSION:  # type: ignore[union-attr]
        return []  # an older format: its releases were checked by rules that no longer apply
    return releases


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[list[dict[str, Any]]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            releases = _read_releases(path)
            yield releases
            atomic_write_text(path, json.dumps({"version": VERSION, "releases": releases[-MAX_RELEASES:]},
                                               ensure_ascii=False))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def record_release(content: str, geography: str, k: int, counts: Mapping[str, int], *,
                   layer: str = "vulnerable", protection: str = "") -> list[str]:
    """Check a release against the ledger (see the module doc) and record it, or refuse;
    returns the warnings to show with it."""
    new = {str(u): int(c) for u, c in counts.items()}
    scope = _SCOPE.get()
    warnings: list[str] = []
    with _locked(ledger_path()) as releases:
        for old in releases:
            if old.get("scope", "local") != scope:
                continue
            if old.get("content") == content and (old.get("geography"), old.get("k")) != (geography, k):
                raise ParameterError(
                    f"この名簿は既に別の単位（{old.get('geography')}、k={old.get('k')}）で公開されています。"
                    "別の単位でも公開すると、重ね合わせて少人数の集団を特定できるおそれがあるため公開できません。",
                    parameter="mesh / by", layer=layer,
                    fix="前回と同じ単位・同じ k を使ってください（1つの名簿は1つの単位で公開します）。")
            if (old.get("geography"), old.get("k")) != (geography, k):
                continue
            if old.get("protection", "") != protection:
                raise ParameterError(
                    "以前の公開と違う秘密鍵で保護された公開です。鍵が変わると、2つの公開を平均して"
                    "保護のゆらぎを打ち消せるため公開できません。",
                    parameter="cellkey.secret", layer=layer,
                    fix="以前と同じ秘密鍵（状態フォルダの cellkey.secret）を戻してください"
                    "（docs/privacy.md）。")
            before = {str(u): int(c) for u, c in old.get("counts", {}).items()}
            changed = [u for u in set(before) | set(new) if new.get(u, 0) != before.get(u, 0)]
            if len(changed) == 1 and not warnings:
                warnings.append("前回の公開と違う単位が1つだけです。変化が1人のことがあり、"
                                "その単位を知る人には誰の変化か推測されるおそれがあります。"
                                "数か月分の更新をまとめて公開することも検討してください。")
        if not any(r.get("content") == content and r.get("geography") == geography and r.get("k") == k
                   and r.get("counts") == new and r.get("scope", "local") == scope for r in releases):
            releases.append({"content": content, "geography": geography, "k": int(k), "counts": new,
                             "protection": protection}
                            | ({"scope": scope} if scope != "local" else {}))
    return warnings
