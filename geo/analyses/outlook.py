"""Coverage year by year (and season by season): where the gaps open by 2035 and 2050.

Each year's demand is the projection of :func:`geo.analyses.inputs.demand_layer` (the anonymised
register scaled by the projected change of 65+ in its 500 m cell, or the projected 65+ /
75+ themselves); facilities and roads stay as they are today.  The tables name the year,
the season and the demand of every row.

Per 居場所, the **people within reach** of a year are the units whose nearest place it is,
within the threshold (the same assignment as the coverage map).  A place whose people
within reach fall below ``min_people`` (the participant pool a サロン needs — a local
choice; 10 by default) is **below the threshold**; a 自治会 whose every 居場所 is below it
has no viable place left (``last_places``: one row per 自治会 with places, per year and
season); ``newly_lost`` marks those that still had one in the first year asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analyses.coverage import CoverageOptions, CoverageResult, analyse_coverage
from geo.analyses.inputs import projection_years
from geo.analyses.winter_loss import WinterLoss
from geo.engine.profiles import DEFAULT_MAX_DISTANCE
from layers.errors import ParameterError
from layers.layer_facts import id_column

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["DEFAULT_MIN_PEOPLE", "Outlook", "last_places", "people_in_reach"]


DEFAULT_MIN_PEOPLE = 10
"""People within reach below which a 居場所 is counted as below the threshold."""

YEAR_COLUMNS = ["year", "season", "demand", "total", "covered", "uncovered", "rate", "gaps"]

AREA_COLUMNS = ["year", "season", "demand", "area_layer", "area_id", "area_name", "total", "covered",
                "uncovered", "rate"]

PLACE_COLUMNS = ["year", "season", "demand", "place_id", "name", "area_id", "area_name", "people",
                 "below"]

LAST_COLUMNS = ["year", "season", "demand", "area_id", "area_name", "places", "viable_places",
                "people_best", "lost_last_place", "newly_lost"]


@dataclass
class Outlook:
    """``by_year``: one row per (year, season); ``by_area``: per area of each row;
    ``by_place``: the people within reach of each 居場所; ``last_places``: per 自治会."""

    by_year: pd.DataFrame
    by_area: pd.DataFrame
    by_place: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PLACE_COLUMNS))
    last_places: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LAST_COLUMNS))
    min_people: float = DEFAULT_MIN_PEOPLE

    def summary(self) -> dict[str, object]:
        lp = self.last_places

        def count(mask: pd.Series) -> dict[str, int]:
            per = lp[mask.astype(bool)].groupby(["year", "season"]).size()
            return {f"{y}/{s}": int(per.get((y, s), 0)) for y, s in
                    self.by_year[["year", "season"]].itertuples(index=False)}

        return {"years": sorted({int(y) for y in self.by_year["year"]}),
                "rows": self.by_year[["year", "season", "total", "covered", "rate"]].to_dict("records"),
                "min_people": self.min_people,
                "areas_without_viable_place": count(lp["lost_last_place"]),
                "areas_losing_last_place": count(lp["newly_lost"])}


def people_in_reach(result: CoverageResult, places: gpd.GeoDataFrame, *, id_col: str,
                    areas: gpd.GeoDataFrame | None = None, area_id: str | None = None,
                    area_name: str | None = None) -> pd.DataFrame:
    """Per place of ``places`` (every one, 0 when no one is within reach): the people whose
    nearest place it is within the threshold, and the 自治会 of ``areas`` it lies in."""
    ids = places[id_col].astype(str).to_numpy()
    out = pd.DataFrame({"place_id": ids, "name": places.get("name", places[id_col]).astype(str).to_numpy(),
                        "people": _people_per_place(result, ids), "area_id": "", "area_name": ""})
    if areas is not None and area_id is not None and len(areas) and len(places):
        inside = gpd.sjoin(places[[id_col, "geometry"]].to_crs(areas.crs).reset_index(drop=True),
                           areas[[c for c in (area_id, area_name) if c] + ["geometry"]],
                           how="left", predicate="within")
        inside = inside[~inside.index.duplicated()]  # a place on a shared border: its first area
        out["area_id"] = inside[area_id].fillna("").astype(str).to_numpy()
        if area_name:
            out["area_name"] = inside[area_name].fillna("").astype(str).to_numpy()
    return out


def _people_per_place(result: CoverageResult, ids: np.ndarray) -> pd.arrays.IntegerArray:
    """The people whose nearest place each of ``ids`` is, within the threshold: counted
    person by person through the gate (0 for a place no one reaches)."""
    reach = result.people
    if reach is None or result.facility_ids is None:
        u = result.units
        covered = u["covered"].to_numpy(bool)
        count = pd.to_numeric(u["count"], errors="coerce").fillna(0).to_numpy(np.int64)
        sums = pd.Series(count[covered]).groupby(u["facility_id"].astype(str).to_numpy()[covered]).sum()
        return pd.array(sums.reindex(ids).fillna(0).astype(np.int64).to_numpy(), dtype="Int64")
    row = pd.Series(np.arange(len(ids)), index=ids)
    row = row[~row.index.duplicated()]
    place = row.reindex(np.asarray(result.facility_ids, dtype=object)).fillna(-1).to_numpy(np.int64)
    cell = np.where(reach.facility >= 0, place[np.maximum(reach.facility, 0)], -1)
    return reach.demand.count(cell, len(ids), reach.covered)


def last_places(by_place: pd.DataFrame, *, min_people: float) -> pd.DataFrame:
    """Per (year, season, 自治会 with 居場所): its places, those at or above ``min_people``,
    its best place's people, and whether it has lost its last viable place."""
    keyed = by_place[by_place["area_id"] != ""].assign(
        viable=lambda d: (d["people"] >= min_people).fillna(False).astype(bool))  # 「k未満」: not viable
    key = ["year", "season", "demand", "area_id", "area_name"]
    out = keyed.groupby(key, sort=True).agg(places=("place_id", "size"), viable_places=("viable", "sum"),
                                            people_best=("people", "max")).reset_index()
    out["viable_places"] = out["viable_places"].astype(np.int64)
    out["lost_last_place"] = out["viable_places"] == 0
    first = out.groupby("season")["year"].transform("min")
    before = out[out["year"] == first].set_index(["season", "area_id"])["lost_last_place"]
    had = before.reindex(pd.MultiIndex.from_arrays([out["season"], out["area_id"]])).to_numpy()
    out["newly_lost"] = out["lost_last_place"] & (had == False)  # noqa: E712 (NaN: not in the first year)
    return out[LAST_COLUMNS]


@dataclass(frozen=True)
class OutlookOptions:
    """Options of :func:`analyse_outlook`: the years, whether winter is added to summer,
    and the coverage options of every run."""

    years: tuple[int, ...]
    winter: bool = False
    date: str | None = None
    demand: str = "register"
    facilities: str = "places"
    max_distance: float = DEFAULT_MAX_DISTANCE
    max_minutes: float | None = None
    profile: str = "walk"
    min_people: float = DEFAULT_MIN_PEOPLE
    """People within reach below which a 居場所 is below the threshold (:mod:`geo.analyses.outlook`)."""


def analyse_outlook(region: RegionLike, options: OutlookOptions, *,
                    known: WinterLoss | None = None) -> Outlook:
    """Coverage of each projection year (summer, and winter when asked): totals, per area,
    the people within reach of each facility and the 自治会 whose last 居場所 falls below
    ``min_people``.  ``known``: a winter loss computed with the same options and demand —
    its two runs are the projection year nearest today's, not computed again."""
    if not (np.isfinite(options.min_people) and options.min_people >= 0):
        raise ParameterError("居場所の人数の基準は 0 以上の数にしてください。", parameter="min_people",
                             fix="例: --min-people 10")
    facilities = region.layer(options.facilities)
    fac_id = str(id_column(facilities, options.facilities))
    nb = region.layers.get("neighbourhoods")
    rows, areas, places = [], [], []
    seasons = ("summer", "winter") if options.winter else ("summer",)
    today = projection_years(region)[1]
    for year in options.years:
        for season in seasons:
            reuse = known.runs.get(season) if known is not None and year == today else None
            run = reuse or analyse_coverage(region, CoverageOptions(
                facilities=options.facilities, max_distance=options.max_distance,
                max_minutes=options.max_minutes, profile=options.profile, year=year,
                demand=options.demand, season=season, date=options.date if season == "winter" else None))
            s = run.summary()
            label = run.season.label
            rows.append({"year": year, "season": label, "demand": options.demand, "total": s.total,
                         "covered": s.covered, "uncovered": s.uncovered, "rate": s.rate,
                         "gaps": s.gaps})
            areas.append(run.by_area.assign(year=year, season=label, demand=options.demand))
            places.append(people_in_reach(run.result, facilities, id_col=fac_id, areas=nb,
                                          area_id="area_id", area_name="name")
                          .assign(year=year, season=label, demand=options.demand))
    by_place = pd.concat(places, ignore_index=True).assign(
        below=lambda d: (d["people"] < options.min_people).fillna(True).astype(bool))
    return Outlook(by_year=pd.DataFrame(rows), by_area=pd.concat(areas, ignore_index=True),
                   by_place=by_place, last_places=last_places(by_place, min_people=options.min_people),
                   min_people=options.min_people)
