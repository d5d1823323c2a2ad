"""``tomoni init``: a region of one municipality from its publishers' public data.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from geo.cli.args import EXIT_OK, say

__all__ = ["cmd_init"]


def cmd_init(args: argparse.Namespace) -> int:
    """:func:`layers.fetch.fetch_region` (and, with ``--roads``, :func:`geo.runs.roads.build_roads`
    downloading the roads); prints what was stored and what was reused."""
    from layers.fetch import fetch_region  # here, not at the top: `tomoni --help` stays light

    got = fetch_region(args.pref, args.municipality, Path(args.out), year=args.n03_year)
    doc = {"region": str(got.toml), "code": got.code, "name": got.name,
           "files": {k: p.name for k, p in got.files.items()}, "reused": got.reused}
    if args.roads:
        from geo.runs.roads import build_roads

        doc["roads"] = build_roads(got.toml, download=True, write=True).as_dict()
    say(json.dumps(doc, ensure_ascii=False, indent=2))
    return EXIT_OK
