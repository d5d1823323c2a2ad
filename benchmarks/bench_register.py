"""A register at file speed: ``tomoni anonymize`` on a register extract shaped like real ones.

Generates a 避難行動要支援者名簿 extract as councils export it — 整理番号, 氏名, 住所, 区分,
避難支援, 緯度, 経度; Japanese text in every row; UTF-8 with BOM (or cp932) — and runs the
command a user runs on it, in a child process, timing the wall clock and reading the
child's peak memory (``ru_maxrss``).  Beside it, in the same run, the plain way of only
*reading* the same file: ``pandas.read_csv`` (every column, as text).

    .venv/bin/python benchmarks/bench_register.py [--rows 1000000] [--encoding cp932]

Floors (speed issue): 1M rows ≤ 3 s and ≤ 400 MB; 10M rows ≤ 30 s and ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "斎藤",
          "佐々木", "工藤", "菅原", "三浦", "阿部")
GIVEN = ("花子", "太郎", "ハル", "キヨ", "トシ", "正一", "和子", "幸子", "茂", "勇", "ミツ", "清")
TOWNS = ("秋田市旭南", "秋田市土崎港中央", "横手市大雄", "大館市比内町扇田", "男鹿市船川港", "湯沢市横堀")
CATS = ("高齢独居", "要介護", "障害", "乳幼児", "外国人", "高齢世帯")


def write_register(path: Path, rows: int, *, encoding: str, seed: int = 3) -> None:
    """The register, written in blocks (a 10M-row file never sits in memory whole)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8-sig" if encoding == "utf-8" else encoding,
              newline="") as f:
        f.write("整理番号,氏名,住所,区分,避難支援,緯度,経度\r\n")
        block = 200_000
        for start in range(0, rows, block):
            n = min(block, rows - start)
            fam = rng.integers(0, len(FAMILY), n)
            giv = rng.integers(0, len(GIVEN), n)
            town = rng.integers(0, len(TOWNS), n)
            cat = rng.integers(0, len(CATS), n)
            lat = rng.uniform(38.9, 40.4, n).round(6)
            lon = rng.uniform(139.8, 140.9, n).round(6)
            a, b = rng.integers(1, 40, n), rng.integers(1, 30, n)
            mob = rng.random(n) < 0.35
            f.write("".join(
                f"R{start + i + 1:08d},{FAMILY[fam[i]]} {GIVEN[giv[i]]},{TOWNS[town[i]]}{a[i]}番{b[i]}号,"
                f"{CATS[cat[i]]},{'要' if mob[i] else ''},{lat[i]:.6f},{lon[i]:.6f}\r\n"
                for i in range(n)))


def run(cmd: list[str], state: Path) -> tuple[float, float]:
    """(seconds, peak MB) of a child process (its own publication ledger in ``state``)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                            env={**os.environ, "TOMONI_STATE_DIR": str(state)})
    _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not the largest so far
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd[:4]} failed with exit code {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--encoding", default="utf-8", choices=["utf-8", "cp932"])
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the command (median time, max peak)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-register-") as tmp_s:
        tmp = Path(tmp_s)
        src = tmp / "meibo.csv"
        write_register(src, args.rows, encoding=args.encoding)
        size = src.stat().st_size / 2**20
        naive = None
        if not args.skip_naive:
            enc = "utf-8-sig" if args.encoding == "utf-8" else "cp932"
            naive = run([sys.executable, "-c",
                         f"import pandas; pandas.read_csv({str(src)!r}, dtype=str, encoding={enc!r})"],
                        tmp)
        runs = []
        for i in range(args.repeat):  # this machine's speed drifts: the median of several runs
            runs.append(run([sys.executable, "-m", "geo", "anonymize", str(src),
                             "--out", str(tmp / f"d{i}.gpkg")], tmp))
        ours = (float(np.median([r[0] for r in runs])), max(r[1] for r in runs))
    print(f"register: {args.rows:,} rows, {size:.0f} MB, {args.encoding}")
    print(f"  tomoni anonymize (read + anonymise + write, process start included): "
          f"{ours[0]:.2f} s (median of {len(runs)}: {', '.join(f'{r[0]:.2f}' for r in runs)}), "
          f"peak {ours[1]:.0f} MB")
    if naive:
        print(f"  pandas.read_csv of the same file (reading only): {naive[0]:.2f} s, "
              f"peak {naive[1]:.0f} MB   ratio {naive[0] / ours[0]:.2f}×")


if __name__ == "__main__":
    main()
