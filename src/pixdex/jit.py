"""numba's ``njit``, with numba started without two probes no pixdex kernel needs.

The first compiled kernel a process loads sets up numba's CPU target, which imports two modules
that look for optional libraries at import:

- ``numba.np.arraymath`` checks whether BLAS is available for ``np.convolve`` and
  ``np.correlate`` by importing ``scipy.linalg``: 0.2-0.3 s;
- ``numba.core.typing.cffi_utils`` imports ``cffi`` (installed for pyvips) and its C parser,
  ``pycparser``, so that kernels can call cffi functions: about 0.07 s.

Together about a quarter of opening a 1M-image catalog and answering one query in a fresh
process (BENCHMARKS.md, "Cost"). Importing this module imports those two numba modules while the
probed module is marked as unavailable, so each probe fails at once: ``np.convolve`` and
``np.correlate`` use numba's own loop, and kernels of this process cannot call cffi functions
(no pixdex kernel does). ``np.dot`` and ``np.linalg`` still import scipy when a kernel that uses
them is compiled, and ``cffi`` itself stays importable (pyvips imports it as before). Nothing is
changed for a probe that has already run, or whose module is already loaded (it then costs
nothing).

Every module of compiled kernels takes ``njit`` from here.
"""

from __future__ import annotations

import importlib
import sys

from numba import njit

PROBES = {
    "numba.np.arraymath": "scipy.linalg.cython_blas",
    "numba.core.typing.cffi_utils": "cffi",
}
"""Each numba module that probes for an optional library at import → the module it imports."""


def _start_numba_without_probes() -> None:
    """Import each of ``PROBES``' numba modules with its probed module marked unavailable."""
    for module, probed in PROBES.items():
        if module in sys.modules or probed in sys.modules:
            continue
        sys.modules[probed] = None  # an import of it raises ImportError without loading it
        try:
            importlib.import_module(module)
        finally:
            if probed in sys.modules and sys.modules[probed] is None:
                del sys.modules[probed]


_start_numba_without_probes()

__all__ = ["njit"]
