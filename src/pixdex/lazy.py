"""Public names a package imports on first use (PEP 562), so that importing it stays cheap.

    __getattr__, __dir__ = lazy_names(__name__, {"Catalog": "catalog", ...})

``import pixdex`` and its subpackages would otherwise load numpy, numba, scipy or Dask for names
a command never touches (``pixdex --help`` starts in a tenth of a second because of this).
"""

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_names(
    package: str, homes: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose public name ``n`` lives in its
    submodule ``homes[n]``; a name once imported is kept in the package's namespace."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{home}"), name)
        vars(import_module(package))[name] = value  # found directly from now on
        return value

    def __dir__() -> list[str]:
        namespace = vars(import_module(package))
        return sorted({*namespace, *namespace.get("__all__", ()), *homes})

    return __getattr__, __dir__
