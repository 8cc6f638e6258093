"""SIGKILL trials: kill ``plugnn run`` at random moments, resume, and compare with an uninterrupted run.

Each trial starts ``plugnn run`` on a small digits spec (a residual block, a concat of two
branches, shifted batches) in a subprocess and kills it with SIGKILL
after a random delay drawn over the whole length of an uninterrupted run (start-up, training,
checkpoint writes, the model write and the plots); a run that ends before its kill does not
count, and later delays are drawn over its shorter length. Half of the trials also kill the first
``--resume`` at random. Then ``plugnn run --resume`` is repeated until it succeeds (a run killed
before its folder held anything is started again with the same command), and the folder is
compared with the uninterrupted run's: the same files, no temporary file left, the same model
and checkpoint parameters bit for bit, the same history (seconds aside) and the same plots.

    python benchmarks/sigkill.py --trials 30          # prints one line per trial and a summary
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from plugnn.npzfile import read_npz

SPEC = """
description = "SIGKILL trials: a small network with a residual block and a concat branch on digits"
data = "digits"
[network]
loss = "softmax_cross_entropy"
optimizer = {type = "adam", lr = 0.003}
init = "he"
layers = [
    {type = "conv2d", filters = 8, kernel_size = 3, padding = "same"},
    "relu",
    {type = "residual", layers = [{type = "conv2d", filters = 8, kernel_size = 3, padding = "same"}, "batch_norm"]},
    "relu",
    {type = "parallel", merge = "concat", branches = [
        {type = "conv2d", filters = 4, kernel_size = 1},
        {type = "sequential", layers = [{type = "conv2d", filters = 4, kernel_size = 3, padding = "same"}, "relu"]},
    ]},
    {type = "dense", units = 10},
]
[train]
epochs = 8
batch_size = 64
seed = 3
augment = [{type = "random_shift", pixels = 1}]
"""
PLUGNN = [sys.executable, "-m", "plugnn"]


def start(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*PLUGNN, *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def run_to_end(args: list[str], cwd: Path) -> tuple[int, str]:
    process = subprocess.run([*PLUGNN, *args], cwd=cwd, capture_output=True, text=True, check=False)
    return process.returncode, process.stderr.strip()


def killed_after(args: list[str], cwd: Path, delay: float) -> float | None:
    """Run ``plugnn args``, SIGKILL it after ``delay`` seconds; None if it was killed, else its duration."""
    began = time.perf_counter()
    process = start(args, cwd)
    try:
        process.wait(timeout=delay)
        return time.perf_counter() - began
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return None


def history_without_seconds(folder: Path) -> dict[str, list[object]]:
    history = json.loads((folder / "history.json").read_text())
    history.pop("seconds")
    return history


def compare(folder: Path, reference: Path) -> list[str]:
    """What differs between two finished run folders (empty when they agree)."""
    problems = []
    names, expected = sorted(p.name for p in folder.iterdir()), sorted(p.name for p in reference.iterdir())
    if names != expected:
        problems.append(f"files {names} != {expected}")
        return problems
    for kind, name in (("model", "model.npz"), ("checkpoint", "checkpoint.npz")):
        got, want = read_npz(folder / name, kind), read_npz(reference / name, kind)
        if not np.array_equal(got["params"], want["params"]):
            problems.append(f"{name} parameters differ")
    if history_without_seconds(folder) != history_without_seconds(reference):
        problems.append("history differs")
    for name in ("history.csv",):
        lines = [row.rsplit(",", 1)[0] for row in (folder / name).read_text().splitlines()]
        if lines != [row.rsplit(",", 1)[0] for row in (reference / name).read_text().splitlines()]:
            problems.append(f"{name} differs")
    for name in ("samples.png", "confusion.png", "spec.toml", "fingerprint.json"):
        if (folder / name).read_bytes() != (reference / name).read_bytes():
            problems.append(f"{name} differs")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    chooser = random.Random(options.seed)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "spec.toml").write_text(SPEC)
        began = time.perf_counter()
        code, message = run_to_end(["run", "spec.toml", "--out", "reference", "--quiet"], root)
        length = time.perf_counter() - began
        assert code == 0, message
        print(f"uninterrupted run: {length:.2f} s")
        failures = trials = 0
        while trials < options.trials:
            folder = f"trial-{trials}"
            delay = chooser.uniform(0.0, length)
            finished_in = killed_after(["run", "spec.toml", "--out", folder, "--quiet"], root, delay)
            if finished_in is not None:  # the run ended before the kill: kill sooner from now on
                length = min(length, finished_in)
                shutil.rmtree(root / folder)
                continue
            kills = 1
            if trials % 2 and (root / folder / "spec.toml").exists():
                kills += killed_after(["run", "--resume", folder, "--quiet"], root, chooser.uniform(0, length)) is None
            for _ in range(3):
                code, message = run_to_end(["run", "--resume", folder, "--quiet"], root)
                if code == 0 or "nothing to resume" in message:
                    break
                if "no such run folder" in message or "no checkpoint.npz to resume from" in message:
                    # killed before the folder held anything: the same command starts the run again
                    code, message = run_to_end(["run", "spec.toml", "--out", folder, "--quiet"], root)
                    break
            problems = compare(root / folder, root / "reference") if code == 0 or "nothing" in message else [message]
            failures += bool(problems)
            verdict = "identical" if not problems else "; ".join(problems)
            print(f"trial {trials:2d}: killed at {delay:5.2f} s ({kills} kill(s)), resumed: {verdict}", flush=True)
            trials += 1
        print(f"{options.trials - failures} of {options.trials} trials resumed to the uninterrupted result")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
