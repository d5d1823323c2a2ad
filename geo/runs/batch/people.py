"""The people of a batch's merged tables: each person measured from their own home.

The partitions give results per published unit, at the unit's public anchor (their files
hold no record).  The merged tables count *people*: how many live within reach of a
居場所, how many reach no usable shelter, how many are nearer a neighbour's shelter, and
each shelter's load.  Counted from anchors they were 1.5–2.5× off on sparse registers
(a territory's people all at one point), so they are counted here instead:

* every person of the region — the register's people in memory, or the density spread
  over its units' outlines (:func:`geo.analyses.coverage.people_of`) — is measured
  with the partitions' own kernel (:func:`~geo.runs.batch.partition.compute_partition`)
  over the whole region, **in the driver process**: a record is never shipped to a
  worker, nor written;
* each person counts in the municipality holding their home (as ``tomoni coverage``'s
  table per area), and every number passes the gate (:meth:`layers.demand.Demand.count`);
* only those protected tables are kept, as ``people/<key>.json`` beside the partitions
  (a rerun reuses them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analyses.coverage import area_of, people_of, shapes_in
from geo.analyses.inputs import register_people
from geo.runs.batch.config import PartitionSpec
from geo.runs.batch.partition import _region, compute_partition, partition_layers, region_layers
from layers.atomic import atomic_write_text

__all__ = ["TABLES", "ensure_people", "people_key", "read_people"]

log = logging.getLogger(__name__)

TABLES = ("by_muni", "load", "pairs")
"""The protected tables of one region: per municipality, per shelter, per municipality pair."""


def people_key(spec: PartitionSpec, munis: Sequence[str]) -> str:
    """The file name of a region's people tables: the region, its batch's municipalities and
    every option the counts depend on."""
    text = json.dumps([str(Path(spec.region).resolve()), sorted(munis), spec.hazard, spec.straight_line,
                       spec.max_distance, dataclasses.astuple(spec.reach)], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def ensure_people(specs: Sequence[Any], out: Path) -> None:
    """Write the people tables of every region (and options) among ``specs`` not written yet.

    Only the people living in the batch's municipalities are counted (a shelter's load too)."""
    groups: dict[tuple[Any, ...], tuple[PartitionSpec, set[str]]] = {}
    for spec in specs:
        if isinstance(spec, PartitionSpec):  # (a test's own spec has no region to count)
            group = (str(Path(spec.region).resolve()), spec.hazard, spec.straight_line, spec.max_distance,
                     spec.reach)
            groups.setdefault(group, (spec, set()))[1].add(spec.muni)
    for spec, munis in groups.values():
        target = out / "people" / f"{people_key(spec, sorted(munis))}.json"
        if _readable(target):
            continue  # a damaged file (edited by hand) is made again: it holds only what this makes
        tables = people_tables(spec, munis)
        target.parent.mkdir(parents=True, exist_ok=True)
        doc = {name: json.loads(frame.to_json(orient="records", force_ascii=False))
               for name, frame in tables.items()}
        atomic_write_text(target, json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _readable(path: Path) -> bool:
    """Whether ``path`` is a people file this module wrote (an object holding the tables)."""
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and all(isinstance(doc.get(name), list) for name in TABLES)


def read_people(out: Path) -> dict[str, pd.DataFrame]:
    """Every region's people tables in ``out``, one frame per table (counts as ``Int64``,
    「k未満」 as ``<NA>``); empty frames when none was written."""
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    for path in sorted((out / "people").glob("*.json")):
        if not _readable(path):
            continue
        doc = json.loads(path.read_text("utf-8"))
        for name in TABLES:
            parts[name].append(pd.DataFrame(doc.get(name, [])))
    frames = {}
    for name, found in parts.items():
        frame = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
        for col in frame.columns:
            if col not in ("muni_code", "shelter_id", "from_muni", "to_muni"):
                frame[col] = frame[col].astype("Int64")
            else:
                frame[col] = frame[col].astype(str)
        frames[name] = frame
    return frames


def people_tables(spec: PartitionSpec, munis: set[str]) -> dict[str, pd.DataFrame]:
    """The protected people tables of ``spec``'s region and options, for the people living in
    ``munis`` (see the module doc)."""
    from geo.runs.batch.partition import _network

    region = _region(spec.region)
    crs = region.crs
    shared = region_layers(region)
    people = people_of(shared.density, register_people(region), crs)
    px, py = people.xy(crs)
    bounds = region.layers["boundaries"].reset_index(drop=True)
    codes = bounds["code"].astype(str).to_numpy(object)
    home = area_of(shapely.points(px, py), shapes_in(bounds, crs)).copy()  # as tomoni coverage's areas
    home[~np.isin(codes[np.maximum(home, 0)].astype(str), sorted(munis))] = -1  # the batch's people
    mine = np.flatnonzero(home >= 0)
    points = gpd.GeoDataFrame({"unit_id": mine, "count": people.weight[mine]},
                              geometry=shapely.points(px[mine], py[mine]), crs=crs)
    layers = dataclasses.replace(partition_layers(region, muni=None, area=None, shared=shared),
                                 density=points, unit_muni=codes[home[mine]], units=points)
    net = None if spec.straight_line else _network(spec.region)
    rows = compute_partition(layers, net, area=None, hazard=spec.hazard, max_distance=spec.max_distance,
                             reach=spec.reach)
    log.info("batch: %d people measured from their homes in the driver", len(mine))

    def every_person(column: str, empty: object) -> np.ndarray:
        """A result column for every person (``empty`` for those not counted)."""
        full = np.full(len(home), empty, dtype=object if isinstance(empty, str) else bool)
        full[mine] = rows[column].to_numpy()
        return full

    flags = {c: every_person(c, False) for c in ("covered", "shelter_reachable", "cross")}
    names = {c: every_person(c, "") for c in ("shelter_id", "nearest_muni")}
    return _protected(people, home, codes, flags | names)


def _protected(people: Any, home: np.ndarray, codes: np.ndarray, rows: dict[str, np.ndarray]
               ) -> dict[str, pd.DataFrame]:
    """Per municipality, per shelter and per pair: every number through the gate."""
    n = len(codes)
    covered, reachable, cross = rows["covered"], rows["shelter_reachable"], rows["cross"]
    by_muni = pd.DataFrame({
        "muni_code": codes, "people": people.count(home, n), "covered": people.count(home, n, covered),
        "no_shelter": people.count(home, n, ~reachable), "cross_border": people.count(home, n, cross)})
    inside = home >= 0
    pick = inside & reachable
    ids, cell = np.unique(rows["shelter_id"][pick].astype(str), return_inverse=True)
    where = np.full(len(home), -1, np.int64)
    where[pick] = cell
    load = pd.DataFrame({"shelter_id": ids, "demand": people.count(where, len(ids))})
    pick = inside & cross
    pair = np.char.add(np.char.add(codes[home[pick]].astype(str), ">"),
                       rows["nearest_muni"][pick].astype(str))
    keys, cell = np.unique(pair, return_inverse=True)
    where = np.full(len(home), -1, np.int64)
    where[pick] = cell
    split = [k.split(">") for k in keys]
    pairs = pd.DataFrame({"from_muni": [a for a, _ in split], "to_muni": [b for _, b in split],
                          "people": people.count(where, len(keys))})
    return {"by_muni": by_muni, "load": load, "pairs": pairs}
