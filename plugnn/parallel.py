"""Element-wise work split over rows between the threads of the run's budget (:mod:`plugnn.threads`).

numpy runs one call on one thread, but releases the GIL inside its loops, so two threads working
on two halves of a batch run at once. :func:`for_rows` calls ``work(rows)`` for contiguous row
ranges that cover ``range(n_rows)``: one share per thread of the budget, the calling thread taking
the first. Each share is cut into blocks of about :data:`BLOCK_BYTES` so that several passes over a
block (a bias, an activation, its mask) read it from the core's cache, not from memory.

Every row sees the same operations whatever the split, so results are bit-identical for every
thread count. ``work`` must only touch its own rows (reads of shared inputs are fine) and must not
call :func:`for_rows` itself. The train loop uses it to gather shuffled batches (:func:`take_rows`),
layers for activations, strided gathers and pooling, the optimizers (:mod:`plugnn.optim`) for their
update of the flat parameter buffer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np

from plugnn.protocols import Array
from plugnn.threads import current_threads

BLOCK_BYTES = 1 << 20
"""About how many bytes of the largest array one block of rows covers (fits a core's L2 cache)."""
PARALLEL_MIN_BYTES = 1 << 20
"""Less work than this (bytes of the largest array) runs on the calling thread alone: below it the
hand-over to another thread (about 50 µs) costs more than it saves."""


@cache
def _executor(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plugnn")


def shares(n_rows: int, workers: int) -> list[range]:
    """``range(n_rows)`` cut into ``workers`` contiguous parts of nearly equal length (none empty)."""
    workers = max(1, min(workers, n_rows))
    bounds = [n_rows * k // workers for k in range(workers + 1)]
    return [range(a, b) for a, b in itertools.pairwise(bounds)]


def run_all(tasks: list[Callable[[], None]]) -> None:
    """Run ``tasks`` at once, the first on the calling thread, the rest in plugnn's pool; re-raise the first error."""
    if len(tasks) == 1:
        tasks[0]()
        return
    futures = [_executor(len(tasks) - 1).submit(task) for task in tasks[1:]]
    try:
        tasks[0]()
    finally:
        for future in futures:
            future.result()


def for_rows(work: Callable[[slice], object], n_rows: int, row_bytes: int) -> None:
    """Call ``work(rows)`` for ``slice`` s of rows covering ``range(n_rows)``, in parallel.

    ``row_bytes`` is the size of one row of the largest array ``work`` touches; it sets the block
    size (:data:`BLOCK_BYTES`) and whether the work is worth splitting (:data:`PARALLEL_MIN_BYTES`).
    """
    if n_rows <= 0:
        return
    if n_rows * row_bytes <= min(BLOCK_BYTES, PARALLEL_MIN_BYTES):  # one block on this thread: call it
        work(slice(0, n_rows))
        return
    block = max(1, BLOCK_BYTES // max(1, row_bytes))
    workers = current_threads() if n_rows * row_bytes >= PARALLEL_MIN_BYTES else 1

    def task(share: range) -> Callable[[], None]:
        def blocks() -> None:
            for start in range(share.start, share.stop, block):
                work(slice(start, min(start + block, share.stop)))

        return blocks

    run_all([task(share) for share in shares(n_rows, workers)])


def take_rows(x: Array, index: np.ndarray, out: Array) -> Array:
    """``x[index]`` (rows of ``x`` ``(N, ...)`` in the order of the ints ``index``) copied into ``out``.

    The indices are not checked (``np.take``'s ``mode="clip"``): the train loop's come from a permutation.
    """
    for_rows(lambda rows: np.take(x, index[rows], axis=0, out=out[rows], mode="clip"), len(index), out[:1].nbytes)
    return out
