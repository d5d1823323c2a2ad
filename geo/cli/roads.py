"""``tomoni roads``: build a region's road network from an OSM extract once, into the cache.
"""

from __future__ import annotations

import argparse
import json

from geo.cli.args import EXIT_OK, say

__all__ = ["cmd_roads"]


def cmd_roads(args: argparse.Namespace) -> int:
    """:func:`geo.runs.roads.build_roads` with the command's options; prints its summary."""
    from geo.runs.roads import build_roads  # here, not at the top: `tomoni --help` stays light

    built = build_roads(args.region, source=args.source, download=args.download, network=args.network,
                        buffer=args.buffer, write=args.write, rebuild=args.rebuild)
    say(json.dumps(built.as_dict(), ensure_ascii=False, indent=2))
    return EXIT_OK
