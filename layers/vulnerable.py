"""要配慮者 (people needing care): reserved; the anonymiser fills this in."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd

from layers.errors import LayerError

__all__ = ["load_vulnerable"]


def load_vulnerable(paths: Sequence[Path], **_: object) -> gpd.GeoDataFrame:
    """Not available yet: raw records must go through the anonymiser first."""
    raise LayerError(
        "要配慮者レイヤーはまだ読み込めません（匿名化の機能が必要です）。",
        file=paths[0] if paths else None,
        layer="vulnerable",
        fix="[layers.vulnerable] を地域設定から外してください。",
    )
