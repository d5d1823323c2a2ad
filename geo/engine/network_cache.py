"""The road network's disk cache and in-memory memo: a road file is built into CSR
arrays once, keyed by its content, and every later command loads the arrays.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from geo.engine.network import _LOCK, Network, from_graph, with_barriers
from layers.atomic import atomic_path
from layers.cache import cache_folder, file_hash, keep_within_limit
from layers.roads import load_roads_and_barriers

if TYPE_CHECKING:
    from layers.region import RegionLike

__all__ = ["cache_path", "load_network", "region_network"]

log = logging.getLogger(__name__)

CACHE_VERSION = 10


def load_network(path: Path, *, network: str = "walk", crs: str,
                 cache_dir: Path | None = None, clip: Any = None) -> Network:
    """Load a road file as a :class:`Network` (with the barriers it holds), through the
    on-disk cache.

    The cache key is the file's SHA-256, the network type, the CRS, the outline an OSM
    extract is kept to (``clip``, :func:`layers.osm_extract.road_clip`) and the cache
    format version; a changed file is rebuilt, never served stale.
    """
    from layers.osm_extract import clip_key

    folder = cache_dir or cache_folder()
    stat = Path(path).stat()
    memo_key = (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size, network, crs, str(folder),
                clip_key(clip))
    with _LOCK:
        hit = _LOADED.get(memo_key)
    if hit is not None:
        return hit
    net = _load_network(Path(path), network=network, crs=crs, folder=folder, clip=clip)
    with _LOCK:
        while len(_LOADED) >= MAX_LOADED:
            _LOADED.pop(next(iter(_LOADED)))
        return _LOADED.setdefault(memo_key, net)


def _build(path: Path, *, network: str, crs: str, clip: Any = None) -> Network:
    """A road file as a :class:`Network`: an OSM extract (PBF/XML) straight from its ways
    (:mod:`layers.osm_extract`), a GraphML file through its osmnx graph."""
    from layers.readers import detect_format, require_file
    from layers.roads import NETWORKS

    require_file(path)
    if network in NETWORKS and detect_format(path, None) in ("osm", "pbf"):
        from geo.engine.network import from_ways
        from layers.osm_extract import read_ways
        ways = read_ways(path, network=network, clip=clip)
        return from_ways(ways, crs=crs, barriers=ways.barriers(path.name))
    graph, barriers = load_roads_and_barriers(path, network=network)
    return from_graph(graph, crs=crs, barriers=barriers)


def cache_path(path: Path, *, network: str, crs: str, clip: Any = None, folder: Path | None = None) -> Path:
    """Where the network of a road file (kept to ``clip``) is cached."""
    from layers.osm_extract import clip_key

    key = f"{file_hash(path)}-{network}-{crs.replace(':', '')}-{clip_key(clip)}-v{CACHE_VERSION}"
    return (folder or cache_folder()) / f"network-{key}.npz"


def _load_network(path: Path, *, network: str, crs: str, folder: Path, clip: Any = None) -> Network:
    cached = cache_path(path, network=network, crs=crs, clip=clip, folder=folder)
    if cached.exists():
        try:
            return read_npz(cached)
        except (OSError, ValueError, KeyError):
            log.warning("network cache unreadable, rebuilding: %s", cached.name)
    net = _build(path, network=network, crs=crs, clip=clip)
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {**network_arrays(net), "meta": np.array([net.crs, str(int(net.directed))])}
    with atomic_path(cached) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    keep_within_limit()
    return net


def region_network(region: RegionLike) -> Network | None:
    """The (cached) network of a loaded :class:`layers.region.Region`, with the barriers of
    its road file and of its ``[layers.barriers]``; None without roads."""
    roads = region.config.roads
    if roads is None:
        return None
    net = load_network(roads.path, network=roads.network, crs=region.crs,
                       clip=roads.clip(region.layers.get("boundaries"), region.crs))
    extra = region.layers.get("barriers")
    if extra is None or not len(extra):
        return net
    key = hashlib.sha256(b"".join(shapely.to_wkb(extra.geometry.to_numpy()))).hexdigest()
    with _LOCK:
        hit = _WITH_BARRIERS.setdefault(net, {}).get(key)
    if hit is None:
        hit = with_barriers(net, extra)
        with _LOCK:
            hit = _WITH_BARRIERS[net].setdefault(key, hit)
    return hit


MAX_LOADED = 6
"""Networks kept in memory (per road file, type and CRS): the app's sessions share them."""

_LOADED: dict[tuple[str, int, int, str, str, str, str], Network] = {}

_WITH_BARRIERS: weakref.WeakKeyDictionary[Network, dict[str, Network]] = weakref.WeakKeyDictionary()


def forget_loaded() -> None:
    """Drop the networks kept in memory (the next load reads the on-disk cache)."""
    with _LOCK:
        _LOADED.clear()


_FIELDS = ("node_ids", "x", "y", "indptr", "indices", "weights", "seg_a", "seg_b", "seg_len",
           "seg_fwd", "seg_bwd", "seconds", "name_idx", "names", "seg_join", "barrier_wkb",
           "barrier_off", "grid_ptr", "grid_seg", "grid_box", "road_class", "cond_idx", "conds")


def network_arrays(net: Network) -> dict[str, np.ndarray]:
    return {k: getattr(net, k) for k in _FIELDS if getattr(net, k) is not None}


def read_npz(path: Path) -> Network:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "meta"}
        crs, directed = (str(v) for v in z["meta"])
    return Network(**arrays, crs=crs, directed=directed == "1")
