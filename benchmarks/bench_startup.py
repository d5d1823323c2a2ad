"""Start-up: what a user waits for before a command does anything.

Runs, each in a fresh child process as a user would, ``tomoni --help`` and ``tomoni
anonymize`` on a 100-row register extract shaped like a real one (整理番号, 氏名, 住所, 区分,
避難支援, 緯度, 経度; cp932), timing the wall clock and reading the child's peak memory.
Beside them, in the same run, the naive start — a CLI that imports every module of ``geo``
before parsing its arguments (what one flat module of commands did) — and the ratio.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_register import write_register

ROOT = Path(__file__).resolve().parents[1]
EAGER = ("import importlib, pkgutil, geo\n"
         "for m in pkgutil.walk_packages(geo.__path__, 'geo.'):\n"
         "    if not m.name.endswith('__main__'):\n"
         "        importlib.import_module(m.name)\n"
         "import sys; from geo.cli import main; sys.exit(main(sys.argv[1:]))\n")


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak MB of one child process."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, "
             "check=True); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    seconds, mb = out.stdout.split()
    return float(seconds), float(mb)


def _median(argv: list[str], repeat: int) -> tuple[float, float]:
    runs = [_run(argv) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tomoni-bench-startup-") as tmp:
        register = Path(tmp) / "名簿.csv"
        write_register(register, 100, encoding="cp932")
        cases = {
            "tomoni --help": ["--help"],
            "tomoni anonymize (100 rows, cp932)": ["anonymize", str(register), "--out",
                                                   str(Path(tmp) / "out.gpkg"), "--force"],
        }
        print(f"median of {args.repeat} runs, each a fresh process; peak = the largest child's")
        for name, argv in cases.items():
            t0 = time.perf_counter()
            lazy = _median([sys.executable, "-m", "geo", *argv], args.repeat)
            eager = _median([sys.executable, "-c", EAGER, *argv], args.repeat)
            print(f"{name:38s} tomoni {lazy[0]:5.2f} s {lazy[1]:6.0f} MB | every module first "
                  f"{eager[0]:5.2f} s {eager[1]:6.0f} MB | {eager[0] / lazy[0]:4.1f}× "
                  f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
