"""Which float32 products round otherwise with 2 BLAS threads than with 1, on this machine's BLAS.

    python benchmarks/blas_threads.py                           # the kernels OpenBLAS picks here
    OPENBLAS_CORETYPE=Haswell python benchmarks/blas_threads.py   # another kernel family of the same build

Prints the BLAS and its kernels, then for the shapes of plugnn's recipes and benchmarks (and those of
the first report) whether ``a @ b`` gives the same bits with 1 and 2 threads, then the inner
dimensions K (M = 128, N = 100) at which they differ, and how many random small shapes differ below
and above OpenBLAS's threading threshold (``M·N·K > 65536 × 4``: below it OpenBLAS runs one thread
whatever the limit, interface/gemm.c). docs/performance.md, "The thread budget", has what it measured.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

SHAPES = [
    (32, 100, 200),  # the quickstart's second layer, batch 32 (the first report)
    (450, 64, 100),  # the first report
    (32, 64, 100),  # the quickstart's first layer, batch 32
    (64, 32, 100),  # its weight gradient: the inner dimension is the batch
    (128, 784, 100),  # the MLP benchmark's first layer, batch 128
    (784, 128, 100),  # its weight gradient
    (5000, 784, 100),  # the MLP benchmark's first layer, batch 5000
    (784, 5000, 100),  # its weight gradient
    (64, 500, 100),  # the quickstart's weight gradient at batch 500
]
THRESHOLD = 65536 * 4
"""OpenBLAS's ``SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD``: smaller products run on one thread."""


def differs(m: int, k: int, n: int, rng: np.random.Generator) -> bool:
    """Whether a random float32 ``(m, k) @ (k, n)`` gives other bits with 2 BLAS threads than with 1."""
    a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
    with threadpool_limits(1):
        one = a @ b
    with threadpool_limits(2):
        two = a @ b
    return not np.array_equal(one, two)


def main() -> None:
    rng = np.random.default_rng(0)
    blas = [
        (p["internal_api"], p["version"], p.get("architecture")) for p in threadpool_info() if p["user_api"] == "blas"
    ]
    print("BLAS:", blas)
    for m, k, n in SHAPES:
        print(f"{m}x{k} @ {k}x{n}: {'differs' if differs(m, k, n, rng) else 'same'}")
    inner = [k for k in range(8, 1200, 8) if differs(128, k, 100, rng)]
    print("128xK @ Kx100 differs at K =", inner or "none", "(K = 8, 16, ..., 1192)")
    counts = {False: [0, 0], True: [0, 0]}  # above the threshold? -> [differ, shapes]
    for m in (16, 32, 48, 64, 100):
        for k in (32, 64, 100, 128):
            for n in range(8, 400, 7):
                above = m * n * k > THRESHOLD
                counts[above][0] += differs(m, k, n, rng)
                counts[above][1] += 1
    for above, (differ, total) in counts.items():
        print(f"M*N*K {'>' if above else '<='} {THRESHOLD:,}: {differ} of {total} shapes differ")


if __name__ == "__main__":
    main()
