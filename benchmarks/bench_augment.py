"""What data augmentation costs: per batch, and per epoch of the benchmark MLP, runs interleaved.

1. Each standard augmentation on a gathered batch of 128 Fashion-MNIST images (28×28×1), in µs
   per batch (the fastest of 15 repeats of 50 calls), beside the gather of the batch itself.
2. One epoch of the benchmark MLP (784-100-200-10 ReLU, Adam, batch 128; its cheapest step, so
   the worst case for the share augmentation takes) without augmentation, with ``random_shift``
   (2 pixels) and with ``random_shift`` + ``random_flip``: each epoch in a fresh process, the
   configurations interleaved round by round; the median of the rounds' second-epoch seconds
   (the loop's own time, without evaluation) and the fastest, each as a ratio to no augmentation's
   (on a busy machine the fastest round is the one least disturbed).
3. With ``--baseline DIR`` (a checkout of plugnn before augmentation existed), the epoch without
   augmentation is also timed with DIR's code, interleaved with this tree's: augmentation off must
   add no work to the batch loop.

    python benchmarks/bench_augment.py
    python benchmarks/bench_augment.py --rounds 5 --baseline /tmp/main --json benchmarks/results/augment.json

Fashion-MNIST comes from Debian's dataset-fashion-mnist when installed, else the bundled digits.
"""

from __future__ import annotations

import plugnn  # first, as the plugnn command: it sets OPENBLAS_THREAD_TIMEOUT before numpy loads OpenBLAS

# isort: split

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CONFIGS = {
    "none": [],
    "shift": [{"type": "random_shift", "pixels": 2}],
    "shift+flip": [{"type": "random_shift", "pixels": 2}, {"type": "random_flip", "axis": "horizontal"}],
}
BATCH = 128


def load() -> tuple[str, np.ndarray, np.ndarray]:
    from plugnn.data import load_dataset

    name = "fashion-mnist" if Path("/usr/share/datasets/fashion-mnist").is_dir() else "digits"
    split = load_dataset(name, plugnn.default_registry())
    return name, split.x_train, split.y_train


def per_batch() -> dict[str, float]:
    """µs per batch of 128: the gather, then each augmentation on the gathered batch."""
    from plugnn_std import RandomFlip, RandomShift

    from plugnn.parallel import take_rows

    _, x, _ = load()
    registry, rng = plugnn.default_registry(), np.random.default_rng(0)
    order = rng.permutation(len(x))
    batch = np.empty((BATCH, *x.shape[1:]), dtype=x.dtype)
    table = registry.tables["augmentation"]
    calls = {"gather": lambda: take_rows(x, order[:BATCH], batch)}
    for spec in (RandomShift(2), RandomShift(2, "edge"), RandomShift(2, "reflect"), RandomFlip(), RandomFlip("both")):
        augmentation = table.get(table.name_of(type(spec))).factory(spec, x.shape[1:])
        calls[repr(spec)] = lambda a=augmentation: a(batch, rng)
    timings = {}
    with plugnn.thread_budget(None):
        calls["gather"]()
        for name, call in calls.items():
            call()
            best = []
            for _ in range(15):
                start = time.perf_counter()
                for _ in range(50):
                    call()
                best.append((time.perf_counter() - start) / 50 * 1e6)
            timings[name] = min(best)
    return timings


def epoch_seconds(config: str) -> float:
    """The second epoch's loop seconds of the benchmark MLP with ``config``'s augmentations."""
    from plugnn_std import Adam, Dense

    _, x, y = load()
    spec = plugnn.NetworkSpec(
        layers=[Dense(100), "relu", Dense(200), "relu", Dense(10)],
        loss="softmax_cross_entropy",
        optimizer=Adam(lr=1e-3),
        init="he",
    )
    registry = plugnn.default_registry()
    augment = plugnn.apply_overrides(plugnn.TrainSpec(), {"augment": CONFIGS[config]}, registry).augment
    train = plugnn.TrainSpec(epochs=2, batch_size=BATCH, augment=augment)
    return float(plugnn.train(spec, x, y, train, registry=registry).history.records[-1]["seconds"])


def spawn(config: str, baseline: Path | None = None) -> float:
    env = dict(os.environ)
    if baseline is not None:  # the baseline's code, without this tree's augmentation plugins
        env["PYTHONPATH"] = f"{baseline}{os.pathsep}{baseline / 'plugins'}"
        env["PLUGNN_BLOCK_PLUGINS"] = "random_shift,random_flip"
        code = (
            "import sys, plugnn; from plugnn_std import Adam, Dense; from plugnn.data import load_dataset;"
            "s = load_dataset('fashion-mnist', plugnn.default_registry());"
            "spec = plugnn.NetworkSpec(layers=[Dense(100), 'relu', Dense(200), 'relu', Dense(10)],"
            " loss='softmax_cross_entropy', optimizer=Adam(lr=1e-3), init='he');"
            f"h = plugnn.train(spec, s.x_train, s.y_train, plugnn.TrainSpec(epochs=2, batch_size={BATCH})).history;"
            "print(h.records[-1]['seconds'])"
        )
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--epoch-worker", config]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True, cwd=HERE)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="a checkout of plugnn without augmentation, to time 'none' with")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--epoch-worker", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epoch_worker:
        print(epoch_seconds(args.epoch_worker))
        return
    name = load()[0]
    print(f"{name}, batch {BATCH}, threads {plugnn.threads.current_threads()}; µs per batch (fastest of 15):")
    batch_costs = per_batch()
    for what, micros in batch_costs.items():
        print(f"  {what:45s} {micros:8.1f} µs")
    runs: dict[str, list[float]] = {config: [] for config in CONFIGS}
    if args.baseline:
        runs["none (baseline)"] = []
    for round_ in range(args.rounds):
        for config in CONFIGS:
            runs[config].append(spawn(config))
        if args.baseline:
            runs["none (baseline)"].append(spawn("none", args.baseline))
        print(f"round {round_ + 1}: " + ", ".join(f"{c} {v[-1]:.3f} s" for c, v in runs.items()))
    print("epoch seconds: fastest and median of the rounds (ratios to none's):")
    fastest, median = min(runs["none"]), statistics.median(runs["none"])
    for config, seconds in runs.items():
        low, mid = min(seconds), statistics.median(seconds)
        print(f"  {config:16s} {low:7.3f} s ({low / fastest:.3f})  {mid:7.3f} s ({mid / median:.3f})")
    if args.json:
        result = {"data": name, "batch_size": BATCH, "per_batch_us": batch_costs, "epoch_seconds": runs}
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
