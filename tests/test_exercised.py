"""The exercise guard (``tests/exercised.py``): an untested component or hook is reported.

The guard itself runs at the end of a full run of the suite (``tests/conftest.py``), after pytest-xdist's
workers have sent the controller what they exercised; these tests check what it would report.
"""

from __future__ import annotations

import json

import attrs
import numpy as np
from exercised import HOOKS, Seen, recording
from plugnn_std import Dense

import plugnn


class Untested:
    """A plugin with a layer no test builds."""

    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("untested", attrs.frozen(type("Untested", (plugnn.LayerSpec,), {})), object)


def test_a_component_no_test_builds_is_reported() -> None:
    registry = plugnn.load_registry(strict=True, third_party=False, extra_plugins=[Untested()])
    with recording() as seen:
        loss = registry.tables["loss"].get("softmax_cross_entropy")
        loss.factory(loss.spec())
    missing = seen.missing(registry)
    assert "layer 'untested' from 'Untested'" in missing
    assert f"layer 'relu' from 'relu' (plugnn_std.layers.relu from plugnn {plugnn.__version__})" in missing
    assert not any(line.startswith("loss 'softmax_cross_entropy'") for line in missing)
    assert [line for line in missing if line.startswith("hook ")] == [f"hook {name}" for name in HOOKS]


class Counter:
    @plugnn.hookimpl
    def plugnn_batch_end(self, context):
        pass


def test_a_hook_is_exercised_only_when_an_implementation_runs(registry) -> None:
    spec = plugnn.NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    x, y = np.zeros((4, 3), np.float32), np.array([0, 1, 0, 1])
    with recording() as seen:
        plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=1, batch_size=4), registry=registry)
    assert "plugnn_batch_end" not in seen.hooks  # called, but nothing implements it in a bare registry
    with recording() as seen:
        plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=1, batch_size=4), registry=registry, plugins=[Counter()])
    assert "plugnn_batch_end" in seen.hooks
    assert "plugnn_register_layers" not in seen.hooks  # no registry was built inside the block


def test_what_workers_saw_merges_through_plain_data() -> None:
    first, second = Seen({"plugnn_batch_end"}, {("layer", "dense")}), Seen(set(), {("loss", "mse")})
    merged = Seen()
    for seen in (first, second):
        merged.merge(json.loads(json.dumps(seen.plain())))
    assert merged == Seen({"plugnn_batch_end"}, {("layer", "dense"), ("loss", "mse")})
