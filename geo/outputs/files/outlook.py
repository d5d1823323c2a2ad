"""The files of the outlook (projection years × seasons).
"""

from __future__ import annotations

from pathlib import Path

from geo.analyses.outlook import AREA_COLUMNS, LAST_COLUMNS, PLACE_COLUMNS, YEAR_COLUMNS, Outlook
from geo.outputs.csv_safe import csv_text
from layers.atomic import atomic_write_text

__all__ = ["write_outputs"]


def write_outputs(outlook: Outlook, out: Path) -> None:
    """``outlook_by_year.csv``, ``outlook_by_area.csv``, ``outlook_by_place.csv`` and
    ``outlook_last_places.csv`` (UTF-8 with BOM, atomic)."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "outlook_by_year.csv", csv_text(outlook.by_year[YEAR_COLUMNS]),
                      encoding="utf-8-sig")
    atomic_write_text(out / "outlook_by_area.csv", csv_text(outlook.by_area[AREA_COLUMNS]),
                      encoding="utf-8-sig")
    atomic_write_text(out / "outlook_by_place.csv", csv_text(outlook.by_place[PLACE_COLUMNS]),
                      encoding="utf-8-sig")
    atomic_write_text(out / "outlook_last_places.csv", csv_text(outlook.last_places[LAST_COLUMNS]),
                      encoding="utf-8-sig")
