"""Cell-key perturbation: the protection step a published count of people passes.

The method of the Australian Bureau of Statistics' TableBuilder and of the 2021 census
of England and Wales (ONS), for counts of 要配慮者:

1. every record gets a fixed random **record key** in ``[0, KEY_RANGE)``: a keyed hash
   (HMAC-SHA-256) of its register id and the council's **secret** (created on first use,
   kept in the state folder beside the ledger, never written to an output);
2. a cell's **cell key** is the sum of its records' keys modulo ``KEY_RANGE``;
3. a fixed, published **perturbation table** maps (count, cell key) to a small change
   (−2 … +2; zero mean; see :func:`ptable`), and counts below *k* are shown as 「k未満」.

The same set of people always gets the same change, in every table and every release:
tables agree with each other, repeating a query does not average the noise away, and
the difference of two releases does not show the size of a change (one person leaving
moves the cell key anywhere, so the published difference is −1 plus the difference of two
independent changes).  What it does not do: hide *that* a cell changed, or protect a
count whose records an attacker already knows but one; it is not differential privacy
(docs/privacy.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from layers.errors import LayerError

__all__ = ["KEY_RANGE", "MAX_CHANGE", "SUPPRESSED", "cell_keys", "council_secret", "fingerprint",
           "perturb", "protect", "protected_total", "ptable", "record_keys", "secret_path", "shown"]

KEY_RANGE = 256
"""Record and cell keys lie in ``[0, KEY_RANGE)``."""
MAX_CHANGE = 2
"""No published count differs from the true one by more than this."""
SUPPRESSED = "k未満"
"""What a count below k is published as."""
PTABLE_ROWS = 32
"""Counts from this on use the table's last row (the change no longer depends on the size)."""
PTABLE_SEED = 20261206
"""The seed the published table is drawn with (:func:`ptable`)."""
CHANGES = np.arange(-MAX_CHANGE, MAX_CHANGE + 1)
WEIGHTS = np.array([0.05, 0.20, 0.50, 0.20, 0.05])
"""How often each change (−2 … +2) occurs over the keys of one count: symmetric, zero mean."""
SECRET_BYTES = 32


@lru_cache(maxsize=1)
def ptable() -> np.ndarray:
    """The perturbation table, ``(PTABLE_ROWS, KEY_RANGE)`` int8: row = count, column = cell
    key.  Each row holds every change in :data:`WEIGHTS` proportion, shuffled by a fixed seed,
    so the table is the same everywhere and can be published; a row never takes a count
    below 1 (0 stays 0)."""
    rng = np.random.default_rng(PTABLE_SEED)
    per_row = np.repeat(CHANGES, np.round(WEIGHTS * KEY_RANGE).astype(int))
    table = np.zeros((PTABLE_ROWS, KEY_RANGE), np.int8)
    for count in range(1, PTABLE_ROWS):
        row = rng.permutation(per_row)
        table[count] = np.maximum(row, 1 - count)  # never below one person
    return table


def record_keys(ids: Iterable[object], secret: bytes) -> np.ndarray:
    """Each register id's record key: HMAC-SHA-256(secret, id) reduced to ``[0, KEY_RANGE)``.
    The same id and secret always give the same key; without the secret no key can be
    recomputed from an id."""
    out = [int.from_bytes(hmac.new(secret, str(i).encode("utf-8"), hashlib.sha256).digest()[:4], "big")
           % KEY_RANGE for i in ids]
    return np.asarray(out, np.int64)


def cell_keys(keys: np.ndarray, cells: np.ndarray, n_cells: int) -> np.ndarray:
    """The cell key of each of ``n_cells`` cells: the sum of its records' keys (``cells`` is
    each record's cell index, −1 for none) modulo ``KEY_RANGE``."""
    inside = cells >= 0
    sums = np.bincount(cells[inside], weights=keys[inside], minlength=n_cells)
    return (sums.astype(np.int64) % KEY_RANGE).astype(np.int64)


def perturb(counts: np.ndarray, keys: np.ndarray, *, k: int) -> np.ndarray:
    """The published values of true ``counts`` with their cell ``keys``: the count plus the
    table's change, or :data:`SUPPRESSED` where the true count is below ``k`` (an object
    array).  A count of at least ``k`` is never published below ``k`` (the change is cut
    there), so a unit the k-rule lets through is never hidden by its noise."""
    values = protect(counts, keys, k=k)
    out = values.to_numpy(object)
    out[np.asarray(values.isna())] = SUPPRESSED
    return out


def protect(counts: np.ndarray, keys: np.ndarray, *, k: int) -> pd.arrays.IntegerArray:
    """**The protection step** every published count of people passes: true ``counts`` and
    their cell ``keys`` (:func:`cell_keys`) → the published values as a nullable integer array
    (``Int64``), ``<NA>`` where the true count is below ``k`` (written and shown as
    「k未満」, :func:`shown`).  Never below ``k`` where the true count is ``k`` or more."""
    counts = np.asarray(counts, np.int64)
    rows = np.minimum(counts, PTABLE_ROWS - 1)
    changed = counts + ptable()[rows, np.asarray(keys, np.int64) % KEY_RANGE]
    changed = np.where(counts >= k, np.maximum(changed, k), changed).astype(np.int64)
    out = pd.array(np.where(counts == 0, 0, changed), dtype="Int64")
    out[(counts > 0) & (counts < k)] = pd.NA
    return out


def protected_total(count: int, key_sum: int, *, k: int) -> int | str:
    """One protected count (its records' keys summed) for a summary: an integer, or 「k未満」
    with the register's k."""
    value = protect(np.array([int(count)]), np.array([int(key_sum)]), k=k)[0]
    return f"{k}未満" if value is pd.NA else int(value)


def shown(value: object, k: int) -> object:
    """A protected count as a person reads it: 「k未満」 (with the region's k) for ``<NA>``."""
    return f"{k}未満" if value is None or value is pd.NA or (isinstance(value, float) and value != value) \
        else value


def fingerprint(secret: bytes) -> str:
    """A short public tag of the secret (HMAC of a fixed text): tells two secrets apart in
    the ledger; the secret cannot be recovered from it."""
    return hmac.new(secret, b"tomoni-cellkey-fingerprint", hashlib.sha256).hexdigest()[:16]


def _create_secret(path: Path) -> None:
    """Write a new secret whole, then link it into place: a process reading at the same time
    sees no file or the whole secret, never a half-written one; the first of two wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(SECRET_BYTES) + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another made it first: that one is the secret
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def secret_path() -> Path:
    """``cellkey.secret`` in the state folder, beside the ledger (:func:`layers.ledger.state_dir`)."""
    from layers.ledger import state_dir

    return state_dir() / "cellkey.secret"


def council_secret(path: Path | None = None) -> bytes:
    """The council's secret: created on first use (owner-only file), read afterwards.  A
    damaged secret stops publication with a clear error; it is never replaced silently (a
    new secret would give every cell new changes, and two releases could then be averaged)."""
    path = path or secret_path()
    if not path.exists():
        _create_secret(path)
    text = path.read_text("ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) != SECRET_BYTES:
        raise LayerError("公開用の秘密鍵ファイルが壊れています。公開を止めました。", file=path,
                         fix="バックアップから戻してください。新しく作ると、以前の公開と組み合わせて"
                         "人数が推定されるおそれがあります（docs/privacy.md）。")
    return secret
