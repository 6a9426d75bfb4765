"""``ShardedIndex``: exact Hamming search over codes split into shards held by Dask workers.

Each shard is a Dask actor (:class:`Shard`) on one worker process: it builds its own index with
``pixdex.index.build_index`` over its part of the codes and answers range and k-NN searches. A
query is sent to every shard at once and the answers are merged on the client. Merging is exact:

- range search: the union of every shard's hits, sorted by (distance, id), as one index gives;
- k-NN: every shard returns its own ``k`` nearest in (distance, id) order, so the global ``k``
  nearest in that order are among them; the merge keeps the first ``k`` of the union.

So the answers are those of ``pixdex.index`` (``LinearScan``) on the same codes, ties included.

A worker that dies takes its shard with it. With a ``reload`` callable (the catalog's codes,
read again), the index rebuilds every shard over the surviving workers and answers the query;
without one, it raises :class:`ShardLostError`, which names the shard and the worker.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from distributed import Client

from pixdex.catalog.engine import Reload
from pixdex.errors import PixdexError
from pixdex.index.base import Hits, as_codes, as_ids, as_queries


class ShardLostError(PixdexError):
    """A shard's worker left the cluster and the index cannot rebuild it."""


class NoWorkersError(PixdexError):
    """The Dask cluster has no worker to hold shards."""


class Shard:
    """One shard's codes and their index, living on a Dask worker as an actor."""

    def __init__(self, codes: np.ndarray, ids: np.ndarray) -> None:
        from pixdex.index import build_index

        self._index = build_index(codes, ids)

    def range_search_batch(self, queries: np.ndarray, radius: int) -> Hits:
        """The shard's hits of each query within ``radius`` bits (``HammingIndex``'s form)."""
        return self._index.range_search_batch(queries, radius)

    def knn_batch(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The shard's ``k`` nearest of each query, padded with -1 (``HammingIndex``'s form)."""
        return self._index.knn_batch(queries, k)

    def memory(self) -> dict[str, int]:
        """The shard's index arrays (``nbytes``) and its worker process's resident memory."""
        import psutil  # a dependency of distributed

        return {"nbytes": self._index.nbytes, "rss": psutil.Process().memory_info().rss}


class ShardedIndex:
    """Exact Hamming search over ``codes`` ``(n, w)`` uint64 with int64 ``ids``, in shards held
    by the workers of the Dask ``client``'s cluster.

    ``shards`` (default: one per worker) contiguous parts of the codes go round-robin to the
    workers in address order. Answers, shapes and tie order are those of ``HammingIndex``
    (``range_search``, ``range_search_batch``, ``knn``, ``knn_batch``). ``reload`` (optional)
    reads the same codes again when a worker holding a shard is lost (see the module's text).
    Raises ``NoWorkersError`` when the cluster has no worker.
    """

    def __init__(
        self,
        client: Client,
        codes: np.ndarray,
        ids: np.ndarray | None = None,
        *,
        shards: int | None = None,
        reload: Reload | None = None,
    ) -> None:
        codes = as_codes(codes)
        self.words = codes.shape[1]
        self.bits = 64 * self.words
        self._client = client
        self._shard_count = shards
        self._reload = reload
        self._place(codes, as_ids(ids, codes.shape[0]))

    def _place(self, codes: np.ndarray, ids: np.ndarray) -> None:
        """Split the codes into shards and start one actor per shard on its worker."""
        # Asked of the scheduler: scheduler_info() is the client's cached copy, which a loaded
        # machine can leave empty for a moment after connecting.
        workers = sorted(self._client.nthreads())
        if not workers:
            raise NoWorkersError(
                f"the Dask cluster at {self._client.scheduler.address} has no worker"
            )
        count = self._shard_count or len(workers)
        if count < 1:
            raise ValueError(f"shards must be ≥ 1, got {count}")
        self._count = codes.shape[0]
        self._workers = [workers[i % len(workers)] for i in range(count)]
        bounds = np.linspace(0, codes.shape[0], count + 1).astype(np.int64)
        self._futures = []
        for shard, worker in enumerate(self._workers):
            part = slice(bounds[shard], bounds[shard + 1])
            data = self._client.scatter(
                [codes[part], ids[part]], workers=[worker], hash=False, direct=True
            )
            self._futures.append(
                self._client.submit(
                    Shard, *data, actor=True, workers=[worker], allow_other_workers=False
                )
            )
        # The actors keep their arrays: the scattered copies are released once they exist. An
        # actor handle binds to the current client when it is received: make that this one.
        with self._client.as_current():
            self._actors = [future.result() for future in self._futures]

    def __len__(self) -> int:
        return self._count

    @property
    def shards(self) -> int:
        """How many shards the codes are split into."""
        return len(self._actors)

    def memory(self) -> list[dict[str, int]]:
        """Per shard: its index's bytes (``nbytes``) and its worker's resident memory (``rss``)."""
        return self._on_every_shard(lambda actor: actor.memory())

    # --- search --------------------------------------------------------------------------------

    def range_search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and distances of every code within ``radius`` bits of one query ``(w,)``, sorted by
        distance, then id."""
        queries = as_queries(query, self.words)
        if queries.shape[0] != 1:
            raise ValueError(f"range_search takes one query, got {queries.shape[0]}")
        _, ids, dists = self.range_search_batch(queries, radius)
        return ids, dists

    def range_search_batch(self, queries: np.ndarray, radius: int) -> Hits:
        """Range search for each row of ``queries``: ``(lims, ids, distances)`` as one index."""
        queries = as_queries(queries, self.words)
        radius = self._clip(radius)
        parts = self._on_every_shard(lambda actor: actor.range_search_batch(queries, radius))
        return merge_ranges(parts, queries.shape[0])

    def knn(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest codes to one query, ties broken by id (fewer if the index holds
        fewer than ``k``)."""
        ids, dists = self.knn_batch(query, k)
        found = min(k, len(self))
        return ids[0, :found], dists[0, :found]

    def knn_batch(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """k-NN for each row of ``queries``: ``(ids, distances)``, each ``(nq, k)``, padded with
        -1 when the index holds fewer than ``k`` codes."""
        if k < 0:
            raise ValueError(f"k must be non-negative, got {k}")
        queries = as_queries(queries, self.words)
        parts = self._on_every_shard(lambda actor: actor.knn_batch(queries, k))
        return merge_nearest(parts, k, min(k, len(self)))

    def _clip(self, radius: int) -> int:
        radius = int(radius)
        if radius < 0:
            raise ValueError(f"radius must be non-negative bits, got {radius}")
        return min(radius, self.bits)

    # --- fan-out and lost workers --------------------------------------------------------------

    def _on_every_shard(self, call: Callable) -> list:
        """``call(actor)`` on every shard at once; their results in shard order. A shard lost
        with its worker is rebuilt (with ``reload``) and the call made again, once."""
        try:
            return self._gather(call)
        except (RuntimeError, OSError) as error:
            lost = self._lost_shards()
            if not lost:
                raise
            if self._reload is None:
                shard = lost[0]
                raise ShardLostError(
                    f"shard {shard + 1} of {len(self._actors)} was held by Dask worker "
                    f"{self._workers[shard]}, which left the cluster; build the index again"
                ) from error
        self._place(*self._reload())
        return self._gather(call)

    def _gather(self, call: Callable) -> list:
        pending = [call(actor) for actor in self._actors]  # every shard works at once
        return [future.result() for future in pending]

    def _lost_shards(self) -> list[int]:
        """The shards whose worker has left the cluster (or whose actor is gone)."""
        alive = set(self._client.nthreads())
        return [
            shard
            for shard, (worker, future) in enumerate(zip(self._workers, self._futures, strict=True))
            if worker not in alive or future.status != "finished"
        ]


def merge_ranges(parts: list[Hits], queries: int) -> Hits:
    """One ``(lims, ids, distances)`` from every shard's hits of the same ``queries`` queries:
    each query's hits from all shards, sorted by (distance, id)."""
    rows = [np.repeat(np.arange(queries), np.diff(lims)) for lims, _, _ in parts]
    row = np.concatenate(rows)
    ids = np.concatenate([p[1] for p in parts])
    dists = np.concatenate([p[2] for p in parts])
    order = np.lexsort((ids, dists, row))
    lims = np.zeros(queries + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=queries), out=lims[1:])
    return lims, ids[order], dists[order]


def merge_nearest(
    parts: list[tuple[np.ndarray, np.ndarray]], k: int, wanted: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k``-NN ``(ids, distances)`` ``(nq, k)`` from every shard's ``k``-NN of the same
    queries: per row, the first ``wanted`` of the union in (distance, id) order, then -1."""
    ids = np.concatenate([p[0] for p in parts], axis=1)
    dists = np.concatenate([p[1] for p in parts], axis=1)
    out_ids = np.full((ids.shape[0], k), -1, dtype=np.int64)
    out_dists = np.full((ids.shape[0], k), -1, dtype=np.int32)
    if wanted:
        padding = dists < 0
        # Padding sorts last: its distance is taken as beyond any code's.
        last = np.where(padding, np.iinfo(np.int64).max, dists.astype(np.int64))
        order = np.lexsort((ids, last), axis=1)
        out_ids[:, :wanted] = np.take_along_axis(ids, order, axis=1)[:, :wanted]
        out_dists[:, :wanted] = np.take_along_axis(dists, order, axis=1)[:, :wanted]
    return out_ids, out_dists
