"""The tables of a walk + bus run: per area (自治会, 校区, 市町村), per route, and who
loses access at the weekend or in winter.

Every count of people is made from each person's own result (the register in memory, or a
published density spread over its units) and passes the gate
(:meth:`layers.demand.Demand.count`); a unit's flags are its anchor's.  A run without people
(built by hand) counts each unit at its anchor.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import CoverageResult, PeopleReach, by_area
from geo.analyses.transit_access import TransitResult

__all__ = ["as_coverage", "losses", "lost_people", "route_table", "transit_by_area"]


def as_coverage(result: TransitResult, flag: np.ndarray | pd.Series | None = None,
                people_flag: np.ndarray | None = None) -> CoverageResult:
    """The run in the shape the coverage tables and gaps take: ``flag`` per unit and
    ``people_flag`` per person (default: reached by walking + bus) as what counts as covered."""
    units = result.units if flag is None else result.units.assign(covered=np.asarray(flag, bool))
    reach = None
    p = result.people
    if p is not None:
        covered = p.covered if people_flag is None else np.asarray(people_flag, bool)
        reach = PeopleReach(demand=p.demand, unit=p.unit, distance=np.zeros(len(p.unit)),
                            facility=np.full(len(p.unit), -1, np.int64), covered=covered)
    return CoverageResult(units=units, max_distance=result.max_minutes, method="network",
                          facilities=result.facilities, people=reach)


def _area_counts(result: TransitResult, areas: Mapping[str, gpd.GeoDataFrame], flag: np.ndarray | pd.Series,
                 people_flag: np.ndarray | None, name: str, *, with_uncovered: bool = False) -> pd.DataFrame:
    table = by_area(as_coverage(result, flag, people_flag), areas)
    cols = {"covered": name, **({"uncovered": "unreached"} if with_uncovered else {})}
    return table[["area_layer", "area_id", "area_name", "total", *cols]].rename(columns=cols)


def _flags(result: TransitResult, lost: dict[str, np.ndarray] | None, losses: pd.DataFrame | None
           ) -> dict[str, tuple[np.ndarray | pd.Series, np.ndarray | None]]:
    """Each table column: (per unit, per person) flags."""
    u, p = result.units, result.people
    flags: dict[str, tuple[np.ndarray | pd.Series, np.ndarray | None]] = {
        "reach_bus": (u["covered"], None if p is None else p.covered),
        "reach_walk": (u["covered_walk"], None if p is None else p.covered_walk),
        "gained_bus": (u["gained"], None if p is None else p.gained)}
    if losses is not None:
        flags |= {name: (losses[name], None if lost is None else lost[name])
                  for name in ("lost_weekend", "lost_winter")}
    return flags


def transit_by_area(result: TransitResult, areas: Mapping[str, gpd.GeoDataFrame], *,
                    losses: pd.DataFrame | None = None, lost: dict[str, np.ndarray] | None = None
                    ) -> pd.DataFrame:
    """Per area: people, reached on foot only (``reach_walk``), by walking + bus
    (``reach_bus``), only thanks to the bus (``gained_bus``), not reached (``unreached``, a
    count of its own) and the rate; with ``losses`` (and ``lost``, per person:
    :func:`lost_people`), those lost at the weekend and in winter.  Sorted by area layer,
    then the most people not reached first (the gaps)."""
    keys = ["area_layer", "area_id", "area_name", "total"]
    flags = _flags(result, lost, losses)
    parts = [_area_counts(result, areas, unit_flag, person_flag, name, with_uncovered=name == "reach_bus")
             for name, (unit_flag, person_flag) in flags.items()]
    table = parts[0]
    for part in parts[1:]:
        table = table.merge(part, on=keys, how="left")
    t, c = _num(table["total"]), _num(table["reach_bus"])
    table["rate_bus"] = np.round(np.divide(c, t, out=np.full(len(t), np.nan), where=t > 0), 4)
    order = ["area_layer", "area_id", "area_name", "total", "reach_walk", "reach_bus", "gained_bus",
             *[c for c in ("lost_weekend", "lost_winter") if c in table], "unreached", "rate_bus"]
    table = table[order].assign(_u=_num(table["unreached"], 0.0))
    return table.sort_values(["area_layer", "_u"], ascending=[True, False], kind="stable",
                             ignore_index=True).drop(columns="_u")


def _num(values: pd.Series, na: float = np.nan) -> np.ndarray:
    """A protected count column as floats (「k未満」 as ``na``)."""
    return pd.Series(values).astype("Float64").to_numpy(float, na_value=na)


def lost_people(base: TransitResult, weekend: TransitResult, other_season: TransitResult, *,
                winter_first: bool) -> dict[str, np.ndarray] | None:
    """Per person (in memory): lost at the weekend, lost in winter (see :func:`losses`); None
    when the runs have no people."""
    summer, winter = (other_season, base) if winter_first else (base, other_season)
    if base.people is None or weekend.people is None or summer.people is None or winter.people is None:
        return None
    return {"lost_weekend": base.people.covered & ~weekend.people.covered,
            "lost_winter": summer.people.covered & ~winter.people.covered}


def losses(base: TransitResult, weekend: TransitResult, other_season: TransitResult, *,
           winter_first: bool) -> pd.DataFrame:
    """Per unit: reached on the date, on the weekend day, in summer and in winter (its
    anchor), and who loses access at the weekend (reached on the date, not on the weekend
    day) or in winter (reached with summer walking, not with winter's — the same
    timetable); ``lost_weekend_n``/``lost_winter_n``: its people who do (protected)."""
    summer, winter = (other_season, base) if winter_first else (base, other_season)
    cov = base.units["covered"].to_numpy(bool)
    week = weekend.units["covered"].to_numpy(bool)
    cs, cw = summer.units["covered"].to_numpy(bool), winter.units["covered"].to_numpy(bool)
    out = gpd.GeoDataFrame({
        "unit_id": base.units["unit_id"].to_numpy(), "count": base.units["count"].to_numpy(),
        "covered": cov, "covered_weekend": week, "covered_summer": cs, "covered_winter": cw,
        "lost_weekend": cov & ~week, "lost_winter": cs & ~cw}, geometry=base.units.geometry.to_numpy(),
        crs=base.units.crs)
    lost = lost_people(base, weekend, other_season, winter_first=winter_first)
    if lost is not None and base.people is not None:
        p = base.people
        for name, mask in lost.items():
            out[f"{name}_n"] = p.demand.count(p.unit, len(out), mask)
    return out


def route_table(result: TransitResult) -> pd.DataFrame:
    """Per route: trips on the date, stops, the people within the access walk of one of
    its stops (``in_reach``), and of them those reaching a facility in time by walking +
    bus (``reach_bus``) and only thanks to the bus (``gained_bus``): protected counts."""
    day = result.day
    ev = day.trips.events
    stop_index = pd.Series(np.arange(len(day.stops)), index=day.stops["stop_id"].to_numpy())
    served = ev[["route_id", "stop_id"]].drop_duplicates()
    served = served.assign(s=stop_index.reindex(served["stop_id"]).to_numpy())
    trips = ev.groupby("route_id")["trip_id"].nunique()
    stops = ev.groupby("route_id")["stop_id"].nunique()
    out = day.routes[["route_id", "route_name"]].drop_duplicates("route_id").set_index("route_id")
    out = out.assign(trips=trips.reindex(out.index).fillna(0).astype(int),
                     stops=stops.reindex(out.index).fillna(0).astype(int))
    for col, values in _route_people(result, served, out.index).items():
        out[col] = values
    out = out[out["trips"] > 0].reset_index()
    key = [_num(out[c], 0.0) for c in ("gained_bus", "in_reach")]
    order = np.lexsort((-key[1], -key[0]))
    return out.iloc[order].reset_index(drop=True)


def _route_people(result: TransitResult, served: pd.DataFrame, routes: pd.Index
                  ) -> dict[str, np.ndarray | pd.arrays.IntegerArray]:
    """``in_reach``, ``reach_bus``, ``gained_bus`` per route: each person once per route."""
    route_of = pd.Series(np.arange(len(routes)), index=routes)
    p = result.people
    if p is None:  # units at their anchors, their counts summed
        times = result.times
        pairs = pd.DataFrame({"u": times.access_unit, "s": times.access_stop}).merge(served, on="s")
        per = pairs[["route_id", "u"]].drop_duplicates()
        units = result.units
        people = units["count"].to_numpy()[per["u"]]
        covered, gained = units["covered"].to_numpy()[per["u"]], units["gained"].to_numpy()[per["u"]]
        per = per.assign(in_reach=people, reach_bus=np.where(covered, people, 0),
                         gained_bus=np.where(gained, people, 0))
        g = per.groupby("route_id")[["in_reach", "reach_bus", "gained_bus"]].sum()
        return {c: g[c].reindex(routes).fillna(0).astype(int).to_numpy() for c in g.columns}
    pairs = pd.DataFrame({"u": p.access_person, "s": p.access_stop}).merge(served, on="s")
    per = pairs[["route_id", "u"]].drop_duplicates()
    who = per["u"].to_numpy(np.int64)
    cell = route_of.reindex(per["route_id"]).to_numpy(np.int64)
    return {name: p.demand.count_pairs(who[mask[who]], cell[mask[who]], len(routes))
            for name, mask in (("in_reach", np.ones(len(p.unit), bool)), ("reach_bus", p.covered),
                               ("gained_bus", p.gained))}
