"""Where plugnn's train step spends its time, phase by phase (``bench.py --profile``, ``bench_cnn.py --profile``)."""

from __future__ import annotations

import statistics
import time

import numpy as np

import plugnn
from plugnn.parallel import take_rows


def profile_steps(
    spec: plugnn.NetworkSpec, x: np.ndarray, y: np.ndarray, batch: int, epochs: int = 3, threads: int | None = None
) -> dict[str, float]:
    """Milliseconds per step in each phase of the train step (the batch gather, each layer's forward
    and backward, the loss, the optimizer), as the train loop runs them inside the thread budget
    ``threads``; the median over ``epochs`` epochs of ``x``."""
    registry = plugnn.default_registry()
    network = plugnn.build_network(spec, x.shape[1:], registry=registry)
    optimizer = plugnn.build_optimizer(spec.optimizer, registry)
    names = [f"{i}:{name}" for i, name in enumerate(network.names)]
    buffer = np.empty((batch, *x.shape[1:]), dtype=x.dtype)
    rng = np.random.default_rng(0)
    per_epoch: list[dict[str, float]] = []
    with plugnn.thread_budget(threads):
        for _ in range(epochs):
            spent: dict[str, float] = {}

            def lap(name: str, since: float, spent: dict[str, float] = spent) -> float:
                now = time.perf_counter()
                spent[name] = spent.get(name, 0.0) + now - since
                return now

            order = rng.permutation(len(x))
            for first in range(0, len(x), batch):
                clock = time.perf_counter()
                index = order[first : first + batch]
                xb, yb = take_rows(x, index, buffer[: len(index)]), y[index]  # as the train loop gathers
                clock = lap("gather", clock)
                for name, layer in zip(names, network.layers, strict=True):
                    xb = layer.forward(xb, training=True)
                    clock = lap(f"forward {name}", clock)
                _, grad = network.loss(xb, yb)
                clock = lap("loss", clock)
                for position in range(len(network.layers) - 1, -1, -1):
                    grad = network.layers[position].backward(grad, input_grad=position > 0)
                    clock = lap(f"backward {names[position]}", clock)
                optimizer.step([network.params], [network.grads])
                lap("optimizer", clock)
            steps = -(-len(x) // batch)
            per_epoch.append({name: seconds * 1e3 / steps for name, seconds in spent.items()})
    return {name: statistics.median(epoch[name] for epoch in per_epoch) for name in per_epoch[0]}


def print_profile(batch: int, phases: dict[str, float], epoch_rows: int) -> None:
    """The phases in ms per step, their total, and the total for an epoch of ``epoch_rows`` rows."""
    total = sum(phases.values())
    steps = -(-epoch_rows // batch)
    print(f"plugnn train step at batch {batch}: {total:.2f} ms ({total * steps / 1e3:.2f} s for {epoch_rows:,} rows)")
    for name, ms in phases.items():
        print(f"  {name:<20} {ms:7.2f} ms")
