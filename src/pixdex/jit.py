"""numba's ``njit``, with numba started without its BLAS probe.

The first compiled kernel a process loads sets up numba's CPU target, which imports
``numba.np.arraymath``; that module checks at import whether BLAS is available for
``np.convolve`` and ``np.correlate`` by importing ``scipy.linalg`` — 0.2-0.3 s, a fifth of
opening a 1M-image catalog and answering one query in a fresh process (BENCHMARKS.md, "Cost").
No pixdex kernel uses BLAS. Importing this module imports ``numba.np.arraymath`` while
``scipy.linalg.cython_blas`` is marked as unavailable, so the probe fails at once and those two
functions use numba's own loop; ``np.dot`` and ``np.linalg`` still import scipy when a kernel
that uses them is compiled. Nothing is changed when the probe has already run, or when
``scipy.linalg`` is already loaded (the probe then costs nothing).

Every module of compiled kernels takes ``njit`` from here.
"""

from __future__ import annotations

import sys

from numba import njit

BLAS_PROBE = "scipy.linalg.cython_blas"
"""The module ``numba.np.arraymath`` imports to see whether BLAS is available."""


def _start_numba_without_blas_probe() -> None:
    """Import ``numba.np.arraymath`` with ``BLAS_PROBE`` marked unavailable (module docstring)."""
    if "numba.np.arraymath" in sys.modules or BLAS_PROBE in sys.modules:
        return
    sys.modules[BLAS_PROBE] = None  # an import of it raises ImportError without loading scipy
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if BLAS_PROBE in sys.modules and sys.modules[BLAS_PROBE] is None:
            del sys.modules[BLAS_PROBE]


_start_numba_without_blas_probe()

__all__ = ["njit"]
