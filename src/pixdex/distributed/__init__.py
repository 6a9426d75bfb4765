"""pixdex on a Dask cluster: hashing, sharded exact search and the sharded self-join.

Everything here runs on Dask distributed (``dask scheduler`` / ``dask worker`` or any Dask
deployment) with the catalog in PostgreSQL; the single-machine path never imports it. Names are
imported on first use (PEP 562 ``__getattr__``), so that ``import pixdex.distributed`` does not
load Dask.
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "index_on_cluster": "hashing",
    "ShardedIndex": "sharded",
    "sharded_pairs_within": "selfjoin",
}
"""The submodule each public name lives in."""

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pixdex.distributed' has no attribute {name!r}")
    value = getattr(import_module(f"pixdex.distributed.{home}"), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
