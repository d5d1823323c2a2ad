"""The plain way to place addresses, as a reference: never imports the geocoder under test.

A prefix match of the address (prefecture removed) against ``市町村 + 大字 + 小字`` and
``市町村 + 大字`` of the 町字 reference files, longest first, with 大字/字 dropped on both
sides — what a first version does.  Used by the accuracy test and ``benchmarks/bench_geocode.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


def prefix_match(addresses: Sequence[str], reference: Sequence[Path]) -> pd.DataFrame:
    """(lat, lon, level) of each address by the longest reference name it starts with."""
    names: dict[str, tuple[float, float, str]] = {}
    for path in reference:
        muni = path.stem
        short = muni.split("郡", 1)[-1]
        for r in json.loads(path.read_text("utf-8")):
            try:
                lat, lon = float(r["lat"]), float(r["lng"])
            except (TypeError, ValueError):
                continue
            level = "小字" if r.get("koaza") else "町字"
            for m in {muni, short}:
                key = (m + r["town"] + (r.get("koaza") or "")).replace("大字", "").replace("字", "")
                names.setdefault(key, (lat, lon, level))
    longest = max(len(k) for k in names)
    out = []
    for a in addresses:
        s = a.removeprefix("秋田県").replace("大字", "").replace("字", "")
        hit = next((names[s[:n]] for n in range(min(longest, len(s)), 0, -1) if s[:n] in names),
                   (np.nan, np.nan, ""))
        out.append(hit)
    return pd.DataFrame(out, columns=["lat", "lon", "match_level"])
