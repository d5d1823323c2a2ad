"""The files of a siting-over-time recommendation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.analyses.siting_over_time import OverTime

__all__ = ["write_outputs"]


def write_outputs(result: OverTime, out: Path) -> None:
    """``siting_over_time.csv`` (people newly covered per year by both answers) and
    ``siting_over_time_sites.csv`` (UTF-8 with BOM, atomic)."""
    from geo.outputs.csv_safe import csv_text
    from layers.atomic import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    table = result.by_year.assign(objective=result.objective)
    atomic_write_text(out / "siting_over_time.csv", csv_text(table), encoding="utf-8-sig")
    sites = pd.DataFrame(result.sites.drop(columns="geometry", errors="ignore"))
    atomic_write_text(out / "siting_over_time_sites.csv", csv_text(sites), encoding="utf-8-sig")
