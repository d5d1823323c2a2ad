"""What a walk + bus run gives people: the unit table, the interactive map and the files.

Files of :func:`write_transit_outputs` (UTF-8 with BOM, cells neutralised, written
atomically):

* ``transit_units.csv`` — per published unit: minutes walking only, the earliest
  arrival, best / median / worst minutes over the window, usable bus journeys, a demand
  ride, reached on foot / by walking + bus / only by bus, lost at the weekend / in
  winter (Japanese headers, はい or blank);
* ``transit_units.gpkg`` — the same on the published unit shapes' anchor points;
* ``transit_by_area.csv`` (自治会, 校区, 市町村), ``transit_routes.csv``,
  ``transit_gaps.geojson``;
* ``transit_new_stops.csv`` and ``transit_extra_trips.csv`` (when the what-ifs ran);
* ``transit_map.html`` — the travel-time map, offline-ready like every map here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analyses.transit_access import TransitResult, window_text
from geo.outputs.csv_safe import csv_text
from geo.outputs.labels import japanese_table
from layers.atomic import atomic_write_text
from layers.crs import STORAGE_CRS

__all__ = ["route_lines", "time_classes", "transit_figure", "transit_map", "units_table",
           "write_transit_outputs"]

ROUTE_COLORS = ("#1b6ca8", "#c0392b", "#8e44ad", "#16a085", "#d35400", "#2c3e50")


def units_table(result: TransitResult, losses: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per published unit, the figures of the run (no geometry)."""
    u = result.units
    out = pd.DataFrame({
        "unit_id": u["unit_id"].to_numpy(), "count": u["count"].to_numpy(),
        "walk_min": u["walk_min"].to_numpy(), "earliest_arrival": u["earliest_arrival"].to_numpy(),
        "best_min": u["best_min"].to_numpy(), "median_min": u["median_min"].to_numpy(),
        "worst_min": u["worst_min"].to_numpy(), "usable_trips": u["usable_trips"].to_numpy(),
        "demand_ride": u["demand_ride"].to_numpy(),
        "by_walk": u["covered_walk"].to_numpy(), "by_bus": u["covered"].to_numpy(),
        "only_by_bus": u["gained"].to_numpy(), "nearest_name": u["facility_name"].to_numpy()})
    if losses is not None:
        out["weekend_lost"] = losses["lost_weekend"].to_numpy()
        out["winter_lost"] = losses["lost_winter"].to_numpy()
    return out


def time_classes(result: TransitResult) -> tuple[np.ndarray, list[str]]:
    """Colour class of each unit's minutes (the run's rule: best or median): four bands up
    to the threshold, beyond it, not reached at all."""
    col = "best_min" if result.rule == "trip" else "median_min"
    v = result.units[col].to_numpy(float)
    n = result.max_minutes
    bounds = np.asarray([n * f for f in (0.25, 0.5, 0.75, 1.0)])
    cls = np.where(np.isfinite(v), np.minimum(np.searchsorted(bounds, v, side="left"), 4), 5)
    labels = [f"〜{bounds[0]:.0f} 分", f"〜{bounds[1]:.0f} 分", f"〜{bounds[2]:.0f} 分",
              f"〜{n:.0f} 分（届く）", f"{n:.0f} 分超", "届かない"]
    return cls, labels


def _route_colours(lines: gpd.GeoDataFrame) -> np.ndarray:
    """A colour index per line: routes in turn through :data:`ROUTE_COLORS`."""
    ids = {r: i for i, r in enumerate(sorted(lines["route_id"].unique()))}
    return np.array([ids[r] % len(ROUTE_COLORS) for r in lines["route_id"]], dtype=np.int64)


def route_lines(result: TransitResult) -> gpd.GeoDataFrame:
    """Each stop pattern of the day as a line through its stops (EPSG:4326): route_id,
    route_name, trips — not the roads the bus drives."""
    day = result.day
    ev = day.trips.events
    if ev.empty:
        return gpd.GeoDataFrame({"route_id": [], "route_name": [], "trips": []}, geometry=[], crs=STORAGE_CRS)
    xy = day.stops.set_index("stop_id")[["lon", "lat"]]
    stops_of = pd.Series(ev["stop_id"].to_numpy(object), index=ev.index)  # Python strings join fast
    grp = stops_of.groupby(ev["trip_id"].to_numpy(object), sort=False)
    first_route = ev.groupby(ev["trip_id"].to_numpy(object), sort=False)["route_id"].first()
    seqs = pd.DataFrame({"route_id": first_route, "key": grp.agg("\x1f".join)})
    pats = seqs.groupby(["route_id", "key"]).size().reset_index(name="trips")
    pats["pattern"] = pats["key"].str.split("\x1f")
    names = day.routes.drop_duplicates("route_id").set_index("route_id")["route_name"]
    geoms = [shapely.LineString(xy.loc[list(p)].to_numpy(float)) for p in pats["pattern"]]
    return gpd.GeoDataFrame({"route_id": pats["route_id"].to_numpy(),
                             "route_name": names.reindex(pats["route_id"]).fillna("").to_numpy(),
                             "trips": pats["trips"].to_numpy()}, geometry=geoms, crs=STORAGE_CRS)


def _unit_label(row: Any) -> str:
    if not np.isfinite(row.best_min):
        return f"{row.unit_id}: 届かない"
    walk = f"徒歩だけ {row.walk_min:.0f} 分" if np.isfinite(row.walk_min) else "徒歩では届かない"
    return (f"{row.unit_id}: 最短 {row.best_min:.0f} 分・中央値 {row.median_min:.0f} 分（{walk}、"
            f"使える便 {row.usable_trips}）")


def transit_map(result: TransitResult, density: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame,
                layers: Mapping[str, Any], *, title: str, fictional: bool = False,
                attribution: Sequence[str] = (), lang: str = "ja") -> Any:
    """The travel-time map: units coloured by minutes by walking + bus, the lines (through
    their stops) and stops, the destinations and the gaps.  Every text is escaped."""
    from geo.outputs.maps import add_lines, add_marks, add_unit_classes, region_map

    shown = {k: layers[k] for k in ("boundaries", result.facilities) if k in layers}
    m = region_map(shown, fictional=fictional, attribution=list(attribution), lang=lang, layer_control=False)
    cls, labels = time_classes(result)
    tips = [_unit_label(r) for r in result.units[["unit_id", "best_min", "median_min", "walk_min",
                                                  "usable_trips"]].itertuples(index=False)]
    lines = route_lines(result)
    colour = _route_colours(lines)
    lines = lines.assign(label=lines["route_name"] + "（" + lines["trips"].astype(str) + " 便）")
    for c, grp in lines.groupby(colour, sort=True):  # one layer a colour: a big feed stays a few layers
        names = grp["route_name"].unique()
        add_lines(m, grp, name=str(names[0]) if len(names) == 1 else f"バス路線（{len(names)} 路線）",
                  color=ROUTE_COLORS[int(c)], weight=4, tooltip="label", class_name="tomoni-bus-route")
    stops = result.day.stops
    points = shapely.points(stops[["lon", "lat"]].to_numpy())
    add_marks(m, gpd.GeoDataFrame(stops[["stop_name"]], geometry=points, crs=STORAGE_CRS), name="停留所",
              color="#ffffff", label="stop_name", radius=5)
    add_unit_classes(m, density, cls, tips, labels, gaps, layer="徒歩＋バスの所要時間",
                     title=f"{title}（{window_text(result.window)} に出発）")
    return m


def transit_figure(run: Any, density: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None, *, crs: str,
                   title: str, fictional: bool = False, attribution: Sequence[str] = ()) -> Any:
    """The printed map of a run (matplotlib): units by minutes, the lines through their
    stops, the destinations and the gaps."""
    from geo.outputs.maps import COVERAGE_PALETTE
    from geo.outputs.printed_map import static_map

    cls, labels = time_classes(run.result)
    shown = {"places": run.destinations}
    if boundaries is not None:
        shown = {"boundaries": boundaries, **shown}
    lines = route_lines(run.result)
    colour = _route_colours(lines)
    overlays: list[tuple[gpd.GeoDataFrame, dict[str, Any], str | None]] = []
    for c in np.unique(colour):
        names = lines.loc[colour == c, "route_name"].unique()
        overlays.append((lines[colour == c], {"color": ROUTE_COLORS[int(c)], "linewidth": 2.2},
                         str(names[0]) if len(names) == 1 else f"バス路線（{len(names)} 路線）"))
    stops = run.result.day.stops
    points = gpd.GeoDataFrame(geometry=shapely.points(stops[["lon", "lat"]].to_numpy()), crs=STORAGE_CRS)
    overlays.append((points, {"color": "white", "s": 28, "edgecolor": "black"}, "停留所"))
    return static_map(shown, crs=crs, title=title, fictional=fictional, attribution=attribution,
                      choropleth=(density, [COVERAGE_PALETTE[c] for c in cls],
                                  list(zip(COVERAGE_PALETTE, labels, strict=True))),
                      outlines=(run.gaps, "空白地帯"), overlays=overlays)


def write_transit_outputs(run: Any, out: Path, *, density: gpd.GeoDataFrame,
                          layers: Mapping[str, Any], title: str, fictional: bool = False,
                          attribution: Sequence[str] = ()) -> None:
    """Every file of a :class:`geo.analyses.transit.TransitRun` into ``out`` (see the module doc)."""
    from geo.outputs.assets import standalone_html
    from geo.outputs.files.coverage import GAP_PROPERTIES
    from geo.outputs.layer_export import geojson_text, write_geopackage

    out.mkdir(parents=True, exist_ok=True)
    table = units_table(run.result, run.losses)

    def put(name: str, df: pd.DataFrame) -> None:
        atomic_write_text(out / name, csv_text(japanese_table(df)), encoding="utf-8-sig")

    put("transit_units.csv", table)
    points = gpd.GeoDataFrame(table, geometry=run.result.units.geometry.to_numpy(), crs=run.result.units.crs)
    write_geopackage({"transit_units": points.to_crs(STORAGE_CRS)}, out / "transit_units.gpkg")
    put("transit_by_area.csv", run.by_area)
    put("transit_routes.csv", run.routes)
    atomic_write_text(out / "transit_gaps.geojson", geojson_text(run.gaps, properties=GAP_PROPERTIES))
    if run.new_stops is not None:
        put("transit_new_stops.csv", run.new_stops)
    if run.extra_trips is not None:
        put("transit_extra_trips.csv", run.extra_trips)
    m = transit_map(run.result, density, run.gaps, layers, title=title, fictional=fictional,
                    attribution=attribution)
    atomic_write_text(out / "transit_map.html", standalone_html(m))
