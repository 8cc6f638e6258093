"""Each compiled kernel against its numpy reference (plugnn.kernels), on the shapes of the benchmarks.

One thread, the fastest of 30 calls, 3 alternating rounds (the best of each path): how much a
kernel saves by itself, apart from the rest of the step. Needs numba (``pip install -e ".[fast]"``).

    python benchmarks/bench_kernels.py
"""

from __future__ import annotations

import plugnn  # first, as the plugnn command

# isort: split

import time
from collections.abc import Callable

import numpy as np
from plugnn_vision.ops import batch_norm, im2col, pooling

import plugnn.kernels
from plugnn.kernels import activation, optim

plugnn.kernels.BACKGROUND = False  # compile before timing


def fastest(call: Callable[[], object], repeats: int = 30) -> float:
    """Milliseconds of the fastest of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def cases() -> dict[str, Callable[[str], Callable[[], object]]]:
    """Name -> (backend -> a call of that backend's kernel on the benchmark's shapes)."""
    rng = np.random.default_rng(0)
    made: dict[str, Callable[[str], Callable[[], object]]] = {}
    params = [rng.standard_normal(100_710).astype(np.float32) for _ in range(5)]
    adam = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "t": 5}
    params[3] = np.abs(params[3])  # v >= 0
    made["Adam, 100,710 parameters (MLP)"] = lambda b: lambda: getattr(optim, f"adam_{b}")(*params, **adam)
    for rows in (128, 5000):
        h = rng.standard_normal((rows, 200)).astype(np.float32)
        y = np.empty_like(h)
        made[f"ReLU forward ({rows}, 200)"] = lambda b, h=h, y=y: lambda: getattr(activation, f"relu_{b}")(h, y)
        made[f"ReLU backward ({rows}, 200)"] = lambda b, h=h, y=y: (
            lambda: getattr(activation, f"relu_backward_{b}")(h.copy(), y)
        )
    flat = rng.standard_normal((128 * 26 * 26, 32)).astype(np.float32)
    bias, active = rng.standard_normal(32).astype(np.float32), np.empty(flat.shape, bool)
    bias_relu = {b: getattr(activation, f"bias_relu_{b}") for b in ("numpy", "numba")}
    made["conv 1 bias + ReLU + mask"] = lambda b: lambda: bias_relu[b](flat.copy(), bias, active)
    made["conv 1 ReLU mask backward"] = lambda b: lambda: getattr(activation, f"relu_backward_{b}")(flat, active)
    for name, shape in (("pool 1", (128, 26, 26, 32)), ("pool 2", (128, 11, 11, 64))):
        x = np.maximum(rng.standard_normal(shape).astype(np.float32), 0)
        out, winner = pooling.max_pool(x, 2, 2)
        g = rng.standard_normal(out.shape).astype(np.float32)
        made[f"max-pool backward, {name}"] = lambda b, g=g, w=winner, s=shape: (
            lambda: getattr(pooling, f"max_pool_backward_{b}")(g, w, s, 2, 2)
        )
    grad = rng.standard_normal((128 * 11 * 11, 64)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 32, 64)).astype(np.float32)
    made["input gradient, conv 2"] = lambda b: (
        lambda: getattr(im2col, f"input_gradient_{b}")(grad, kernel, (128, 13, 13, 32), 1)
    )
    for name, shape in (("ResNet stem", (128 * 28 * 28, 32)), ("ResNet 7x7", (128 * 7 * 7, 64))):
        x = rng.standard_normal(shape).astype(np.float32)
        gamma, beta = rng.standard_normal(shape[1]).astype(np.float32), np.zeros(shape[1], np.float32)
        _, x_hat, _, _, inv_std = batch_norm.train_forward_numpy(x, gamma, beta, 1e-5)
        made[f"batch norm forward, {name}"] = lambda b, x=x, gamma=gamma, beta=beta: (
            lambda: getattr(batch_norm, f"train_forward_{b}")(x, gamma, beta, 1e-5)
        )
        made[f"batch norm backward, {name}"] = lambda b, x=x, x_hat=x_hat, inv_std=inv_std, gamma=gamma: (
            lambda: getattr(batch_norm, f"backward_{b}")(x, x_hat, inv_std, gamma)
        )
    return made


def main() -> None:
    print(f"{'kernel':<34} {'numpy ms':>9} {'numba ms':>9} {'numba/numpy':>12}")
    with plugnn.thread_budget(1), np.errstate(all="ignore"):
        for name, make in cases().items():
            calls = {backend: make(backend) for backend in ("numpy", "numba")}
            for call in calls.values():
                call()  # compiled, warm
            best = {backend: float("inf") for backend in calls}
            for _ in range(3):
                for backend, call in calls.items():
                    best[backend] = min(best[backend], fastest(call))
            print(f"{name:<34} {best['numpy']:>9.3f} {best['numba']:>9.3f} {best['numba'] / best['numpy']:>12.2f}")


if __name__ == "__main__":
    main()
