"""The build cache (layers.cache): kept under its limit, oldest first; entries of one file
forgotten on demand; a big file's digest remembered, and renewed when the file changes."""

from __future__ import annotations

import hashlib
import os

import pytest

import layers.cache
from layers.cache import file_hash, forget, keep_within_limit


@pytest.fixture
def cache(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TOMONI_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "cache"
    folder.mkdir()
    return folder


def _entry(folder, name: str, size: int, age: int):  # type: ignore[no-untyped-def]
    path = folder / name
    path.write_bytes(b"x" * size)
    os.utime(path, ns=(1_000_000_000 * (2_000_000_000 - age),) * 2)
    return path


def test_the_oldest_entries_go_first_until_the_folder_fits(cache):
    old = _entry(cache, "network-aaa-walk.npz", 600, age=300)
    mid = _entry(cache, "ways-bbb-walk.npz", 600, age=200)
    new = _entry(cache, "network-ccc-walk.npz", 600, age=100)
    assert keep_within_limit(1300) == 1
    assert not old.exists() and mid.exists() and new.exists()
    assert keep_within_limit(10) == 1 and new.exists()  # the newest always stays


def test_the_limit_comes_from_the_environment(cache, monkeypatch):
    monkeypatch.setenv("TOMONI_CACHE_MB", "1")
    _entry(cache, "a.npz", 700_000, age=2)
    _entry(cache, "b.npz", 700_000, age=1)
    assert keep_within_limit() == 1


def test_forget_removes_one_files_entries_only(cache):
    _entry(cache, "ways-0123abcd-walk-all-v2.npz", 10, age=1)
    _entry(cache, "network-0123abcd-walk-EPSG6678-all-v10.npz", 10, age=1)
    other = _entry(cache, "network-ffff0000-walk-EPSG6678-all-v10.npz", 10, age=1)
    assert forget("0123abcd") == 2 and other.exists()


def test_a_big_files_digest_is_remembered_and_renewed_when_it_changes(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(layers.cache, "HASH_MEMO_BYTES", 100)
    monkeypatch.setattr(layers.cache, "_HASHES", {})
    big = tmp_path / "tohoku-latest.osm.pbf"
    big.write_bytes(b"a" * 1000)
    assert file_hash(big) == hashlib.sha256(b"a" * 1000).hexdigest()[:24]
    assert len(list((cache / "hashes").iterdir())) == 1
    monkeypatch.setattr(layers.cache, "_HASHES", {})  # a later command: read from the memo
    assert file_hash(big) == hashlib.sha256(b"a" * 1000).hexdigest()[:24]
    big.write_bytes(b"b" * 1000)  # changed in place (new modification time): hashed again
    os.utime(big, ns=(big.stat().st_mtime_ns + 10_000_000,) * 2)
    assert file_hash(big) == hashlib.sha256(b"b" * 1000).hexdigest()[:24]
