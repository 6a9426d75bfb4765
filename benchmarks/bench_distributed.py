"""``python -m benchmarks distributed``: pixdex on a private Dask cluster here (issue 15).

Hashing through the cluster against the local pool, sharded exact search against one in-process
index, and the sharded self-join against ``pairs_within``; each part lives in its own module.
"""

from benchmarks import distributed_hashing, distributed_search


def main() -> None:
    distributed_hashing.main()
    distributed_search.main()
