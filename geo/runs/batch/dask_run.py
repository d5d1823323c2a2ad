"""Running the partitions: in this process, or on a Dask cluster (local or a scheduler).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.runs.batch.config import PartitionSpec, Reach
from geo.runs.batch.merge import merge, part_path, write_part
from geo.runs.batch.partition import (
    PartitionLayers,
    _region,
    forget_region,
    iter_inputs,
    measured,
    run_partition,
    whole_region_units,
)
from geo.runs.batch.people import ensure_people
from layers.atomic import atomic_write_text
from layers.errors import LayerError, ParameterError

__all__ = ["fits_one_process", "run_batch"]

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch run did."""

    out: Path
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    mode: str = "dask"
    """``dask`` (partitions on workers) or ``one process`` (the region fits: one run)."""

    def summary(self) -> dict[str, Any]:
        return {"out": str(self.out), "partitions": len(self.done) + len(self.skipped) + len(self.failed),
                "computed": len(self.done), "skipped": len(self.skipped), "failed": self.failed,
                "seconds": round(self.seconds, 1), "mode": self.mode}


ONE_PROCESS_BYTES = 1 << 30
"""A region whose files (roads included) total less than this runs in one process by default:
partitions and workers cost more than they save (measured on all of Akita: 10 s against 1 s)."""


def fits_one_process(region_toml: str | Path) -> bool:
    """Whether a region is small enough to be computed in one process (see
    :data:`ONE_PROCESS_BYTES`)."""
    from layers.region import read_config

    files = read_config(region_toml).input_files()
    return sum(f.stat().st_size for f in files if f.is_file()) < ONE_PROCESS_BYTES


def _one_process(todo: Sequence[PartitionSpec], out: Path, res: BatchResult, crs: str) -> None:
    """Every partition from one run over its whole region, split by municipality: the same
    rows as the partitions give (the batch tests compare them), without their overhead."""
    groups: dict[tuple[str, str, bool, float, Reach], list[PartitionSpec]] = {}
    for spec in todo:
        groups.setdefault((spec.region, spec.hazard, spec.straight_line, spec.max_distance, spec.reach),
                          []).append(spec)
    for (region, hazard, straight, max_d, reach), specs in groups.items():
        t0 = time.perf_counter()
        try:
            rows = whole_region_units(region, hazard=hazard, straight_line=straight, max_distance=max_d,
                                      reach=reach)
        except Exception as exc:  # the partitions of this region fail together, the others run
            msg = exc.message if isinstance(exc, LayerError) else type(exc).__name__
            res.failed.update({spec.key: msg for spec in specs})
            continue
        region_crs = _region(region).crs
        for spec in specs:
            mine = rows[rows["muni_code"].astype(str) == spec.muni].reset_index(drop=True)
            write_part(out, {"key": spec.key, "rows": mine, "crs": region_crs}, crs)
            res.done.append(spec.key)
            res.facts[spec.key] = {"key": spec.key, "muni": spec.muni, "graph": "whole region",
                                   "seconds": round(time.perf_counter() - t0, 2), "verified": True}


def _client(scheduler: str | None, workers: int) -> Any:
    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO chatter is not ours
    if scheduler:
        try:
            return Client(scheduler, timeout="10s")
        except OSError:
            raise ParameterError("Dask のスケジューラに接続できません。", parameter="scheduler",
                             fix="アドレス（例 tcp://10.0.0.5:8786）と、スケジューラが起動しているかを"
                             "確かめてください。") from None
    import dask

    _boot_worker_server()
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, scheduler_kwargs={"dashboard": False},
                               silence_logs=logging.CRITICAL)  # task errors come back through the futures
    return Client(cluster)


def _boot_worker_server() -> None:
    """Start the process local workers are forked from, importing the engine once.

    Spawning each worker would import it again (two imports on two cores while the
    driver loads the region).  The server is a fresh interpreter, not a fork of this
    threaded process, so forking from it is as safe as spawning.  Started first thing,
    it imports while the driver imports Dask and loads the region."""
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.set_forkserver_preload(list(_WORKER_MODULES))
    forkserver.ensure_running()


_WORKER_MODULES = ("distributed.nanny", "distributed.worker", "geo.runs.batch.partition",
                   "geo.engine.road_index", "geo.engine.shortest_paths")
"""What a worker runs and a partition computes with: imported by the worker server
before it forks."""


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    names = ("distributed", "tornado", "asyncio")
    old = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for n, level in old.items():
            logging.getLogger(n).setLevel(level)


def run_batch(specs: Sequence[Any], out: str | Path, *, scheduler: str | None = None, workers: int = 2,
              runner: Callable[[Any], dict[str, Any]] = run_partition, crs: str = "EPSG:6678",
              client: Any = None, one_process: bool = False) -> BatchResult:
    """Run every partition not yet written on Dask; merge; write ``batch_status.json``.

    ``runner`` computes one spec (default :func:`run_partition`); it must return a
    dict with ``key`` and ``rows`` (a DataFrame with ``x``/``y`` in ``crs``).
    ``one_process`` computes every partition from one run over its region instead
    (:func:`fits_one_process` says when that is the faster way).
    """
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res = BatchResult(out=out, mode="one process" if one_process else "dask")
    # a straight-line estimate's circuity is measured once, on each region's whole roads
    specs = [dataclasses.replace(s, reach=measured(s.region, s.reach))
             if isinstance(s, PartitionSpec) and s.straight_line else s for s in specs]
    if one_process and runner is run_partition:
        todo = [s for s in specs if not part_path(out, s.key).exists()]
        res.skipped = [s.key for s in specs if part_path(out, s.key).exists()]
        _one_process(todo, out, res, crs)
        return _finish(res, out, t0, specs)
    todo = []
    for spec in specs:
        if part_path(out, spec.key).exists():
            res.skipped.append(spec.key)
        else:
            todo.append(spec)
    starting = _Starting(scheduler, workers) if client is None and todo else None
    try:
        if todo:
            _collect(_submit(starting or _Given(client), todo, out, runner, specs), out, res, crs, runner)
    finally:
        if starting is not None:
            starting.close()
    return _finish(res, out, t0, specs)


class _Starting:
    """The Dask client, started in a background thread while the driver cuts the first
    region (starting two worker processes costs about a second)."""

    def __init__(self, scheduler: str | None, workers: int) -> None:
        if not scheduler:
            _boot_worker_server()
        self._pool = ThreadPoolExecutor(1)
        self._future = self._pool.submit(_client, scheduler, workers)

    def get(self) -> Any:
        return self._future.result()

    def ready(self) -> bool:
        """Started (or failed to: :meth:`get` raises the error)."""
        return self._future.done()

    def close(self) -> None:
        try:
            cl = self._future.result()
        except Exception:  # it never started: nothing to close (the error is raised by get)
            return
        finally:
            self._pool.shutdown(wait=False)
        with _quiet_dask():  # an interrupted shutdown prints no Dask traceback
            cluster = cl.cluster
            cl.close()
            if cluster is not None:
                cluster.close()


@dataclass
class _Given:
    """A client the caller started: always ready."""

    client: Any

    def get(self) -> Any:
        return self.client

    def ready(self) -> bool:
        return True


def _submit(start: Any, todo: Sequence[Any], out: Path, runner: Callable[[Any], dict[str, Any]],
            specs: Sequence[Any] = ()) -> tuple[Any, dict[Any, Any]]:
    """Submit every partition, region by region: the driver loads one region (and its
    graph), cuts its partitions, and forgets it before the next region.  Each partition
    is shipped as soon as it is cut once the cluster is up (``start``: ``ready()`` and
    ``get()`` the client; the first region is cut while it starts).  While the workers
    compute, the driver counts the region's people (:mod:`geo.runs.batch.people`, over all
    ``specs`` of the region: never shipped).  Dask is imported only then: importing it here
    would wait for the starting thread's import."""
    futures: dict[Any, Any] = {}
    held: list[Any] = []  # the as_completed queue, made with the client
    waiting: list[tuple[PartitionSpec, PartitionLayers | None]] = []

    def ship() -> None:
        cl = start.get()
        if not held:
            from dask.distributed import as_completed

            held.append(as_completed())
            if runner is run_partition:  # workers import while the driver goes on
                futures.update({cl.submit(_warm, workers=[addr], pure=False, allow_other_workers=False):
                                None for addr in cl.scheduler_info().get("workers", {})})
        pending = held[0]
        cut = [(spec, lay) for spec, lay in waiting if lay is not None]
        sent = cl.scatter([lay for _spec, lay in cut], hash=False) if cut else []
        scattered = {spec.key: fut for (spec, _lay), fut in zip(cut, sent, strict=True)}
        for spec, _lay in waiting:
            args = (spec, scattered.get(spec.key)) if runner is run_partition else (spec,)
            fut = cl.submit(runner, *args, pure=False, retries=1, key=f"partition-{spec.key}")
            futures[fut] = spec
            pending.add(fut)
        waiting.clear()

    for group in _by_region(todo):
        items = _inputs_guarded(group, out) if runner is run_partition else ((s, None) for s in group)
        for item in items:
            waiting.append(item)
            if start.ready() and len(waiting) >= _SHIP_EVERY:
                ship()
        if waiting:
            ship()
        ensure_people([s for s in specs if getattr(s, "region", None) == getattr(group[0], "region", "")],
                      out)
        if runner is run_partition:
            forget_region()
    return held[0], futures


_SHIP_EVERY = 4
"""Partitions shipped together once the cluster is up (one scatter round trip each time)."""


def _warm() -> None:
    """Import what a partition computes with (and load the compiled kernels), ahead of it."""
    import geo.engine.road_index
    import geo.engine.shortest_paths  # noqa: F401


LOST = frozenset({"FutureCancelledError", "CancelledError", "KilledWorker"})
"""Failures that mean a worker died (with the partition's shipped cut): the partition is
submitted once more, to load its own region on a worker that lives."""


def _collect(submitted: tuple[Any, dict[Any, Any]], out: Path, res: BatchResult, crs: str,
             runner: Callable[[Any], dict[str, Any]] = run_partition) -> None:
    """Write each partition as it finishes; a failing one is reported, the others go on; one
    lost with a worker is submitted again without its shipped cut."""
    pending, futures = submitted
    again: set[str] = set()
    for fut in pending:  # (the warm-up futures are held in ``futures`` until the end)
        spec = futures.pop(fut)
        try:
            result = fut.result()
        except Exception as exc:  # one partition must not stop the others
            if type(exc).__name__ in LOST and spec is not None and spec.key not in again:
                again.add(spec.key)
                log.info("partition %s lost with a worker: submitted again", spec.key)
                retry = fut.client.submit(runner, spec, pure=False, retries=1,
                                          key=f"partition-{spec.key}-again")
                futures[retry] = spec
                pending.add(retry)
                continue
            msg = exc.message if isinstance(exc, LayerError) else type(exc).__name__
            res.failed[spec.key] = msg
            log.warning("partition %s failed: %s", spec.key, msg)
            continue
        write_part(out, result, crs)
        res.done.append(spec.key)
        res.facts[spec.key] = {k: v for k, v in result.items() if k not in ("rows", "parquet")}


def _by_region(specs: Sequence[PartitionSpec]) -> list[list[PartitionSpec]]:
    """The specs grouped by region file, in their first order."""
    groups: dict[str, list[PartitionSpec]] = {}
    for spec in specs:
        groups.setdefault(str(getattr(spec, "region", "")), []).append(spec)
    return list(groups.values())


def _inputs_guarded(specs: Sequence[PartitionSpec], out: Path
                    ) -> Iterator[tuple[PartitionSpec, PartitionLayers | None]]:
    """:func:`iter_inputs`, leaving no sub-network half cut when interrupted."""
    before = set((out / "inputs").glob("*.npz"))
    try:
        yield from iter_inputs(specs, out)
    except KeyboardInterrupt:
        for f in set((out / "inputs").glob("*.npz")) - before:
            f.unlink(missing_ok=True)
        raise


def _finish(res: BatchResult, out: Path, t0: float, specs: Sequence[Any] = ()) -> BatchResult:
    """Count the people of any region not counted yet, merge the partition files and write
    ``batch_status.json``."""
    ensure_people(specs, out)
    res.seconds = time.perf_counter() - t0
    merge(out)
    status = {**res.summary(), "facts": res.facts, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
    atomic_write_text(out / "batch_status.json", json.dumps(status, ensure_ascii=False, indent=1,
                                                             default=float))
    return res
