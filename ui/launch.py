"""The app's server process (what ``tomoni serve`` starts): Streamlit, with the start
region loaded in the background while the server comes up, so the first visitor of a
fresh server waits no longer than the next ones.

Only process-wide caches are warmed (the region read from disk, its road network); nothing
of a session is, and nothing is written anywhere.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

__all__ = ["main", "warm"]

log = logging.getLogger("tomoni")


def warm() -> None:
    """Load the start region (``TOMONI_START_REGION`` or the demo) and its road network
    into the caches the pages use; a failure is logged and left to the first visitor,
    who sees it with its message."""
    started = time.perf_counter()
    try:
        from geo.analyses import prepare_region
        from ui import state

        start = os.environ.get("TOMONI_START_REGION")
        toml = Path(start) if start else state.demo_toml()
        region = state.open_region(toml)
        prepare_region(region)
        _warm_map(region)
    except Exception as exc:  # the first visitor gets the real error on the page
        log.warning("warming the app's caches failed (%s): the first visitor will load them", exc)
        return
    log.info("app caches warmed in %.1f s", time.perf_counter() - started)


def _warm_map(region: object) -> None:
    """Build the start map once, so its layers' feature texts are in the process-wide memo
    (:func:`geo.outputs.map_features.features_json`) before the first visitor asks."""
    from geo.outputs.maps import crowded, region_map, shelter_layer
    from layers.shelters import DEFAULT_HAZARD

    lay = dict(getattr(region, "layers", {}))
    region_map(lay, hazard=DEFAULT_HAZARD, show=list(lay), lang="ja", layer_control=False,
               shelters_apart=True).get_root().render()
    if "shelters" in lay:
        shelter_layer(lay["shelters"], hazards=lay.get("hazards"), hazard=DEFAULT_HAZARD, lang="ja",
                      small=crowded(lay))


def main() -> int:
    """``python -m ui.launch run streamlit_app.py …``: warm in a thread, serve in this one."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    threading.Thread(target=warm, name="tomoni-warm", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    return int(cli.main() or 0)


if __name__ == "__main__":
    sys.exit(main())
