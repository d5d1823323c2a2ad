"""The privacy leak scan: does any artefact contain a 要配慮者 record?

Two rules:

* ``strict`` — for the anonymiser's own outputs: no coordinate of any record at
  any precision from 4 decimals up (as a whole number token, or the exact
  binary double), no name, no address;
* ``pairs`` — for artefacts that legitimately hold thousands of other
  coordinates (maps with roads and shelters): a record leaks when its latitude
  and longitude appear *together* (within 64 bytes, as a coordinate pair is
  written) at the same precision, or as binary doubles, or its name or address
  appears.  A lone 6-decimal number equal to some road node is coincidence, not
  a leak; neither is a corner of the JIS mesh grid that every mesh layer carries.

Text is read from every file (PDF text is extracted, binary files are also read
as raw bytes so PNG metadata and SQLite pages are covered).
"""

from __future__ import annotations

import csv
import io
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

NUMBER = re.compile(rb"-?\d+\.\d+")


@dataclass
class Sensitive:
    """What must never appear: coordinate tokens, their doubles, names, addresses."""

    tokens: set[bytes] = field(default_factory=set)
    doubles: set[bytes] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)
    pairs: list[list[tuple[bytes, bytes]]] = field(default_factory=list)

    def add_pair(self, lat: str, lon: str) -> None:
        self.add_coordinate(lat)
        self.add_coordinate(lon)
        self.pairs.append(list(zip(_variants(lat), _variants(lon), strict=False)))

    def add_coordinate(self, text: str) -> None:
        text = text.strip()
        if "." not in text:
            return
        decimals = len(text.split(".", 1)[1])
        value = float(text)
        self.tokens.add(text.encode())
        for p in range(4, max(decimals, 4) + 1):
            self.tokens.add(f"{value:.{p}f}".encode())
        self.doubles.add(struct.pack("<d", value))
        self.doubles.add(struct.pack(">d", value))

    def add_string(self, text: str) -> None:
        if text and len(text.strip()) >= 4:
            self.strings.add(text.strip())


def _variants(text: str) -> list[bytes]:
    text = text.strip()
    if "." not in text:
        return []
    decimals = len(text.split(".", 1)[1])
    value = float(text)
    return [f"{value:.{p}f}".encode() for p in range(4, max(decimals, 4) + 1)] + [text.encode()]


def sensitive_from_records(path: Path) -> Sensitive:
    """Everything of a register extract CSV that must stay inside the anonymiser."""
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    out = Sensitive()
    for row in csv.DictReader(io.StringIO(text)):
        lat = row.get("緯度") or row.get("lat") or row.get("latitude")
        lon = row.get("経度") or row.get("lon") or row.get("lng") or row.get("longitude")
        if lat and lon:
            out.add_pair(lat, lon)
        for key in ("氏名", "名前", "name", "住所", "address"):
            if row.get(key):
                out.add_string(row[key])
    return out


def _pdf_text(path: Path) -> str:
    try:
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    except Exception:
        return ""


def _parquet_plain(path: Path) -> bytes:
    """A (compressed) Parquet file's values, decoded: every column as text, geometry as WKB."""
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    except Exception:
        return b""
    parts = []
    for name in table.column_names:
        for value in table.column(name).to_pylist():
            parts.append(value if isinstance(value, bytes) else repr(value).encode())
    return b"\n".join(parts)


def _has_double(data: bytes, sensitive: Sensitive) -> bool:
    """Any of the coordinates' 8-byte doubles at any byte offset (vectorised)."""
    import numpy as np

    if len(data) < 8:
        return False
    wanted = np.frombuffer(b"".join(sorted(sensitive.doubles)), dtype="<u8")
    buf = np.frombuffer(data, dtype=np.uint8)
    for offset in range(8):
        n = (len(buf) - offset) // 8
        if n <= 0:
            continue
        words = buf[offset: offset + 8 * n].view("<u8")
        if np.isin(words, wanted).any():
            return True
    return False


def _has_double_pair(data: bytes, sensitive: Sensitive) -> bool:
    """A record's latitude and longitude as doubles within 64 bytes of each other."""
    if not _has_double(data, sensitive):
        return False
    for record in sensitive.pairs:
        if not record:
            continue
        lat, lon = float(record[-1][0]), float(record[-1][1])
        for order in ("<d", ">d"):
            a = [m for m in _find_all(data, struct.pack(order, lat))]
            if not a:
                continue
            b = [m for m in _find_all(data, struct.pack(order, lon))]
            if b and min(abs(x - y) for x in a for y in b) <= 64:
                return True
    return False


def _mesh_corner(lat: bytes, lon: bytes) -> bool:
    """Whether a rounded pair is a corner of the JIS mesh grid (250 m cells and coarser:
    latitude a multiple of 1/480°, longitude of 1/320°).  Every mesh layer carries these
    public grid points; a record that rounds to one (it lies within metres of a corner) is
    coincidence, like a road node that rounds to a record."""
    a, b = float(lat) * 480, float(lon) * 320
    return abs(a - round(a)) < 1e-6 and abs(b - round(b)) < 1e-6


def _find_all(data: bytes, needle: bytes) -> list[int]:
    out, start = [], data.find(needle)
    while start != -1:
        out.append(start)
        start = data.find(needle, start + 1)
    return out


def scan_bytes(data: bytes, sensitive: Sensitive, *, pdf_text: str = "",
               rule: str = "strict") -> list[str]:
    """Findings for one artefact's bytes (``rule`` = ``strict`` or ``pairs``)."""
    found: list[str] = []
    blob = data + (b"\n" + pdf_text.encode() if pdf_text else b"")
    if rule == "strict":
        hit = set(NUMBER.findall(blob)) & sensitive.tokens
        if hit:
            found.append(f"coordinate tokens {sorted(hit)[:3]}")
    else:
        positions: dict[bytes, list[int]] = {}
        for m in NUMBER.finditer(blob):
            if m.group() in sensitive.tokens:
                positions.setdefault(m.group(), []).append(m.start())
        for record in sensitive.pairs:
            for lat, lon in record:
                if _mesh_corner(lat, lon):
                    continue
                a, b = positions.get(lat), positions.get(lon)
                if a and b and min(abs(x - y) for x in a for y in b) <= 64:
                    found.append(f"a coordinate pair {lat!r},{lon!r}")
                    break
            if found:
                break
    if rule == "strict":
        if sensitive.doubles and _has_double(data, sensitive):
            found.append("a coordinate as a binary double")
    elif _has_double_pair(data, sensitive):
        found.append("a coordinate pair as binary doubles")
    texts = [data.decode("utf-8", "ignore"), data.decode("cp932", "ignore"), pdf_text]
    for s in sensitive.strings:
        if any(s in t for t in texts):
            found.append("a name or address")
            break
    return found


def scan_paths(paths: Iterable[Path], sensitive: Sensitive, *, rule: str = "strict",
               ) -> dict[str, list[str]]:
    """Findings per file (only files with findings)."""
    report: dict[str, list[str]] = {}
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix.lower() == ".parquet":
            data += _parquet_plain(path)
        findings = scan_bytes(data, sensitive, rule=rule,
                              pdf_text=_pdf_text(path) if path.suffix.lower() == ".pdf" else "")
        if findings:
            report[str(path)] = findings
    return report
