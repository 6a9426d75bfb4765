"""numba starts without its BLAS and cffi probes (``pixdex.jit``), and numba's linear algebra
and cffi itself still work.

Checked in fresh processes, by the modules they load: the probes are imports of ``scipy.linalg``
and of ``cffi`` with its C parser (0.3 s together of a fresh process's first search;
BENCHMARKS.md has the times).
"""

from __future__ import annotations

import json
import subprocess
import sys

VERIFY_ONE_PAIR = """
import json, sys
import numpy as np
from PIL import Image
from pixdex.matching.verification import verify
from pixdex.matching.rule import DEFAULT_RULE
from pixdex.signature import signature
ramp = np.repeat(np.linspace(0, 255, 96, dtype=np.uint8)[None, :, None], 3, axis=2)
ramp = np.repeat(ramp, 96, axis=0)
pictures = [Image.fromarray(ramp), Image.fromarray(np.ascontiguousarray(ramp[::-1, ::-1]))]
rows = np.array([np.frombuffer(signature(p), np.uint8) for p in pictures])
verdicts = verify(rows[0], rows, DEFAULT_RULE.verifier)
print(json.dumps({"verdicts": verdicts.tolist(), "modules": sorted(sys.modules)}))
"""

USER_KERNEL = """
import json
import numpy as np
import pixdex.jit
from numba import njit

@njit
def products(a, b):
    return np.dot(a, b), np.convolve(a, b), np.linalg.norm(a)

dot, convolved, norm = products(np.arange(3.0), np.ones(3))
print(json.dumps([dot, convolved.tolist(), norm]))
"""


def run(source: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_verifying_loads_the_compiled_kernels_without_scipy_linalg() -> None:
    report = run(VERIFY_ONE_PAIR)
    assert report["verdicts"] == [True, False]  # the kernel ran: a ramp is not its mirror
    assert "numba.np.arraymath" in report["modules"]
    assert "scipy.linalg" not in report["modules"]
    assert "numba.core.typing.cffi_utils" in report["modules"]
    assert "cffi" not in report["modules"] and "pycparser" not in report["modules"]


def test_a_kernel_of_the_users_own_still_has_numbas_linear_algebra() -> None:
    dot, convolved, norm = run(USER_KERNEL)
    assert dot == 3.0
    assert convolved == [0.0, 1.0, 3.0, 3.0, 2.0]
    assert abs(norm - 5.0**0.5) < 1e-12


CFFI_AFTER_PIXDEX = """
import json
import pixdex.jit
import cffi
ffi = cffi.FFI()
ffi.cdef("int abs(int);")
print(json.dumps(ffi.dlopen(None).abs(-7)))
"""


def test_cffi_stays_importable_after_numba_started_without_it() -> None:
    assert run(CFFI_AFTER_PIXDEX) == 7  # what pyvips needs of it
