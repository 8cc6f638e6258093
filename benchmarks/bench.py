"""Side-by-side training benchmark: plugnn against scikit-learn and PyTorch on the same MLP.

Trains the notebook's architecture (784-100-200-10 ReLU, Adam lr 1e-3, He init where the system
allows it) with the same data, batch size and epochs in each system, each run in a fresh process
(so peak memory is the whole process's), runs interleaved so that machine drift hits all alike.
Reports the median seconds per training epoch, plugnn's ratio to each peer, test accuracy, peak
memory, and the GEMM-bound limit: the time the epoch's matrix products alone take at the float32
matmul rate measured here.

    python benchmarks/bench.py                 # Fashion-MNIST (60k), batch 5000 and 128, 10 epochs, 3 runs
    python benchmarks/bench.py --quick         # under a minute: 10k rows, 3 epochs, 1 run
    python benchmarks/bench.py --json out.json --batch-sizes 32 128 512 --hidden 100 200
    python benchmarks/bench.py --profile       # where plugnn's train step spends its time
    python benchmarks/bench.py --threads 1     # every system on one thread (default: the cores available)

Fashion-MNIST comes from Debian's dataset-fashion-mnist when installed, else the bundled digits.
PyTorch is optional (`pip install torch==2.13.0`); without it its column is left out.
"""

from __future__ import annotations

from import_order import ENVIRONMENT  # first: the import order the worker measures

# isort: split

import plugnn  # first, as the plugnn command: it sets OPENBLAS_THREAD_TIMEOUT before numpy loads OpenBLAS

# isort: split

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from gemm import epoch_gemm_seconds
from jax_loop import limit_threads, train_jax, train_keras
from step_profile import print_profile, profile_steps
from threadpoolctl import threadpool_limits
from torch_loop import train_torch
from worker import parse_or_work

SYSTEMS = ("plugnn", "plugnn-np1st", "sklearn", "torch", "jax", "keras")
"""plugnn-np1st: plugnn with numpy imported before plugnn (OPENBLAS_THREAD_TIMEOUT then comes too late);
jax: the whole step under jax.jit; keras: Keras 3 on JAX. Each peer is left out when not installed."""
FASHION = Path("/usr/share/datasets/fashion-mnist")


def load(rows: int | None) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The data as plugnn's datasets give it: images ``(N, H, W, 1)``, which plugnn's dense layer
    flattens itself; scikit-learn and PyTorch get the same pixels flattened (a view)."""
    from plugnn import default_registry
    from plugnn.data import load_dataset

    name = "fashion-mnist" if FASHION.is_dir() else "digits"
    split = load_dataset(name, default_registry())
    x, y = split.x_train, split.y_train
    if rows is not None and rows < len(x):
        x, y = x[:rows], y[:rows]
    return name, x, y, split.x_test, split.y_test


def run_plugnn(x, y, xt, yt, hidden, batch, epochs, seed, threads):
    from plugnn_std import Adam, Dense

    from plugnn.threads import resolve_threads

    layers = []
    for width in hidden:
        layers += [Dense(width), "relu"]
    spec = plugnn.NetworkSpec(
        layers=[*layers, Dense(10)], loss="softmax_cross_entropy", optimizer=Adam(lr=1e-3), init="he"
    )
    used = resolve_threads(threads)  # with threads=None (auto) the run reuses this very measurement
    result = plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=epochs, batch_size=batch, seed=seed, threads=threads))
    return result.history.column("seconds"), float(np.mean(result.network.predict(xt) == yt)), used


def run_sklearn(x, y, xt, yt, hidden, batch, epochs, seed, threads):
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    model = MLPClassifier(
        hidden_layer_sizes=tuple(hidden),
        solver="adam",
        alpha=0.0,
        batch_size=batch,
        learning_rate_init=1e-3,
        shuffle=True,
        random_state=seed,
        early_stopping=False,
    )
    classes = np.arange(10)
    seconds = []
    with threadpool_limits(limits=threads):  # None: the BLAS's own default, all cores
        for _ in range(epochs):
            start = time.perf_counter()
            model.partial_fit(x, y, classes=classes)  # one pass over the data in minibatches
            seconds.append(time.perf_counter() - start)
    return seconds, float(np.mean(model.predict(xt) == yt)), threads or available_cores()


def run_torch(x, y, xt, yt, hidden, batch, epochs, seed, threads):
    import torch

    torch.set_num_threads(threads or available_cores())  # None: PyTorch's default, all cores
    torch.manual_seed(seed)
    widths = [x.shape[1], *hidden]
    layers: list[torch.nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(widths):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(widths[-1], 10))
    for module in model:
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            torch.nn.init.zeros_(module.bias)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    seconds, accuracy = train_torch(model, xs, ys, torch.from_numpy(xt), yt, epochs, batch)
    return seconds, accuracy, torch.get_num_threads()


def run_jax(x, y, xt, yt, hidden, batch, epochs, seed, threads):
    limit_threads(threads or available_cores())
    import jax
    import jax.numpy as jnp

    widths = [x.shape[1], *hidden, 10]
    keys = jax.random.split(jax.random.PRNGKey(seed), len(widths))
    params = {
        f"{i}": {
            "W": jax.random.normal(k, (a, b), jnp.float32) * np.float32(np.sqrt(2 / a)),  # He
            "b": jnp.zeros(b, jnp.float32),
        }
        for i, (k, (a, b)) in enumerate(zip(keys, itertools.pairwise(widths), strict=False))
    }

    def apply(p, xb, key, training):
        for i in range(len(widths) - 1):
            xb = xb @ p[f"{i}"]["W"] + p[f"{i}"]["b"]
            if i < len(widths) - 2:
                xb = jax.nn.relu(xb)
        return xb

    seconds, accuracy, compile_seconds = train_jax(params, apply, x, y, xt, yt, epochs, batch, seed)
    return seconds, accuracy, threads or available_cores(), compile_seconds


def run_keras(x, y, xt, yt, hidden, batch, epochs, seed, threads):
    limit_threads(threads or available_cores())
    import keras

    keras.utils.set_random_seed(seed)
    layers = [keras.Input((x.shape[1],))]
    layers += [keras.layers.Dense(width, activation="relu", kernel_initializer="he_normal") for width in hidden]
    model = keras.Sequential([*layers, keras.layers.Dense(10, kernel_initializer="he_normal")])
    seconds, accuracy, compile_seconds = train_keras(model, x, y, xt, yt, epochs, batch)
    return seconds, accuracy, threads or available_cores(), compile_seconds


def gemm_limit(rows: int, features: int, hidden: list[int], batch: int, repeats: int = 10) -> float:
    """Seconds per epoch spent in the epoch's matrix products alone, timed here in float32.

    Forward ``X W`` per layer, backward ``Xᵀ G`` per layer and ``G Wᵀ`` for all but the first; the
    fastest of ``repeats`` timings of each batch shape, since a limit is the best the BLAS achieves.
    """
    rng = np.random.default_rng(0)
    widths = [features, *hidden, 10]

    def operands(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        products = []
        for index, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
            x = rng.standard_normal((n, fan_in), dtype=np.float32)
            w = rng.standard_normal((fan_in, fan_out), dtype=np.float32)
            g = rng.standard_normal((n, fan_out), dtype=np.float32)
            products += [(x, w), (x.T, g)] + ([(g, w.T)] if index > 0 else [])
        return products

    return epoch_gemm_seconds(rows, batch, operands, repeats)


def profile(x, y, hidden, batch) -> dict[str, float]:
    """:func:`step_profile.profile_steps` of the benchmark's MLP."""
    from plugnn_std import Adam, Dense

    layers = []
    for width in hidden:
        layers += [Dense(width), "relu"]
    spec = plugnn.NetworkSpec(
        layers=[*layers, Dense(10)], loss="softmax_cross_entropy", optimizer=Adam(lr=1e-3), init="he"
    )
    return profile_steps(spec, x, y, batch)


def worker(args: argparse.Namespace) -> None:
    name, x, y, xt, yt = load(args.rows)
    runs = {"plugnn": run_plugnn, "plugnn-np1st": run_plugnn, "sklearn": run_sklearn, "torch": run_torch}
    run = (runs | {"jax": run_jax, "keras": run_keras})[args.worker]
    if not args.worker.startswith("plugnn"):
        x, xt = x.reshape(len(x), -1), xt.reshape(len(xt), -1)
    threads = None if args.threads == "auto" else int(args.threads)
    seconds, accuracy, used, *compile_seconds = run(
        x, y, xt, yt, args.hidden, args.batch, args.epochs, args.seed, threads
    )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sample = {"seconds": seconds, "accuracy": accuracy, "peak_mib": peak_mib, "data": name, "threads": used}
    print(json.dumps(sample | {"compile_s": compile_seconds[0] if compile_seconds else 0.0}))


def threads_option(text: str) -> str:
    if text != "auto" and not (text.isdigit() and int(text) > 0):
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}")
    return text


def available_cores() -> int:
    from plugnn.threads import available_cores

    return available_cores()


def installed(system: str) -> bool:
    """Whether the system's package can be imported here (plugnn's always can)."""
    import importlib.util

    package = {"sklearn": "sklearn", "torch": "torch", "jax": "jax", "keras": "keras"}.get(system)
    return package is None or importlib.util.find_spec(package) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows, 3 epochs, 1 run, batch 5000 and 128")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[5000, 128])
    parser.add_argument("--hidden", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, help="use the first ROWS training rows")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--threads",
        type=threads_option,
        default=str(available_cores()),
        help="threads for every system (default: the cores available); 'auto': plugnn chooses its own "
        "budget, the peers use their defaults (all cores)",
    )
    parser.add_argument("--profile", action="store_true", help="print where plugnn's train step spends its time")
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parse_or_work(parser, SYSTEMS, worker)
    if args is None:
        return
    if args.quick:
        args.rows, args.epochs, args.runs = args.rows or 10_000, 3, 1
    systems = [s for s in args.systems if installed(s)]
    data, x, y, _, _ = load(args.rows)
    if args.profile:
        for batch in args.batch_sizes:
            print_profile(batch, profile(x, y, args.hidden, batch), len(x))
        return
    results = []
    for batch in args.batch_sizes:
        limits = []
        samples: dict[str, list[dict]] = {s: [] for s in systems}
        for run in range(args.runs):
            with threadpool_limits(limits=None if args.threads == "auto" else int(args.threads)):
                features = int(np.prod(x.shape[1:]))
                limits.append(gemm_limit(len(x), features, args.hidden, batch))  # measured in every round too
            for system in systems[run % len(systems) :] + systems[: run % len(systems)]:  # rotate the order
                command = [
                    sys.executable,
                    __file__,
                    "--batch",
                    str(batch),
                    "--epochs",
                    str(args.epochs),
                    "--seed",
                    str(run),
                    "--hidden",
                    *map(str, args.hidden),
                    "--threads",
                    args.threads,
                ]
                if args.rows:
                    command += ["--rows", str(args.rows)]
                command += ["--worker", system]  # last: the import order above reads it
                done = subprocess.run(command, capture_output=True, text=True, check=True, env=ENVIRONMENT)
                samples[system].append(json.loads(done.stdout.strip().splitlines()[-1]))
        row = {"batch": batch, "gemm_limit_s": statistics.median(limits), "systems": {}}
        for system, runs in samples.items():
            epochs = [s for r in runs for s in r["seconds"]]
            row["systems"][system] = {
                "s_per_epoch": statistics.median(epochs),
                "accuracy": statistics.median(r["accuracy"] for r in runs),
                "peak_mib": max(r["peak_mib"] for r in runs),
                "threads": sorted({r["threads"] for r in runs}),
                "compile_s": statistics.median(r["compile_s"] for r in runs),
            }
        results.append(row)
    print_table(results, data, len(x), args)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "data": data,
                    "rows": len(x),
                    "epochs": args.epochs,
                    "runs": args.runs,
                    "hidden": args.hidden,
                    "results": results,
                },
                indent=2,
            )
            + "\n"
        )


def print_table(results: list[dict], data: str, rows: int, args: argparse.Namespace) -> None:
    print(
        f"{data}, {rows} training rows, MLP {'-'.join(map(str, [784, *args.hidden, 10]))}, Adam, float32, "
        f"{args.epochs} epochs x {args.runs} runs (median s/epoch)"
    )
    header = (
        f"{'batch':>6}  {'system':<12} {'s/epoch':>8} {'plugnn/x':>9} {'test acc':>8} {'peak MiB':>9} {'compile s':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in results:
        ours = row["systems"].get("plugnn", {}).get("s_per_epoch")
        for system, r in row["systems"].items():
            ratio = f"{ours / r['s_per_epoch']:.2f}" if ours and system != "plugnn" else ""
            print(
                f"{row['batch']:>6}  {system:<12} {r['s_per_epoch']:>8.3f} {ratio:>9} {r['accuracy']:>8.4f} "
                f"{r['peak_mib']:>9.0f} {r['compile_s']:>9.2f}"
            )
        ratio = f"{ours / row['gemm_limit_s']:.2f}" if ours else ""
        print(f"{row['batch']:>6}  {'GEMM':<12} {row['gemm_limit_s']:>8.3f} {ratio:>9}")


if __name__ == "__main__":
    main()
