"""Random timetables for the transit search tests (the references live in each test file)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def random_events(rng: np.random.Generator, n_stops: int, *, lines: int, trips: int,
                  first_hour: int, last_hour: int) -> pd.DataFrame:
    """Stop events of up to ``lines`` random lines with up to ``trips`` trips each, starting
    between the two hours; some trips run slower, so that a later one may overtake them."""
    rows = []
    for r in range(int(rng.integers(1, lines + 1))):
        stops = rng.choice(n_stops, size=int(rng.integers(2, min(n_stops, 5) + 1)), replace=False)
        run = rng.integers(60, 900, len(stops) - 1)
        for t in range(int(rng.integers(1, trips + 1))):
            clock = float(rng.integers(first_hour * 3600, last_hour * 3600))
            if rng.random() < 0.3:
                run = run + rng.integers(0, 300, len(run))
            for i, s in enumerate(stops):
                dwell = float(rng.integers(0, 60))
                rows.append({"trip_id": f"r{r}t{t}", "route_id": f"r{r}", "stop_id": f"S{s}", "seq": i,
                             "arr_s": clock, "dep_s": clock + dwell})
                clock += dwell + (float(run[i]) if i < len(run) else 0.0)
    return pd.DataFrame(rows).sort_values(["trip_id", "seq"]).reset_index(drop=True)
