"""pixdex on a Dask cluster: hashing, sharded exact search and the sharded self-join.

Everything here runs on Dask distributed (``dask scheduler`` / ``dask worker`` or any Dask
deployment) with the catalog in PostgreSQL; the single-machine path never imports it. Names are
imported on first use (PEP 562 ``__getattr__``), so that ``import pixdex.distributed`` does not
load Dask.
"""

from pixdex.lazy import lazy_names

_HOMES = {
    "index_on_cluster": "hashing",
    "ShardedIndex": "sharded",
    "sharded_pairs_within": "selfjoin",
}
"""The submodule each public name lives in."""

__all__ = sorted(_HOMES)


__getattr__, __dir__ = lazy_names(__name__, _HOMES)
