"""Offline address geocoding on the user's path: accuracy on real addresses, and speed.

Accuracy: the 3,347 real GSI shelter addresses of Akita (``../shared/data``) are placed
with ``tomoni geocode`` — the command a council runs on its list — and compared with the
shelters' own 緯度/経度 (the GSI files are the test set, never a reference).  Beside it,
in the same run, a plain prefix match of the same addresses on the same 町字 files.

Speed: a generated list of 100,000 distinct addresses shaped like real ones (cp932 CSV,
名称/住所/電話 columns, addresses written as people write them: full-width digits,
漢数字 丁目, 字 and 郡 present or not, building names) through the same command, beside
the same plain prefix match.

    .venv/bin/python benchmarks/bench_geocode.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("TOMONI_SHARED_DATA", ROOT.parent / "shared" / "data")) / "akita"

from tests.reference_geocode import prefix_match


def gsi_addresses() -> pd.DataFrame:
    rows: list[dict[str, str]] = []
    for name in ("gsi_emergency_sites_akita.csv", "gsi_evacuation_shelters_akita.csv"):
        with open(SHARED / "shelters" / name, encoding="utf-8-sig") as f:
            rows += list(csv.DictReader(f))
    return pd.DataFrame({"名称": [r["施設・場所名"] for r in rows], "住所": [r["住所"] for r in rows],
                         "lat": [float(r["緯度"]) for r in rows], "lon": [float(r["経度"]) for r in rows]})


def tomoni_geocode(src: Path, out: Path) -> float:
    """Run the command a user runs; seconds (process start included)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "geo", "geocode", str(src), "--out", str(out), "--force",
                    "--reference", str(SHARED / "machiaza" / "*.json")], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def figures(lat: np.ndarray, lon: np.ndarray, placed: pd.DataFrame, warned: np.ndarray) -> dict[str, float]:
    k = np.cos(np.radians(lat))
    err = np.hypot((placed["lat"].to_numpy(float) - lat) * 111_320,
                   (placed["lon"].to_numpy(float) - lon) * 111_320 * k)
    fine = placed["match_level"].isin(["街区", "小字", "町字"]).to_numpy()
    return {"fine_pct": 100 * fine.mean(), "within_1km_pct": 100 * np.mean(err < 1000),
            "median_m": float(np.nanmedian(err)), "p90_m": float(np.nanpercentile(err, 90)),
            "over_5km_silent": int(np.sum((err > 5000) & ~warned)),
            "over_5km": int(np.sum(err > 5000))}


def synthetic_list(n: int, seed: int = 7) -> pd.DataFrame:
    """Distinct addresses written the ways people write them."""
    rng = random.Random(seed)
    ref = []
    for path in sorted((SHARED / "machiaza").glob("*.json")):
        for r in json.loads(path.read_text("utf-8")):
            ref.append((path.stem, r["town"], r.get("koaza") or ""))
    digits = str.maketrans("0123456789-", "０１２３４５６７８９－")
    out = []
    for i in range(n):
        muni, town, koaza = rng.choice(ref)
        m = muni if rng.random() < 0.3 else muni.split("郡", 1)[-1]
        t = town if rng.random() < 0.7 or not town.startswith("字") else town[1:]
        aza = f"{'字' if rng.random() < 0.7 else ''}{koaza}" if koaza else ""
        num = f"{rng.randint(1, 999)}-{i % 97 + 1}"
        addr = f"{'秋田県' if rng.random() < 0.6 else ''}{m}{t}{aza}{num}"
        if rng.random() < 0.2:
            addr = addr.translate(digits)
        if rng.random() < 0.1:
            addr += f" ハイツ{rng.randint(1, 9)}{rng.choice('AB')}号室"
        out.append({"名称": f"サロン{i}", "住所": addr, "電話": f"018-{i % 900 + 100}-{i % 9000 + 1000}"})
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    ref = sorted((SHARED / "machiaza").glob("*.json"))
    with tempfile.TemporaryDirectory(prefix="bench-geocode-") as tmp_s:
        tmp = Path(tmp_s)
        gsi = gsi_addresses()
        src = tmp / "shelter_addresses.csv"
        gsi[["名称", "住所"]].to_csv(src, index=False, encoding="cp932")
        seconds = tomoni_geocode(src, tmp / "placed.csv")
        placed = pd.read_csv(tmp / "placed.csv", encoding="utf-8-sig", keep_default_na=False)
        placed = placed.rename(columns={"緯度": "lat", "経度": "lon"})
        placed[["lat", "lon"]] = placed[["lat", "lon"]].apply(pd.to_numeric, errors="coerce")
        ours = figures(gsi["lat"].to_numpy(), gsi["lon"].to_numpy(), placed,
                       (placed["注意"] != "").to_numpy())
        t0 = time.perf_counter()
        base = prefix_match(gsi["住所"].tolist(), ref)
        base_s = time.perf_counter() - t0
        plain = figures(gsi["lat"].to_numpy(), gsi["lon"].to_numpy(), base,
                        np.zeros(len(gsi), bool))
        print(f"accuracy: {len(gsi):,} real GSI addresses of Akita vs their own coordinates")
        print(f"  {'':28s} {'tomoni geocode':>16s} {'plain prefix match':>20s}")
        for key, label in [("fine_pct", "placed at 町字 or finer %"), ("within_1km_pct", "within 1 km %"),
                           ("median_m", "median error m"), ("p90_m", "90th percentile m"),
                           ("over_5km", "more than 5 km off"),
                           ("over_5km_silent", "  of which without a warning")]:
            print(f"  {label:28s} {ours[key]:16.1f} {plain[key]:20.1f}")
        print(f"  command time (process start included): {seconds:.2f} s; plain match {base_s:.2f} s")

        big = synthetic_list(args.rows)
        src = tmp / "list.csv"
        big.to_csv(src, index=False, encoding="cp932")
        seconds = tomoni_geocode(src, tmp / "list_placed.csv")
        t0 = time.perf_counter()
        prefix_match(big["住所"].tolist(), ref)
        base_s = time.perf_counter() - t0
        levels = pd.read_csv(tmp / "list_placed.csv", encoding="utf-8-sig",
                             keep_default_na=False)["match_level"].value_counts().to_dict()
        print(f"speed: tomoni geocode of {args.rows:,} distinct addresses (cp932 CSV, read + place + "
              f"write): {seconds:.2f} s; plain prefix match (placing only) {base_s:.2f} s; "
              f"levels {levels}")


if __name__ == "__main__":
    main()
