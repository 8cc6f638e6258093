"""A registry per run: runs in parallel threads of one process neither see nor change each other."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import attrs
import numpy as np
from plugnn_std import Adam, Dense

import plugnn
from plugnn.checkpoint import load_checkpoint
from plugnn.data import load_dataset
from plugnn.model_io import load_model
from plugnn.specs import RunSpec, TrainSpec

SPEC = RunSpec(
    data="digits",
    network=plugnn.NetworkSpec(
        layers=[Dense(16), "relu", Dense(10)], loss="softmax_cross_entropy", optimizer=Adam(lr=0.01), init="he"
    ),
    train=TrainSpec(epochs=2, batch_size=64),
)
SEEDS = (0, 1, 2, 3)


def without_seconds(history: plugnn.History) -> dict:
    return {key: value for key, value in history.to_dict().items() if key != "seconds"}


class Counter:
    """A run's own event plugin: counts the batches it is told about."""

    def __init__(self) -> None:
        self.batches = 0

    @plugnn.hookimpl
    def plugnn_batch_end(self, context: plugnn.TrainContext) -> None:
        self.batches += 1


def test_four_runs_in_threads_give_what_they_give_one_by_one(tmp_path) -> None:
    registry = plugnn.default_registry()
    before = (registry.event_plugins, dict(registry.tables), dict(registry.recipes))
    specs = [attrs.evolve(SPEC, train=attrs.evolve(SPEC.train, seed=seed)) for seed in SEEDS]
    counters = [Counter() for _ in SEEDS]
    with ThreadPoolExecutor(len(SEEDS)) as pool:
        futures = [
            pool.submit(plugnn.run, spec, out=tmp_path / f"run-{spec.train.seed}", quiet=True, plugins=[counter])
            for spec, counter in zip(specs, counters, strict=True)
        ]
        results = [future.result() for future in futures]

    split = load_dataset("digits", registry)
    for spec, counter, result in zip(specs, counters, results, strict=True):
        alone = plugnn.train(
            spec.network, split.x_train, split.y_train, spec.train, test=(split.x_test, split.y_test), registry=registry
        )
        assert without_seconds(result.history) == without_seconds(alone.history)
        network, _ = load_model(result.out / "model.npz", registry)
        np.testing.assert_array_equal(network.params, alone.network.params)
        checkpoint = load_checkpoint(result.out / "checkpoint.npz", registry)  # each run's own checkpointer
        assert checkpoint.spec == spec
        np.testing.assert_array_equal(checkpoint.params, alone.network.params)
        assert counter.batches == spec.train.epochs * -(-len(split.x_train) // spec.train.batch_size)
    assert (registry.event_plugins, dict(registry.tables), dict(registry.recipes)) == before
