"""Kernel tests run every kernel on both paths in one pytest run (plugnn.kernels): the numpy
reference and the numba kernel, with the same cases. ``@backends`` parametrizes a test over
``"numpy"`` and ``"numba"`` (skipped where numba is not installed); :func:`pick` gets a module's
``NAME_numpy`` or ``NAME_numba``, and :func:`same_on_both` runs one case on both and compares bits."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from plugnn import kernels

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
backends = pytest.mark.parametrize(
    "backend",
    ["numpy", pytest.param("numba", marks=pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed"))],
)


def pick(module: ModuleType, name: str, backend: str) -> Callable[..., Any]:
    """``module.NAME_BACKEND``: one of a kernel's two implementations."""
    return getattr(module, f"{name}_{backend}")


@contextmanager
def compiled_at_once() -> Iterator[None]:
    """Inside the block a kernel's first call compiles it and runs it (``plugnn.kernels.BACKGROUND`` off),
    as tests/conftest.py sets for the whole run: here too when a plugin's tests run alone."""
    saved, kernels.BACKGROUND = kernels.BACKGROUND, False
    try:
        yield
    finally:
        kernels.BACKGROUND = saved


def same_on_both(
    module: ModuleType, name: str, make: Callable[[], tuple[Any, ...]], skip: tuple[int, ...] = (), **options: Any
) -> list[Any]:
    """Run ``NAME_numpy`` and ``NAME_numba`` on ``make()`` (a fresh set of arguments each) and assert that the
    array arguments (updated in place) and results are bit-identical, NaN and signed zeros included; the
    arguments at the positions ``skip`` (scratch space) are not compared. Returns the numba run's arrays."""
    if not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    runs = []
    for backend in ("numpy", "numba"):
        args = make()
        with np.errstate(all="ignore"), compiled_at_once():  # the special values overflow, as they may in training
            result = pick(module, name, backend)(*args, **options)
        results = result if isinstance(result, tuple) else () if result is None else (result,)
        kept = [a for i, a in enumerate(args) if i not in skip]
        runs.append([a for a in (*kept, *results) if isinstance(a, np.ndarray)])
    for index, (ref, got) in enumerate(zip(*runs, strict=True)):
        assert ref.dtype == got.dtype and ref.shape == got.shape, index
        assert ref.tobytes() == got.tobytes(), f"array {index} differs in {int(np.sum(ref != got))} entries"
    return runs[1]
