"""Compiled kernels: the hot element-wise loops, each a numpy reference and a numba twin behind one function.

One module per concern (:mod:`plugnn.kernels.optim` for the optimizers' fused updates,
:mod:`plugnn.kernels.activation` for ReLU; the vision plugin keeps its own next to its ops; the
batch gather stays ``np.take``, which a numba row loop did not beat). In each, a kernel is written
twice, side by side: the numpy reference (the results every test holds to) and a plain Python loop that numba compiles
(:func:`compiled`), one pass over the data instead of one numpy call per operation. Which of the two
runs is chosen once, when the module is imported (:func:`choose`), from ``PLUGNN_KERNELS``:

* ``numba``: the compiled kernels (the default when numba is installed: ``pip install 'plugnn[fast]'``);
* ``numpy``: the numpy references (the default without numba).

Both give the same numbers to the last bit on the same inputs (``tests/test_kernels.py`` runs every
kernel on both): a compiled kernel does each element's operations in the order and at the
precision the numpy reference does (a float32 array times a Python float is a float32 product, as
numpy 2 computes it).

The compiled kernels are single-threaded and release the GIL (``nogil``): the threads of the run's
budget come from :func:`plugnn.parallel.for_rows`, which hands each thread its blocks of rows as for
the numpy kernels, so results stay independent of the thread count. (numba's own ``parallel=True``
loops measured 10–15 ms instead of 0.08 ms for Adam's update on this shared 2-core machine, where
its spinning worker threads wait for a descheduled partner, and its default threading layer aborts
the process when two Python threads launch parallel kernels at once.)

numba compiles a kernel once a process has done some work (:data:`START_AFTER`), in the background
(about a second each; plugnn says so once on a terminal's stderr), and caches the machine code on
disk (in ``__pycache__`` beside the source or numba's user cache), so later runs only load it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from plugnn.errors import PlugnnError

ENV = "PLUGNN_KERNELS"
BACKENDS = ("numpy", "numba")
F = TypeVar("F", bound=Callable[..., Any])


def _chosen() -> str:
    text = os.environ.get(ENV, "").strip().lower()
    installed = importlib.util.find_spec("numba") is not None  # found, not imported: numba loads on first use
    if not text:
        return "numba" if installed else "numpy"
    if text not in BACKENDS:
        raise PlugnnError(f"{ENV}: expected 'numpy' or 'numba', got {text!r}")
    if text == "numba" and not installed:
        raise PlugnnError(f"{ENV}=numba but numba is not installed: pip install 'plugnn[fast]'")
    return text


BACKEND = _chosen()
"""``"numba"`` or ``"numpy"``: which kernels this process runs, fixed when plugnn is imported."""

_announced = threading.Event()
BACKGROUND = True
"""Compile in a background thread while the numpy reference runs; False: compile on the calling thread
and wait (the tests, so that every call they make runs the path they mean, and a compile error is raised)."""
START_AFTER = 1 << 26
"""Elements the numpy references handle in a process (all kernels together) before numba is loaded:
about a fifth of a second of numpy work. Loading numba and its cached kernels costs about a second
of CPU and 100 MiB, which a shorter run (the quickstart's) would not win back."""
_handled = [0]  # elements the references have handled so far


def describe() -> str:
    """Which kernels run, for ``plugnn --version``, ``plugnn plugins`` and a run's first line."""
    if BACKEND == "numpy":
        hint = "" if os.environ.get(ENV) else ": pip install 'plugnn[fast]' for compiled ones"
        return f"numpy (reference{hint})"
    from importlib.metadata import version

    return f"numba {version('numba')} (compiled)"


class Compiled:
    """A numba kernel made from ``function``, compiled (or loaded from numba's disk cache) in the background.

    Calling it runs the compiled kernel and returns True once it is ready for the dtypes of the array
    arguments; until then it returns False at once and the caller runs the numpy reference, whose
    results are the same bits. Once the references have handled :data:`START_AFTER` elements, the
    next call of a kernel for a set of dtypes starts a thread that imports numba and compiles the
    kernel for the types of that call's arguments, so neither numba's import nor its compilation
    (about a second each on first use, most of a second to load from the cache) holds up a run, and
    a short run never loads numba at all. A kernel's callers pass arrays of one layout (dimensions,
    C-contiguous) for each set of dtypes, and scalars of the arrays' dtype.

    Options: ``nogil`` (other threads run meanwhile), ``cache``, ``fastmath=False`` (IEEE
    arithmetic, the same results as numpy) and ``error_model="numpy"`` (a division by zero gives
    inf or NaN, as in numpy, and lets the loop be vectorised).
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__
        self._ready: dict[tuple[np.dtype, ...], Callable[..., Any]] = {}  # the arrays' dtypes -> dispatcher
        self._started: set[tuple[np.dtype, ...]] = set()
        self._lock = threading.Lock()

    def __call__(self, *args: Any) -> bool:
        key = tuple(arg.dtype for arg in args if isinstance(arg, np.ndarray))
        dispatcher = self._ready.get(key)
        if dispatcher is None:
            _handled[0] += args[0].size
            if _handled[0] >= START_AFTER or not BACKGROUND:
                self._start(key, args)
                dispatcher = self._ready.get(key)
            if dispatcher is None:
                return False
        dispatcher(*args)
        return True

    def _start(self, key: tuple[np.dtype, ...], args: tuple[Any, ...]) -> None:
        if not BACKGROUND:  # compile here; another thread calling meanwhile waits for it, then runs it too
            with self._lock:
                if key not in self._ready:
                    self._compile(key, args)
            return
        with self._lock:
            if key in self._started:
                return
            self._started.add(key)
        threading.Thread(target=self._compile, args=(key, args), name="plugnn-numba", daemon=True).start()

    def _compile(self, key: tuple[np.dtype, ...], args: tuple[Any, ...]) -> None:
        import numba as numba_module

        numba: Any = numba_module  # partly typed: its dispatchers are not
        # cached beside the source of a module's function; one made by exec or in a notebook is compiled anew
        module = sys.modules.get(self.function.__module__)
        cache = getattr(module, "__file__", None) == self.function.__code__.co_filename
        options = {"nogil": True, "fastmath": False, "error_model": "numpy", "cache": cache}
        dispatcher = numba.njit(**options)(self.function)
        dispatcher.compile(tuple(numba.typeof(arg) for arg in args))
        # a person waiting at a terminal is told why the machine is busy; pipes and logs stay clean
        if sum(dispatcher.stats.cache_misses.values()) and sys.stderr.isatty() and not _announced.is_set():
            _announced.set()
            print(
                f"plugnn: compiling numba kernels on first use ({self.__name__} ...): "
                "once, later runs load them from numba's cache",
                file=sys.stderr,
                flush=True,
            )
        self._ready[key] = dispatcher


def compiled(function: Callable[..., Any]) -> Compiled:
    """Mark ``function`` (plain Python loops over numpy arrays) as a numba kernel, compiled on first use."""
    return Compiled(function)


def choose(reference: F, kernel: F) -> F:
    """The function this process runs: ``kernel`` (which calls :func:`compiled` loops) with
    ``PLUGNN_KERNELS=numba``, else ``reference``. Both take the same arguments and give the same results."""
    return kernel if BACKEND == "numba" else reference
