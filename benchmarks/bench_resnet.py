"""Side-by-side benchmark of the ``fashion-resnet`` recipe's network: plugnn against PyTorch CPU.

The recipe's network (a 3×3 stem with batch norm and max pooling, residual blocks of two 3×3
convolutions with batch norm, one with a strided 1×1 projection, global average pooling, dense 10),
trained with Adam (lr 1e-3, batch 128, float32, no augmentation) on Fashion-MNIST in both systems
with ``--threads`` threads each, every run in a fresh process, the order alternating from run to
run. PyTorch's model is the same network in its own layout (NCHW), translated from the recipe's spec
layer by layer (the run stops if the two differ in their parameter count); its strided "same"
convolution pads one pixel on each side where plugnn (as Keras) pads one after, the same work.

Reports the median seconds per 60,000-image epoch (scaled from ``--rows``), plugnn's ratio to
PyTorch per run, and the GEMM-bound limit: numpy's float32 matmul time for exactly the network's
products (each convolution's forward, kernel gradient and input gradient but the first layer's,
and the dense layer's), derived from the built network.

    python benchmarks/bench_resnet.py --rows 12800 --epochs 1 --runs 3
    python benchmarks/bench_resnet.py --json benchmarks/results/resnet.json

PyTorch: `pip install torch==2.13.0`. Fashion-MNIST: `apt-get install -y dataset-fashion-mnist`.
"""

from __future__ import annotations

import plugnn  # first, as the plugnn command: it sets OPENBLAS_THREAD_TIMEOUT before numpy loads OpenBLAS

# isort: split

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
from pathlib import Path

import attrs
import numpy as np
from gemm import epoch_gemm_seconds
from torch_loop import train_torch
from worker import parse_or_work

SYSTEMS = ("plugnn", "torch")
BATCH = 128


def load(rows: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from plugnn.data import load_dataset

    split = load_dataset("fashion-mnist", plugnn.default_registry())
    x, y = split.x_train[:rows], split.y_train[:rows]
    return x, y, split.x_test, split.y_test


def resnet_spec() -> plugnn.NetworkSpec:
    """The recipe's network, with Adam (lr 1e-3) as the PyTorch loop uses."""
    from plugnn_std import Adam

    from plugnn.run import load_recipe

    _, spec = load_recipe("fashion-resnet", plugnn.default_registry())
    return attrs.evolve(spec.network, optimizer=Adam(lr=1e-3))


def torch_resnet():  # type: ignore[no-untyped-def]
    """The same network in PyTorch, translated from the recipe's spec layer by layer (NCHW), its
    parameter count checked against plugnn's."""
    import torch

    nn = torch.nn
    registry = plugnn.default_registry()
    table = registry.tables["layer"]

    class Residual(nn.Module):
        def __init__(self, body, projection=None) -> None:  # type: ignore[no-untyped-def]
            super().__init__()
            self.body, self.projection = body, projection

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.body(x) + (x if self.projection is None else self.projection(x))

    def chain(refs, channels: int):  # type: ignore[no-untyped-def]
        modules = []
        for ref in refs:
            module, channels = translate(ref, channels)
            modules.append(module)
        return nn.Sequential(*modules), channels

    def translate(ref, channels: int):  # type: ignore[no-untyped-def]
        """``(module, output channels)`` of one layer ref whose input has ``channels`` channels."""
        name = ref if isinstance(ref, str) else table.name_of(type(ref))
        spec = table.get(name).spec() if isinstance(ref, str) else ref
        if name == "conv2d":
            if spec.padding not in ("same", "valid") or spec.activation != "linear":
                raise ValueError(f"bench_resnet's PyTorch twin takes 'same' or 'valid' linear convolutions, got {spec}")
            pad = spec.kernel_size // 2 if spec.padding == "same" else 0
            conv = nn.Conv2d(channels, spec.filters, spec.kernel_size, spec.stride, padding=pad, bias=spec.bias)
            return conv, spec.filters
        if name == "batch_norm":
            return nn.BatchNorm2d(channels), channels
        if name == "relu":
            return nn.ReLU(), channels
        if name == "max_pool2d":
            return nn.MaxPool2d(spec.pool_size, spec.stride), channels
        if name == "global_avg_pool2d":
            return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), channels
        if name == "dense":
            return nn.Linear(channels, spec.units), spec.units
        if name == "sequential":
            return chain(spec.layers, channels)
        if name == "residual":
            body, out = chain(spec.layers, channels)
            projection = None if spec.projection is None else translate(spec.projection, channels)[0]
            return Residual(body, projection), out
        raise ValueError(f"bench_resnet has no PyTorch twin for layer {name!r}")

    spec = resnet_spec()
    model, _ = chain(spec.layers, 1)
    ours = plugnn.build_network(spec, (28, 28, 1), registry=registry).params.size
    theirs = sum(p.numel() for p in model.parameters())
    if theirs != ours:
        raise SystemExit(f"PyTorch's network has {theirs} parameters, plugnn's {ours}")
    return model


def products(n: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The matrix products of one train step on a batch of ``n``, from the built plugnn network:
    ``(rows, inner), (inner, cols)`` for each convolution's forward, kernel and input gradient (none
    for the first layer) and the dense layer's three."""
    network = plugnn.build_network(resnet_spec(), (28, 28, 1), registry=plugnn.default_registry())
    found = []
    for path, layer in network.tree():
        names = network.layer_names[path]
        if names == "conv2d":
            h, w, f = layer.output_shape
            rows, inner = n * h * w, math.prod(layer.kernel) * layer.input_shape[-1]
            found += [((rows, inner), (inner, f)), ((inner, rows), (rows, f))]
            if path != "layers[0]":
                found.append(((rows, f), (f, inner)))
        elif names == "dense":
            d_in, d_out = math.prod(layer.input_shape), layer.output_shape[0]
            found += [((n, d_in), (d_in, d_out)), ((d_in, n), (n, d_out)), ((n, d_out), (d_out, d_in))]
    return found


def gemm_limit(rows: int, threads: int, repeats: int = 5) -> float:
    """Seconds per epoch of ``rows`` spent in the network's matrix products alone, float32."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    shapes = {n: products(n) for n in {BATCH, rows % BATCH or BATCH}}

    def operands(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(rng.random(a, dtype=np.float32), rng.random(b, dtype=np.float32)) for a, b in shapes[n]]

    with threadpool_limits(threads):
        return epoch_gemm_seconds(rows, BATCH, operands, repeats)


def worker(args: argparse.Namespace) -> None:
    x, y, xt, yt = load(args.rows)
    if args.worker == "plugnn":
        train = plugnn.TrainSpec(epochs=args.epochs, batch_size=BATCH, seed=args.seed, threads=args.threads)
        result = plugnn.train(resnet_spec(), x, y, train)
        seconds, accuracy = result.history.column("seconds"), float(np.mean(result.network.predict(xt) == yt))
    else:
        import torch

        torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        xs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        xt_nchw = torch.from_numpy(np.ascontiguousarray(xt.transpose(0, 3, 1, 2)))
        ys = torch.from_numpy(y.astype(np.int64))
        seconds, accuracy = train_torch(torch_resnet(), xs, ys, xt_nchw, yt, args.epochs, BATCH)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "accuracy": accuracy, "peak_mib": peak_mib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", type=int, help="use the first ROWS training rows (times are scaled to 60,000)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parse_or_work(parser, SYSTEMS, worker)
    if args is None:
        return
    rows = len(load(args.rows)[0])
    samples: dict[str, list[dict]] = {system: [] for system in SYSTEMS}
    limits = []
    for run in range(args.runs):
        limits.append(gemm_limit(60_000, args.threads))
        for system in SYSTEMS if run % 2 == 0 else SYSTEMS[::-1]:
            command = [sys.executable, __file__, "--worker", system, "--epochs", str(args.epochs)]
            command += ["--seed", str(run), "--threads", str(args.threads)]
            command += ["--rows", str(rows)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            sample = json.loads(done.stdout.strip().splitlines()[-1])
            sample["s_per_epoch"] = statistics.median(sample["seconds"]) * 60_000 / rows
            samples[system].append(sample)
            print(f"run {run + 1}: {system:<6} {sample['s_per_epoch']:.1f} s/epoch", flush=True)
    ratios = [p["s_per_epoch"] / t["s_per_epoch"] for p, t in zip(samples["plugnn"], samples["torch"], strict=True)]
    limit = statistics.median(limits)
    result = {
        "data": "fashion-mnist",
        "rows": rows,
        "epochs": args.epochs,
        "runs": args.runs,
        "threads": args.threads,
        "batch": BATCH,
        "mflop_per_sample": sum(2 * a * b * c for (a, b), (_, c) in products(1)) / 1e6,
        "gemm_limit_s": limit,
        "ratio_per_run": ratios,
        "ratio_median": statistics.median(ratios),
        "systems": {
            system: {
                "s_per_epoch": statistics.median(r["s_per_epoch"] for r in runs),
                "s_per_epoch_runs": [r["s_per_epoch"] for r in runs],
                "x_gemm_limit": statistics.median(r["s_per_epoch"] for r in runs) / limit,
                "peak_mib": max(r["peak_mib"] for r in runs),
            }
            for system, runs in samples.items()
        },
    }
    print(
        f"fashion-resnet's network, {rows} rows, batch {BATCH}, {args.threads} threads; "
        f"{result['mflop_per_sample']:.1f} MFLOP/sample fwd+bwd; GEMM limit {limit:.1f} s/epoch"
    )
    for system, r in result["systems"].items():
        runs = " ".join(f"{s:.1f}" for s in r["s_per_epoch_runs"])
        gemm, peak = r["x_gemm_limit"], r["peak_mib"]
        print(f"{system:<7} {r['s_per_epoch']:7.1f} s/epoch ({runs}), {gemm:.2f}x GEMM, {peak:.0f} MiB")
    print(f"plugnn / torch: median {result['ratio_median']:.2f} (per run: {' '.join(f'{r:.2f}' for r in ratios)})")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
