"""One partition of a batch: a municipality's units, its buffer and its per-unit results.

A batch (``REGIONS.toml``) names a region TOML holding the layers of all its
municipalities (a prefecture, or more) — or several region TOMLs, one per
prefecture — and, optionally, which municipalities to run.  Each municipality is
one **partition**: its own 要配慮者 units plus
everything within a border **buffer** of it — facilities, hazard zones and the
road sub-network whose both ends lie inside.  Each partition computes, per unit,
coverage of 居場所, the nearest usable shelter of the hazard scenario, and the
cross-border comparison (nearest overall vs nearest in the own municipality).

Exactness: a path of length *D* from a unit stays within *D* of it, so a result
whose distances are all at most the buffer equals the one-run result over the
whole region.  Units that are not verified that way (a distance beyond the
buffer, or no result) make the partition run again with twice the buffer, up
to the whole region; the buffer used is reported.  Straight-line mode (no roads)
follows the same rule with straight distances.

Runs on ``dask.distributed``: a local cluster by default (processes, one thread
each), or an existing scheduler (``--scheduler tcp://host:8786``).  The driver
streams the regions: it loads one region (layers and graph), cuts every partition's
layers and road sub-network, ships them with the tasks and forgets the region before
the next, so workers never load a region unless a partition must widen its buffer.  Outputs are
written atomically per partition (``partitions/muni=CODE/units.parquet``,
GeoParquet); a rerun skips finished partitions; a partition that raises is
retried once, then reported in ``batch_status.json`` without stopping the
others; a worker that dies is replaced and its partition rescheduled by Dask.
The merged tables (per municipality, per shelter, per municipality pair) are
built from the partition files.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import resource
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from geo.analyses.coverage import circuity_of, demand_units, nearest_points
from geo.analyses.crossborder import demand_or_proxy
from geo.engine.access import distances_from_points
from geo.engine.network import Network, Snap, induced, reverse_csr
from geo.engine.network_cache import region_network
from geo.engine.profiles import DEFAULT_CIRCUITY, DEFAULT_MAX_DISTANCE
from geo.engine.scenario import make_scenario
from geo.runs.batch.config import AS_COVERAGE, PartitionSpec, Reach
from geo.runs.batch.merge import part_bytes, part_path
from layers.atomic import atomic_path
from layers.boundaries import assign_municipality
from layers.errors import LayerError
from layers.layer_facts import id_column
from layers.shelters import DEFAULT_HAZARD

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["iter_inputs", "partition_units", "prepare_inputs", "subnetwork", "whole_region_units"]

log = logging.getLogger(__name__)


def _region(path: str) -> Any:
    """The region, loaded once per process (read-only afterwards), whatever the path's spelling."""
    return _loaded_region(str(Path(path).resolve()))


@functools.lru_cache(maxsize=2)
def _loaded_region(path: str) -> Any:
    from layers.region import load_region

    return load_region(path, with_roads=False)


def _network(path: str) -> Network | None:
    return _loaded_network(str(Path(path).resolve()))


@functools.lru_cache(maxsize=2)
def _loaded_network(path: str) -> Network | None:
    return region_network(_region(path))


def subnetwork(net: Network, area: shapely.Geometry) -> tuple[Network, np.ndarray]:
    """The nodes of ``net`` inside ``area`` (metric) and the edges with both ends inside.

    Also returns the **leak** mask: the kept nodes that lose an edge (to or from a
    node outside) — every path that leaves the sub-network passes one of them.
    """
    inside = shapely.contains_xy(area, net.x, net.y)
    keep_nodes = np.flatnonzero(inside)
    new_index = np.full(net.n, -1, np.int64)
    new_index[keep_nodes] = np.arange(len(keep_nodes))
    rows = np.repeat(np.arange(net.n, dtype=np.int64), np.diff(net.indptr))
    cut = inside[rows] != inside[net.indices]
    leak = np.zeros(len(keep_nodes), bool)
    ends = np.concatenate([rows[cut], net.indices[cut]])
    leak[new_index[ends[inside[ends]]]] = True
    sub = induced(net, inside)
    return sub, leak


def leak_distance(net: Network, leak: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Road distance from each point to the nearest leak node (``inf`` when none is reachable):
    no result shorter than this can change when the rest of the network is added."""
    if not leak.any():
        return np.full(len(x), np.inf)
    indptr, indices, weights = reverse_csr(net)
    m = csr_array((weights, indices, indptr), shape=(net.n, net.n))
    node_d = dijkstra(m, directed=True, indices=np.flatnonzero(leak), min_only=True)
    none = Snap(segment=np.zeros(0, np.int64), offset=np.zeros(0), access=np.zeros(0),
                flagged=np.zeros(0, bool))
    return distances_from_points(net, x, y, node_d, np.zeros(net.n, np.int64), none)[0]


def _nearest(ux: np.ndarray, uy: np.ndarray, fac: gpd.GeoDataFrame | None, *, crs: str,
             net: Network | None, reach: Reach) -> tuple[np.ndarray, np.ndarray]:
    """(facility id, metres) of the nearest facility of each metric point (NaN when none):
    the per-unit kernel of :func:`geo.analyses.coverage.coverage`
    (:func:`~geo.analyses.coverage.nearest_points`), with the same access rule and circuity."""
    if fac is None or not len(fac):
        return np.full(len(ux), "", dtype=object), np.full(len(ux), np.nan)
    metric = fac.to_crs(crs)
    id_col = id_column(metric, "places" if "place_id" in metric else "shelters")
    ids = metric[id_col].astype(str).to_numpy(object) if id_col else np.arange(len(metric)).astype(str)
    dist, which, _used, _far = nearest_points(ux, uy, metric.geometry.x.to_numpy(),
                                              metric.geometry.y.to_numpy(), network=net,
                                              circuity=reach.circuity, access=reach.access,
                                              join_radius=reach.join_radius)
    ok = np.isfinite(dist)
    return (np.where(which >= 0, ids[np.maximum(which, 0)], "").astype(object),
            np.where(ok, np.round(dist, 1), np.nan))


@dataclass
class PartitionLayers:
    """What one partition computes on, cut from its region: its own units, the
    facilities and hazard zones near it, and the municipality of every unit and shelter
    (so no boundaries are needed).  The driver makes these once per region and ships
    them to the workers with the partition (a worker never loads the region)."""

    crs: str
    density: gpd.GeoDataFrame
    """The partition's published units (rows of the density layer or its proxy)."""
    unit_muni: np.ndarray
    places: gpd.GeoDataFrame | None
    shelters: gpd.GeoDataFrame | None
    """With a ``_muni`` column: the municipality each shelter stands in."""
    hazards: gpd.GeoDataFrame | None
    places_any: bool
    shelters_any: bool
    area: shapely.Geometry | None = None
    """The partition's area (metric): the municipality and its buffer."""
    extent: float = 0.0
    """The region's extent in metres (a buffer twice this is the whole region)."""
    buffer_m: float = 0.0
    """The buffer of ``area`` around the municipality."""
    units: gpd.GeoDataFrame | None = None
    """The demand point of each row of ``density`` (metric), made once for the region."""


class RegionShared(NamedTuple):
    """What every partition of a region shares (computed once per region)."""

    density: gpd.GeoDataFrame
    """The region's published units (the density layer or its proxy)."""
    unit_muni: np.ndarray
    """The municipality of each unit."""
    shelters: gpd.GeoDataFrame | None
    """With ``_muni``: the municipality each shelter stands in."""
    units: gpd.GeoDataFrame
    """The demand point of each unit (metric; :func:`geo.analyses.coverage.demand_units`)."""


def region_layers(region: RegionLike) -> RegionShared:
    """The region's units, their demand points and municipalities, and its shelters with
    ``_muni``: the parts every partition of the region shares."""
    lay = region.layers
    dens = demand_or_proxy(lay, source=region.config.path)
    units = demand_units(dens, crs=region.crs)
    umuni = assign_municipality(units, lay["boundaries"], crs=region.crs).to_numpy()
    shelters = lay.get("shelters")
    if shelters is not None:
        shelters = shelters.assign(_muni=assign_municipality(shelters, lay["boundaries"],
                                                             crs=region.crs).to_numpy())
    return RegionShared(dens, umuni, shelters, units)


def partition_layers(region: RegionLike, *, muni: str | None, area: shapely.Geometry | None,
                     shared: RegionShared | None = None,
                     metric: dict[int, np.ndarray] | None = None) -> PartitionLayers:
    """``muni``'s units and the layers within ``area`` (metric) plus 1 km; ``muni=None``
    and ``area=None`` give the whole region.  ``shared`` is :func:`region_layers`;
    ``metric`` keeps each clipped layer's metric shapes between partitions of a region."""
    lay = region.layers
    crs = region.crs
    dens, umuni, shelters, units = shared if shared is not None else region_layers(region)
    mine = np.ones(len(dens), bool) if muni is None else umuni == muni
    # facilities just outside the area can still sit on a road inside it: take them too
    wide = area.buffer(1000.0) if area is not None else None
    shapes = metric if metric is not None else {}

    def clip(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        if frame is None or wide is None:
            return frame
        if id(frame) not in shapes:
            shapes[id(frame)] = frame.geometry.to_crs(crs).to_numpy()
        return frame[shapely.intersects(wide, shapes[id(frame)])]

    near = clip(shelters)
    if near is not None and shelters is not None and muni is not None:
        # every shelter of the municipality, wherever it stands: its own-municipality
        # nearest is then complete within the partition
        own = shelters["_muni"].to_numpy() == muni
        near = shelters[own | shelters.index.isin(near.index)]
    return PartitionLayers(
        crs=crs, density=dens.iloc[np.flatnonzero(mine)], unit_muni=umuni[mine],
        units=units.iloc[np.flatnonzero(mine)],
        places=clip(lay.get("places")), shelters=near, hazards=clip(lay.get("hazards")),
        places_any=bool(lay.get("places") is not None and len(lay["places"])),
        shelters_any=bool(shelters is not None and len(shelters)))


def partition_units(region: RegionLike, net: Network | None, *,
                    muni: str | None, area: shapely.Geometry | None,
                    hazard: str, max_distance: float, leak: np.ndarray | None = None,
                    reach: Reach = AS_COVERAGE) -> pd.DataFrame:
    """Per-unit results of ``muni``'s units with the layers and roads inside ``area``
    (metric CRS); ``muni=None`` and ``area=None`` give the whole region (the reference).
    See :func:`compute_partition`."""
    with _LOCK:
        shared = _SHARED.get(id(region))
        if shared is None or shared[0] is not region:
            shared = (region, region_layers(region))
            _SHARED.clear()  # one region at a time
            _SHARED[id(region)] = shared
    return compute_partition(partition_layers(region, muni=muni, area=area, shared=shared[1]), net,
                             area=area, hazard=hazard, max_distance=max_distance, leak=leak, reach=reach)


_SHARED: dict[int, tuple[Any, RegionShared]] = {}
""":func:`region_layers` of the last region a partition was computed from in this process
(a partition that widens its buffer, and its neighbours on the same worker, reuse it)."""

_LOCK = threading.Lock()


def compute_partition(layers: PartitionLayers, net: Network | None, *, area: shapely.Geometry | None,
                      hazard: str, max_distance: float, leak: np.ndarray | None = None,
                      reach: Reach = AS_COVERAGE) -> pd.DataFrame:
    """Per-unit results of a partition's layers on ``net`` (a sub-network or the region's).

    With a sub-network, ``leak`` marks its nodes that lost edges; the rows then carry
    ``leak_m``/``leak_hazard_m`` (see :func:`leak_distance`) to verify the results."""
    crs = layers.crs
    dens_m, um = layers.density, layers.unit_muni
    units = layers.units if layers.units is not None else demand_units(dens_m, crs=crs)
    shelters = layers.shelters
    scen = make_scenario(hazard, hazards=layers.hazards, network=net, shelters=shelters) \
        if shelters is not None else None
    usable = shelters[scen.shelter_status.to_numpy() == "usable"] \
        if shelters is not None and scen is not None and scen.shelter_status is not None else None
    s_net = scen.network if scen is not None else net
    ux, uy = units.geometry.x.to_numpy(), units.geometry.y.to_numpy()
    place_id, place_m = _nearest(ux, uy, layers.places, crs=crs, net=net, reach=reach)
    shel_id, shel_m = _nearest(ux, uy, usable, crs=crs, net=s_net, reach=reach)
    # cross-border: nearest usable shelter overall vs in the unit's own municipality
    fac_muni = {}
    own_m = np.full(len(dens_m), np.nan)
    if usable is not None and len(usable):
        smuni = usable["_muni"].to_numpy()
        fac_muni = dict(zip(usable["shelter_id"].astype(str), smuni, strict=True))
        for code in np.unique(um):
            sel = um == code
            own = usable[smuni == code]
            if len(own):
                own_m[sel] = _nearest(ux[sel], uy[sel], own, crs=crs, net=s_net, reach=reach)[1]
    nearest_muni = np.array([fac_muni.get(str(s), "") for s in shel_id], dtype=object)
    cross = (nearest_muni != um) & (nearest_muni != "") & \
        (np.nan_to_num(shel_m, nan=np.inf) < np.nan_to_num(own_m, nan=np.inf))
    leak_n = np.full(len(ux), np.inf)
    leak_h = np.full(len(ux), np.inf)
    if net is not None and leak is not None:
        leak_n = leak_distance(net, leak, ux, uy)
        leak_h = leak_distance(s_net, leak, ux, uy) if s_net is not None and s_net is not net else leak_n
    elif net is None and area is not None:  # straight line: the area's margin bounds every result
        margin = shapely.distance(area.boundary, shapely.points(ux, uy))
        leak_n = leak_h = np.asarray(margin, float)
    present = set(fac_muni.values())
    own_exists = np.array([code in present for code in um], dtype=bool)
    return pd.DataFrame({
        "unit_id": units["unit_id"].to_numpy(), "muni_code": um,
        "count": units["count"].to_numpy(),
        "place_id": place_id, "place_m": place_m,
        "covered": np.nan_to_num(place_m, nan=np.inf) <= max_distance,
        "shelter_id": shel_id, "shelter_m": shel_m, "shelter_reachable": ~np.isnan(shel_m),
        "nearest_muni": nearest_muni, "own_m": own_m, "cross": cross,
        "own_exists": own_exists, "leak_m": leak_n, "leak_hazard_m": leak_h,
        # straight line: every own shelter is in the partition, so its nearest is exact
        "leak_own_m": leak_h if net is not None else np.full(len(ux), np.inf),
        # a layer the region lacks has no result anywhere: nothing to verify
        "places_any": layers.places_any, "shelters_any": layers.shelters_any,
        "x": ux, "y": uy,
    })


def whole_region_units(region_toml: str | Path, *, hazard: str = DEFAULT_HAZARD, straight_line: bool = False,
                       max_distance: float = DEFAULT_MAX_DISTANCE, reach: Reach = AS_COVERAGE
                       ) -> pd.DataFrame:
    """The reference: the same per-unit results from one run over the whole region."""
    region = _region(str(Path(region_toml).resolve()))
    net = None if straight_line else _network(str(Path(region_toml).resolve()))
    if straight_line:
        reach = measured(str(Path(region_toml).resolve()), reach)
    return partition_units(region, net, muni=None, area=None, hazard=hazard, max_distance=max_distance,
                           reach=reach)


def measured(region_toml: str, reach: Reach) -> Reach:
    """``reach`` with the circuity of a straight-line estimate measured on the region's roads
    when it names none (as ``tomoni coverage --straight-line`` measures it); the default
    without roads."""
    if reach.circuity is not None:
        return reach
    net = _network(region_toml)
    return dataclasses.replace(reach, circuity=circuity_of(net) if net is not None else DEFAULT_CIRCUITY)


def _verified(df: pd.DataFrame) -> bool:
    """Every result is at most the distance to the nearest leak (or has none and can leak
    nowhere): adding the rest of the region cannot change it."""

    def ok(dist: pd.Series, leak: pd.Series, *, empty_ok: np.ndarray | None = None) -> np.ndarray:
        d = dist.to_numpy(float)
        lk = leak.to_numpy(float)
        good = np.where(np.isnan(d), np.isinf(lk), d <= lk + 1e-6)
        return good | empty_ok if empty_ok is not None else good

    return bool((ok(df["place_m"], df["leak_m"], empty_ok=~df["places_any"].to_numpy(bool))
                 & ok(df["shelter_m"], df["leak_hazard_m"], empty_ok=~df["shelters_any"].to_numpy(bool))
                 & ok(df["own_m"], df["leak_own_m"], empty_ok=~df["own_exists"].to_numpy(bool))).all())


def _muni_area(region: RegionLike, muni: str) -> tuple[shapely.Geometry, float]:
    """The municipality's polygon (metric) and the region's extent in metres."""
    b = _metric_boundaries(region)
    hit = b[b["code"].astype(str) == muni]
    if hit.empty:
        raise LayerError(f"市町村コード {muni} が市町村界にありません。", column="batch.municipalities",
                         fix="地域設定の市町村界にあるコードを指定してください。")
    extent = max(float(np.ptp(b.total_bounds[[0, 2]])), float(np.ptp(b.total_bounds[[1, 3]])))
    return hit.geometry.union_all(), extent


def _metric_boundaries(region: RegionLike) -> gpd.GeoDataFrame:
    """The region's municipalities in its metric CRS (made once per loaded region)."""
    held = _BOUNDS.get(id(region))
    if held is None or held[0] is not region:
        _BOUNDS.clear()
        held = _BOUNDS[id(region)] = (region, region.layers["boundaries"].to_crs(region.crs))
    return held[1]


_BOUNDS: dict[int, tuple[Any, gpd.GeoDataFrame]] = {}


def _save_cut(net: Network, leak: np.ndarray, target: Path) -> None:
    from geo.engine.network_cache import network_arrays

    arrays: dict[str, Any] = {**network_arrays(net), "leak": leak,
                              "meta": np.array([net.crs, str(int(net.directed))])}
    with atomic_path(target) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def _load_cut(path: str) -> tuple[Network, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k not in ("meta", "leak")}
        leak = z["leak"]
        crs, directed = (str(v) for v in z["meta"])
    return Network(**arrays, crs=crs, directed=directed == "1"), leak


def prepare_inputs(specs: Sequence[PartitionSpec], out: Path
                   ) -> tuple[list[PartitionSpec], dict[str, PartitionLayers]]:
    """Every partition of :func:`iter_inputs`: the specs (with their sub-network files)
    and the layers cut for each."""
    ready: list[PartitionSpec] = []
    layers: dict[str, PartitionLayers] = {}
    for spec, cut in iter_inputs(specs, out):
        ready.append(spec)
        if cut is not None:
            layers[spec.key] = cut
    return ready, layers


def iter_inputs(specs: Sequence[PartitionSpec], out: Path
                ) -> Iterator[tuple[PartitionSpec, PartitionLayers | None]]:
    """Cut what each partition needs, once, in this (driver) process: its road
    sub-network (saved as ``inputs/muni=CODE.npz``, kept for reruns) and its layers
    (to be shipped with the task), so a worker loads neither the region nor its graph.
    Yields each partition as soon as it is cut (the workers start on it while the
    driver cuts the next).  ``specs`` should share one region: the caller streams
    regions."""
    shared: dict[str, Any] = {}
    for spec in specs:
        if part_path(out, spec.key).exists():
            yield spec, None
            continue
        region = _region(spec.region)
        try:
            poly, _extent = _muni_area(region, spec.muni)
        except LayerError:
            yield spec, None  # reported by the worker like any failing partition
            continue
        if spec.region not in shared:
            common = region_layers(region)
            shared[spec.region] = (common, _reach_floor(region, common, spec.hazard), {})
        buffer_m = min(max(spec.buffer_m, 1000.0, shared[spec.region][1].get(spec.muni, 0.0)),
                       2 * _extent)
        area = poly.buffer(buffer_m)
        cut = dataclasses.replace(
            partition_layers(region, muni=spec.muni, area=area, shared=shared[spec.region][0],
                             metric=shared[spec.region][2]),
            area=area, extent=_extent, buffer_m=buffer_m)
        if spec.straight_line or spec.network_file:
            yield spec, cut
            continue
        target = out / "inputs" / f"muni={spec.key}-{buffer_m:.0f}m.npz"
        if not target.exists():
            full = _network(spec.region)
            if full is None:
                yield spec, cut
                continue
            net, leak = subnetwork(full, area)
            target.parent.mkdir(parents=True, exist_ok=True)
            _save_cut(net, leak, target)
        # the spec names its cut and the buffer it was cut with: a partition lost with a
        # worker is run again from the spec alone, on the same area
        yield dataclasses.replace(spec, network_file=str(target), buffer_m=buffer_m), cut


def _reach_floor(region: RegionLike, common: RegionShared,
                 hazard: str) -> dict[str, float]:
    """Per municipality, a first buffer that results can verify with: 1.25 × the farthest
    straight distance from one of its units to its nearest 居場所 or shelter usable in the
    hazard, + 500 m (no path is shorter than the straight line, so a smaller buffer could
    never verify)."""
    from scipy.spatial import cKDTree

    from geo.engine.shelter_status import shelter_status

    _dens, umuni, shelters, units = common
    if shelters is not None and len(shelters):
        status = shelter_status(shelters, hazard=hazard, hazards=region.layers.get("hazards"))
        shelters = shelters[status.to_numpy() == "usable"]
    ux, uy = units.geometry.x.to_numpy(), units.geometry.y.to_numpy()
    far = np.zeros(len(ux))
    for frame in (region.layers.get("places"), shelters):
        if frame is None or not len(frame) or not len(ux):
            continue
        pts = frame.to_crs(region.crs).geometry
        d, _ = cKDTree(np.column_stack([pts.x, pts.y])).query(np.column_stack([ux, uy]))
        far = np.maximum(far, d)
    out = pd.Series(far).groupby(umuni).max() if len(ux) else pd.Series(dtype=float)
    return {str(k): 1.25 * float(v) + 500.0 for k, v in out.items()}


def forget_region() -> None:
    """Drop the regions and graphs this process holds (the driver streams one region at a
    time; a worker that fell back to its region's graph frees it)."""
    from geo.engine.network_cache import forget_loaded

    _loaded_region.cache_clear()
    _loaded_network.cache_clear()
    with _LOCK:
        _SHARED.clear()
    _BOUNDS.clear()
    forget_loaded()


def run_partition(spec: PartitionSpec, layers: PartitionLayers | None = None) -> dict[str, Any]:
    """Compute one partition with a growing buffer until verified; returns its rows and facts.

    With shipped ``layers`` and a prepared sub-network the first try loads nothing else; a
    partition whose results reach beyond them falls back to its region (layers and graph)
    with a doubled buffer.
    """
    import psutil

    t0 = time.perf_counter()
    buffer_m = layers.buffer_m if layers is not None and layers.buffer_m else max(spec.buffer_m, 1000.0)
    base = buffer_m
    source = "prepared"
    region: Any = None
    poly: Any = None
    extent = 0.0
    while True:
        shipped = layers is not None and buffer_m == base
        if shipped:
            area, extent = layers.area, layers.extent  # type: ignore[union-attr]
        else:
            if region is None:  # nothing shipped, or the shipped cut was not enough
                region = _region(spec.region)
                poly, extent = _muni_area(region, spec.muni)
            area = poly.buffer(buffer_m)
        if spec.straight_line:
            net, leak = None, None
        elif spec.network_file and buffer_m == base:
            net, leak = _load_cut(spec.network_file)
        else:
            source = "region graph"
            full = _network(spec.region)
            net, leak = subnetwork(full, area) if full is not None else (None, None)
        if shipped:
            df = compute_partition(layers, net, area=area, hazard=spec.hazard,  # type: ignore[arg-type]
                                   max_distance=spec.max_distance, leak=leak, reach=spec.reach)
        else:
            df = partition_units(region, net, muni=spec.muni, area=area, hazard=spec.hazard,
                                 max_distance=spec.max_distance, leak=leak, reach=spec.reach)
        if buffer_m >= 2 * extent or _verified(df):
            break
        log.info("partition %s: not verified with a %.0f m buffer, doubling", spec.key, buffer_m)
        buffer_m *= 2
    crs = layers.crs if layers is not None else _region(spec.region).crs
    return {"key": spec.key, "muni": spec.muni, "parquet": part_bytes(df, crs), "buffer_m": buffer_m,
            "nodes": 0 if net is None else net.n, "seconds": time.perf_counter() - t0,
            "rss_mb": psutil.Process().memory_info().rss / 2**20,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "verified": _verified(df),
            "graph": "none" if spec.straight_line else source,
            "region_loaded": region is not None}
