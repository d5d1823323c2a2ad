"""``tomoni batch``: many regions or municipalities in one run.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from geo.cli.args import EXIT_INPUT, EXIT_OK, say
from layers.errors import LayerError

__all__ = ["cmd_batch"]

log = logging.getLogger("tomoni")


def cmd_batch(args: argparse.Namespace) -> int:
    from geo.runs.batch.config import read_batch, specs_for
    from geo.runs.batch.dask_run import fits_one_process, run_batch

    cfg = read_batch(args.regions)
    specs = specs_for(cfg)
    if args.workers < 1:
        raise LayerError("--workers は 1 以上にしてください。", column="--workers", fix="例: --workers 2")
    one = args.scheduler is None and not args.dask and all(fits_one_process(r) for r in cfg.regions)
    if one:
        say("注意: 地域が 1 つのプロセスに収まるため、Dask を使わずに 1 回で計算します"
            "（分割して並列にするには --dask か --scheduler を付けてください）。", err=True)
    result = run_batch(specs, Path(args.out), scheduler=args.scheduler, workers=args.workers,
                       one_process=one)
    for key, msg in result.failed.items():
        log.warning("市町村 %s の計算に失敗しました: %s", key, msg)
    say(json.dumps({"batch": cfg.name, **result.summary()}, ensure_ascii=False))
    return EXIT_OK if not result.failed else EXIT_INPUT
