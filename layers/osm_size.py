"""How far an OSM file expands, checked before libosmium reads it (a bomb is an error).

A PBF is a chain of blobs, each a ``BlobHeader`` (its length in 4 bytes, big-endian)
and a ``Blob`` whose ``raw_size`` is the size it decompresses to (libosmium refuses a
blob that decompresses to more).  Summing ``raw_size`` over the headers reads a few
bytes per blob, so a 300 MB extract is checked in milliseconds.  Compressed XML
(``.osm.bz2``, ``.osm.gz``) is decompressed once, counted and discarded, stopping at the
cap.  Real OSM data expand about 2× (PBF) to 15× (XML in bz2); :data:`MAX_OSM_RATIO`
leaves room for both.
"""

from __future__ import annotations

import bz2
import gzip
import struct
from pathlib import Path
from typing import BinaryIO, NoReturn

from layers.errors import LayerError

__all__ = ["MAX_OSM_RATIO", "check_expansion", "unreadable"]

MAX_OSM_RATIO = 50
"""An OSM file that expands to more than this many times its size (and over 64 MiB) is refused."""
_FLOOR = 64 << 20
_MAX_BLOB_HEADER = 64 << 10
_MAX_BLOB = 32 << 20


def check_expansion(path: Path) -> None:
    """Raise :class:`LayerError` when ``path`` would expand beyond :data:`MAX_OSM_RATIO`
    (a PBF by its blobs' sizes, compressed XML by decompressing it); plain XML passes."""
    size = path.stat().st_size
    cap = max(_FLOOR, MAX_OSM_RATIO * size)
    name = path.name.lower()
    if name.endswith(".pbf"):
        raw = _pbf_raw_size(path, cap)
    elif name.endswith((".bz2", ".gz")):
        raw = _stream_size(path, cap)
    else:
        return
    if raw > cap:
        raise LayerError(
            f"OSM のファイルが展開すると大きすぎます（{size / 2**20:,.1f} MB が "
            f"{cap / 2**20:,.0f} MB を超えます）。壊れたファイルか、展開爆弾です。", file=path,
            fix="Geofabrik などの配布元からダウンロードし直してください。")


def _stream_size(path: Path, cap: int) -> int:
    opener = bz2.open if path.name.lower().endswith(".bz2") else gzip.open
    total = 0
    try:
        with opener(path, "rb") as f:
            while total <= cap and (chunk := f.read(1 << 20)):
                total += len(chunk)
    except (OSError, EOFError, ValueError) as exc:
        raise LayerError("圧縮された OSM ファイルを展開できません（途中で切れているか、壊れています）。",
                         file=path, fix="ダウンロードし直してください。") from exc
    return total


def _pbf_raw_size(path: Path, cap: int) -> int:
    """The sum of the blobs' ``raw_size`` (stops past ``cap``)."""
    total = 0
    with open(path, "rb") as f:
        while total <= cap:
            head = f.read(4)
            if not head:
                return total
            if len(head) < 4:
                _truncated(path)
            (length,) = struct.unpack(">I", head)
            if length > _MAX_BLOB_HEADER:
                _truncated(path)
            datasize = _field(f.read(length), 3)
            if datasize is None or datasize > _MAX_BLOB:
                _truncated(path)
            start = f.tell()
            total += _blob_raw_size(f, datasize, path)
            f.seek(start + datasize)
    return total


def _blob_raw_size(f: BinaryIO, datasize: int, path: Path) -> int:
    body = f.read(datasize)
    if len(body) < datasize:
        _truncated(path)
    raw = _field(body, 2)
    if raw is not None:
        return raw
    plain = _length_of(body, 1)  # an uncompressed blob
    return plain if plain is not None else datasize


def unreadable(path: Path) -> LayerError:
    """The error for an OSM file that cannot be read (truncated, or not OSM): one message
    for the size check here and the reader (:mod:`layers.osm_extract`)."""
    return LayerError("OSM のファイルを読み込めません（途中で切れているか、OSM の形式ではありません）。",
                      file=path,
                      fix="ダウンロードし直すか、.osm.pbf / .osm / .osm.bz2 のファイルを指定してください。")


def _truncated(path: Path) -> NoReturn:
    raise unreadable(path)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while i < len(buf):
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            break
    raise ValueError("bad varint")


def _fields(buf: bytes) -> list[tuple[int, int, int]]:
    """(field number, wire type, value or length) of each top-level protobuf field."""
    out: list[tuple[int, int, int]] = []
    i = 0
    try:
        while i < len(buf):
            key, i = _varint(buf, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, i = _varint(buf, i)
            elif wire == 2:
                value, i = _varint(buf, i)
                i += value
            else:
                return out
            out.append((number, wire, value))
    except ValueError:
        return out
    return out


def _field(buf: bytes, number: int) -> int | None:
    return next((v for n, w, v in _fields(buf) if n == number and w == 0), None)


def _length_of(buf: bytes, number: int) -> int | None:
    return next((v for n, w, v in _fields(buf) if n == number and w == 2), None)
