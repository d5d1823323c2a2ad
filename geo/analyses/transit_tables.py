"""The tables of a walk + bus run: per area (自治会, 校区, 市町村), per route, and who
loses access at the weekend or in winter.

Everything is counted in published (anonymised) units: a table sums their people, never
finer than the density layer.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import CoverageResult, by_area
from geo.analyses.transit_access import TransitResult

__all__ = ["as_coverage", "losses", "route_table", "transit_by_area"]


def as_coverage(result: TransitResult, flag: np.ndarray | pd.Series | None = None) -> CoverageResult:
    """The run in the shape the coverage tables and gaps take, ``flag`` (default: reached by
    walking + bus) as what counts as covered."""
    units = result.units if flag is None else result.units.assign(covered=np.asarray(flag, bool))
    return CoverageResult(units=units, max_distance=result.max_minutes, method="network",
                          facilities=result.facilities)


def _area_counts(result: TransitResult, areas: Mapping[str, gpd.GeoDataFrame], flag: np.ndarray | pd.Series,
                 name: str) -> pd.DataFrame:
    table = by_area(as_coverage(result, flag), areas)
    return table[["area_layer", "area_id", "area_name", "total", "covered"]].rename(columns={"covered": name})


def transit_by_area(result: TransitResult, areas: Mapping[str, gpd.GeoDataFrame], *,
                    losses: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per area: people, reached on foot only (``reach_walk``), by walking + bus
    (``reach_bus``), only thanks to the bus (``gained_bus``), not reached (``unreached``)
    and the rate; with ``losses``, those lost at the weekend and in winter.  Sorted by
    area layer, then the most people not reached first (the gaps)."""
    u = result.units
    keys = ["area_layer", "area_id", "area_name", "total"]
    flags = {"reach_walk": u["covered_walk"], "reach_bus": u["covered"], "gained_bus": u["gained"]}
    if losses is not None:
        flags |= {"lost_weekend": losses["lost_weekend"], "lost_winter": losses["lost_winter"]}
    parts = [_area_counts(result, areas, flag, name) for name, flag in flags.items()]
    table = parts[0]
    for part in parts[1:]:
        table = table.merge(part, on=keys, how="left")
    total = table["total"].to_numpy(np.int64)
    table["unreached"] = total - table["reach_bus"].to_numpy(np.int64)
    table["rate_bus"] = np.round(np.divide(table["reach_bus"], total, out=np.zeros(len(table)),
                                           where=total > 0), 4)
    return table.sort_values(["area_layer", "unreached"], ascending=[True, False], kind="stable",
                             ignore_index=True)


def losses(base: TransitResult, weekend: TransitResult, other_season: TransitResult, *,
           winter_first: bool) -> pd.DataFrame:
    """Per unit: reached on the date, on the weekend day, in summer and in winter, and who
    loses access at the weekend (reached on the date, not on the weekend day) or in winter
    (reached with summer walking, not with winter's — the same timetable)."""
    summer, winter = (other_season, base) if winter_first else (base, other_season)
    cov = base.units["covered"].to_numpy(bool)
    week = weekend.units["covered"].to_numpy(bool)
    cs, cw = summer.units["covered"].to_numpy(bool), winter.units["covered"].to_numpy(bool)
    return gpd.GeoDataFrame({
        "unit_id": base.units["unit_id"].to_numpy(), "count": base.units["count"].to_numpy(),
        "covered": cov, "covered_weekend": week, "covered_summer": cs, "covered_winter": cw,
        "lost_weekend": cov & ~week, "lost_winter": cs & ~cw}, geometry=base.units.geometry.to_numpy(),
        crs=base.units.crs)


def route_table(result: TransitResult) -> pd.DataFrame:
    """Per route: trips on the date, stops, the people within the access walk of one of
    its stops (``in_reach``), and of them those reaching a facility in time by walking +
    bus (``reach_bus``) and only thanks to the bus (``gained_bus``)."""
    day = result.day
    ev = day.trips.events
    stop_index = pd.Series(np.arange(len(day.stops)), index=day.stops["stop_id"].to_numpy())
    served = ev[["route_id", "stop_id"]].drop_duplicates()
    served = served.assign(s=stop_index.reindex(served["stop_id"]).to_numpy())
    pairs = pd.DataFrame({"u": result.times.access_unit, "s": result.times.access_stop}).merge(served, on="s")
    per = pairs[["route_id", "u"]].drop_duplicates()
    units = result.units
    people = units["count"].to_numpy()[per["u"]]
    per = per.assign(in_reach=people, reach_bus=np.where(units["covered"].to_numpy()[per["u"]], people, 0),
                     gained_bus=np.where(units["gained"].to_numpy()[per["u"]], people, 0))
    g = per.groupby("route_id")[["in_reach", "reach_bus", "gained_bus"]].sum()
    trips = ev.groupby("route_id")["trip_id"].nunique()
    stops = ev.groupby("route_id")["stop_id"].nunique()
    out = day.routes[["route_id", "route_name"]].drop_duplicates("route_id").set_index("route_id")
    out = out.assign(trips=trips.reindex(out.index).fillna(0).astype(int),
                     stops=stops.reindex(out.index).fillna(0).astype(int))
    for col in ("in_reach", "reach_bus", "gained_bus"):
        out[col] = g[col].reindex(out.index).fillna(0).astype(int)
    return out[out["trips"] > 0].reset_index().sort_values(["gained_bus", "in_reach"], ascending=False,
                                                            ignore_index=True)
