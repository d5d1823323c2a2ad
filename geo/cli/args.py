"""What the ``tomoni`` command accepts: checked numbers and safe output paths.

* Numeric options are parsed by :func:`number`: a value that is not a finite
  number in its range (``--dpi 0``, ``--max-distance nan``, ``--p 1000000``) is an
  argparse error — exit 2 with the option named, before anything runs.
* :func:`guard_output` refuses an output path that is one of the run's inputs,
  lies inside one, or holds one (``tomoni anonymize REG.csv --out REG.csv``,
  ``--out`` naming a region's layer file or folder), and an output that already
  exists unless ``--force`` is given; outputs are then written atomically, so an
  existing one is only ever replaced by a complete new one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from layers.errors import LayerError

__all__ = ["guard_output", "number", "region_inputs", "say", "staged_folder"]


def number(low: float | None = None, high: float | None = None, *, integer: bool = False,
           above: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number within [low, high] (``above``: strictly > low)."""
    def parse(text: str) -> float:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{'整数' if integer else '数'}を指定してください（{text!r} は使えません）") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError("有限の数を指定してください（nan や inf は使えません）")
        too_low = low is not None and (value <= low if above else value < low)
        if too_low or (high is not None and value > high):
            lo = "" if low is None else (f"{low:g} より大きく" if above else f"{low:g} 以上")
            hi = "" if high is None else f"{high:g} 以下"
            raise argparse.ArgumentTypeError(f"{lo}{'、' if lo and hi else ''}{hi}の値にしてください")
        return value
    parse.__name__ = "整数" if integer else "数"
    return parse


def region_inputs(region_toml: str | Path) -> list[Path]:
    """The files a region reads: its TOML, every layer file and the road files."""
    from layers.region import read_config

    return read_config(region_toml).input_files()


def _within(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def guard_output(out: str | Path, inputs: Iterable[str | Path], *, force: bool,
                 option: str = "--out") -> Path:
    """Check an output path against the run's inputs and what already exists (see module doc)."""
    target = Path(out).expanduser().resolve()
    for raw in inputs:
        src = Path(raw).expanduser().resolve()
        if _within(target, src):
            raise LayerError("出力先が入力と同じか、入力の中にあります。入力を上書きしてしまいます。",
                             file=raw, column=option,
                             fix="別の出力先（新しいフォルダやファイル名）を指定してください。")
        if src.is_file() and _within(src, target) and src != target:
            raise LayerError("出力フォルダの中に入力ファイルがあります。入力を上書きするおそれがあります。",
                             file=raw, column=option,
                             fix="入力のないフォルダ（例: 結果用の新しいフォルダ）を指定してください。")
    exists = target.is_file() or (target.is_dir() and any(target.iterdir()))
    if exists and not force:
        raise LayerError("出力先が既にあります。", file=target, column=option,
                         fix="置き換えてよければ --force を付けてください（書き終わってから置き換えます）。"
                         "または別の出力先を指定してください。")
    if target.exists() and not (target.is_file() or target.is_dir()):
        raise LayerError("出力先が通常のファイルやフォルダではありません。", file=target, column=option,
                         fix="通常のファイル名かフォルダを指定してください。")
    return target


@contextlib.contextmanager
def staged_folder(out: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``out`` for a command's outputs, put in place only when
    the command has written all of them (an existing ``out`` — allowed by ``--force`` —
    is replaced then); an error or Ctrl-C removes it and leaves ``out`` as it was."""
    target = Path(out).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o777 & ~mask)  # a normal folder, not mkdtemp's private one
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def say(text: str = "", *, err: bool = False) -> None:
    """Write one line for the person at the terminal: results on stdout, problems on
    stderr (the command line's only output; library code logs instead)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{text}\n")
    stream.flush()


log = logging.getLogger("tomoni")

EXIT_OK = 0

EXIT_INTERNAL = 1

EXIT_INPUT = 2


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table that lines up Japanese (double-width) text."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(_pad(c, widths[i], right=(i == 1 and n > 0))
                               for i, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _report(summary: Any, *, warn: Sequence[str] = (), **extra: Any) -> None:
    """Log ``warn`` and print the summary (a :class:`geo.summary.Summary` or a dict) as JSON."""
    for note in warn:
        log.warning(note)
    data = summary.as_dict() if hasattr(summary, "as_dict") else dict(summary)
    say(json.dumps({**data, **extra}, ensure_ascii=False, default=str))
