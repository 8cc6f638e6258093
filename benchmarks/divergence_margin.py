"""How far each bundled recipe stays from the divergence threshold (no false positives).

Training stops as diverged when a batch loss exceeds ``DIVERGENCE_FACTOR * max(first batch loss, 1)``
(:mod:`plugnn.train`). This trains every bundled recipe (and the extras' example spec) on the given
datasets, records every batch loss, and prints the largest ratio ``loss / max(first loss, 1)``
against the factor.

    python benchmarks/divergence_margin.py                          # every recipe on digits
    python benchmarks/divergence_margin.py --data fashion-mnist     # the Fashion-MNIST runs too
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import plugnn
from plugnn.hookspecs import hookimpl
from plugnn.train import DIVERGENCE_FACTOR, TrainContext

EXAMPLE = Path(__file__).parent.parent / "plugins" / "plugnn-extras" / "examples" / "digits-dropout-adamw.toml"


class Recorder:
    """A training-event plugin keeping every batch loss."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    @hookimpl
    def plugnn_batch_end(self, context: TrainContext) -> None:
        self.losses.append(context.batch_loss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["digits"])
    options = parser.parse_args()
    registry = plugnn.default_registry()
    recipes: list[str | Path] = [*sorted(registry.recipes), EXAMPLE]
    print(f"factor {DIVERGENCE_FACTOR:g}; ratio = largest batch loss / max(first batch loss, 1)")
    with tempfile.TemporaryDirectory() as scratch:
        for data in options.data:
            for recipe in recipes:
                if recipe == EXAMPLE and data != "digits":
                    continue
                recorder = Recorder()
                name = recipe if isinstance(recipe, str) else recipe.stem
                out = Path(scratch) / f"{name}-{data}"
                plugnn.run(recipe, data=data, out=out, quiet=True, registry=registry, plugins=[recorder])
                first, largest = recorder.losses[0], max(recorder.losses)
                ratio = largest / max(first, 1.0)
                assert math.isfinite(ratio)
                print(f"{name:22s} {data:14s} first {first:8.4f}  largest {largest:8.4f}  ratio {ratio:6.3f}")


if __name__ == "__main__":
    main()
