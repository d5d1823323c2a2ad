"""Whether each shelter can be used for a hazard: designated, and outside the zone."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.hazards import in_zones
from layers.shelters import usable_for

__all__ = ["STATUS_ORDER", "shelter_status"]

STATUS_ORDER = ("usable", "in_zone", "not_designated")


def shelter_status(
    shelters: gpd.GeoDataFrame,
    *,
    hazard: str,
    hazards: gpd.GeoDataFrame | None = None,
) -> pd.Series:
    """Status of each shelter for ``hazard``, aligned to ``shelters.index``.

    ``"usable"``: designated for the hazard (GSI flag) and outside every zone of
    that hazard; ``"in_zone"``: designated but inside a zone; ``"not_designated"``:
    no GSI designation for the hazard.  One bulk spatial query, no row loop.
    """
    flagged = usable_for(shelters, hazard).to_numpy()
    zones = hazards.loc[hazards["hazard"] == hazard] if hazards is not None and len(hazards) else None
    inside = in_zones(shelters, zones)
    status = np.where(flagged & ~inside, "usable", np.where(flagged, "in_zone", "not_designated"))
    return pd.Series(status, index=shelters.index, dtype=object)
