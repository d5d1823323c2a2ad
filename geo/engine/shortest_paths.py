"""Compiled shortest-path kernels over CSR arrays (numba, no Python loop over nodes).

:mod:`geo.engine.network` owns the road graph and what a search means (facilities as
entry costs on segment ends, the reversed graph for walking *to* a place); this
module owns only how fast the search runs:

* :func:`multi_source` — every node's distance to, and identity of, its nearest
  source, by Dijkstra with a **bucket queue** (Dial's buckets of width
  ``delta``, kept in doubly linked lists so a label that drops moves in O(1)).
  Within a bucket the order does not matter for exactness: a node is taken out
  again if a shorter label reaches it (label correcting), so distances are the
  exact float sums along shortest paths, as a binary heap would give, whatever
  ``delta`` is.  ``delta`` only trades empty-bucket scans against repeats.
* :func:`bounded` — the nodes within a limit of each source (one small
  search per source), split over threads in fixed source blocks: the kernels
  release the GIL and the blocks are joined in source order, so the result is
  identical to a single thread.
* :func:`k_nearest_labels` — up to ``k`` labels from distinct sources per node.

Modules importing this one pay numba's import and (first time) compile cost;
:mod:`geo.engine.network` imports it lazily.
"""

from __future__ import annotations

import heapq
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

__all__ = ["bounded", "bucket_width", "k_nearest_labels", "multi_source", "paths_to", "search_threads",
           "to_targets"]

MAX_BUCKETS = 1 << 20
"""Ring of buckets at most this long (8 MB of heads); ``delta`` grows to fit."""


def search_threads() -> int:
    """Threads for searches that split by source: ``TOMONI_THREADS`` or the usable cores."""
    env = os.environ.get("TOMONI_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def bucket_width(weights: np.ndarray, costs: np.ndarray) -> tuple[float, int]:
    """``(delta, buckets)`` for :func:`multi_source`: about the 5th percentile of the
    arc lengths (few labels corrected inside a bucket), widened so that the ring of
    buckets covering the longest arc and the spread of the start costs stays below
    :data:`MAX_BUCKETS`."""
    finite = weights[np.isfinite(weights)]
    sample = finite[:: max(len(finite) // 20_000, 1)]
    positive = sample[sample > 0]
    delta = float(np.percentile(positive, 5)) if len(positive) else 1.0
    span = float(finite.max()) if len(finite) else 0.0
    fin_costs = costs[np.isfinite(costs)]
    if len(fin_costs):
        span = max(span, float(fin_costs.max() - fin_costs.min()))
    delta = max(delta, span / (MAX_BUCKETS - 3), 1e-9)
    return delta, int(span / delta) + 3


def multi_source(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
                 nodes: np.ndarray, costs: np.ndarray, which: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the nearest source for every node, and that source's label.

    Sources are ``(nodes[i], costs[i], which[i])``: a start node, the cost already
    paid there and the label reported for everything it reaches.  Unreached nodes
    get ``inf`` and ``-1``.
    """
    n = len(indptr) - 1
    if len(nodes) == 0:
        return np.full(n, np.inf), np.full(n, -1, np.int64)
    delta, ring = bucket_width(weights, costs)
    return _multi_source(indptr.astype(np.int64), indices.astype(np.int64),
                         weights.astype(np.float64), nodes.astype(np.int64),
                         costs.astype(np.float64), which.astype(np.int64), delta, ring)


@numba.njit(cache=True, nogil=True)
def _multi_source(indptr, indices, weights, nodes, costs, which, delta, ring):  # type: ignore[no-untyped-def]  # noqa: C901 (one compiled kernel)
    n = len(indptr) - 1
    dist = np.full(n, np.inf)
    owner = np.full(n, -1, np.int64)
    head = np.full(ring, -1, np.int64)
    nxt = np.full(n, -1, np.int64)
    prv = np.full(n, -1, np.int64)
    slot = np.full(n, -1, np.int64)
    queued = 0
    first = np.inf
    for i in range(len(nodes)):
        v, c = nodes[i], costs[i]
        if c < dist[v] or (c == dist[v] and which[i] < owner[v]):
            dist[v] = c
            owner[v] = which[i]
            first = min(first, c)
    if first == np.inf:
        return dist, owner
    for v in range(n):  # start labels into their buckets
        if dist[v] < np.inf:
            s = np.int64(dist[v] / delta) % ring
            nxt[v] = head[s]
            if head[s] != -1:
                prv[head[s]] = v
            head[s] = v
            slot[v] = s
            queued += 1
    b = np.int64(first / delta)
    while queued > 0:
        s = b % ring
        u = head[s]
        if u == -1:
            b += 1
            continue
        head[s] = nxt[u]
        if nxt[u] != -1:
            prv[nxt[u]] = -1
        nxt[u] = -1
        slot[u] = -1
        queued -= 1
        du = dist[u]
        ou = owner[u]
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = du + weights[k]
            if nd < dist[v]:
                dist[v] = nd
                owner[v] = ou
                if slot[v] != -1:  # unlink from its old bucket
                    if prv[v] != -1:
                        nxt[prv[v]] = nxt[v]
                    else:
                        head[slot[v]] = nxt[v]
                    if nxt[v] != -1:
                        prv[nxt[v]] = prv[v]
                else:
                    queued += 1
                nb = max(np.int64(nd / delta), b) % ring
                prv[v] = -1
                nxt[v] = head[nb]
                if head[nb] != -1:
                    prv[head[nb]] = v
                head[nb] = v
                slot[v] = nb
    return dist, owner


def bounded(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, sources: np.ndarray,
            limit: float, *, threads: int | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes within ``limit`` of each source: flat (source position, node, distance),
    in source order.  Blocks of sources run on ``threads`` threads (default
    :func:`search_threads`); the output does not depend on the thread count."""
    args = (indptr.astype(np.int64), indices.astype(np.int64), weights.astype(np.float64))
    sources = np.asarray(sources, np.int64)
    workers = min(threads or search_threads(), max(len(sources) // 64, 1))
    if workers <= 1:
        return _bounded(*args, sources, 0, float(limit))  # type: ignore[no-any-return]
    cuts = np.linspace(0, len(sources), workers + 1).astype(np.int64)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda i: _bounded(*args, sources[cuts[i]:cuts[i + 1]], cuts[i],
                                                 float(limit)), range(workers)))
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(3))  # type: ignore[return-value]


@numba.njit(cache=True, nogil=True)
def _bounded(indptr, indices, weights, sources, first, limit):  # type: ignore[no-untyped-def]
    n = len(indptr) - 1
    dist = np.full(n, np.inf)
    out_s = []
    out_n = []
    out_d = []
    touched = np.empty(n, np.int64)
    for s_pos in range(len(sources)):
        s = sources[s_pos]
        nt = 0
        heap = [(0.0, s)]
        dist[s] = 0.0
        touched[nt] = s
        nt += 1
        while len(heap) > 0:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            out_s.append(s_pos + first)
            out_n.append(u)
            out_d.append(d)
            for k in range(indptr[u], indptr[u + 1]):
                v = indices[k]
                nd = d + weights[k]
                if nd <= limit and nd < dist[v]:
                    if dist[v] == np.inf:
                        touched[nt] = v
                        nt += 1
                    dist[v] = nd
                    heapq.heappush(heap, (nd, v))
        for i in range(nt):
            dist[touched[i]] = np.inf
    return (np.array(out_s, dtype=np.int64), np.array(out_n, dtype=np.int64),
            np.array(out_d, dtype=np.float64))


def k_nearest_labels(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
                     nodes: np.ndarray, costs: np.ndarray, which: np.ndarray, k: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``k`` labels from distinct sources per node (label setting on a heap):
    distances and labels, shape (n, k), ``inf`` / ``-1`` where missing."""
    return _k_nearest(indptr.astype(np.int64), indices.astype(np.int64),  # type: ignore[no-any-return]
                      weights.astype(np.float64), nodes.astype(np.int64),
                      costs.astype(np.float64), which.astype(np.int64), int(k))


@numba.njit(cache=True, nogil=True)
def _k_nearest(indptr, indices, weights, nodes, costs, which, k):  # type: ignore[no-untyped-def]
    n = len(indptr) - 1
    dist = np.full((n, k), np.inf)
    fac = np.full((n, k), -1, np.int64)
    count = np.zeros(n, np.int64)
    heap = [(0.0, np.int64(0), np.int64(0))]
    heap.pop()
    for i in range(len(nodes)):
        heapq.heappush(heap, (costs[i], nodes[i], which[i]))
    while len(heap) > 0:
        d, u, f = heapq.heappop(heap)
        if count[u] >= k:
            continue
        seen = False
        for j in range(count[u]):
            if fac[u, j] == f:
                seen = True
                break
        if seen:
            continue
        dist[u, count[u]] = d
        fac[u, count[u]] = f
        count[u] += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if count[v] < k:
                heapq.heappush(heap, (d + weights[e], v, f))
    return dist, fac


def to_targets(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
               starts: np.ndarray, start_nodes: np.ndarray, start_costs: np.ndarray,
               targets: np.ndarray, *, threads: int | None = None) -> np.ndarray:
    """Distances from each group of start labels to a set of target nodes, shape
    (groups, targets).

    Group ``g`` starts at ``start_nodes[starts[g]:starts[g + 1]]`` with the costs
    already paid there (a point's segment ends).  Each search is a heap Dijkstra that
    stops once every target is settled, so a matrix among a few hundred points of one
    district never walks the whole prefecture.  Groups run on ``threads`` threads in
    fixed blocks; the result does not depend on the thread count.  Unreached: ``inf``.
    """
    args = (indptr.astype(np.int64), indices.astype(np.int64), weights.astype(np.float64),
            np.asarray(starts, np.int64), np.asarray(start_nodes, np.int64),
            np.asarray(start_costs, np.float64), np.asarray(targets, np.int64))
    groups = len(args[3]) - 1
    out = np.full((max(groups, 0), len(args[6])), np.inf)
    if groups <= 0 or not len(args[6]):
        return out
    workers = min(threads or search_threads(), max(groups // 8, 1))
    cuts = np.linspace(0, groups, workers + 1).astype(np.int64)
    if workers <= 1:
        _to_targets(*args, 0, groups, out)
        return out
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda i: _to_targets(*args, cuts[i], cuts[i + 1], out), range(workers)))
    return out


@numba.njit(cache=True, nogil=True)
def _to_targets(indptr, indices, weights, starts, start_nodes, start_costs, targets,  # type: ignore[no-untyped-def]  # noqa: C901 (one compiled kernel)
                g0, g1, out):
    n = len(indptr) - 1
    where = np.full(n, -1, np.int64)
    n_targets = 0
    for t in range(len(targets)):
        if where[targets[t]] == -1:
            where[targets[t]] = t
            n_targets += 1
    dist = np.full(n, np.inf)
    done = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    for g in range(g0, g1):
        nt = 0
        heap = [(0.0, np.int64(0))]
        heap.pop()
        for k in range(starts[g], starts[g + 1]):
            v, c = start_nodes[k], start_costs[k]
            if c < dist[v]:
                if dist[v] == np.inf:
                    touched[nt] = v
                    nt += 1
                dist[v] = c
                heapq.heappush(heap, (c, v))
        left = n_targets
        while len(heap) > 0 and left > 0:
            d, u = heapq.heappop(heap)
            if done[u] or d > dist[u]:
                continue
            done[u] = True
            if where[u] != -1:
                left -= 1
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = d + weights[e]
                if nd < dist[v]:
                    if dist[v] == np.inf:
                        touched[nt] = v
                        nt += 1
                    dist[v] = nd
                    heapq.heappush(heap, (nd, v))
        for t in range(len(targets)):
            if done[targets[t]]:
                out[g, t] = dist[targets[t]]
        for i in range(nt):
            dist[touched[i]] = np.inf
            done[touched[i]] = False


def paths_to(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, source: int,
             targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distances and predecessors from ``source`` (heap Dijkstra, compiled), stopped once
    every node of ``targets`` is settled: exact for the targets and every node on their
    shortest paths.  Unreached nodes: ``inf`` and predecessor ``-9999`` (as scipy gives)."""
    return _paths_to(indptr.astype(np.int64), indices.astype(np.int64),  # type: ignore[no-any-return]
                     weights.astype(np.float64), np.int64(source), np.asarray(targets, np.int64))


@numba.njit(cache=True, nogil=True)
def _paths_to(indptr, indices, weights, source, targets):  # type: ignore[no-untyped-def]
    n = len(indptr) - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -9999, np.int64)
    done = np.zeros(n, np.bool_)
    wanted = np.zeros(n, np.bool_)
    left = 0
    for t in targets:
        if 0 <= t < n and not wanted[t]:
            wanted[t] = True
            left += 1
    dist[source] = 0.0
    heap = [(0.0, source)]
    while len(heap) > 0 and left > 0:
        d, u = heapq.heappop(heap)
        if done[u] or d > dist[u]:
            continue
        done[u] = True
        if wanted[u]:
            left -= 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                heapq.heappush(heap, (nd, v))
    for v in range(n):  # labels of nodes not settled may not be shortest: drop them
        if not done[v]:
            dist[v] = np.inf
            pred[v] = -9999
    return dist, pred
