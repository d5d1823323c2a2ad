"""The ``tomoni`` command line.

Every input problem is printed as a plain message naming file, row, column and
fix, and the command exits with status 2; no traceback reaches the user unless
``--debug`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from geo.cli.args import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    guard_output,
    region_inputs,
    say,
    staged_folder,
)
from geo.cli.parser import build_parser
from layers.errors import LayerError, ParameterError


def _guard(args: argparse.Namespace) -> None:
    """Refuse an output that would overwrite an input or an existing output (see geo.cli.args)."""
    if getattr(args, "force", None) is None or args.command == "demo":
        return
    inputs: list[Path] = []
    for name in ("region", "regions"):
        if getattr(args, name, None):
            inputs += region_inputs(getattr(args, name)) if name == "region" else [Path(args.regions)]
    for name in ("records", "needs", "teams", "ratios", "to"):
        if getattr(args, name, None):
            inputs.append(Path(getattr(args, name)))
    guard_output(args.out, inputs, force=args.force)


def _as_options(err: LayerError, args: argparse.Namespace) -> LayerError:
    """Engine errors name parameters (``max_distance``); on the command line they are options."""
    if isinstance(err, ParameterError):
        flags = {n: "--" + n.replace("_", "-") for n in err.names if hasattr(args, n)}
        return err.labelled(flags | OPTION_NAMES.get(args.command, {}))
    return err


OPTION_NAMES: dict[str, dict[str, str]] = {
    "recommend": {"hazard": "--outside-hazard"},
    "route": {"from_": "--from"},
    "dispatch": {"time_limit": "--time-limit", "drive_kmh": "--drive-kmh"},
    "transit": {"facilities": "--to", "to_file": "--to", "max_walk_min": "--max-walk",
                "transfer_min": "--transfer-walk", "flex_wait_min": "--flex-wait", "max_trips": "--max-trips",
                "compare_date": "--compare-date", "transit": "--to"},
    "report": {"p": "--recommend"},
    "roads": {"source": "--from"},
    "export": {"p": "--recommend"},
}
"""Where a command's option is not the parameter's name with dashes."""

FOLDER_OUTPUTS = {"coverage", "consolidation", "shelters", "route", "vc-plan", "dispatch", "shelter-needs",
                  "crossborder", "transit",
                  "recommend", "report", "export"}
"""Commands whose --out is a folder of several files: written together or not at all."""


def _staged_run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a folder-output command into a staged folder; what it prints names the final one."""
    import contextlib
    import io

    final = str(Path(args.out).expanduser().resolve())
    shown = str(args.out)
    buffer = io.StringIO()
    with staged_folder(args.out) as tmp:
        args.out = str(tmp)
        with contextlib.redirect_stdout(buffer):
            code = func(args)
        if code != EXIT_OK:
            raise _Failed(code, buffer.getvalue().replace(str(tmp), shown))
    sys.stdout.write(buffer.getvalue().replace(str(tmp), final if Path(shown).is_absolute() else shown))
    return code


class _Failed(Exception):
    """A staged command that ended without success: nothing is put in place."""

    def __init__(self, code: int, printed: str) -> None:
        super().__init__(code)
        self.code, self.printed = code, printed


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        _guard(args)
        if args.command in FOLDER_OUTPUTS:
            try:
                return _staged_run(func, args)
            except _Failed as failed:
                sys.stdout.write(failed.printed)
                return failed.code
        return func(args)
    except LayerError as err:
        say(f"エラー: {_as_options(err, args).message}", err=True)
        return EXIT_INPUT
    except KeyboardInterrupt as stop:
        say("中断しました。書きかけの出力は残していません。", err=True)
        return 143 if isinstance(stop, _Terminated) else 130
    except (PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError) as err:
        say(f"エラー: 出力先に書き込めません（{type(err).__name__}）: {Path(err.filename or '').name}\n"
              "  対処: 書き込めるフォルダを --out に指定してください。", err=True)
        return EXIT_INPUT
    except Exception as exc:
        if args.debug:
            raise
        # never print the exception text: it may quote input values
        say(
            f"内部エラーが起きました（{type(exc).__name__}）。入力ファイルは変更していません。\n"
            "  対処: --debug を付けて再実行し、表示された内容を開発者に知らせてください。",
            err=True,
        )
        return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tomoni`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    _use_returning_allocator()
    with _terminate_like_ctrl_c():
        return _run(args.func, args)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager, a container stop): handled as Ctrl-C is."""


@contextlib.contextmanager
def _terminate_like_ctrl_c() -> Iterator[None]:
    """While a command runs, SIGTERM unwinds it as Ctrl-C does, so staged outputs are removed
    (the default action would kill the process and leave a staging folder behind)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: object) -> None:
        raise _Terminated

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _use_returning_allocator() -> None:
    """Arrow allocates from jemalloc in a command (the system's allocator where the wheel
    lacks it).  jemalloc gives freed blocks back soonest: a 1M-row cp932 register peaked at
    383 MB with it, 394 MB with Arrow's default (mimalloc) and 414 MB with the system's
    (``benchmarks/bench_register.py``).  A command is one short process, so its peak
    memory is what a user sees."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

__all__ = ["main"]
