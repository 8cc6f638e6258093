"""Timing an epoch's matrix products alone: the limit a BLAS sets on a training step (bench.py, bench_cnn.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def epoch_gemm_seconds(
    rows: int, batch: int, operands: Callable[[int], list[tuple[np.ndarray, np.ndarray]]], repeats: int
) -> float:
    """Seconds of one epoch's products ``a @ b``: for each batch size ``n`` of ``rows`` in batches of
    ``batch``, the fastest of ``repeats`` timings of the pairs ``operands(n)``, times how often ``n`` occurs."""
    sizes = [batch] * (rows // batch) + ([rows % batch] if rows % batch else [])
    total = 0.0
    for n in sorted(set(sizes)):
        pairs = operands(n)
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            for a, b in pairs:
                a @ b
            runs.append(time.perf_counter() - start)
        total += min(runs) * sizes.count(n)
    return total
