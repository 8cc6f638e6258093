"""Sweep benchmark: 8 digits trials with N workers against the same 8 trials one after another.

The sweep is quickstart (the notebook's 784-100-200-10 Adam network on the bundled digits, 30 epochs)
over 4 learning rates × 2 seeds. Each round runs, in fresh processes and alternating which goes
first, ``plugnn sweep ... --workers 1 --threads CORES`` (the trials one after another, every
thread) and ``plugnn sweep ... --workers N`` (the budget split between the workers), and times the
whole command. The ratio is parallel ÷ sequential wall time; the target is <= 0.6 with 2 workers.

    python benchmarks/bench_sweep.py                       # 3 rounds, 2 workers
    python benchmarks/bench_sweep.py --runs 5 --json benchmarks/results/sweep.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = "network.optimizer.lr=0.0005,0.001,0.002,0.004"


def timed_sweep(workers: int, threads: int, out: Path, epochs: int) -> float:
    command = [sys.executable, "-m", "plugnn", "sweep", "quickstart", "--grid", GRID, "--seeds", "2"]
    command += ["--workers", str(workers), "--threads", str(threads), "--set", f"train.epochs={epochs}"]
    command += ["--quiet", "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def main() -> None:
    from plugnn.threads import available_cores

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    cores = available_cores()
    times: dict[str, list[float]] = {"sequential": [], "parallel": []}
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.runs):
            order = ["sequential", "parallel"] if run % 2 == 0 else ["parallel", "sequential"]
            for kind in order:
                workers = 1 if kind == "sequential" else args.workers
                seconds = timed_sweep(workers, cores, Path(scratch) / f"{kind}-{run}", args.epochs)
                times[kind].append(seconds)
                print(f"round {run + 1}: {kind} ({workers} worker(s), {cores} threads) {seconds:.1f} s", flush=True)
    ratios = [p / s for p, s in zip(times["parallel"], times["sequential"], strict=True)]
    summary = {
        "trials": 8,
        "epochs": args.epochs,
        "workers": args.workers,
        "threads": cores,
        "sequential_s": times["sequential"],
        "parallel_s": times["parallel"],
        "ratio_per_round": ratios,
        "ratio_median": statistics.median(ratios),
    }
    print(
        f"8 trials: sequential median {statistics.median(times['sequential']):.1f} s, "
        f"{args.workers} workers median {statistics.median(times['parallel']):.1f} s; "
        f"ratio median {summary['ratio_median']:.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
