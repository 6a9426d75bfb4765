"""A cached kernel that calls another module's kernel follows that module's changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pixdex.compiled_cache import cached_kernels
from pixdex.index import kernels, mih

CALLER = """
from numba import njit

import callee
from pixdex.compiled_cache import refresh_on_change


@njit(cache=True)
def answer():
    return callee.value() + 0
{refresh}
"""


def run_answer(folder: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import caller; print(caller.answer())"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def write_callee(folder: Path, value: int) -> None:
    source = f"from numba import njit\n\n\n@njit(cache=True)\ndef value():\n    return {value}\n"
    (folder / "callee.py").write_text(source)


def test_a_changed_callee_reaches_a_cached_caller(tmp_path: Path) -> None:
    # Without the refresh, numba 0.68 answers 1 twice: it checks the caller's own file only.
    (tmp_path / "caller.py").write_text(
        CALLER.format(refresh="\nrefresh_on_change([answer], callee)\n")
    )
    write_callee(tmp_path, 1)
    assert run_answer(tmp_path) == 1
    write_callee(tmp_path, 2)
    assert run_answer(tmp_path) == 2


def test_a_module_refreshes_its_own_cached_kernels_not_those_it_imports() -> None:
    own = cached_kernels(vars(mih))
    assert mih.mih_range in own
    assert kernels.code_distance not in own and mih.code_distance is kernels.code_distance
