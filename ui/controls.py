"""Widgets several pages share: the season switch and the projection-year slider."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from geo.analyses import has_roads, projection_years
from ui.i18n import Tr, t

if TYPE_CHECKING:
    from layers.region import RegionLike


def season_and_year(prefix: str, region: RegionLike, *,
                    caption: str = "season_caption") -> tuple[str, int | None]:
    """A 夏/冬 switch and, when the region has a projection, a year slider (今 = the
    register as it is).  Keys ``{prefix}_season`` and ``{prefix}_year``; returns the season
    and the year (None for 今)."""
    tr = Tr.current()
    left, right = st.columns([3, 2])
    roads = has_roads(region)  # without roads winter would be summer's straight-line estimate again
    if not roads:
        st.session_state[f"{prefix}_season"] = "summer"
    season = left.radio(t("season"), ["summer", "winter"], horizontal=True, key=f"{prefix}_season",
                        format_func=lambda x: tr(f"season_{x}"), disabled=not roads)
    if not roads:
        left.caption(t("season_needs_roads"))
    years = (0, *projection_years(region)[0])
    year = 0
    if len(years) > 1:
        year = right.select_slider(t("year"), years, key=f"{prefix}_year",
                                   format_func=lambda y: tr("year_now") if y == 0 else str(y))
    if season == "winter":
        st.caption(t(caption))
    return str(season), (int(year) or None)
