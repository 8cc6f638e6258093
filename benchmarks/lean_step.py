"""The benchmark MLP's train step written straight in numpy: how far below plugnn's layered step numpy goes.

No layer objects and no protocol: the batch gathered as the train loop does it, each hidden layer's
bias and ReLU in one blocked pass on the run's threads (:func:`plugnn.parallel.for_rows`), the ReLU
masks applied to the gradient in place, plugnn's own loss and Adam over one flat parameter buffer.
Each round times an epoch of plugnn's step (:func:`step_profile.profile_steps`, the phases summed)
and an epoch of this one in the same process, and prints the medians beside the epoch's GEMM-bound
limit (:func:`bench.gemm_limit`), all in ms per step.

    python benchmarks/lean_step.py                 # batch 5000, 5 rounds, 2 threads
    python benchmarks/lean_step.py --batch 128 --rounds 3
"""

from __future__ import annotations

import plugnn  # first, as the plugnn command: it sets OPENBLAS_THREAD_TIMEOUT before numpy loads OpenBLAS

# isort: split
import argparse
import itertools
import statistics
import time

import numpy as np
from bench import gemm_limit, load
from plugnn_std import Adam, Dense
from plugnn_std.losses.softmax_cross_entropy import SoftmaxCrossEntropyLoss
from plugnn_std.optimizers.adam import AdamOptimizer
from step_profile import profile_steps

from plugnn.parallel import for_rows, take_rows

WIDTHS = (784, 100, 200, 10)


def bias_relu(h: np.ndarray, b: np.ndarray) -> None:
    """``h = max(h + b, 0)`` in place, one pass per cache-sized block."""

    def block(rows: slice) -> None:
        part = h[rows]
        part += b
        np.maximum(part, 0, out=part)

    for_rows(block, len(h), h[:1].nbytes)


def relu_mask(g: np.ndarray, h: np.ndarray) -> None:
    """``g *= (h > 0)`` in place."""
    for_rows(lambda rows: np.multiply(g[rows], h[rows] > 0, out=g[rows]), len(h), h[:1].nbytes)


def lean_epoch(x: np.ndarray, y: np.ndarray, batch: int, rng: np.random.Generator) -> float:
    """Milliseconds per step of one epoch of the hand-written step (fresh He-initialised weights)."""
    shapes = [shape for fan_in, fan_out in itertools.pairwise(WIDTHS) for shape in ((fan_in, fan_out), (fan_out,))]
    params = np.zeros(sum(int(np.prod(s)) for s in shapes), np.float32)
    grads = np.zeros_like(params)
    ends = list(itertools.accumulate(int(np.prod(s)) for s in shapes))
    spans = list(zip([0, *ends[:-1]], ends, shapes, strict=True))
    views = [params[a:b].reshape(s) for a, b, s in spans]
    gviews = [grads[a:b].reshape(s) for a, b, s in spans]
    for w in views[::2]:
        w[...] = rng.standard_normal(w.shape, dtype=np.float32) * np.float32(np.sqrt(2 / w.shape[0]))
    w0, b0, w1, b1, w2, b2 = views
    dw0, db0, dw1, db1, dw2, db2 = gviews
    loss, adam = SoftmaxCrossEntropyLoss(None), AdamOptimizer(Adam(lr=1e-3))
    buffer = np.empty((batch, x.shape[1]), np.float32)
    order = rng.permutation(len(x))
    started = time.perf_counter()
    for first in range(0, len(x), batch):
        index = order[first : first + batch]
        xb, yb = take_rows(x, index, buffer[: len(index)]), y[index]
        h1 = xb @ w0
        bias_relu(h1, b0)
        h2 = h1 @ w1
        bias_relu(h2, b1)
        z = h2 @ w2
        z += b2
        _, g = loss(z, yb)
        np.matmul(h2.T, g, out=dw2)
        np.sum(g, axis=0, out=db2)
        g2 = g @ w2.T
        relu_mask(g2, h2)
        np.matmul(h1.T, g2, out=dw1)
        np.sum(g2, axis=0, out=db1)
        g1 = g2 @ w1.T
        relu_mask(g1, h1)
        np.matmul(xb.T, g1, out=dw0)
        np.sum(g1, axis=0, out=db0)
        adam.step([params], [grads])
    return (time.perf_counter() - started) * 1e3 / -(-len(x) // batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    _, x, y, _, _ = load(None)
    spec = plugnn.NetworkSpec(
        layers=[Dense(100), "relu", Dense(200), "relu", Dense(10)],
        loss="softmax_cross_entropy",
        optimizer=Adam(lr=1e-3),
        init="he",
    )
    flat = x.reshape(len(x), -1)
    rng = np.random.default_rng(0)
    layered, lean = [], []
    with plugnn.thread_budget(args.threads):
        lean_epoch(flat, y, args.batch, rng)  # warm-up
        for _ in range(args.rounds):
            layered.append(sum(profile_steps(spec, x, y, args.batch, epochs=1, threads=args.threads).values()))
            lean.append(lean_epoch(flat, y, args.batch, rng))
        steps = -(-len(x) // args.batch)
        limit = gemm_limit(len(x), WIDTHS[0], list(WIDTHS[1:-1]), args.batch) * 1e3 / steps
    print(f"batch {args.batch}, {args.threads} threads, ms per step, median of {args.rounds} rounds:")
    print(f"  plugnn's layered step  {statistics.median(layered):7.2f}  ({', '.join(f'{v:.2f}' for v in layered)})")
    print(f"  hand-written numpy     {statistics.median(lean):7.2f}  ({', '.join(f'{v:.2f}' for v in lean)})")
    print(f"  GEMM-bound limit       {limit:7.2f}")


if __name__ == "__main__":
    main()
