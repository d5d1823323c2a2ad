"""The files of a siting recommendation.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from geo.analyses.siting import Recommendation
from geo.outputs.csv_safe import csv_text

__all__ = ["write_outputs"]


def write_outputs(result: Recommendation, out: Any) -> list[Any]:
    """``recommendation.gpkg`` (recommended_sites, units), ``recommended_sites.csv``,
    ``gain_curve.csv`` and ``coverage_before_after.csv`` (UTF-8 with BOM) — all atomic."""
    from pathlib import Path

    from geo.outputs.layer_export import write_geopackage
    from layers.atomic import atomic_write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / "recommendation.gpkg"
    write_geopackage({"recommended_sites": result.sites, "units": result.units}, gpkg)
    paths = [gpkg]
    for name, frame in (("recommended_sites.csv", pd.DataFrame(result.sites.drop(columns="geometry"))),
                        ("gain_curve.csv", result.curve),
                        ("coverage_before_after.csv", result.before_after)):
        atomic_write_text(out / name, csv_text(frame), encoding="utf-8-sig")
        paths.append(out / name)
    return paths
