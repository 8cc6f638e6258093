"""The thread budget: how many threads a run may use, for the BLAS and for plugnn's own pool.

One number caps both when a run starts, for the duration of the run only (:func:`thread_budget`):
the BLAS's threads (OpenBLAS, MKL, BLIS, OpenMP; through threadpoolctl) and plugnn's own pool for
element-wise work (:mod:`plugnn.parallel`). It comes from, first to last:

1. ``TrainSpec.threads``;
2. the budget of an enclosing :func:`thread_budget` block (how a sweep gives each trial its share);
3. the environment variable ``PLUGNN_THREADS`` (a positive integer, or ``auto``);
4. ``auto``: the cores available to the process (``os.sched_getaffinity``) minus the cores other
   processes keep busy, measured from ``/proc/stat`` over :data:`SAMPLE_SECONDS` when the run starts
   (where there is no ``/proc/stat``, the 1-minute load average stands in), never below 1.

**The BLAS's count is fixed for the whole life of a run.** It is chosen once, when the run starts,
and recorded in its checkpoints and model file (``LoopState.blas_threads``). A run that goes on
(``plugnn run --resume``, ``--from``, ``train(start_from=...)``) trains with the recorded count,
whatever the machine's load, an enclosing budget or ``PLUGNN_THREADS`` say then; only its own
``train.threads`` (``--threads``, ``plugnn.resume(threads=...)``) may ask for another, which is
honoured with a warning that the results may then differ in the last bits (:func:`kept_blas_threads`).
Why: some BLAS builds round a product otherwise with another thread count (OpenBLAS 0.3.31,
measured: its SkylakeX kernels when the inner dimension is above 448 and not a multiple of 32, its
Haswell kernels for most products big enough to be split between threads; docs/performance.md, "The
thread budget"), so a count that followed the load would make a run's results depend on the load.
plugnn's own pool gives the same bits for any count, so with ``auto`` it alone follows the load: it
is measured again before every epoch over the time since the last measure (:func:`remeasure`).

Why not always all cores: a BLAS splits every product between its threads and waits for the
slowest. When another process holds one of two cores, the thread that shares its core is
descheduled for whole time slices while the other spins; an epoch then took 2.7–4.5× its quiet
time. One thread on the free core takes at most about twice (the work of two cores on one). The
price of a fixed BLAS count: a run that started on a quiet machine keeps its BLAS threads when
another process arrives later, and its products wait for the descheduled one, as those of a run
given its count always did.

Importing plugnn also sets ``OPENBLAS_THREAD_TIMEOUT`` (:data:`BLAS_SPIN`) unless it is set: after
each product OpenBLAS's idle threads spin for 2**28 cycles (about 0.1 s) before they sleep, and
between the products of a train step that spinning takes the cores plugnn's own threads
(:mod:`plugnn.parallel`) need. OpenBLAS reads it when numpy loads it; when numpy was imported
first, plugnn makes the loaded OpenBLAS read it again and restart its threads (:func:`_set_blas_spin`).
"""

from __future__ import annotations

import contextvars
import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from plugnn.errors import PlugnnError

ENV = "PLUGNN_THREADS"
SAMPLE_SECONDS = 0.1
"""How long :func:`busy_cores` watches ``/proc/stat`` (at 100 ticks a second, 10 ticks per core)."""
REUSE_SECONDS = 5.0
"""A measurement of the machine's load is reused for this long (runs started in quick succession)."""

BLAS_SPIN = ("OPENBLAS_THREAD_TIMEOUT", "20")
"""OpenBLAS's idle threads spin 2**20 cycles (a few tenths of a millisecond) before they sleep: long
enough to bridge the gaps between an MLP step's small products, short against a convnet's
element-wise phases (measured in docs/performance.md, "OpenBLAS's idle threads")."""


def _set_blas_spin() -> None:
    """Set :data:`BLAS_SPIN` unless the user did, and make an OpenBLAS that is loaded already use it.

    OpenBLAS reads the variable when it loads (with numpy) and its thread pool keeps the value. When
    numpy came first, OpenBLAS is asked to read its environment again (``openblas_read_env``) and to
    stop its idle threads (``blas_thread_shutdown_``, what it does itself around a ``fork``): the next
    threaded product starts them afresh with the new timeout. Builds without these exported
    functions keep their own value.
    """
    if BLAS_SPIN[0] in os.environ:
        return
    os.environ[BLAS_SPIN[0]] = BLAS_SPIN[1]
    if "numpy" not in sys.modules:
        return  # OpenBLAS will read it when numpy loads
    import ctypes

    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool.get("internal_api") != "openblas":
            continue
        try:
            library = ctypes.CDLL(pool["filepath"])
            read_env, shutdown = library.openblas_read_env, library.blas_thread_shutdown_
        except (OSError, AttributeError):
            continue
        read_env()
        shutdown()


_set_blas_spin()

_current: contextvars.ContextVar[int | None] = contextvars.ContextVar("plugnn_threads", default=None)
_blas: contextvars.ContextVar[int | None] = contextvars.ContextVar("plugnn_blas_threads", default=None)
_automatic: contextvars.ContextVar[_Window | None] = contextvars.ContextVar("plugnn_auto_threads", default=None)
_last_measure: tuple[float, float] | None = None  # (monotonic time, busy cores)
REMEASURE_SECONDS = 1.0
"""An ``auto`` budget is measured again (:func:`remeasure`) over windows of at least this long."""


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _cpu_ticks(cpus: set[int]) -> tuple[int, int] | None:
    """``(busy, total)`` jiffies of ``cpus`` so far, from ``/proc/stat``; None where there is none."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return None
    busy = total = 0
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        ticks = [int(field) for field in fields[:8]]  # user nice system idle iowait irq softirq steal
        total += sum(ticks)
        busy += sum(ticks) - ticks[3] - ticks[4]
    return busy, total


def busy_cores() -> float:
    """How many of this process's cores other processes keep busy right now (0.0 on a quiet machine).

    Measured over :data:`SAMPLE_SECONDS` while this thread sleeps, from the busy and total time of
    the cores in the process's affinity; without ``/proc/stat``, the 1-minute load average.
    Reused for :data:`REUSE_SECONDS`.
    """
    global _last_measure
    now = time.monotonic()
    if _last_measure is not None and now - _last_measure[0] < REUSE_SECONDS:
        return _last_measure[1]
    cpus = _affinity()
    before = _cpu_ticks(cpus)
    if before is None:
        busy = min(float(len(cpus)), os.getloadavg()[0]) if hasattr(os, "getloadavg") else 0.0
    else:
        own = time.process_time()
        time.sleep(SAMPLE_SECONDS)
        after = _cpu_ticks(cpus)
        assert after is not None
        own_share = (time.process_time() - own) / SAMPLE_SECONDS  # this process's other threads
        ticks_busy, ticks_total = after[0] - before[0], after[1] - before[1]
        busy = max(0.0, len(cpus) * ticks_busy / ticks_total - own_share) if ticks_total else 0.0
    _last_measure = (time.monotonic(), busy)
    return busy


class _Window:
    """The machine's and this process's CPU time since the last look: how busy other processes kept the cores."""

    def __init__(self) -> None:
        self.cpus = _affinity()
        self._start()

    def _start(self) -> None:
        self.wall, self.own, self.ticks = time.monotonic(), time.process_time(), _cpu_ticks(self.cpus)

    def busy_cores(self) -> float | None:
        """Cores other processes kept busy since the window started (None: too short, or no ``/proc/stat``)."""
        wall = time.monotonic() - self.wall
        if wall < REMEASURE_SECONDS or self.ticks is None:
            return None
        ticks, own = _cpu_ticks(self.cpus), time.process_time() - self.own
        assert ticks is not None
        busy, total = ticks[0] - self.ticks[0], ticks[1] - self.ticks[1]
        self._start()
        return max(0.0, len(self.cpus) * busy / total - own / wall) if total else 0.0


def _affinity() -> set[int]:
    try:
        return os.sched_getaffinity(0)
    except AttributeError:
        return set(range(os.cpu_count() or 1))


def auto_threads() -> int:
    """The free cores: :func:`available_cores` minus :func:`busy_cores` (rounded), at least 1."""
    cores = available_cores()
    return max(1, min(cores, round(cores - busy_cores())))


def parse_threads(text: str, source: str = ENV) -> int | None:
    """A thread count as written in ``source``: a positive integer, or ``auto`` (None)."""
    if text.strip().lower() == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise PlugnnError(f"{source}: expected a positive integer or 'auto', got {text!r}")
    return value


def resolve_threads(threads: int | None = None) -> int:
    """The budget for a run: ``threads`` if given, else the enclosing :func:`thread_budget`'s (a sweep
    worker's share), else ``PLUGNN_THREADS``, else :func:`auto_threads`."""
    if threads is None:
        threads = _current.get()
    if threads is None:
        threads = env_threads()
    return threads if threads is not None else auto_threads()


def env_threads() -> int | None:
    """``PLUGNN_THREADS`` as a count (None when unset or ``auto``); a bad value raises :class:`PlugnnError`."""
    text = os.environ.get(ENV, "").strip()
    return parse_threads(text) if text else None


def current_threads() -> int:
    """The budget of plugnn's own pool in this thread's run (all available cores outside any run)."""
    budget = _current.get()
    return budget if budget is not None else available_cores()


def current_blas_threads() -> int | None:
    """The BLAS's thread count in this thread's :func:`thread_budget` block (None outside any)."""
    return _blas.get()


CHANGED_BLAS = (
    "{given} BLAS threads asked for where the run so far used {recorded}: its products may round otherwise, "
    "so results may differ in the last bits from the uninterrupted run"
)
"""The warning of a continued run told to use another BLAS thread count than it started with."""


def kept_blas_threads(given: int | None, recorded: int | None) -> int | None:
    """The BLAS thread count a run that goes on trains with: ``recorded``, the count it started with.

    ``given`` is its ``train.threads``: when it asks for another count, that count is used and a
    warning (:data:`CHANGED_BLAS`) says that the results may differ in the last bits. None when
    nothing is recorded (a new run, or a file of a plugnn before the count was kept): the budget
    decides, as for a new run.
    """
    if recorded is None or given is None or given == recorded:
        return recorded
    warnings.warn(CHANGED_BLAS.format(given=given, recorded=recorded), stacklevel=2)
    return given


@contextmanager
def thread_budget(threads: int | None = None, *, blas: int | None = None) -> Iterator[int]:
    """Cap plugnn's pool at :func:`resolve_threads` ``(threads)`` inside the block, and the BLAS at ``blas``
    (by default the same budget).

    Yields the budget. The BLAS's limit is process-wide while the block runs, never changes inside
    it (:func:`remeasure` moves only plugnn's pool) and is restored after it; plugnn's own pool reads
    the budget of the block it is called from (:func:`current_threads`). The train loop gives ``blas``
    for a run that goes on with the count it started with (:func:`kept_blas_threads`).
    """
    from threadpoolctl import threadpool_limits

    automatic = threads is None and _current.get() is None and env_threads() is None
    budget = resolve_threads(threads)
    blas = budget if blas is None else blas
    token, blas_token = _current.set(budget), _blas.set(blas)
    window = _automatic.set(_Window() if automatic else None)
    try:
        with threadpool_limits(limits=blas):
            yield budget
    finally:
        _automatic.reset(window)
        _blas.reset(blas_token)
        _current.reset(token)


def remeasure() -> int:
    """Inside an ``auto`` budget, measure the free cores again and give plugnn's pool that many; return it.

    The measure is the cores other processes kept busy since the last one (at least
    :data:`REMEASURE_SECONDS` ago; a shorter window keeps the budget), from ``/proc/stat`` with no
    waiting. The train loop calls it before each epoch, so plugnn's own pool follows the machine's
    load during a long run, with the same results for any count. The BLAS keeps the count the run
    started with, and a budget that was given (a number) never changes.
    """
    window = _automatic.get()
    budget = current_threads()
    if window is None:
        return budget
    busy = window.busy_cores()
    if busy is None:
        return budget
    cores = available_cores()
    new = max(1, min(cores, round(cores - busy)))
    _current.set(new)  # the enclosing thread_budget's exit restores what was before it
    return new
