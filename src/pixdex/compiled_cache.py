"""Keep numba's on-disk cache of a compiled kernel in step with the kernels it calls.

numba keys a cached function by its own source file alone: a kernel that calls another module's
kernels, or reads another module's constants, keeps the old machine code after that module
changes, until its own file changes. A pip install rewrites every file and so invalidates
everything, but a git checkout or an editable install changes only the edited files: a duplicate
finder would silently verify with the previous rule. ``refresh_on_change`` closes that gap by
flushing a module's cached kernels when the source of a module they compile in has changed since
the cache was written (a stamp file beside numba's own). Each module of compiled kernels calls it
once, at import, with ``cached_kernels(globals())`` and the modules its kernels compile in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any


def cached_kernels(namespace: dict[str, Any]) -> list[Any]:
    """The numba dispatchers with an on-disk cache (``cache=True``) defined in the module whose
    ``globals()`` is ``namespace``, not those it imported; none if numba's internals moved."""
    return [
        value
        for value in namespace.values()
        if getattr(getattr(value, "_cache", None), "_cache_path", None) is not None
        and getattr(value, "__module__", None) == namespace["__name__"]
    ]


def refresh_on_change(kernels: Iterable[Any], *called: ModuleType) -> None:
    """Flush the on-disk cache of each of ``kernels`` (numba dispatchers compiled with
    ``cache=True``, as ``cached_kernels`` lists them) when the source of a module in ``called``
    differs from when it was cached."""
    digest = hashlib.sha256()
    for module in called:
        digest.update(Path(module.__file__ or "").read_bytes())
    sources = digest.hexdigest()
    for kernel in kernels:
        cache = kernel._cache
        folder = cache._cache_path
        stamp = Path(folder) / f"{kernel.__module__}.{kernel.__name__}.sources"
        try:
            if stamp.read_text() == sources:
                continue
        except OSError:
            pass
        try:
            cache.flush()
            stamp.write_text(sources)
        except OSError:  # a read-only install: numba does not cache there either
            pass
