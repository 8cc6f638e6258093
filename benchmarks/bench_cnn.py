"""Side-by-side CNN benchmark: plugnn-vision against PyTorch CPU on Keras' MNIST convnet.

The network of Keras' MNIST example (conv 32 3×3 ReLU, max-pool 2, conv 64 3×3 ReLU, max-pool 2,
flatten, dropout 0.5, dense 10; Adam lr 1e-3, batch 128, float32), trained on the same data in each
system, each run in a fresh process (peak memory is the whole process's), the systems' order
rotated from run to run so that machine drift hits all alike. Three systems: plugnn and PyTorch
with ``--threads`` threads each, and plugnn with its own thread budget (``plugnn-auto``: the cores
other processes leave free when the run starts).

Reports the median seconds per training epoch of 60,000 images (with ``--rows`` the time is scaled
to 60,000), plugnn's ratio to PyTorch per run and its median, and the GEMM-bound limit: the time
numpy's float32 matmul takes for products of exactly the network's shapes (forward, weight
gradients, input gradients except the first layer's) for a 60,000-image epoch, measured in every
round.

    python benchmarks/bench_cnn.py --json benchmarks/results/cnn.json   # 60,000 images, 3 runs x 2 epochs
    python benchmarks/bench_cnn.py --rows 12800 --epochs 1 --runs 3     # 100 steps a run, scaled
    python benchmarks/bench_cnn.py --quick                              # 10,000 images, 1 epoch, 1 run
    python benchmarks/bench_cnn.py --profile --rows 6400                # plugnn's step, layer by layer

Fashion-MNIST comes from Debian's dataset-fashion-mnist (`apt-get install -y dataset-fashion-mnist`).
PyTorch: `pip install torch==2.13.0`.
"""

from __future__ import annotations

from import_order import ENVIRONMENT  # first: the import order the worker measures

# isort: split

import plugnn  # first, as the plugnn command: it sets OPENBLAS_THREAD_TIMEOUT before numpy loads OpenBLAS

# isort: split

import argparse
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
from gemm import epoch_gemm_seconds
from jax_loop import limit_threads, train_jax, train_keras
from step_profile import print_profile, profile_steps
from torch_loop import train_torch
from worker import parse_or_work

SYSTEMS = ("plugnn", "torch", "plugnn-auto", "plugnn-np1st", "jax", "keras")
"""plugnn and PyTorch with ``--threads`` threads each, plugnn with its own thread budget (``auto``),
plugnn imported after numpy (``np1st``), the step under ``jax.jit``, and Keras 3 on JAX. A peer
that is not installed is left out."""
BATCH = 128


def load(rows: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from plugnn import default_registry
    from plugnn.data import load_dataset

    split = load_dataset("fashion-mnist", default_registry())
    x, y = split.x_train, split.y_train
    if rows is not None and rows < len(x):
        x, y = x[:rows], y[:rows]
    return x, y, split.x_test, split.y_test


def keras_spec():
    """Keras' MNIST convnet as a plugnn spec (the ``mnist-cnn`` recipe's network)."""
    from plugnn_extras import Dropout
    from plugnn_std import Adam, Dense
    from plugnn_vision import Conv2D, Flatten, MaxPool2D

    return plugnn.NetworkSpec(
        layers=[
            Conv2D(32, 3, activation="relu"),
            MaxPool2D(2),
            Conv2D(64, 3, activation="relu"),
            MaxPool2D(2),
            Flatten(),
            Dropout(0.5),
            Dense(10),
        ],
        loss="softmax_cross_entropy",
        optimizer=Adam(lr=1e-3),
        init="glorot",
    )


def run_plugnn(x, y, xt, yt, epochs: int, seed: int, threads: int | None) -> tuple[list[float], float]:
    """``threads`` None: plugnn's thread budget decides (the free cores when the run starts)."""

    train = plugnn.TrainSpec(epochs=epochs, batch_size=BATCH, seed=seed, threads=threads)
    result = plugnn.train(keras_spec(), x, y, train)
    return result.history.column("seconds"), float(np.mean(result.network.predict(xt) == yt))


def run_torch(x, y, xt, yt, epochs: int, seed: int, threads: int) -> tuple[list[float], float]:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(1600, 10),
    )
    xs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # PyTorch's own layout, NCHW
    ys = torch.from_numpy(y.astype(np.int64))
    xt_nchw = torch.from_numpy(np.ascontiguousarray(xt.transpose(0, 3, 1, 2)))
    return train_torch(model, xs, ys, xt_nchw, yt, epochs, BATCH)


def run_jax(x, y, xt, yt, epochs: int, seed: int, threads: int) -> tuple[list[float], float, float]:
    limit_threads(threads)
    import jax
    import jax.numpy as jnp
    from jax import lax

    keys = jax.random.split(jax.random.PRNGKey(seed), 3)

    def glorot(key, shape, fan_in, fan_out):
        limit = np.sqrt(6 / (fan_in + fan_out))
        return jax.random.uniform(key, shape, jnp.float32, -limit, limit)

    params = {
        "c1": glorot(keys[0], (3, 3, 1, 32), 9, 9 * 32),
        "b1": jnp.zeros(32),
        "c2": glorot(keys[1], (3, 3, 32, 64), 9 * 32, 9 * 64),
        "b2": jnp.zeros(64),
        "d": glorot(keys[2], (1600, 10), 1600, 10),
        "bd": jnp.zeros(10),
    }

    def conv_relu(xb, kernel, bias):
        out = lax.conv_general_dilated(xb, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jax.nn.relu(out + bias)

    def pool(xb):
        return lax.reduce_window(xb, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def apply(p, xb, key, training):
        h = pool(conv_relu(pool(conv_relu(xb, p["c1"], p["b1"])), p["c2"], p["b2"])).reshape(len(xb), -1)
        if training:  # dropout 0.5
            h = jnp.where(jax.random.bernoulli(key, 0.5, h.shape), h * 2, 0)
        return h @ p["d"] + p["bd"]

    return train_jax(params, apply, x, y, xt, yt, epochs, BATCH, seed)


def run_keras(x, y, xt, yt, epochs: int, seed: int, threads: int) -> tuple[list[float], float, float]:
    """Keras' own MNIST convnet example, on JAX."""
    limit_threads(threads)
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=x.shape[1:]),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10),
        ]
    )
    return train_keras(model, x, y, xt, yt, epochs, BATCH)


def products(n: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The matrix products of one train step on a batch of ``n``: ``(rows, inner), (inner, cols)`` each.

    conv 1 (28×28×1 -> 26×26×32): forward and kernel gradient (no input gradient: first layer);
    conv 2 (13×13×32 -> 11×11×64): forward, kernel gradient, input gradient; dense 1600 -> 10: all three.
    """
    p1, p2 = n * 26 * 26, n * 11 * 11
    return [
        ((p1, 9), (9, 32)),
        ((9, p1), (p1, 32)),
        ((p2, 288), (288, 64)),
        ((288, p2), (p2, 64)),
        ((p2, 64), (64, 288)),
        ((n, 1600), (1600, 10)),
        ((1600, n), (n, 10)),
        ((n, 10), (10, 1600)),
    ]


def flops_per_sample() -> float:
    return sum(2 * a * b * c for (a, b), (_, c) in products(1))


def gemm_limit(rows: int, threads: int, repeats: int = 10) -> float:
    """Seconds per epoch spent in the epoch's matrix products alone, float32, fastest of ``repeats``."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)

    def operands(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(rng.random(a, dtype=np.float32), rng.random(b, dtype=np.float32)) for a, b in products(n)]

    with threadpool_limits(threads):
        return epoch_gemm_seconds(rows, BATCH, operands, repeats)


def worker(args: argparse.Namespace) -> None:
    x, y, xt, yt = load(args.rows)
    runs = {"plugnn": run_plugnn, "torch": run_torch, "plugnn-auto": run_plugnn, "plugnn-np1st": run_plugnn}
    run = (runs | {"jax": run_jax, "keras": run_keras})[args.worker]
    threads = None if args.worker == "plugnn-auto" else args.threads
    seconds, accuracy, *compile_seconds = run(x, y, xt, yt, args.epochs, args.seed, threads)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sample = {"seconds": seconds, "accuracy": accuracy, "peak_mib": peak_mib}
    print(json.dumps(sample | {"compile_s": compile_seconds[0] if compile_seconds else 0.0}))


def installed(system: str) -> bool:
    """Whether the system's package can be imported here (plugnn's always can)."""
    import importlib.util

    package = {"torch": "torch", "jax": "jax", "keras": "keras"}.get(system)
    return package is None or importlib.util.find_spec(package) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows, 1 epoch, 1 run")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", type=int, help="use the first ROWS training rows")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--profile", action="store_true", help="print where plugnn's train step spends its time")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    args = parse_or_work(parser, SYSTEMS, worker)
    if args is None:
        return
    if args.quick:
        args.rows, args.epochs, args.runs = args.rows or 10_000, 1, 1
    if args.profile:
        x, y, _, _ = load(args.rows)
        print_profile(BATCH, profile_steps(keras_spec(), x, y, BATCH, epochs=2, threads=args.threads), 60_000)
        return
    rows = len(load(args.rows)[0])
    systems = [s for s in args.systems if installed(s)]
    limits, samples = [], {s: [] for s in systems}
    for run in range(args.runs):
        limits.append(gemm_limit(60_000, args.threads))  # the epoch the times are scaled to
        for system in systems[run % len(systems) :] + systems[: run % len(systems)]:  # rotate the order
            command = [sys.executable, __file__, "--epochs", str(args.epochs)]
            command += ["--seed", str(run), "--threads", str(args.threads)]
            if args.rows:
                command += ["--rows", str(args.rows)]
            command += ["--worker", system]
            done = subprocess.run(command, capture_output=True, text=True, check=True, env=ENVIRONMENT)
            sample = json.loads(done.stdout.strip().splitlines()[-1])
            sample["s_per_epoch"] = statistics.median(sample["seconds"]) * 60_000 / rows  # per 60,000 rows
            samples[system].append(sample)
            print(f"run {run + 1}: {system:<6} {sample['s_per_epoch']:.2f} s/epoch", flush=True)
    peer = "torch" if "torch" in samples else "jax"

    def per_run(system: str) -> list[float]:
        pairs = zip(samples.get(system, []), samples[peer], strict=False)
        return [p["s_per_epoch"] / t["s_per_epoch"] for p, t in pairs]

    ratios = {system: per_run(system) for system in samples if system.startswith("plugnn")}
    limit = statistics.median(limits)
    result = {
        "data": "fashion-mnist",
        "rows": rows,
        "epochs": args.epochs,
        "runs": args.runs,
        "threads": args.threads,
        "batch": BATCH,
        "mflop_per_sample": flops_per_sample() / 1e6,
        "gemm_limit_s": limit,
        "gemm_limits_s": limits,
        "peer": peer,
        "ratio_per_run": ratios,
        "ratio_median": {system: statistics.median(r) for system, r in ratios.items() if r},
        "systems": {
            system: {
                "s_per_epoch": statistics.median(r["s_per_epoch"] for r in runs),
                "s_per_epoch_runs": [r["s_per_epoch"] for r in runs],
                "x_gemm_limit": statistics.median(r["s_per_epoch"] for r in runs) / limit,
                "accuracy": statistics.median(r["accuracy"] for r in runs),
                "peak_mib": max(r["peak_mib"] for r in runs),
                "compile_s": statistics.median(r["compile_s"] for r in runs),
            }
            for system, runs in samples.items()
        },
    }
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def print_table(result: dict) -> None:
    print(
        f"Keras MNIST convnet on {result['data']}, {result['rows']} rows, batch {result['batch']}, float32, "
        f"{result['threads']} threads, {result['epochs']} epochs x {result['runs']} runs; "
        f"{result['mflop_per_sample']:.2f} MFLOP/sample fwd+bwd"
    )
    header = (
        f"{'system':<12} {'s/epoch':>8} {'runs':>24} {'x GEMM':>7} {'test acc':>8} {'peak MiB':>9} {'compile s':>9}"
    )
    print(header)
    print("-" * len(header))
    for system, r in result["systems"].items():
        runs = " ".join(f"{s:.2f}" for s in r["s_per_epoch_runs"])
        print(
            f"{system:<12} {r['s_per_epoch']:>8.2f} {runs:>24} {r['x_gemm_limit']:>7.2f} {r['accuracy']:>8.4f} "
            f"{r['peak_mib']:>9.0f} {r['compile_s']:>9.2f}"
        )
    print(f"{'GEMM':<12} {result['gemm_limit_s']:>8.2f}")
    for system, median in result["ratio_median"].items():
        ratios = " ".join(f"{r:.2f}" for r in result["ratio_per_run"][system])
        print(f"{system} / {result['peer']}: median {median:.2f} (per run: {ratios})")


if __name__ == "__main__":
    main()
