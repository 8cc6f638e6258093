"""The side-by-side benchmarks' processes: every system's run is a fresh process of the same script
(bench.py, bench_cnn.py), started with the hidden ``--worker SYSTEM --seed N``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence


def parse_or_work(
    parser: argparse.ArgumentParser, systems: Sequence[str], worker: Callable[[argparse.Namespace], None]
) -> argparse.Namespace | None:
    """The command line's arguments; in a worker process, run ``worker(args)`` instead and return None."""
    parser.add_argument("--worker", choices=systems, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return None
    return args
