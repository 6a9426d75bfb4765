"""``DaskEngine``: a catalog's search indexes and self-join on a Dask cluster.

``connect("tcp://SCHEDULER:8786")`` opens a Dask client and returns the engine that
``Catalog(..., engine=...)`` takes (``pixdex.catalog.engine``): each algorithm's index becomes a
``ShardedIndex`` (shards in the workers' memory) and duplicates come from
``sharded_pairs_within``. What runs where: the catalog is read, candidates are verified with the
matching rule and pairs are grouped in the calling process; shards are searched and self-joined
on the workers.
"""

from __future__ import annotations

import numpy as np
from distributed import Client

from pixdex.catalog.engine import Pairs, Reload
from pixdex.distributed.connection import connect as connect_client
from pixdex.distributed.selfjoin import sharded_pairs_within
from pixdex.distributed.sharded import ShardedIndex


class DaskEngine:
    """Runs a catalog's indexes and self-join on the cluster of ``client``; closing the engine
    closes the client (and frees the shards it placed)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def build_index(self, codes: np.ndarray, ids: np.ndarray, reload: Reload) -> ShardedIndex:
        """A ``ShardedIndex`` over the codes, one shard per worker, rebuilt from ``reload`` if
        a worker holding a shard is lost."""
        return ShardedIndex(self.client, codes, ids, reload=reload)

    def pairs_within(self, codes: np.ndarray, ids: np.ndarray, radius: int) -> Pairs:
        """Every pair within ``radius`` bits, joined across the workers."""
        return sharded_pairs_within(self.client, codes, ids, radius)

    def close(self) -> None:
        """Close the client: the cluster keeps running, the shards placed by it are freed."""
        self.client.close()

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def connect(address: str) -> DaskEngine:
    """An engine on the Dask scheduler at ``address`` (``tcp://HOST:PORT``), its workers checked
    as ``pixdex.distributed.connection.connect`` does. Raises ``ClusterError`` (one line naming
    the address) when it cannot be reached or its workers cannot run pixdex."""
    # Shards are searched by calling their actors straight on their workers, not through the
    # scheduler: one hop less per query.
    return DaskEngine(connect_client(address, direct_to_workers=True))
