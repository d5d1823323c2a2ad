"""Coverage year by year (and season by season): where the gaps open by 2035 and 2050.

Each year's demand is the projection of :func:`geo.analyses.demand_layer` (the anonymised
register scaled by the projected change of 65+ in its 500 m cell, or the projected 65+ /
75+ themselves); facilities and roads stay as they are today.  The tables name the year,
the season and the demand of every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.csv_safe import csv_text
from layers.atomic import atomic_write_text

__all__ = ["Outlook", "write_outputs"]

YEAR_COLUMNS = ["year", "season", "demand", "total", "covered", "uncovered", "rate", "gaps"]
AREA_COLUMNS = ["year", "season", "demand", "area_layer", "area_id", "area_name", "total", "covered",
                "uncovered", "rate"]


@dataclass
class Outlook:
    """``by_year``: one row per (year, season); ``by_area``: per area of each row."""

    by_year: pd.DataFrame
    by_area: pd.DataFrame

    def summary(self) -> dict[str, object]:
        return {"years": sorted({int(y) for y in self.by_year["year"]}),
                "rows": self.by_year[["year", "season", "total", "covered", "rate"]].to_dict("records")}


def write_outputs(outlook: Outlook, out: Path) -> None:
    """``outlook_by_year.csv`` and ``outlook_by_area.csv`` (UTF-8 with BOM, atomic)."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "outlook_by_year.csv", csv_text(outlook.by_year[YEAR_COLUMNS]),
                      encoding="utf-8-sig")
    atomic_write_text(out / "outlook_by_area.csv", csv_text(outlook.by_area[AREA_COLUMNS]),
                      encoding="utf-8-sig")
