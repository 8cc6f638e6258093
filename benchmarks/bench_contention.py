"""Contention benchmark: an epoch with one busy process beside it, against the same epoch quiet.

For each batch size and round, each system (plugnn, scikit-learn, PyTorch; order rotated every
round) trains the MLP of ``bench.py`` twice in fresh processes: once on the quiet machine and once
while ``python -c "while True: pass"`` runs beside it (started half a second before, stopped after).
plugnn chooses its own thread budget (``auto``, see docs/performance.md); the peers use their
defaults (all cores), as a user would get them. The ratio is the median loaded epoch over the
median quiet epoch of the same system, so a slow machine affects both sides alike.

    python benchmarks/bench_contention.py                      # Fashion-MNIST, batch 5000 and 128, 3 epochs x 3 rounds
    python benchmarks/bench_contention.py --json benchmarks/results/contention.json
    python benchmarks/bench_contention.py --rows 10000 --runs 1   # a quick look

With 2 cores and one of them taken, 2x is the floor: the target is plugnn <= 2.3x.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench

HERE = Path(__file__).resolve().parent


def worker_run(system: str, batch: int, epochs: int, seed: int, rows: int | None, hidden: list[int]) -> dict:
    command = [sys.executable, str(HERE / "bench.py"), "--worker", system, "--batch", str(batch)]
    command += ["--epochs", str(epochs), "--seed", str(seed), "--threads", "auto", "--hidden", *map(str, hidden)]
    if rows:
        command += ["--rows", str(rows)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def loaded_run(*args: object) -> dict:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # the busy process is running before the worker starts
        return worker_run(*args)  # type: ignore[arg-type]
    finally:
        busy.kill()
        busy.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[5000, 128])
    parser.add_argument("--hidden", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, help="use the first ROWS training rows")
    parser.add_argument("--systems", nargs="+", choices=bench.SYSTEMS, default=list(bench.SYSTEMS))
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    systems = [s for s in args.systems if s != "torch" or bench.torch_available()]
    results = []
    for batch in args.batch_sizes:
        samples: dict[str, dict[str, list[dict]]] = {s: {"quiet": [], "loaded": []} for s in systems}
        for run in range(args.runs):
            for system in systems[run % len(systems) :] + systems[: run % len(systems)]:
                order = ("quiet", "loaded") if run % 2 == 0 else ("loaded", "quiet")  # cancel drift
                for condition in order:
                    go = loaded_run if condition == "loaded" else worker_run
                    samples[system][condition].append(go(system, batch, args.epochs, run, args.rows, args.hidden))
        row: dict = {"batch": batch, "systems": {}}
        for system, by_condition in samples.items():
            entry = {}
            for condition, runs in by_condition.items():
                per_run = [statistics.median(r["seconds"]) for r in runs]
                entry[condition] = {
                    "s_per_epoch": statistics.median(s for r in runs for s in r["seconds"]),
                    "per_run": per_run,
                    "threads": sorted({r["threads"] for r in runs}),
                }
            entry["ratio"] = entry["loaded"]["s_per_epoch"] / entry["quiet"]["s_per_epoch"]
            pairs = zip(entry["loaded"]["per_run"], entry["quiet"]["per_run"], strict=True)
            entry["ratio_per_run"] = [loaded / quiet for loaded, quiet in pairs]
            row["systems"][system] = entry
        results.append(row)
        print_row(row)
    if args.json:
        summary = {"epochs": args.epochs, "runs": args.runs, "rows": args.rows, "hidden": args.hidden}
        args.json.write_text(json.dumps({**summary, "results": results}, indent=2) + "\n")


def print_row(row: dict) -> None:
    print(f"batch {row['batch']}: s/epoch quiet -> beside a busy process (threads), ratio [per round]")
    for system, entry in row["systems"].items():
        quiet, loaded = entry["quiet"], entry["loaded"]
        rounds = ", ".join(f"{r:.2f}" for r in entry["ratio_per_run"])
        print(
            f"  {system:<8} {quiet['s_per_epoch']:.3f} ({','.join(map(str, quiet['threads']))}) -> "
            f"{loaded['s_per_epoch']:.3f} ({','.join(map(str, loaded['threads']))})  "
            f"{entry['ratio']:.2f}x  [{rounds}]",
            flush=True,
        )


if __name__ == "__main__":
    main()
